"""Issue 14, item 7: the browser that registered is signed in once the e-mail code is entered
there, exactly as a sign-in with a one-time code would sign it in (a fresh session, a
user_session_hash row, the sign_in event, a known device), and goes where it meant to go; the
code entered anywhere else verifies the address and signs nobody in."""

from sqlalchemy import select

from portal.auth.sessions import token_hash
from portal.models import User, UserKnownDevice, UserLog, UserSessionHash
from tests.auth.test_registration import PASSWORD, mailed_code, register, verify
from tests.helpers import AuthActions, csrf_token

EMAIL = "yeni.veli@example.com"


def the_user(session) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.email == EMAIL))


def events(session, user) -> list[tuple[str, dict | None]]:
    rows = session.scalars(select(UserLog).where(UserLog.user_id == user.id).order_by(UserLog.id))
    return [(row.event, row.data) for row in rows]


def device_cookie(app, client) -> str | None:
    cookie = client.get_cookie(app.config["DEVICE_COOKIE_NAME"])
    return cookie.value if cookie else None


def register_with_next(client, next_url, email=EMAIL):
    """Open the form from a link carrying `next`, as the sign-in page's link does."""
    html = client.get("/auth/register", query_string={"next": next_url}).get_data(as_text=True)
    assert 'name="next" type="hidden" value="' in html
    return client.post(
        "/auth/register",
        data={
            "name": "Yeni Veli",
            "email": email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
            "next": next_url,
        },
    )


def test_the_code_entered_in_the_registering_browser_signs_it_in(app, client, session):
    register(client)
    with client.session_transaction() as before:
        assert "registered" in before

    response = verify(client, mailed_code(app))

    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    home = client.get("/account/")
    assert home.status_code == 200
    assert "E-posta adresiniz doğrulandı ve oturumunuz açıldı." in home.get_data(as_text=True)
    user = the_user(session)
    assert user.email_verified_at is not None
    (row,) = session.scalars(select(UserSessionHash).where(UserSessionHash.user_id == user.id))
    assert row.remember is False and row.device_hash == token_hash(device_cookie(app, client))
    assert [event for event, _ in events(session, user)][-2:] == ["email_verified", "sign_in"]
    assert events(session, user)[-1][1] == {"how": "registration"}
    with client.session_transaction() as after:  # started afresh, as every sign-in does
        assert "registered" not in after and "verify_email" not in after


def test_the_registering_browser_is_not_asked_for_a_code_when_it_signs_in_again(
    app, client, session
):
    register(client)
    verify(client, mailed_code(app))
    auth = AuthActions(client)
    auth.logout()
    codes_mailed = len(app.extensions["mail_outbox"])

    response = client.post(
        "/auth/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )

    assert response.headers["Location"] == "/account/"  # not /auth/one-time-code
    assert len(app.extensions["mail_outbox"]) == codes_mailed
    user = the_user(session)
    known = session.scalars(select(UserKnownDevice).where(UserKnownDevice.user_id == user.id))
    assert [device.device_hash for device in known] == [token_hash(device_cookie(app, client))]


def test_the_parent_lands_where_they_meant_to_go(app, client):
    register_with_next(client, "/plans?audience=parents")

    response = verify(client, mailed_code(app))

    assert response.headers["Location"] == "/plans?audience=parents"


def test_a_next_address_off_the_site_is_not_followed(app, client):
    register_with_next(client, "https://evil.example/steal")

    response = verify(client, mailed_code(app))

    assert response.headers["Location"] == "/account/"


def test_the_sign_in_page_passes_its_next_on_to_registration(client):
    html = client.get("/auth/login", query_string={"next": "/plans"}).get_data(as_text=True)

    assert 'href="/auth/register?next=/plans"' in html


def test_the_code_entered_in_another_browser_verifies_but_signs_nobody_in(app, client, session):
    register(client)
    elsewhere = app.test_client()

    response = verify(elsewhere, mailed_code(app))

    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert elsewhere.get("/account/").status_code == 303
    assert client.get("/account/").status_code == 303  # nor the browser that registered
    user = the_user(session)
    assert user.email_verified_at is not None
    assert session.scalars(select(UserSessionHash)).all() == []
    assert "sign_in" not in [event for event, _ in events(session, user)]


def test_a_browser_that_registered_another_address_is_not_signed_in(app, client, session):
    """The browser's registration names one address; a code for another one verifies that
    address only."""
    register(client)
    code = mailed_code(app)
    register(client, email="baska.veli@example.com")  # the same browser, a second address

    response = verify(client, code)

    assert response.headers["Location"] == "/auth/login"
    assert the_user(session).email_verified_at is not None
    assert session.scalars(select(UserSessionHash)).all() == []


def test_registering_a_taken_address_signs_nobody_in(app, client, session, make):
    owner = make.user("parent", email=EMAIL)
    session.commit()
    register(client)  # answered as a success; the owner is warned, no code is sent

    response = verify(client, "000000")

    assert response.status_code == 422
    assert client.get("/account/").status_code == 303
    assert (
        session.scalars(select(UserSessionHash).where(UserSessionHash.user_id == owner.id)).all()
        == []
    )
