"""The parent's activity log: their own rows only, newest first, paged, and nothing secret.

Assertions are on state (row ids, order, status codes), not on translated text.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.account.activity_log import PER_PAGE, event_details
from portal.clock import utcnow
from portal.models import UserLog
from portal.user_agents import short_user_agent
from tests.auth.test_registration import PASSWORD, mailed_code, outbox, register, verify
from tests.helpers import HTMX
from tests.test_html import assert_valid_html

URL = "/account/activity"


def shown_ids(html: str) -> list[int]:
    """The user_logs ids on a page, in the order shown."""
    return [int(n) for n in re.findall(r'<tr id="log-(\d+)"', html)]


def add_log(session, user, event, minutes_ago, **values):
    row = UserLog(
        user_id=user.id,
        event=event,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        **values,
    )
    session.add(row)
    session.flush()
    return row


def test_the_page_shows_the_users_own_rows_newest_first(client, session, make, parent, auth):
    other = make.user("parent")
    old = add_log(session, parent, "consent_given", 30, ip_address="192.0.2.7")
    new = add_log(session, parent, "profile_changed", 10, data={"fields": ["phone"]})
    theirs = add_log(session, other, "sign_in", 5, ip_address="198.51.100.9")
    session.commit()
    auth.login(parent.email)

    response = client.get(URL)

    html = response.get_data(as_text=True)
    ids = shown_ids(html)
    assert response.status_code == 200
    assert theirs.id not in ids and "198.51.100.9" not in html
    assert ids.index(new.id) < ids.index(old.id)
    assert "192.0.2.7" in html
    assert ids == sorted(ids, key=lambda i: session.get(UserLog, i).created_at, reverse=True)
    assert_valid_html(html, URL)


def test_times_are_shown_in_istanbul_time_with_the_offset(client, session, parent, auth):
    add_log(session, parent, "consent_given", 0)
    session.commit()
    auth.login(parent.email)

    html = client.get(URL).get_data(as_text=True)

    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d \+03:00", html)


def test_the_log_is_paged_fifty_a_page(client, session, parent, auth):
    for minutes in range(PER_PAGE + 5):
        add_log(session, parent, "favorite_added", 1000 + minutes, data={"kind": "school"})
    session.commit()
    auth.login(parent.email)

    first = client.get(URL).get_data(as_text=True)
    second = client.get(f"{URL}?page=2").get_data(as_text=True)
    beyond = client.get(f"{URL}?page=99999999999999999999")

    assert len(shown_ids(first)) == PER_PAGE
    assert 'href="/account/activity?page=2"' in first
    assert not set(shown_ids(first)) & set(shown_ids(second))
    total = session.scalar(select(func.count()).where(UserLog.user_id == parent.id))
    assert len(shown_ids(first)) + len(shown_ids(second)) == total
    assert beyond.status_code == 200 and shown_ids(beyond.get_data(as_text=True)) == []
    assert client.get(f"{URL}?page=abc").status_code == 200


def test_htmx_gets_the_log_alone(client, session, parent, auth):
    add_log(session, parent, "consent_given", 0)
    session.commit()
    auth.login(parent.email)

    response = client.get(URL, headers=HTMX)

    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="activity-log"') and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_data_beyond_the_known_harmless_keys_is_never_shown(client, session, parent, auth):
    add_log(session, parent, "profile_changed", 0, data={"fields": ["phone"], "note": "gizli-1"})
    add_log(session, parent, "sign_in_failed", 1, data={"token": "gizli-2"})
    session.commit()
    auth.login(parent.email)

    html = client.get(URL).get_data(as_text=True)

    assert "gizli-1" not in html and "gizli-2" not in html


def test_a_registration_shows_up_without_its_code_or_password(app, client, auth):
    register(client)
    code = mailed_code(app)
    verify(client, code)
    auth.login("yeni.veli@example.com", PASSWORD)

    response = client.get(URL)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(shown_ids(html)) >= 3  # registered, consent given, code sent, verified, ...
    every_code = {m for mail in outbox(app) for m in re.findall(r"\b\d{6}\b", mail.body)}
    page_without_token = re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", html)
    assert code in every_code
    assert not any(c in page_without_token for c in every_code)
    assert PASSWORD not in html


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize(
    ("user_agent", "short"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge · Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari · iOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox · Linux",
        ),
        ("TestBrowser/1.0", "TestBrowser/1.0"),
        ("x" * 100, "x" * 39 + "…"),
        (None, ""),
    ],
)
def test_browsers_are_named_shortly(user_agent, short):
    assert short_user_agent(user_agent) == short


def test_only_listed_details_are_shown_and_unknown_ones_are_dropped(app):
    def row(event, data):
        return UserLog(user_id=1, event=event, data=data)

    with app.test_request_context():
        assert len(event_details(row("profile_changed", {"fields": ["phone", "<b>x</b>"]}))) == 1
        assert len(event_details(row("email_code_sent", {"purpose": "change_email"}))) == 1
        assert event_details(row("email_code_sent", {"purpose": "123456"})) == []
        assert event_details(row("sign_in_failed", {"email": "a@example.com"})) == []
        assert event_details(row("profile_changed", {"fields": "phone"})) == []
        assert event_details(row("sign_in", None)) == []


def test_the_account_page_links_every_page_of_the_parents_area(client, parent, auth):
    auth.login(parent.email)

    html = client.get("/account/").get_data(as_text=True)

    for url in (
        "/account/profile",
        "/account/contacts",
        "/account/favorites",
        "/account/privacy",
        "/account/activity",
        "/account/email",
        "/account/delete",
    ):
        assert f'href="{url}"' in html, url
        assert client.get(url).status_code == 200, url
