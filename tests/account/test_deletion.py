"""Deleting a parent's account: sessions end, personal data goes, consents and logs stay.

Assertions are on state (rows, status codes, redirects, aria-invalid), not on translated text.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.account.deletion import DELETED_NAME
from portal.clock import utcnow
from portal.models import (
    ConsentText,
    OtpCode,
    User,
    UserConsent,
    UserContact,
    UserDetail,
    UserFavorite,
    UserLog,
    UserNotificationId,
    UserSessionHash,
    VerificationCode,
)
from tests.auth.test_registration import mailed_code, register, verify
from tests.factories import Factories
from tests.helpers import HTMX, AuthActions, csrf_token
from tests.test_html import assert_valid_html

URL = "/account/delete"


@pytest.fixture
def parent(make, session):
    """A parent with something in every table that holds their data."""
    user = make.user("parent", email="silinecek@example.com", name="Ayşe Demir")
    school = make.school()
    now = utcnow()
    earlier = now - timedelta(hours=1)  # old codes: they must not hold up a new sign-in code
    text = session.scalar(select(ConsentText).where(ConsentText.kind == "kvkk_consent"))
    session.add_all(
        [
            UserDetail(
                user_id=user.id,
                phone="+905321112233",
                budget_min=Decimal("100000"),
                budget_max=Decimal("200000"),
                kvkk_accepted_at=now,
            ),
            UserConsent(
                user_id=user.id,
                consent_text_id=text.id,
                text_sha256=text.body_sha256,
                given_at=now,
                ip_address="192.0.2.1",
                method="registration_form",
            ),
            UserContact(user_id=user.id, contact_type="phone", value="+902125550404"),
            UserFavorite(user_id=user.id, favoritable_type="school", favoritable_id=school.id),
            UserNotificationId(user_id=user.id, token="device-token-1", platform="ios"),
            VerificationCode(
                user_id=user.id,
                purpose="verify_email",
                code_hash="0" * 64,
                created_at=earlier,
                expires_at=earlier,
                email=user.email,
            ),
            OtpCode(
                user_id=user.id,
                purpose="sign_in",
                code_hash="1" * 64,
                created_at=earlier,
                expires_at=earlier,
            ),
            UserLog(user_id=user.id, event="sign_in", ip_address="192.0.2.1"),
        ]
    )
    session.commit()
    return user


def delete(client, password=Factories.PASSWORD, understood=True, headers=None, **extra):
    data = {"password": password, "csrf_token": csrf_token(client), **extra}
    if understood:
        data["understood"] = "y"
    return client.post(URL, data=data, headers=headers)


def count(session, model, user):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(model.user_id == user.id))


def the_user(session, user) -> User:
    session.expire_all()
    return session.scalar(
        select(User).where(User.id == user.id).execution_options(include_deleted=True)
    )


def invalid(html: str, field_id: str) -> bool:
    return bool(re.search(rf'<[^>]*aria-invalid="true"[^>]*id="{field_id}"', html))


def test_the_confirmation_page_asks_for_the_password_and_a_tick(client, signed_in):
    response = client.get(URL)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="password"' in html and 'name="understood"' in html
    assert_valid_html(html, URL)


@pytest.mark.parametrize(
    ("password", "understood", "wrong"),
    [("yanlış parola", True, "password"), (Factories.PASSWORD, False, "understood")],
)
def test_a_wrong_password_or_no_tick_changes_nothing(
    client, session, signed_in, password, understood, wrong
):
    plain = delete(client, password=password, understood=understood)
    fragment = delete(client, password=password, understood=understood, headers=HTMX)

    assert plain.status_code == fragment.status_code == 422
    assert invalid(plain.get_data(as_text=True), wrong)
    assert fragment.get_data(as_text=True).lstrip().startswith('<form id="delete-form"')
    assert_valid_html(plain.get_data(as_text=True), f"{URL} refused")
    user = the_user(session, signed_in)
    assert user.deleted_at is None and user.email == "silinecek@example.com"
    assert user.name == "Ayşe Demir" and user.password_hash is not None
    assert count(session, UserContact, signed_in) == 1
    assert count(session, UserSessionHash, signed_in) >= 1
    assert client.get("/account/").status_code == 200


def test_deleting_anonymises_the_user_and_keeps_the_evidence(client, session, signed_in):
    logs_before = count(session, UserLog, signed_in)

    response = delete(client)

    assert response.status_code == 303 and response.headers["Location"] == "/"
    user = the_user(session, signed_in)
    assert user.deleted_at is not None
    assert user.name == DELETED_NAME
    assert user.email == f"deleted-{user.id}@deleted.invalid"
    assert user.password_hash is None and user.email_verified_at is None
    details = session.get(UserDetail, user.id)
    assert (details.phone, details.budget_min, details.budget_max) == (None, None, None)
    assert details.kvkk_accepted_at is None
    for model in (
        UserContact,
        UserFavorite,
        UserNotificationId,
        VerificationCode,
        OtpCode,
        UserSessionHash,
    ):
        assert count(session, model, user) == 0, model.__tablename__
    consent = session.scalar(select(UserConsent).where(UserConsent.user_id == user.id))
    assert consent.ip_address == "192.0.2.1" and consent.withdrawn_at is not None
    assert count(session, UserLog, user) > logs_before
    events = session.scalars(select(UserLog.event).where(UserLog.user_id == user.id)).all()
    assert "account_deleted" in events and "sign_in" in events


def test_after_deleting_the_account_no_browser_is_still_signed_in(app, client, session, parent):
    this_browser, other_browser = app.test_client(), app.test_client()
    AuthActions(this_browser).login(parent.email)
    AuthActions(other_browser).login(parent.email)
    assert other_browser.get("/account/").status_code == 200

    assert delete(this_browser).status_code == 303

    for browser in (this_browser, other_browser):
        response = browser.get("/account/")
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/auth/login")


def test_htmx_deletion_is_a_client_redirect_home(client, session, signed_in):
    response = delete(client, headers=HTMX)

    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/"
    assert the_user(session, signed_in).deleted_at is not None


def test_the_old_address_cannot_sign_in_but_can_register_again(app, client, session, signed_in):
    delete(client)

    browser = app.test_client()
    refused = browser.post(
        "/auth/login",
        data={
            "email": "silinecek@example.com",
            "password": Factories.PASSWORD,
            "csrf_token": csrf_token(browser),
        },
    )
    assert refused.status_code == 422

    register(browser, email="silinecek@example.com")
    verify(browser, mailed_code(app, to="silinecek@example.com"), email="silinecek@example.com")

    session.expire_all()
    fresh = session.scalar(select(User).where(User.email == "silinecek@example.com"))
    assert fresh is not None and fresh.id != signed_in.id and fresh.email_verified_at
    assert count(session, UserContact, fresh) == 0
    assert the_user(session, signed_in).email.endswith("@deleted.invalid")


def test_extra_fields_cannot_delete_someone_else(client, session, make, signed_in):
    other = make.user("parent")
    session.commit()

    delete(client, user_id=str(other.id))

    assert the_user(session, other).deleted_at is None
    assert the_user(session, signed_in).deleted_at is not None
