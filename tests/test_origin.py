"""Where a request came from: the client IP in audit rows and consent evidence cannot be forged
with a header, and any user agent fits the columns that keep it."""

import pytest
from sqlalchemy import select

from portal import create_app
from portal.audit import USER_AGENT_LENGTH, Origin
from portal.extensions import db
from portal.models import UserConsent, UserLog, UserSessionHash
from tests.helpers import csrf_token, post


def register_from(client, forwarded_for, user_agent="TestBrowser/1.0"):
    client.get("/auth/register")
    client.post(
        "/auth/register",
        data={
            "name": "Veli",
            "email": "ip@example.com",
            "password": "uzun-parola-123",
            "csrf_token": csrf_token(client),
        },
        headers={"X-Forwarded-For": forwarded_for, "User-Agent": user_agent},
        environ_base={"REMOTE_ADDR": "10.0.0.5"},
    )


def recorded_ip(session):
    return session.scalar(select(UserLog.ip_address).where(UserLog.event == "registered"))


def test_without_a_trusted_proxy_the_header_is_ignored(client, session):
    register_from(client, "203.0.113.9")

    assert recorded_ip(session) == "10.0.0.5"


@pytest.fixture
def behind_one_proxy(database_url):
    from tests.conftest import IsolatedClient

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXY_COUNT": 1})
    app.test_client_class = IsolatedClient
    yield app
    with app.app_context():
        db.engine.dispose()


def test_behind_a_configured_proxy_its_last_hop_is_the_client(app, behind_one_proxy, session):
    # The client sent a forged first entry; the proxy appended the address it really saw.
    register_from(behind_one_proxy.test_client(), "198.51.100.7, 203.0.113.9")

    assert recorded_ip(session) == "203.0.113.9"


def test_an_origin_keeps_as_much_of_the_user_agent_as_the_columns_hold():
    assert USER_AGENT_LENGTH == 512
    assert Origin(user_agent="é" * 600).user_agent == "é" * 512
    assert Origin(user_agent="").user_agent is None
    assert Origin().user_agent is None


def test_a_very_long_user_agent_is_recorded_cut_to_the_column(client, session, parent, auth):
    browser = "Mozilla/5.0 " + "(plug-in; tr-TR) " * 100
    client.environ_base["HTTP_USER_AGENT"] = browser

    post(
        client,
        "/auth/register",
        name="Veli",
        email="ua@example.com",
        password="uzun-parola-123",
        kvkk_consent="y",
    )
    auth.login(parent.email)

    logged = set(session.scalars(select(UserLog.user_agent)))
    consented = session.scalar(select(UserConsent.user_agent))
    signed_in = session.scalar(select(UserSessionHash.user_agent))
    assert logged == {consented} == {signed_in} == {browser[:512]}
