"""portal.audit: failures are kept once per account, source and target in a window, with a
count; refused requests (403, 429, the 404s of other people's objects) are among them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit import FAILURE_WINDOW, Origin, log_event, log_once
from portal.clock import utcnow
from portal.models import UserContact, UserLog

HOME = Origin(ip_address="198.51.100.1", user_agent="Firefox")
AWAY = Origin(ip_address="198.51.100.2", user_agent="Firefox")


def refusals(session):
    return session.scalars(
        select(UserLog).where(UserLog.event == "request_refused").order_by(UserLog.id)
    ).all()


def test_a_repeat_in_the_window_counts_on_the_same_row(session, parent):
    now = utcnow()
    for seconds in (0, 10, 20):
        log_once(
            session, "sign_in_failed", parent.id, HOME, "user:1", now + timedelta(seconds=seconds)
        )
    log_once(session, "sign_in_failed", parent.id, AWAY, "user:1", now)
    log_once(session, "sign_in_failed", parent.id, HOME, "user:2", now)
    log_once(session, "sign_in_failed", None, HOME, "user:1", now)
    session.commit()

    rows = session.scalars(select(UserLog).order_by(UserLog.id)).all()
    assert [(r.user_id, r.ip_address, r.data["target"], r.data["count"]) for r in rows] == [
        (parent.id, HOME.ip_address, "user:1", 3),
        (parent.id, AWAY.ip_address, "user:1", 1),
        (parent.id, HOME.ip_address, "user:2", 1),
        (None, HOME.ip_address, "user:1", 1),
    ]


def test_after_the_window_a_new_row_starts(session, parent):
    now = utcnow()
    log_once(session, "sign_in_failed", parent.id, HOME, "user:1", now)
    log_once(session, "sign_in_failed", parent.id, HOME, "user:1", now + FAILURE_WINDOW)
    session.commit()

    assert session.query(UserLog).count() == 2


def test_an_unknown_event_is_refused(session):
    with pytest.raises(ValueError):
        log_once(session, "sign_in_faild", None, HOME, "x", utcnow())
    with pytest.raises(ValueError):
        log_event(session, "sign_in_faild", None, HOME)


def test_a_403_is_audited_once_per_caller_source_and_target(client, session, signed_in):
    for _ in range(3):
        assert client.get("/operator/").status_code == 403

    [row] = refusals(session)
    assert row.user_id == signed_in.id
    assert row.ip_address == "127.0.0.1" and row.user_agent
    assert row.data == {**row.data, "status": 403, "target": "path:/operator/", "count": 3}


def test_another_users_contact_is_a_404_and_audited(client, session, make, signed_in):
    other = make.user("parent")
    theirs = UserContact(user_id=other.id, contact_type="phone", value="+905321112233")
    session.add(theirs)
    session.commit()

    assert client.get(f"/account/contacts/{theirs.id}/edit").status_code == 404
    assert client.get("/no/such/page").status_code == 404  # not probing anyone: no row

    [row] = refusals(session)
    assert (row.user_id, row.data["status"], row.data["target"]) == (
        signed_in.id,
        404,
        f"contact:{theirs.id}",
    )


def test_another_users_session_is_a_404_and_audited(app, client, session, make, signed_in):
    from portal.models import UserSessionHash
    from tests.helpers import AuthActions, csrf_token

    other = make.user("parent")
    session.commit()
    AuthActions(app.test_client()).login(other.email)
    their_row = session.scalar(
        select(UserSessionHash.id).where(UserSessionHash.user_id == other.id)
    )

    response = client.post(
        f"/auth/sessions/{their_row}/end", data={"csrf_token": csrf_token(client)}
    )

    assert response.status_code == 404
    [row] = refusals(session)
    assert row.data["target"] == f"session:{their_row}"


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_a_rate_limit_hit_is_audited(client, session):
    from tests.helpers import csrf_token

    for _ in range(12):
        response = client.post(
            "/auth/reset", data={"email": "kimse@example.com", "csrf_token": csrf_token(client)}
        )
    assert response.status_code == 429

    [row] = refusals(session)
    assert row.data["status"] == 429 and row.data["target"] == "path:/auth/reset"
