"""Hostile input gets a 400/422 with a clear message, and nothing already saved is lost."""

import io

import pytest
from sqlalchemy import func, select

from portal.email_address import normalize_email
from portal.forms import Form
from portal.models import User, UserContact
from tests.factories import Factories
from tests.helpers import csrf_token, post


def _forms():
    found, todo = [], [Form]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_form_of_the_portal_derives_from_the_shared_base():
    import flask_wtf

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    portal_forms = [c for c in subclasses(flask_wtf.FlaskForm) if c.__module__.startswith("portal")]
    assert portal_forms and all(issubclass(c, Form) for c in portal_forms)


def test_a_file_in_a_text_field_is_refused_next_to_the_field(client, signed_in, session):
    response = client.post(
        "/account/profile",
        data={"csrf_token": csrf_token(client), "name": (io.BytesIO(b"Ali"), "name.txt")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "Metin beklenen yere bir dosya" in response.get_data(as_text=True) or (
        "A file was sent" in response.get_data(as_text=True)
    )
    assert session.get(User, signed_in.id).name == signed_in.name


@pytest.mark.parametrize("value", ["Ali\x00Veli", "Ali\x1bVeli", "Ali\u202eileV", "\ufffd"])
def test_control_and_unreadable_characters_are_refused_and_nothing_changes(
    client, signed_in, session, value
):
    name = signed_in.name

    response = post(client, "/account/profile", name=value)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "\x00" not in html and "\u202e" not in html
    session.expire_all()
    assert session.get(User, signed_in.id).name == name


def test_a_nul_in_a_contact_is_refused_on_every_database(client, signed_in, session):
    response = post(
        client, "/account/contacts", **{"new-contact_type": "other", "new-value": "a\x00b"}
    )

    assert response.status_code == 422
    assert session.scalar(select(func.count()).select_from(UserContact)) == 0


def test_combining_marks_are_letters_and_are_kept(client, signed_in, session):
    name = "Ayşe Yılmaz" + "\u0301"

    response = post(client, "/account/profile", name=name)

    assert response.status_code in (200, 303)
    session.expire_all()
    assert session.get(User, signed_in.id).name == name


def test_a_field_sent_twice_is_refused(client, signed_in, session):
    response = client.post(
        "/account/profile",
        data={"csrf_token": csrf_token(client), "name": ["Ali", "Veli"]},
    )

    assert response.status_code == 422
    assert session.get(User, signed_in.id).name == signed_in.name


@pytest.mark.parametrize("query", ["q=a%00b", "q=%ED%A0%80", "q=%FF", "q=%E2%80%AE"])
def test_the_operator_search_refuses_an_unreadable_query(client, make, session, auth, query):
    operator = make.user("operator")
    session.commit()
    auth.login(operator.email)

    response = client.get(f"/operator/?{query}")

    assert response.status_code == 400
    assert "adres" in response.get_data(as_text=True).lower() or "address" in (
        response.get_data(as_text=True).lower()
    )


def test_a_nul_in_a_path_is_refused(client):
    assert client.get("/schools/a%00b").status_code == 400


def test_a_request_larger_than_any_form_is_413_with_the_error_page(client):
    response = client.post(
        "/auth/login", data={"csrf_token": csrf_token(client), "email": "x" * 300_000}
    )

    assert response.status_code == 413


def test_a_json_body_that_is_not_an_object_changes_nothing(client, signed_in, session):
    response = client.post(
        "/account/profile",
        data="[1, 2]",
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(client)},
    )

    assert response.status_code < 500
    session.expire_all()
    assert session.get(User, signed_in.id).name == signed_in.name


def test_addresses_equal_after_nfkc_are_one_address():
    assert normalize_email(" ＵＳＥＲ＠ｅｘａｍｐｌｅ．ｃｏｍ ") == "user@example.com"


def test_a_full_width_address_reaches_the_same_account(client, make, session):
    make.user("parent", email="ayse@example.com")
    session.commit()

    response = post(
        client, "/auth/login", email="ａｙｓｅ@example.com", password=Factories.PASSWORD
    )

    # The account is found (its code is mailed to it); no second address exists.
    assert response.headers.get("Location") == "/auth/one-time-code"
    assert [m.to for m in client.application.extensions["mail_outbox"]] == ["ayse@example.com"]


@pytest.mark.parametrize("shown", ["²", "9" * 40, "-1", "1\x00"])
def test_consent_with_an_odd_text_id_is_refused(client, signed_in, shown):
    assert post(client, "/account/privacy/consent", consent_text_id=shown).status_code == 400


def test_a_form_body_with_an_escape_that_is_not_utf8_is_refused_and_saves_nothing(client, session):
    before = session.scalar(select(func.count(User.id)))

    response = client.post(
        "/auth/register",
        data=f"name=%FF%FEabc&email=new%40example.com&password=long-enough-pass&"
        f"csrf_token={csrf_token(client)}",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    # Turkish, the default: "characters that could not be read. Nothing was saved."
    assert "okunamayan karakterler var" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(User.id))) == before


def test_a_form_body_in_plain_utf8_still_reaches_the_form(client):
    response = client.post(
        "/auth/register",
        data=f"name=%C5%9Eahin&email=&csrf_token={csrf_token(client)}",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 422  # the form's own answer: the e-mail is missing
    assert "Şahin" in response.get_data(as_text=True)
