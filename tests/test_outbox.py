"""Delivering the outbox: claims, backoff, and several deliverers at once."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal import mail, outbox
from portal.clock import utcnow
from portal.extensions import db
from portal.models import MailOutbox
from tests import dbutil
from tests.helpers import in_parallel

SCHEDULE = outbox.Schedule(
    claim_timeout=timedelta(minutes=5),
    first_retry=timedelta(seconds=30),
    longest_retry=timedelta(hours=1),
    keep_delivered=timedelta(days=7),
)


def queue(session, count: int, **values) -> list[int]:
    """`count` due rows written directly (so no hand-off delivers them first)."""
    now = utcnow()
    new = [
        MailOutbox(
            recipient=f"veli{n}@example.com",
            subject=f"Konu {n}",
            body=f"Gövde {n}",
            created_at=now,
            next_try_at=values.get("next_try_at", now),
            attempts=0,
        )
        for n in range(count)
    ]
    session.add_all(new)
    session.commit()
    return [row.id for row in new]


def test_retries_wait_longer_each_time_up_to_the_longest_wait():
    waits = [outbox.retry_delay(SCHEDULE, attempts) for attempts in range(1, 11)]

    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert waits[-1] == timedelta(hours=1) and waits == sorted(waits)
    assert outbox.retry_delay(SCHEDULE, 10_000) == timedelta(hours=1)


def test_a_failed_try_is_recorded_and_retried_only_when_due(session):
    (row_id,) = queue(session, 1)
    tries = []

    def smtp_down(letter):
        tries.append(letter.id)
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    report = outbox.deliver(session, SCHEDULE, smtp_down)
    again = outbox.deliver(session, SCHEDULE, smtp_down)

    assert (report.sent, report.failed, again.failed, tries) == (0, 1, 0, [row_id])
    row = session.get(MailOutbox, row_id)
    assert (row.attempts, row.last_error, row.sent_at) == (1, "ConnectionRefusedError", None)
    assert row.body == "Gövde 0"  # kept until it goes out
    assert timedelta(seconds=25) < row.next_try_at - utcnow() <= timedelta(seconds=30)


def test_a_claimed_mail_is_not_taken_again_until_the_claim_times_out(session):
    queue(session, 3)
    now = utcnow()

    first = outbox.claim(session, SCHEDULE, now, limit=2)
    second = outbox.claim(session, SCHEDULE, now, limit=10)
    # The first deliverer died without a word: its mails are due again after the timeout.
    later = outbox.claim(session, SCHEDULE, now + SCHEDULE.claim_timeout, limit=10)

    assert len(first) == 2 and len(second) == 1
    assert {letter.id for letter in first + second} == {letter.id for letter in later}
    assert {letter.attempts for letter in later} == {2}  # each claim counts as a try


def test_a_request_hand_off_tries_only_its_own_rows(app, session):
    mine, *others = queue(session, 3)

    with app.app_context():
        report = mail.deliver([mine])

    assert report.sent == 1
    assert [m.subject for m in app.extensions["mail_outbox"]] == ["Konu 0"]
    assert session.scalar(select(MailOutbox.sent_at).where(MailOutbox.id == others[0])) is None


def test_several_workers_at_once_deliver_each_mail_once(app, session):
    ids = queue(session, 60)
    sent = []

    def slow_smtp(letter):
        time.sleep(0.005)  # while one worker sends, the others claim
        sent.append(letter.id)

    def worker():
        return outbox.deliver(db.session, SCHEDULE, slow_smtp, batch_size=5)

    reports = in_parallel(app, worker, times=4)

    assert all(isinstance(report, outbox.Report) for report in reports), reports
    assert sorted(sent) == ids
    assert sum(report.sent for report in reports) == 60
    session.commit()  # a fresh snapshot (MariaDB reads in REPEATABLE READ)
    assert session.scalars(select(MailOutbox.attempts).distinct()).all() == [1]


@pytest.mark.skipif(dbutil.dialect() == "sqlite", reason="SQLite has no row locks")
def test_a_claim_skips_rows_another_deliverer_holds_instead_of_waiting(app, session):
    held, free = queue(session, 2)
    with db.engine.connect() as other:
        transaction = other.begin()
        other.execute(select(MailOutbox.id).where(MailOutbox.id == held).with_for_update()).all()
        if dbutil.dialect() == "postgresql":
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
        started = time.monotonic()

        with app.app_context():
            letters = outbox.claim(db.session, SCHEDULE, utcnow(), limit=10)

        assert time.monotonic() - started < 2
        transaction.rollback()

    assert [letter.id for letter in letters] == [free]
