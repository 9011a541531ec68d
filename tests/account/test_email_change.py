"""Changing the e-mail address: a code to the new address, the change only once it is back.

Assertions are on state (rows, mail, status codes, aria-invalid), not on translated text.
"""

import re

import pytest
from sqlalchemy import select

from portal.models import User, UserLog, VerificationCode
from tests.factories import Factories
from tests.helpers import HTMX, AuthActions, csrf_token, page_without_secrets
from tests.test_html import assert_valid_html

URL = "/account/email"
VERIFY_URL = "/account/email/verify"
OLD = "veli@example.com"
NEW = "yeni.adres@example.com"


@pytest.fixture
def parent(make, session):
    user = make.user("parent", email=OLD)
    session.commit()
    return user


def outbox(app, to=None):
    mails = app.extensions.setdefault("mail_outbox", [])
    return [m for m in mails if to is None or m.to == to]


def codes_in(mails) -> list[str]:
    return [c for m in mails for c in re.findall(r"\b\d{6}\b", m.body)]


def ask(client, new_email=NEW, password=Factories.PASSWORD, headers=None):
    return client.post(
        URL,
        data={
            "new_email": new_email,
            "password": password,
            "csrf_token": csrf_token(client),
        },
        headers=headers,
    )


def confirm(client, code, headers=None):
    return client.post(
        VERIFY_URL, data={"code": code, "csrf_token": csrf_token(client)}, headers=headers
    )


def can_sign_in(app, email) -> bool:
    """Whether `email` and the factory password are accepted, in a browser of its own.

    Accepted means the sign-in form moves on (into the portal, or to a code step for a new
    browser); refused is the form again with 422.
    """
    browser = app.test_client()
    response = browser.post(
        "/auth/login",
        data={"email": email, "password": Factories.PASSWORD, "csrf_token": csrf_token(browser)},
    )
    assert response.status_code in (303, 422)
    return response.status_code == 303


def events(session, user):
    session.expire_all()
    return session.scalars(
        select(UserLog.event).where(UserLog.user_id == user.id).order_by(UserLog.id)
    ).all()


def invalid(html: str, field_id: str) -> bool:
    return bool(re.search(rf'<[^>]*aria-invalid="true"[^>]*id="{field_id}"', html))


def test_the_page_shows_the_address_and_is_valid_html(client, signed_in):
    response = client.get(URL)

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and OLD in html
    assert 'id="email-form"' in html and 'id="email-code-form"' not in html
    assert_valid_html(html, URL)


def test_a_wrong_password_is_refused_next_to_the_password_and_sends_nothing(
    app, client, session, signed_in
):
    before = len(outbox(app))

    plain = ask(client, password="yanlış parola")
    fragment = ask(client, password="yanlış parola", headers=HTMX)

    assert plain.status_code == fragment.status_code == 422
    assert invalid(plain.get_data(as_text=True), "password")
    assert fragment.get_data(as_text=True).lstrip().startswith('<form id="email-form"')
    assert invalid(fragment.get_data(as_text=True), "password")
    assert_valid_html(plain.get_data(as_text=True), "e-mail form with a wrong password")
    assert len(outbox(app)) == before
    assert session.scalar(select(VerificationCode.id)) is None
    assert session.get(User, signed_in.id).email == OLD
    assert events(session, signed_in).count("password_check_failed") == 2


def test_the_own_address_is_refused_next_to_the_address(client, session, signed_in):
    response = ask(client, new_email=OLD.upper())

    assert response.status_code == 422
    assert invalid(response.get_data(as_text=True), "new_email")
    assert session.scalar(select(VerificationCode.id)) is None


def test_a_malformed_address_is_refused_next_to_the_address(client, signed_in):
    response = ask(client, new_email="not-an-address")

    assert response.status_code == 422
    assert invalid(response.get_data(as_text=True), "new_email")


def test_the_code_goes_to_the_new_address_and_the_old_one_still_signs_in(
    app, client, session, signed_in
):
    response = ask(client, new_email="  Yeni.Adres@Example.com ")

    assert response.status_code == 303 and response.headers["Location"] == URL
    (code,) = codes_in(outbox(app, NEW))
    assert code not in codes_in(outbox(app, OLD))
    row = session.scalar(select(VerificationCode).where(VerificationCode.user_id == signed_in.id))
    assert row.purpose == "change_email" and row.email == NEW and code not in row.code_hash
    assert session.get(User, signed_in.id).email == OLD
    page = client.get(URL).get_data(as_text=True)
    assert 'id="email-code-form"' in page and NEW in page
    assert_valid_html(page, "e-mail page waiting for the code")
    assert can_sign_in(app, OLD) and not can_sign_in(app, NEW)
    assert events(session, signed_in)[-1:] != ["email_changed"]


def test_after_the_code_the_new_address_signs_in_and_the_old_one_does_not(
    app, client, session, signed_in
):
    ask(client)
    (code,) = codes_in(outbox(app, NEW))

    response = confirm(client, code)

    assert response.status_code == 303 and response.headers["Location"] == URL
    user = session.get(User, signed_in.id)
    assert user.email == NEW and user.email_verified_at is not None
    notice = outbox(app, OLD)[-1]
    assert NEW in notice.body and not codes_in([notice])
    assert "email_changed" in events(session, signed_in)
    assert client.get("/account/").status_code == 200  # this browser stays signed in
    assert can_sign_in(app, NEW) and not can_sign_in(app, OLD)


