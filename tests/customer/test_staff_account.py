"""A staff member's own account in the company portal: profile, e-mail address, and the
security page (password, sessions, two-step) that serves every audience."""

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.access.permissions import Role
from portal.auth.passwords import verify_password
from portal.models import User, UserDetail, UserLog, UserSessionHash
from tests.factories import Factories
from tests.helpers import HTMX, AuthActions, last_code_mailed_to, post
from tests.test_html import assert_valid_html

ACCOUNT = "/customer/account"
EMAIL = "/customer/account/email"
VERIFY = "/customer/account/email/verify"


@pytest.fixture
def member(make, session, auth):
    """A company's admissions agent (no special permission), signed in."""
    staff = make.customer_user(role=Role.AGENT)
    staff.user.name = "Selin Arslan"
    session.commit()
    auth.login(staff.user.email)
    return staff


def events(session, user_id, event) -> list[UserLog]:
    session.expire_all()
    return list(
        session.scalars(select(UserLog).where(UserLog.user_id == user_id, UserLog.event == event))
    )


def test_the_account_page_is_in_the_company_portal_with_its_links(client, member):
    response = client.get(ACCOUNT)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_valid_html(html, ACCOUNT)
    assert 'value="Selin Arslan"' in html
    assert 'href="/customer/"' in html  # the company portal's menu, not the parent's
    assert 'href="/account/favorites"' not in html and 'href="/account/profile"' not in html
    assert f'href="{EMAIL}"' in html and 'href="/auth/security"' in html
    assert "budget" not in html


def test_a_member_changes_name_and_phone_through_the_profile_function(client, session, member):
    response = post(client, ACCOUNT, name="Selin Arslan Kaya", phone="0532 111 22 33")

    assert response.status_code == 303 and response.headers["Location"] == ACCOUNT
    session.expire_all()
    user = session.get(User, member.user_id)
    details = session.scalar(select(UserDetail).where(UserDetail.user_id == user.id))
    assert (user.name, details.phone) == ("Selin Arslan Kaya", "+905321112233")
    assert details.budget_min is None and details.budget_max is None
    (changed,) = events(session, user.id, "profile_changed")
    assert sorted(changed.data["fields"]) == ["name", "phone"]


def test_a_budget_or_a_company_posted_with_the_profile_is_never_read(client, session, member, make):
    other = make.customer()
    session.commit()

    post(
        client,
        ACCOUNT,
        name="Selin",
        phone="",
        budget_min="1000",
        budget_max="2000",
        customer_id=str(other.id),
    )

    session.expire_all()
    user = session.get(User, member.user_id)
    assert user.name == "Selin" and user.customer_id == member.customer_id
    details = session.scalar(select(UserDetail).where(UserDetail.user_id == user.id))
    assert details is None or details.budget_min is None


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [({"name": "", "phone": ""}, "name"), ({"name": "Selin", "phone": "12"}, "phone")],
)
def test_bad_input_is_said_next_to_the_field(client, session, member, fields, field_id):
    plain = post(client, ACCOUNT, **fields)
    fragment = post(client, ACCOUNT, headers=HTMX, **fields)

    assert plain.status_code == fragment.status_code == 422
    assert_valid_html(plain.get_data(as_text=True), ACCOUNT)
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and f'id="{field_id}-error"' in html
    assert session.get(User, member.user_id).name == "Selin Arslan"


def test_a_member_changes_their_address_with_the_code_sent_to_the_new_one(
    app, client, session, member
):
    asked = post(client, EMAIL, new_email="Selin.Yeni@Example.com", password=Factories.PASSWORD)
    shown = client.get(EMAIL).get_data(as_text=True)
    code = last_code_mailed_to(app, "selin.yeni@example.com")
    confirmed = post(client, VERIFY, code=code)

    assert asked.status_code == 303 and asked.headers["Location"] == EMAIL
    assert "selin.yeni@example.com" in shown
    assert_valid_html(shown, EMAIL)
    assert confirmed.status_code == 303
    session.expire_all()
    assert session.get(User, member.user_id).email == "selin.yeni@example.com"
    assert len(events(session, member.user_id, "email_changed")) == 1
    assert client.get(ACCOUNT).status_code == 200  # this session goes on


def test_a_wrong_password_or_code_changes_nothing(app, client, session, member):
    wrong_password = post(client, EMAIL, headers=HTMX, new_email="x@example.com", password="no")
    wrong_code = post(client, VERIFY, headers=HTMX, code="000000")

    assert wrong_password.status_code == wrong_code.status_code == 422
    with force_locale("en"):
        assert 'id="password-error"' in wrong_password.get_data(as_text=True)
    assert 'id="code-error"' in wrong_code.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, member.user_id).email == member.user.email
    assert len(events(session, member.user_id, "password_check_failed")) == 1


def test_the_security_page_serves_staff_password_sessions_and_two_step(
    app, client, session, member
):
    other_browser = app.test_client()
    AuthActions(other_browser).login(member.user.email)
    assert client.get("/auth/security").status_code == 200

    two_step = post(client, "/auth/two-step", two_step_enabled="y")
    ended = post(client, "/auth/sessions/end-others")
    changed = post(
        client,
        "/auth/password",
        current_password=Factories.PASSWORD,
        new_password="a much longer passphrase",
    )

    assert two_step.status_code == ended.status_code == changed.status_code == 303
    session.expire_all()
    user = session.get(User, member.user_id)
    assert user.two_step_enabled is True
    assert verify_password(user.password_hash, "a much longer passphrase")
    live = session.scalars(select(UserSessionHash).where(UserSessionHash.user_id == user.id)).all()
    assert len(live) == 1
    assert other_browser.get(ACCOUNT).status_code in (302, 303)  # signed out there


def test_the_parents_area_stays_the_parents(client, member):
    for url in ("/account/", "/account/profile", "/account/email", "/account/favorites"):
        assert client.get(url).status_code == 403, url


def test_a_parent_an_operator_and_a_deactivated_member_are_refused(
    client, session, make, auth, member
):
    member.is_active = False
    session.commit()
    assert client.get(ACCOUNT).status_code == 403
    assert post(client, ACCOUNT, name="Gone").status_code == 403
    assert post(client, EMAIL, new_email="g@example.com", password="x").status_code == 403
    assert session.get(User, member.user_id).name == "Selin Arslan"

    auth.logout()
    for type_code in ("parent", "operator"):
        user = make.user(type_code)
        session.commit()
        auth.login(user.email)
        assert client.get(ACCOUNT).status_code == 403
        assert client.get(EMAIL).status_code == 403
        auth.logout()
    response = client.get(ACCOUNT)
    assert response.status_code in (302, 303) and re.match(
        r"/auth/login\?next=", response.headers["Location"]
    )
