"""The app's push-token API: register and remove a device token, never another user's."""

import json

import pytest
from sqlalchemy import insert, select

from portal.audit import Origin
from portal.clock import utcnow
from portal.devices import push_tokens as tokens
from portal.extensions import db
from portal.models import UserLog, UserNotificationId
from tests.helpers import AuthActions, csrf_token

URL = "/api/push-tokens"  # the app's contract: a fixed address, so the test spells it out
TOKEN = "fcm:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"


def send(client, method, body, csrf=True):
    # Its own app context, as in production (tests/conftest.py's IsolatedClient now does this
    # for every request; written out here because this file predates it): otherwise a request
    # reuses the test's `g`, where Flask-WTF caches the CSRF token of whichever client asked.
    with client.application.app_context():
        headers = {"X-CSRFToken": csrf_token(client)} if csrf else {}
        return client.open(URL, method=method, json=body, headers=headers)


def register(client, token=TOKEN, platform="android"):
    return send(client, "POST", {"token": token, "platform": platform})


def remove(client, token=TOKEN):
    return send(client, "DELETE", {"token": token})


def tokens_in_db(session):
    session.commit()  # end this test's transaction, so the read sees what requests committed
    rows = session.scalars(select(UserNotificationId).order_by(UserNotificationId.id))
    return [(row.user_id, row.token, row.platform) for row in rows]


def last_seen(session):
    session.commit()
    return session.scalar(select(UserNotificationId.last_seen_at))


def audit_rows(session):
    session.commit()
    return list(session.scalars(select(UserLog).order_by(UserLog.id)))


def signed_in_client(app, user):
    """A second browser (its own cookies) signed in as `user`."""
    client = app.test_client()
    with app.app_context():  # see send()
        AuthActions(client).login(user.email)
    return client


@pytest.fixture
def parent(make, session, auth):
    """A parent, signed in on `client`."""
    user = make.user("parent")
    session.commit()
    auth.login(user.email)
    return user


def test_registering_a_token_stores_it_for_the_signed_in_user(client, session, parent):
    response = register(client)

    assert response.status_code == 201
    assert response.get_json() == {"token": TOKEN, "platform": "android"}
    assert tokens_in_db(session) == [(parent.id, TOKEN, "android")]


def test_registering_the_same_token_again_refreshes_it_and_keeps_one_row(client, session, parent):
    register(client, platform="android")
    first_seen = last_seen(session)

    response = register(client, platform="web")

    assert response.status_code == 200
    assert response.get_json() == {"token": TOKEN, "platform": "web"}
    assert tokens_in_db(session) == [(parent.id, TOKEN, "web")]
    assert last_seen(session) > first_seen


def test_removing_a_token_deletes_it_and_a_second_removal_finds_nothing(client, session, parent):
    register(client)

    removed = remove(client)
    again = remove(client)

    assert removed.status_code == 204
    assert removed.get_data() == b""
    assert again.status_code == 404
    assert again.get_json() == {"error": "no such token"}
    assert tokens_in_db(session) == []


def test_a_user_cannot_remove_another_users_token(app, client, make, session, parent):
    register(client)
    other = make.user("parent")
    session.commit()

    response = remove(signed_in_client(app, other))

    # The same answer as for a token that does not exist: nothing about A's token leaks.
    assert response.status_code == 404
    assert response.get_json() == {"error": "no such token"}
    assert tokens_in_db(session) == [(parent.id, TOKEN, "android")]


def test_a_device_that_changes_hands_moves_its_token_to_the_new_user(
    app, client, make, session, parent
):
    register(client, platform="android")
    new_owner = make.user("parent")
    session.commit()
    new_client = signed_in_client(app, new_owner)

    response = register(new_client, platform="android")

    assert response.status_code == 201
    assert tokens_in_db(session) == [(new_owner.id, TOKEN, "android")]
    # The previous owner can no longer remove it, and is told the same as for any unknown token.
    assert remove(client).status_code == 404
    assert remove(new_client).status_code == 204
    assert tokens_in_db(session) == []
    events = [(row.event, row.user_id) for row in audit_rows(session)]
    assert ("push_token_removed", parent.id) in events
    assert events[-2:] == [
        ("push_token_registered", new_owner.id),
        ("push_token_removed", new_owner.id),
    ]


def test_a_moved_token_is_logged_as_removed_for_the_previous_owner(
    app, client, make, session, parent
):
    register(client)
    new_owner = make.user("parent")
    session.commit()

    register(signed_in_client(app, new_owner))

    moved_away = [r for r in audit_rows(session) if r.user_id == parent.id][-1]
    assert moved_away.event == "push_token_removed"
    assert moved_away.data["reason"] == "registered_by_another_user"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token": TOKEN, "platform": "windows"}, "platform"),
        ({"token": TOKEN}, "platform"),
        ({"token": "", "platform": "ios"}, "token"),
        ({"platform": "ios"}, "token"),
        ({"token": 12345, "platform": "ios"}, "token"),
        ({"token": "a" * 513, "platform": "ios"}, "token"),
        ({"token": "two words", "platform": "ios"}, "token"),
        ({"token": "ends-with-newline\n", "platform": "ios"}, "token"),
        ({"token": "tab\there", "platform": "ios"}, "token"),
        ({"token": "nul\x00byte", "platform": "ios"}, "token"),
        ({"token": "çatı", "platform": "ios"}, "token"),
    ],
)
def test_a_malformed_registration_is_refused_with_the_field_named(
    client, session, parent, body, field
):
    response = send(client, "POST", body)

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]
    assert tokens_in_db(session) == []


def test_both_fields_wrong_are_both_reported(client, session, parent):
    response = send(client, "POST", {"token": " ", "platform": None})

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"token", "platform"}