def test_a_code_works_once(app, client, session, signed_in):
    ask(client)
    (code,) = codes_in(outbox(app, NEW))

    assert confirm(client, code).status_code == 303
    assert confirm(client, code).status_code == 422


def test_a_wrong_code_is_refused_next_to_the_code_and_changes_nothing(
    app, client, session, signed_in
):
    ask(client)
    (code,) = codes_in(outbox(app, NEW))
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    plain = confirm(client, wrong)
    fragment = confirm(client, wrong, headers=HTMX)
    malformed = confirm(client, "12ab")

    assert plain.status_code == fragment.status_code == malformed.status_code == 422
    assert invalid(plain.get_data(as_text=True), "code")
    assert fragment.get_data(as_text=True).lstrip().startswith('<form id="email-code-form"')
    assert_valid_html(plain.get_data(as_text=True), "e-mail page with a wrong code")
    assert session.get(User, signed_in.id).email == OLD
    assert events(session, signed_in).count("email_code_failed") == 2


def test_a_code_without_a_pending_change_is_refused(client, session, signed_in):
    response = confirm(client, "123456")

    assert response.status_code == 422
    assert invalid(response.get_data(as_text=True), "code")


def test_a_taken_address_gets_the_same_answer_but_no_code(app, client, session, make, auth):
    taken_owner = make.user("parent", email="dolu@example.com")
    first = make.user("parent", email="birinci@example.com")
    second = make.user("parent", email="ikinci@example.com")
    session.commit()

    answers = {}
    for user, target in ((first, "bos@example.com"), (second, "dolu@example.com")):
        browser = client.application.test_client()
        AuthActions(browser).login(user.email)
        response = ask(browser, new_email=target)
        page = browser.get(URL).get_data(as_text=True)
        answers[target] = (
            response.status_code,
            response.headers["Location"],
            page_without_secrets(page.replace(user.email, "@"), target),
        )

    assert answers["bos@example.com"] == answers["dolu@example.com"]
    assert codes_in(outbox(app, "bos@example.com"))
    assert codes_in(outbox(app, "dolu@example.com")) == []
    assert len(outbox(app, "dolu@example.com")) == 1  # the owner is told, without a code
    assert (
        session.scalar(select(VerificationCode.id).where(VerificationCode.user_id == second.id))
        is None
    )
    assert session.get(User, taken_owner.id).email == "dolu@example.com"
    assert events(session, first)[-1] == events(session, second)[-1] == "email_change_requested"


def test_verifying_a_taken_address_never_succeeds(app, client, session, make, signed_in):
    make.user("parent", email="dolu@example.com")
    session.commit()
    ask(client, new_email="dolu@example.com")

    for guess in ("000000", "123456", "999999"):
        assert confirm(client, guess).status_code == 422
    assert session.get(User, signed_in.id).email == OLD


def test_an_address_registered_meanwhile_stays_with_its_new_owner(
    app, client, session, make, signed_in
):
    ask(client)
    (code,) = codes_in(outbox(app, NEW))
    late = make.user("parent", email=NEW)
    session.commit()

    assert confirm(client, code).status_code == 422
    assert session.get(User, signed_in.id).email == OLD
    assert session.get(User, late.id).email == NEW


def test_extra_fields_are_ignored(app, client, session, make, signed_in):
    customer = make.customer()
    session.commit()

    client.post(
        URL,
        data={
            "new_email": NEW,
            "password": Factories.PASSWORD,
            "user_type_id": "3",
            "customer_id": str(customer.id),
            "csrf_token": csrf_token(client),
        },
    )

    user = session.get(User, signed_in.id)
    assert user.type_code == "parent" and user.customer_id is None


def test_a_corrected_address_gets_its_code_at_once(app, client, session, signed_in):
    ask(client, new_email="yanlis.adres@example.com")
    ask(client)
    (code,) = codes_in(outbox(app, NEW))

    assert confirm(client, code).status_code == 303
    assert session.get(User, signed_in.id).email == NEW


def test_the_same_address_gets_at_most_one_code_a_minute(app, client, session, signed_in):
    first = ask(client)
    second = ask(client)

    assert first.status_code == second.status_code == 303
    assert len(codes_in(outbox(app, NEW))) == 1


def test_a_changed_address_ends_the_other_sessions(app, client, session, make, auth):
    from tests.helpers import AuthActions, csrf_token, last_code_mailed_to

    parent = make.user("parent", email="eski@example.com")
    session.commit()
    auth.login(parent.email)
    tablet = app.test_client()
    AuthActions(tablet).login(parent.email)

    client.post(
        "/account/email",
        data={
            "new_email": "yeni@example.com",
            "password": make.PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    client.post(
        "/account/email/verify",
        data={
            "code": last_code_mailed_to(app, "yeni@example.com"),
            "csrf_token": csrf_token(client),
        },
    )

    assert tablet.get("/account/").status_code == 303
    assert client.get("/account/").status_code == 200
