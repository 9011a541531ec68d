"""Redirect targets taken from the request: only paths on this site, never a broken header."""

import pytest

from portal.urls import safe_next
from tests.helpers import HTMX, csrf_token


@pytest.mark.parametrize(
    "target", ["/account/", "/?city=Ankara", "/schools/bilge-koleji#kampusler"]
)
def test_a_path_on_this_site_is_kept(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "account/",
        "/account/\r\nSet-Cookie: x=1",
        "/account/\n",
        "/account/\x00",
        "/account/\x7f",
    ],
)
def test_anything_else_is_refused(target):
    assert safe_next(target) is None


def test_a_newline_in_next_is_ignored_rather_than_a_500(client):
    response = client.post(
        "/language",
        data={
            "lang": "en",
            "next": "/account/\r\nSet-Cookie: x=1",
            "csrf_token": csrf_token(client),
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a_redirect_says_it_depends_on_the_htmx_headers(client):
    plain = client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client)})
    htmx = client.post(
        "/language", data={"lang": "en", "csrf_token": csrf_token(client)}, headers=HTMX
    )

    assert plain.status_code == 303 and htmx.headers["HX-Redirect"] == "/"
    for response in (plain, htmx):
        assert {"HX-Request", "HX-Request-Type"} <= set(response.vary)


@pytest.mark.parametrize("agreement_id", [1, 7, 20, 123456789])
def test_id_urls_are_the_urls_url_for_builds(app, agreement_id):
    from flask import url_for

    from portal.urls import IdUrls

    with app.test_request_context("/"):
        urls = IdUrls("agreements.operator_agreement", "agreement_id")
        assert urls(agreement_id) == url_for(
            "agreements.operator_agreement", agreement_id=agreement_id
        )


def test_id_urls_refuse_an_endpoint_whose_path_has_no_such_id(app):
    from portal.urls import IdUrls

    with app.test_request_context("/"), pytest.raises(ValueError):
        IdUrls("schools.index", "page")  # a query argument, not a part of the path