def test_a_token_of_the_longest_allowed_length_is_accepted(client, session, parent):
    longest = "a" * 512

    assert register(client, token=longest).status_code == 201
    assert tokens_in_db(session) == [(parent.id, longest, "android")]


def test_a_malformed_removal_is_refused_with_the_field_named(client, session, parent):
    register(client)

    response = send(client, "DELETE", {"token": "has space"})

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["token"]
    assert len(tokens_in_db(session)) == 1


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("token=abc&platform=ios", "application/x-www-form-urlencoded"),
        ('{"token": "abc", "platform": ', "application/json"),
        ('["abc", "ios"]', "application/json"),
        ('{"token": "abc", "platform": "ios"}', "text/plain"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(
    client, session, parent, method, data, content_type
):
    with client.application.app_context():  # see send()
        response = client.open(
            URL,
            method=method,
            data=data,
            content_type=content_type,
            headers={"X-CSRFToken": csrf_token(client)},
        )

    assert response.status_code == 400
    assert "body" in response.get_json()["errors"]
    assert tokens_in_db(session) == []


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_request_without_the_csrf_header_is_refused(client, session, parent, method):
    response = send(client, method, {"token": TOKEN, "platform": "ios"}, csrf=False)

    assert response.status_code == 400
    assert "Formun süresi dolmuş" in response.get_data(as_text=True)
    assert tokens_in_db(session) == []


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_an_anonymous_request_gets_401_json_not_a_redirect(client, session, method):
    response = send(client, method, {"token": TOKEN, "platform": "ios"})

    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required"}
    assert "Location" not in response.headers
    assert tokens_in_db(session) == []


def test_an_anonymous_client_asking_for_json_elsewhere_gets_401_too(client):
    with client.application.app_context():  # see send()
        response = client.get("/account/", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required"}


def test_a_session_of_a_deleted_user_cannot_register(client, session, parent):
    parent.soft_delete()
    session.commit()

    response = register(client)

    assert response.status_code == 401
    assert tokens_in_db(session) == []


def test_staff_whose_company_access_was_removed_get_403_json(client, make, session, auth):
    staff = make.customer_user(is_active=False)
    session.commit()
    auth.login(staff.user.email)

    response = register(client)

    assert response.status_code == 403
    assert response.get_json() == {"error": "forbidden"}
    assert tokens_in_db(session) == []


def test_staff_and_operators_may_register_their_devices_too(app, make, session):
    staff = make.customer_user()
    operator = make.user("operator")
    session.commit()

    assert register(signed_in_client(app, staff.user), token="staff-token").status_code == 201
    assert register(signed_in_client(app, operator), token="operator-token").status_code == 201
    assert {row[0] for row in tokens_in_db(session)} == {staff.user_id, operator.id}


def test_audit_rows_name_the_event_and_platform_but_never_the_token(client, session, parent):
    register(client, platform="ios")
    register(client, platform="ios")  # a refresh: a no-op, nothing to audit
    remove(client)
    remove(client)  # nothing removed, nothing to audit

    rows = [r for r in audit_rows(session) if r.event.startswith("push_token_")]

    assert [(r.event, r.user_id) for r in rows] == [
        ("push_token_registered", parent.id),
        ("push_token_removed", parent.id),
    ]
    for row in rows:
        assert row.data["platform"] == "ios"
        assert row.data["token_sha256"] == tokens.token_fingerprint(TOKEN)
        assert TOKEN not in json.dumps(row.data)
        assert TOKEN not in (row.user_agent or "")
        assert row.ip_address == "127.0.0.1"


def test_a_token_registered_by_a_concurrent_request_is_refreshed_not_duplicated(
    make, session, monkeypatch
):
    owner = make.user("parent")
    session.commit()
    # This request looks and finds no row (on MariaDB the read also fixes its snapshot)...
    assert session.scalars(select(UserNotificationId)).all() == []
    # ...while a concurrent request registers the same token and commits first.
    with db.engine.begin() as concurrent:
        concurrent.execute(
            insert(UserNotificationId).values(
                user_id=owner.id,
                token=TOKEN,
                platform="ios",
                created_at=utcnow(),
                last_seen_at=utcnow(),
            )
        )
    # PostgreSQL's READ COMMITTED would already see the row; replay the unlucky interleaving
    # on every database by making the first, unlocked lookup the one taken before the commit.
    real_lookup = tokens._row_for
    lookups = []

    def lookup_that_lost_the_race(session, token, lock=False):
        lookups.append(lock)
        return None if len(lookups) == 1 else real_lookup(session, token, lock=lock)

    monkeypatch.setattr(tokens, "_row_for", lookup_that_lost_the_race)

    registration = tokens.register_token(session, owner.id, TOKEN, "android", Origin())
    session.commit()

    assert registration.created is False
    assert lookups == [False, True]
    assert tokens_in_db(session) == [(owner.id, TOKEN, "android")]


def test_removing_a_token_removed_meanwhile_by_a_concurrent_request_answers_false(
    make, session, monkeypatch
):
    owner = make.user("parent")
    session.add(
        UserNotificationId(
            user_id=owner.id,
            token=TOKEN,
            platform="ios",
            created_at=utcnow(),
            last_seen_at=utcnow(),
        )
    )
    session.commit()
    row = session.scalar(select(UserNotificationId))
    with db.engine.begin() as concurrent:
        concurrent.execute(UserNotificationId.__table__.delete())

    # The row this request read is already gone from the database.
    monkeypatch.setattr(session, "scalar", lambda query: row)
    removed = tokens.remove_token(session, owner.id, TOKEN, Origin())
    monkeypatch.undo()

    assert removed is False
    assert audit_rows(session) == []
