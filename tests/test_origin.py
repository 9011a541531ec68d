"""The client IP in audit rows and consent evidence cannot be forged with a header."""

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import UserLog
from tests.helpers import csrf_token


def register_from(client, forwarded_for):
    client.get("/auth/register")
    client.post(
        "/auth/register",
        data={
            "name": "Veli",
            "email": "ip@example.com",
            "password": "uzun-parola-123",
            "csrf_token": csrf_token(client),
        },
        headers={"X-Forwarded-For": forwarded_for},
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
