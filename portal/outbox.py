"""Delivering the mail outbox (mail_outbox): claimed, sent, retried with backoff, purged.

A row's life, read off its columns:

    queued   sent_at NULL, next_try_at <= now
      | claim: next_try_at = now + claim_timeout, attempts + 1 (committed before sending)
    claimed  sent_at NULL, next_try_at > now
      |-- sent -----> delivered: sent_at set, subject and body blanked
      |                 '-- MAIL_KEEP_SENT later: deleted by purge_delivered()
      |-- failed ---> queued again at now + retry_delay(attempts), last_error set
      '-- the process died -> queued again when the claim times out

Nothing is held locked while a mail is being sent: a slow or dead SMTP server never blocks
another writer (SQLite has only one). The claim is where several deliverers meet: PostgreSQL
and MariaDB hand each one different rows (FOR UPDATE SKIP LOCKED); on SQLite, which has a
single writer and ignores FOR UPDATE, the UPDATE that claims a row repeats the "still due"
test, so of two deliverers that read the same row only the first one's UPDATE matches it.
A mail is sent once unless a process dies between the server's acceptance and the commit that
follows it; then it is sent again (at least once, never lost).
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.models import MailOutbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """How long a claim lasts, how retries back off, and how long delivered rows are kept."""

    claim_timeout: timedelta
    first_retry: timedelta
    longest_retry: timedelta
    keep_delivered: timedelta


@dataclass(frozen=True)
class Letter:
    """A claimed row as the transport needs it, read before the claim commits."""

    id: int
    to: str
    subject: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Report:
    """What one delivery run did."""

    sent: int = 0
    failed: int = 0


def schedule_from(config) -> Schedule:
    """The outbox's timings from the app's settings."""
    return Schedule(
        claim_timeout=config["MAIL_CLAIM_TIMEOUT"],
        first_retry=config["MAIL_RETRY_FIRST"],
        longest_retry=config["MAIL_RETRY_LONGEST"],
        keep_delivered=config["MAIL_KEEP_SENT"],
    )


def retry_delay(schedule: Schedule, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: doubling from first_retry, capped."""
    doublings = min(max(attempts - 1, 0), 30)  # 2**30 first retries is past any cap
    return min(schedule.first_retry * 2**doublings, schedule.longest_retry)


def claim(
    session: Session,
    schedule: Schedule,
    now: datetime,
    limit: int,
    ids: Iterable[int] | None = None,
) -> list[Letter]:
    """Take up to `limit` due rows (only among `ids` if given) for this deliverer; commits."""
    due = (MailOutbox.sent_at.is_(None), MailOutbox.next_try_at <= now)
    query = select(MailOutbox.id).where(*due)
    if ids is not None:
        query = query.where(MailOutbox.id.in_(list(ids)))
    candidates = session.scalars(
        query.order_by(MailOutbox.next_try_at, MailOutbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row_id in candidates:
        taken = session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == row_id, *due)
            .values(next_try_at=now + schedule.claim_timeout, attempts=MailOutbox.attempts + 1)
        )
        if taken.rowcount == 1:
            claimed.append(row_id)
    letters = [
        Letter(row.id, row.recipient, row.subject, row.body, row.attempts)
        for row in session.execute(
            select(
                MailOutbox.id,
                MailOutbox.recipient,
                MailOutbox.subject,
                MailOutbox.body,
                MailOutbox.attempts,
            )
            .where(MailOutbox.id.in_(claimed))
            .order_by(MailOutbox.id)
        )
    ]
    session.commit()
    return letters


def deliver(
    session: Session,
    schedule: Schedule,
    transport: Callable[[Letter], None],
    ids: Iterable[int] | None = None,
    batch_size: int = 20,
) -> Report:
    """Send what is due through `transport`, a batch at a time, until nothing due is left.

    With `ids` (the rows one request committed) each is tried once: a failure waits for the
    worker. A transport error of any kind is a failed try, recorded on the row; it never
    propagates. Commits after each mail, so a crash forgets no outcome.
    """
    sent = failed = 0
    wanted = None if ids is None else list(ids)
    while True:
        letters = claim(session, schedule, utcnow(), batch_size, wanted)
        for letter in letters:
            try:
                transport(letter)
            except Exception as error:  # whatever the transport raises, the mail must stay
                failed += 1
                _failed(session, schedule, letter, error)
            else:
                sent += 1
                _delivered(session, letter)
            session.commit()
        if not letters or wanted is not None:
            return Report(sent=sent, failed=failed)


def _delivered(session: Session, letter: Letter) -> None:
    # The subject and body may carry a code: once delivered they are nobody's business here.
    session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == letter.id)
        .values(sent_at=utcnow(), subject="", body="", last_error=None)
    )


def _failed(session: Session, schedule: Schedule, letter: Letter, error: Exception) -> None:
    delay = retry_delay(schedule, letter.attempts)
    kind = type(error).__name__[:100]
    log.warning(
        "mail %s not delivered (try %d, %s); next try in %s",
        letter.id,
        letter.attempts,
        kind,
        delay,
    )
    session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == letter.id)
        .values(next_try_at=utcnow() + delay, last_error=kind)
    )


def purge_delivered(session: Session, schedule: Schedule, now: datetime) -> int:
    """Delete rows delivered more than keep_delivered ago; returns how many. Commits."""
    purged = session.execute(
        delete(MailOutbox).where(MailOutbox.sent_at < now - schedule.keep_delivered)
    ).rowcount
    session.commit()
    return purged


def waiting(session: Session) -> int:
    """How many mails are not delivered yet (queued, claimed or waiting for a retry)."""
    return session.scalar(select(func.count(MailOutbox.id)).where(MailOutbox.sent_at.is_(None)))
