"""The one way to send mail: a row in the outbox, written in the caller's transaction.

`send()` adds a mail_outbox row to db.session and sends nothing: the mail exists only if the
change that caused it commits, and a rolled-back change sends nothing. After the commit:
- while a request is served, the rows it committed are delivered once its response has gone
  (DeliverAfterResponse): no mail is ever sent inside a request, a slow or dead SMTP server
  neither delays nor fails a page, and codes still arrive within seconds with no worker;
- elsewhere (a flask command, the tests' own sessions) they are delivered right after it.
A failed delivery stays in the outbox for `flask mail deliver`, the worker that retries with
backoff (portal/outbox.py). MAIL_BACKEND is how a mail finally leaves: `smtp`, `log`
(development) or `memory` (tests read app.extensions["mail_outbox"]).
"""

import smtplib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email.message import EmailMessage
from functools import partial

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.wsgi import ClosingIterator

from portal import outbox
from portal.clock import utcnow
from portal.database import insert_many
from portal.extensions import db
from portal.models import MailOutbox

BACKENDS = ("smtp", "log", "memory")
# session.info key: the outbox rows this session added and has not committed yet.
_ADDED = "mail_outbox_added"
# The ids committed while the current request is served (None when no request is).
_COMMITTED_IN_REQUEST: ContextVar[list[int] | None] = ContextVar("mail_committed", default=None)
# A list that send() appends to instead of writing rows (see captured()).
_CAPTURED: ContextVar[list | None] = ContextVar("mail_captured", default=None)


@dataclass(frozen=True)
class Mail:
    """A plain-text message as it was sent."""

    to: str
    subject: str
    body: str


def send(to: str, subject: str, body: str) -> Mail:
    """Queue one message in db.session; it leaves once the caller commits."""
    mail = Mail(to=to, subject=str(subject), body=str(body))
    captured = _CAPTURED.get()
    if captured is not None:
        captured.append(mail)
        return mail
    now = utcnow()
    row = MailOutbox(
        recipient=mail.to, subject=mail.subject, body=mail.body, created_at=now, next_try_at=now
    )
    session = db.session()
    session.add(row)
    session.info.setdefault(_ADDED, []).append(row)
    return mail


def send_many(session: Session, mails: list[Mail]) -> int:
    """Queue many messages in `session` with one INSERT (a renewal batch's thousand receipts),
    where send() would add a thousand ORM rows; returns how many.

    They leave with the outbox worker (`flask mail deliver`), not right after the commit as
    send()'s do: a batch job has no response to wait for, and the worker is what it runs
    beside.
    """
    mails = [Mail(to=m.to, subject=str(m.subject), body=str(m.body)) for m in mails]
    captured = _CAPTURED.get()
    if captured is not None:
        captured.extend(mails)
        return len(mails)
    # mail_outbox's defaults are Python-side: PostgreSQL's batched INSERT needs every column.
    now = utcnow()
    insert_many(
        session,
        MailOutbox,
        [{"recipient": m.to, "subject": m.subject, "body": m.body} for m in mails],
        created_at=now,
        next_try_at=now,
        attempts=0,
    )
    return len(mails)


@contextmanager
def captured() -> Iterator[list[Mail]]:
    """Within the block, send() only appends to the yielded list: nothing is queued or sent.

    For the demo data, whose parent reads her code as a person reads their inbox.
    """
    inbox: list[Mail] = []
    token = _CAPTURED.set(inbox)
    try:
        yield inbox
    finally:
        _CAPTURED.reset(token)


def transport(letter) -> None:
    """Hand one mail (anything with to, subject and body) to MAIL_BACKEND; raises on failure."""
    mail = Mail(to=letter.to, subject=letter.subject, body=letter.body)
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        current_app.extensions.setdefault("mail_outbox", []).append(mail)
    elif backend == "log":
        current_app.logger.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)
    elif backend == "smtp":
        _send_smtp(mail)
    else:
        raise RuntimeError(f"MAIL_BACKEND must be smtp, log or memory, not {backend!r}")


def _send_smtp(mail: Mail) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def deliver(ids=None) -> outbox.Report:
    """Deliver due outbox rows (only `ids` if given) with the app's backend and schedule."""
    return outbox.deliver(
        db.session,
        outbox.schedule_from(current_app.config),
        transport,
        ids=ids,
        batch_size=current_app.config["MAIL_BATCH_SIZE"],
    )


def purge_delivered() -> int:
    """Delete outbox rows delivered longer than MAIL_KEEP_SENT ago; returns how many."""
    schedule = outbox.schedule_from(current_app.config)
    return outbox.purge_delivered(db.session, schedule, utcnow())


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    added = session.info.pop(_ADDED, None)
    if not added or not has_app_context():  # no app to deliver with: the worker will
        return
    # A row whose transaction rolled back lost its identity: it was never written.
    ids = [key[1][0] for key in (inspect(row).key for row in added) if key is not None]
    if not ids:
        return
    in_request = _COMMITTED_IN_REQUEST.get()
    if in_request is not None:
        in_request.extend(ids)
    else:
        _deliver_now(current_app._get_current_object(), ids)


def _deliver_now(app: Flask, ids: list[int]) -> None:
    # Outside a request nobody waits on a response; in its own session, as the committing
    # one may not run SQL inside its after_commit hook. A failure waits for the worker.
    try:
        with Session(db.engine) as session:
            outbox.deliver(
                session,
                outbox.schedule_from(app.config),
                transport,
                ids=ids,
                batch_size=app.config["MAIL_BATCH_SIZE"],
            )
    except Exception:
        app.logger.exception("mail %s left for `flask mail deliver`", ids)


class DeliverAfterResponse:
    """WSGI middleware: mail committed while serving a request leaves after its response.

    The delivery runs when the server closes the response, once the body has been written, so
    the page never waits for it and nothing in it can fail the page.
    """

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        committed: list[int] = []
        token = _COMMITTED_IN_REQUEST.set(committed)
        try:
            body = self.wsgi_app(environ, start_response)
        finally:
            _COMMITTED_IN_REQUEST.reset(token)
        return ClosingIterator(body, partial(self._deliver, committed))

    def _deliver(self, ids: list[int]) -> None:
        if not ids:
            return
        # A failed send is recorded on its row for the worker. What is retried here is the
        # database refusing the claim itself (SQLite answers "database is locked" at once when
        # two transactions that read both want to write): without a retry the mail would wait
        # for a worker that the development setup does not run.
        pauses = list(self.app.config["MAIL_HANDOFF_RETRIES"])
        while True:
            try:
                with self.app.app_context():
                    deliver(ids)
                return
            except OperationalError as error:
                if not pauses:
                    failure = error
                    break
                time.sleep(pauses.pop(0).total_seconds())
            except Exception as error:
                failure = error
                break
        self.app.logger.error("mail %s left for `flask mail deliver`", ids, exc_info=failure)


def init_app(app: Flask) -> None:
    """Deliver after the response the mail each request commits."""
    if app.config["MAIL_BACKEND"] not in BACKENDS:
        raise RuntimeError(
            f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}, not {app.config['MAIL_BACKEND']!r}"
        )
    app.wsgi_app = DeliverAfterResponse(app, app.wsgi_app)
