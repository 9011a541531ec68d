"""Every page is well-formed HTML5 with unique ids, as a browser and a screen reader need."""

import re
from collections import Counter

import html5lib
import pytest

from tests.helpers import HTMX, csrf_token


def assert_valid_html(html: str, where: str) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        parser.parse(html)
    except html5lib.html5parser.ParseError as error:
        line = html.splitlines()[parser.errors[0][0][0] - 1] if parser.errors else ""
        pytest.fail(f"{where}: {error}\n  line: {line.strip()}")
    duplicated = [i for i, n in Counter(re.findall(r'\sid="([^"]+)"', html)).items() if n > 1]
    assert duplicated == [], f"{where}: duplicate ids {duplicated}"


@pytest.fixture
def demo(runner):
    runner.invoke(args=["demo-data"])


PUBLIC = [
    "/",
    "/?city=Ankara",
    "/schools/bilge-koleji",
    "/auth/login",
    "/auth/register",
    "/auth/verify",
    "/kvkk",
    "/no-such-page",
]
SIGNED_IN = {
    "elif.sahin@example.com": [
        "/account/",
        "/account/favorites",
        "/account/privacy",
        "/account/activity",
        "/account/subscription",
        "/auth/security",
    ],
    "ayse.yilmaz@bilge-egitim.example.com": [
        "/customer/",
        "/customer/company",
        "/customer/agreements",
    ],
    "zeynep.kara@bilge-egitim.example.com": ["/customer/company"],
    "operator@okul-portal.example.com": ["/operator/", "/operator/?q=elif"],
}


def test_public_pages_are_valid_html(client, demo):
    for url in PUBLIC:
        assert_valid_html(client.get(url).get_data(as_text=True), url)


@pytest.mark.parametrize("email", sorted(SIGNED_IN))
def test_signed_in_pages_are_valid_html(client, demo, auth, email):
    auth.login(email, "okul-demo-2026")
    for url in SIGNED_IN[email]:
        assert_valid_html(client.get(url).get_data(as_text=True), url)


def test_pages_with_form_errors_are_valid_html(client, demo, auth):
    auth.login("ayse.yilmaz@bilge-egitim.example.com", "okul-demo-2026")
    response = client.post(
        "/customer/company",
        data={
            "name": "",
            "customer_type": "company",
            "tax_number": "12",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 422
    assert_valid_html(response.get_data(as_text=True), "company form with errors")


def test_fragments_parse_as_html_fragments(client, demo):
    html = client.get("/?city=Ankara", headers=HTMX).get_data(as_text=True)
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parseFragment(html)
