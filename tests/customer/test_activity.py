"""A staff member's activity of the day: one row per member and Istanbul date, counters that
only add up, even when requests race."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.access.permissions import Role
from portal.customer import activity
from portal.models import CustomerUser, CustomerUserDailyActivityLog
from tests.helpers import in_parallel


def rows(session, member) -> list[CustomerUserDailyActivityLog]:
    session.commit()  # a fresh snapshot (MariaDB repeatable read), every object expired
    return session.scalars(
        select(CustomerUserDailyActivityLog)
        .where(CustomerUserDailyActivityLog.customer_user_id == member.id)
        .order_by(CustomerUserDailyActivityLog.activity_date)
    ).all()


@pytest.fixture
def member(make, session):
    staff = make.customer_user(role=Role.AGENT)
    session.commit()
    return staff


def test_the_first_step_of_the_day_makes_the_row_and_later_ones_add_to_it(session, member):
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    activity.record(session, member, lead_views=1, now=now)
    activity.record(session, member, lead_views=2, lead_replies=1, offers=1, now=now)
    session.commit()

    (row,) = rows(session, member)
    assert row.activity_date == date(2026, 11, 29)
    assert (row.lead_view_count, row.lead_reply_count, row.offer_count, row.sign_in_count) == (
        3,
        1,
        1,
        0,
    )
    assert row.last_activity_at == now


def test_the_day_is_the_istanbul_date(session, member):
    # 21:30 UTC on the 28th is 00:30 on the 29th in Istanbul (UTC+3).
    activity.record(session, member, offers=1, now=datetime(2026, 11, 28, 20, 59, tzinfo=UTC))
    activity.record(session, member, offers=1, now=datetime(2026, 11, 28, 21, 30, tzinfo=UTC))
    session.commit()

    assert [(r.activity_date, r.offer_count) for r in rows(session, member)] == [
        (date(2026, 11, 28), 1),
        (date(2026, 11, 29), 1),
    ]


def test_an_existing_rows_other_counters_are_kept(session, member):
    session.add(
        CustomerUserDailyActivityLog(
            customer_user_id=member.id,
            activity_date=date(2026, 11, 29),
            sign_in_count=4,
            lead_view_count=7,
        )
    )
    session.commit()

    activity.record(session, member, lead_replies=1, now=datetime(2026, 11, 29, 8, tzinfo=UTC))
    session.commit()

    (row,) = rows(session, member)
    assert (row.sign_in_count, row.lead_view_count, row.lead_reply_count) == (4, 7, 1)


def test_a_negative_count_is_refused(session, member):
    with pytest.raises(ValueError):
        activity.record(session, member, offers=-1)


def test_the_caller_rolling_back_leaves_no_row(session, member):
    activity.record(session, member, lead_views=1)
    session.rollback()
    session.expire_all()

    assert rows(session, member) == []


def test_twenty_requests_at_once_make_one_row_and_lose_no_count(app, session, member):
    member_id = member.id
    now = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

    def work():
        from portal.extensions import db

        own = db.session.get(CustomerUser, member_id)
        activity.record(db.session, own, lead_views=1, offers=2, now=now)
        return True

    results = in_parallel(app, work, times=20)

    assert results == [True] * 20, [r for r in results if r is not True]
    (row,) = rows(session, member)
    assert (row.lead_view_count, row.offer_count) == (20, 40)


def test_sign_ins_are_counted_beside_the_lead_work(session, member):
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    activity.record(session, member, sign_ins=1, now=now)
    activity.record(session, member, lead_views=1, now=now)
    activity.record(session, member, sign_ins=1, now=now)
    session.commit()

    (row,) = rows(session, member)
    assert (row.sign_in_count, row.lead_view_count) == (2, 1)


def test_sign_ins_and_lead_views_at_once_make_one_row_with_both_counts(app, session, member):
    member_id = member.id
    now = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    kinds = ["sign_ins", "lead_views"] * 10  # ten of each, twenty requests at once
    lock = threading.Lock()

    def work():
        from portal.extensions import db

        with lock:
            kind = kinds.pop()
        own = db.session.get(CustomerUser, member_id)
        activity.record(db.session, own, now=now, **{kind: 1})
        return kind

    results = in_parallel(app, work, times=20)

    assert sorted(results) == ["lead_views"] * 10 + ["sign_ins"] * 10, results
    (row,) = rows(session, member)
    assert (row.sign_in_count, row.lead_view_count) == (10, 10)


def test_completing_a_sign_in_counts_it_for_an_active_member_only(make, session, client, auth):
    active = make.customer_user(role=Role.AGENT)
    parent = make.user("parent")
    session.commit()

    auth.login(active.user.email)
    auth.logout()
    auth.login(active.user.email)
    auth.logout()
    auth.login(parent.email)

    (row,) = rows(session, active)
    assert row.sign_in_count == 2
    assert session.scalars(select(CustomerUserDailyActivityLog)).all() == [row]


def test_a_deactivated_members_sign_in_is_not_counted(make, session, auth):
    gone = make.customer_user(role=Role.AGENT, is_active=False)
    session.commit()

    auth.login(gone.user.email)

    assert rows(session, gone) == []
