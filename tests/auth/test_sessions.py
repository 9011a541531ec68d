"""Live sessions and the one-time-code sign-in: what a signed-in browser can and cannot do."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from portal.audit import Origin
from portal.auth import sessions, sign_in
from portal.auth.codes import policy_from
from portal.clock import utcnow
from portal.extensions import db
from portal.models import OtpCode, UserKnownDevice, UserSessionHash
from tests.helpers import (
    AuthActions,
    counted_statements,
    csrf_token,
    in_parallel,
    last_code_mailed_to,
)


def copy_cookies(source, target):
    for cookie in list(source._cookies.values()):
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def rows(session, user_id):
    return session.scalar(
        select(func.count()).select_from(UserSessionHash).where(UserSessionHash.user_id == user_id)
    )


@pytest.fixture
def parent(make, session):
    user = make.user("parent", email="veli@example.com")
    session.commit()
    return user


def test_each_sign_in_is_a_row_and_signing_out_removes_it(client, session, auth, parent):
    auth.login(parent.email)
    assert rows(session, parent.id) == 1

    auth.logout()
    assert rows(session, parent.id) == 0


def test_a_copied_cookie_dies_with_the_session(app, client, session, auth, parent):
    auth.login(parent.email, remember="y")
    thief = app.test_client()
    copy_cookies(client, thief)
    assert thief.get("/account/").status_code == 200

    auth.logout()

    assert thief.get("/account/").status_code == 303
    remembered_only = app.test_client()
    for cookie in list(client._cookies.values()):
        if cookie.key == "remember_token":
            remembered_only.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    assert remembered_only.get("/account/").status_code == 303


def test_remember_me_cookie_restores_a_live_session_in_a_new_browser_session(
    app, client, session, auth, parent
):
    auth.login(parent.email, remember="y")
    restored = app.test_client()
    remember = next(c for c in client._cookies.values() if c.key == "remember_token")
    restored.set_cookie(remember.key, remember.value, domain=remember.domain)

    assert restored.get("/account/").status_code == 200


def test_ending_another_session_cuts_that_browser_off(app, client, session, auth, parent):
    auth.login(parent.email)
    phone = app.test_client()
    AuthActions(phone).login(parent.email)
    phone_row = session.scalars(
        select(UserSessionHash.id)
        .where(UserSessionHash.user_id == parent.id)
        .order_by(UserSessionHash.id.desc())
    ).first()

    page = client.get("/auth/security").get_data(as_text=True)
    assert "127.0.0.1" in page
    response = client.post(
        f"/auth/sessions/{phone_row}/end", data={"csrf_token": csrf_token(client)}
    )

    assert response.status_code == 303
    assert phone.get("/account/").status_code == 303
    assert client.get("/account/").status_code == 200


def test_another_users_session_cannot_be_ended(app, client, session, auth, parent, make):
    other = make.user("parent")
    session.commit()
    other_browser = app.test_client()
    AuthActions(other_browser).login(other.email)
    other_row = session.scalar(
        select(UserSessionHash.id).where(UserSessionHash.user_id == other.id)
    )
    auth.login(parent.email)

    response = client.post(
        f"/auth/sessions/{other_row}/end", data={"csrf_token": csrf_token(client)}
    )

    assert response.status_code == 404
    assert other_browser.get("/account/").status_code == 200


def test_sign_out_everywhere_and_end_others(app, client, session, auth, parent):
    auth.login(parent.email)
    tablet = app.test_client()
    AuthActions(tablet).login(parent.email)

    client.post("/auth/sessions/end-others", data={"csrf_token": csrf_token(client)})
    assert tablet.get("/account/").status_code == 303
    assert client.get("/account/").status_code == 200

    client.post("/auth/sessions/end-all", data={"csrf_token": csrf_token(client)})
    assert client.get("/account/").status_code == 303
    assert rows(session, parent.id) == 0


def test_password_change_ends_the_other_sessions_only(app, client, session, auth, parent, make):
    auth.login(parent.email)
    tablet = app.test_client()
    AuthActions(tablet).login(parent.email)

    wrong = client.post(
        "/auth/password",
        data={
            "current_password": "nope",
            "new_password": "yepyeni-parola-1",
            "csrf_token": csrf_token(client),
        },
    )
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.get_data(as_text=True)
    assert tablet.get("/account/").status_code == 200

    response = client.post(
        "/auth/password",
        data={
            "current_password": make.PASSWORD,
            "new_password": "yepyeni-parola-1",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 303
    assert tablet.get("/account/").status_code == 303
    assert client.get("/account/").status_code == 200
    auth.logout()
    assert auth.login(parent.email).status_code == 422
    assert auth.login(parent.email, "yepyeni-parola-1").headers["Location"] == "/account/"


def test_idle_session_ends(app, client, session, auth, parent):
    auth.login(parent.email)
    session.execute(
        UserSessionHash.__table__.update().values(last_seen_at=utcnow() - timedelta(hours=3))
    )
    session.commit()

    assert client.get("/account/").status_code == 303
    assert rows(session, parent.id) == 0


def test_deleted_users_session_dies(client, session, auth, parent):
    auth.login(parent.email)
    parent.soft_delete()
    session.commit()

    assert client.get("/account/").status_code == 303


def test_new_device_asks_for_a_code_and_a_known_one_does_not(app, client, session, auth, parent):
    client.get("/auth/login")
    first = client.post(
        "/auth/login",
        data={
            "email": parent.email,
            "password": "correct horse battery",
            "csrf_token": csrf_token(client),
        },
    )
    assert first.headers["Location"] == "/auth/one-time-code"
    client.post(
        "/auth/one-time-code",
        data={"code": last_code_mailed_to(app, parent.email), "csrf_token": csrf_token(client)},
    )
    assert session.scalar(select(func.count()).select_from(UserKnownDevice)) == 1
    auth.logout()

    again = client.post(
        "/auth/login",
        data={
            "email": parent.email,
            "password": "correct horse battery",
            "csrf_token": csrf_token(client),
        },
    )
    assert again.headers["Location"] == "/account/"


def test_two_step_asks_every_time(app, client, session, auth, parent):
    auth.login(parent.email)
    client.post("/auth/two-step", data={"two_step_enabled": "y", "csrf_token": csrf_token(client)})
    auth.logout()

    again = client.post(
        "/auth/login",
        data={
            "email": parent.email,
            "password": "correct horse battery",
            "csrf_token": csrf_token(client),
        },
    )
    assert again.headers["Location"] == "/auth/one-time-code"


def start_pending_sign_in(client, email, password="correct horse battery"):
    client.get("/auth/login")
    return client.post(
        "/auth/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )


def enter_code(client, code):
    return client.post("/auth/one-time-code", data={"code": code, "csrf_token": csrf_token(client)})


def test_a_code_finishes_only_the_sign_in_it_was_sent_for(app, client, session, parent):
    start_pending_sign_in(client, parent.email)
    code = last_code_mailed_to(app, parent.email)
    other_browser = app.test_client()
    start_pending_sign_in(other_browser, parent.email)  # gets its own code
    other_code = last_code_mailed_to(app, parent.email)

    if other_code != code:
        assert enter_code(other_browser, code).status_code == 422
    assert enter_code(client, code).headers["Location"] == "/account/"
    assert enter_code(other_browser, other_code).headers["Location"] == "/account/"


def test_sign_in_code_used_twice_or_late_or_on_the_sixth_try_fails(app, client, session, parent):
    start_pending_sign_in(client, parent.email)
    code = last_code_mailed_to(app, parent.email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert enter_code(client, wrong).status_code == 422
    assert enter_code(client, code).status_code == 422  # sixth try, right code: dead

    replay = app.test_client()
    start_pending_sign_in(replay, parent.email)
    fresh = last_code_mailed_to(app, parent.email)
    assert enter_code(replay, fresh).status_code == 303
    AuthActions(replay).logout()
    assert enter_code(replay, fresh).status_code in (303, 200)  # no pending sign-in: to login
    assert replay.get("/account/").status_code == 303

    app.config["CODE_LIFETIME"] = timedelta(0)
    late = app.test_client()
    start_pending_sign_in(late, parent.email)
    assert enter_code(late, last_code_mailed_to(app, parent.email)).status_code == 422


def test_twenty_parallel_sign_in_codes_give_one_success(app, session, parent):
    pending = sign_in.new_pending_token()
    with app.app_context():
        from portal import mail  # noqa: F401  (mail goes to the outbox)

        sign_in.send_sign_in_code(
            db.session,
            policy_from(app.config),
            db.session.get(type(parent), parent.id),
            pending,
            Origin(),
            utcnow(),
        )
        db.session.commit()
    code = last_code_mailed_to(app, parent.email)
    results = in_parallel(
        app,
        lambda: (
            sign_in.check_sign_in_code(
                db.session, policy_from(app.config), parent.id, pending, code, Origin(), utcnow()
            )
            is not None
        ),
    )

    assert results.count(True) == 1
    assert all(r is False for r in results if r is not True), results


def test_password_reset_changes_the_password_ends_sessions_and_signs_no_one_in(
    app, client, session, auth, parent
):
    laptop = app.test_client()
    AuthActions(laptop).login(parent.email)
    client.post("/auth/reset", data={"email": parent.email, "csrf_token": csrf_token(client)})
    code = last_code_mailed_to(app, parent.email)

    response = client.post(
        "/auth/reset/new-password",
        data={
            "email": parent.email,
            "code": code,
            "new_password": "sifirlanmis-parola",
            "csrf_token": csrf_token(client),
        },
    )

    assert response.headers["Location"] == "/auth/login"
    assert client.get("/account/").status_code == 303
    assert laptop.get("/account/").status_code == 303
    again = client.post(
        "/auth/reset/new-password",
        data={
            "email": parent.email,
            "code": code,
            "new_password": "ikinci-deneme-99",
            "csrf_token": csrf_token(client),
        },
    )
    assert again.status_code == 422
    assert auth.login(parent.email, "sifirlanmis-parola").headers["Location"] == "/account/"


def test_reset_for_an_unknown_address_looks_the_same_and_sends_no_code(app, client, session):
    # Issue 9: the unknown address gets a notice (so both answers hand one mail off), never a
    # code; before, it got nothing, and the missing mail made the answer faster.
    response = client.post(
        "/auth/reset", data={"email": "kimse@example.com", "csrf_token": csrf_token(client)}
    )

    assert response.headers["Location"] == "/auth/reset/new-password"
    [notice] = app.extensions.get("mail_outbox", [])
    assert notice.to == "kimse@example.com"
    assert not re.search(r"\d{6}", notice.subject + notice.body)
    assert session.scalar(select(func.count()).select_from(OtpCode)) == 0


def test_database_holds_no_code_or_password_in_clear(app, client, session, auth, parent):
    auth.login(parent.email)
    codes = {last_code_mailed_to(app, parent.email), "correct horse battery"}

    for table in db.metadata.sorted_tables:
        for row in session.execute(text(f"SELECT * FROM {table.name}")):
            for value in row:
                assert not any(secret in str(value) for secret in codes), table.name
    assert session.scalar(select(OtpCode.code_hash)) not in codes


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_failed_sign_ins_are_rate_limited_per_account(client, parent):
    client.get("/auth/login")
    statuses = [
        client.post(
            "/auth/login",
            data={
                "email": parent.email,
                "password": f"wrong-{n}",
                "csrf_token": csrf_token(client),
            },
        ).status_code
        for n in range(11)
    ]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


@pytest.mark.parametrize("kind", ["parent", "customer_staff"])
def test_a_session_loads_its_user_with_details_and_a_staff_members_company_in_two_at_most(
    app, make, session, kind
):
    # Every signed-in request pays this: the session with its user and their details, and for
    # staff their membership and company (the access rule and the layout read both), no lazy
    # load after.
    user = make.user("parent") if kind == "parent" else make.customer_user().user
    token = sessions.start_session(
        session, sessions.current_policy(), user, False, Origin(), None, utcnow()
    )
    session.commit()

    with counted_statements(app) as statements:
        loaded = sessions.load_session_user(db.session, sessions.current_policy(), token, utcnow())
        company = loaded.customer_user.customer.name if kind == "customer_staff" else None
        details = loaded.details  # a parent's budget and phone, read by their pages

    assert loaded.id == user.id
    assert details is None  # the factory gives no details; still no statement to find that
    assert len(statements) == (1 if kind == "parent" else 2)
    if kind == "customer_staff":
        assert company == user.customer_user.customer.name
