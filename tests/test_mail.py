"""Mail goes through the outbox: written with the change, delivered after the response."""

import re
import socket
import socketserver
import threading
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError

from portal import mail, outbox
from portal.clock import utcnow
from portal.models import MailOutbox
from tests.factories import Factories
from tests.helpers import csrf_token


def delivered(app) -> list[mail.Mail]:
    return app.extensions.setdefault("mail_outbox", [])


def rows(session) -> list[MailOutbox]:
    session.commit()  # a fresh snapshot (MariaDB reads in REPEATABLE READ)
    return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


def closed_port() -> int:
    """A local port nobody listens on: an SMTP server that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: greet, take one message per DATA, quit."""

    def handle(self):
        self.reply("220 test SMTP")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb == "DATA":
                self.reply("354 end with .")
                data = b"".join(iter(self.rfile.readline, b".\r\n"))
                self.server.received.append(message_from_bytes(data))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")

    def reply(self, text):
        self.wfile.write(f"{text}\r\n".encode())


@contextmanager
def smtp_server():
    """A local SMTP server on a free port; yields (port, the messages it received)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.received
    finally:
        server.shutdown()
        server.server_close()


def start_sign_in(client, email):
    """The password step from a browser new to the account: it mails a code."""
    client.get("/auth/login")
    return client.post(
        "/auth/login",
        data={"email": email, "password": Factories.PASSWORD, "csrf_token": csrf_token(client)},
    )


def test_a_mail_waits_for_the_commit_then_leaves_and_keeps_no_body(app, session):
    mail.send("veli@example.com", "Konu", "Kodunuz 123456")

    assert delivered(app) == []
    session.commit()

    assert delivered(app) == [mail.Mail("veli@example.com", "Konu", "Kodunuz 123456")]
    (row,) = rows(session)
    assert row.sent_at is not None and row.attempts == 1
    assert (row.recipient, row.subject, row.body) == ("veli@example.com", "", "")


def test_a_rolled_back_change_sends_nothing(app, session, make):
    make.user("parent", email="kalan@example.com")
    mail.send("gitmeyen@example.com", "Konu", "Gövde")
    session.flush()
    session.rollback()
    make.user("parent", email="sonraki@example.com")
    session.commit()  # a later commit of the same session must not send the rolled-back mail

    assert delivered(app) == []
    assert rows(session) == []


def test_mail_of_a_savepoint_that_failed_is_not_sent(app, session):
    mail.send("kalir@example.com", "Konu", "Gövde")
    nested = session.begin_nested()
    mail.send("gider@example.com", "Konu", "Gövde")
    nested.rollback()
    session.commit()

    assert [m.to for m in delivered(app)] == ["kalir@example.com"]


def test_the_code_mail_leaves_after_the_response_not_inside_it(app, client, parent):
    client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={
            "email": parent.email,
            "password": Factories.PASSWORD,
            "csrf_token": csrf_token(client),
        },
        buffered=False,
    )

    assert response.headers["Location"] == "/auth/one-time-code"
    assert delivered(app) == []  # the response is complete, the server has not closed it yet
    response.close()
    assert [m.to for m in delivered(app)] == [parent.email]


@pytest.mark.config(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_USE_TLS=False)
def test_with_smtp_down_sign_in_shows_the_code_page_and_the_worker_delivers_later(
    app, client, session, runner, parent
):
    app.config["MAIL_PORT"] = closed_port()

    response = start_sign_in(client, parent.email)

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/one-time-code"
    assert client.get("/auth/one-time-code").status_code == 200
    (row,) = rows(session)
    assert row.recipient == parent.email and row.sent_at is None
    assert row.attempts == 1 and row.last_error == "ConnectionRefusedError"
    assert row.next_try_at > utcnow()  # backing off
    result = runner.invoke(args=["mail", "deliver", "--once"])
    assert "0 sent, 0 failed" in result.output  # not due yet: nothing is tried early

    app.config["MAIL_BACKEND"] = "memory"  # the server is back...
    session.execute(update(MailOutbox).values(next_try_at=utcnow() - timedelta(seconds=1)))
    session.commit()  # ...and the retry is due
    result = runner.invoke(args=["mail", "deliver", "--once"])

    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed" in result.output
    code = re.search(r"\b(\d{6})\b", delivered(app)[-1].body).group(1)
    signed_in = client.post(
        "/auth/one-time-code", data={"code": code, "csrf_token": csrf_token(client)}
    )
    assert signed_in.headers["Location"] == "/account/"
    assert rows(session)[0].sent_at is not None


@pytest.mark.config(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_USE_TLS=False)
def test_over_smtp_the_code_reaches_the_server_after_the_response(app, client, parent):
    with smtp_server() as (port, received):
        app.config["MAIL_PORT"] = port
        start_sign_in(client, parent.email)

    (message,) = received
    assert message["To"] == parent.email and message["From"] == app.config["MAIL_SENDER"]
    assert re.search(r"\b\d{6}\b", message.get_payload(decode=True).decode())


def test_a_broken_hand_off_neither_fails_the_page_nor_loses_the_mail(
    app, client, session, runner, parent, monkeypatch
):
    def database_gone(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(outbox, "claim", database_gone)
    response = start_sign_in(client, parent.email)
    monkeypatch.undo()

    assert response.headers["Location"] == "/auth/one-time-code"
    assert delivered(app) == []
    (row,) = rows(session)
    assert row.sent_at is None and row.attempts == 0
    runner.invoke(args=["mail", "deliver", "--once"])
    assert [m.to for m in delivered(app)] == [parent.email]


@pytest.mark.config(MAIL_HANDOFF_RETRIES=(timedelta(0), timedelta(0)))
def test_a_database_busy_at_hand_off_is_tried_again_and_the_code_still_arrives(
    app, client, parent, monkeypatch
):
    real_claim = outbox.claim
    refusals = []

    def busy_then_free(*args, **kwargs):
        if len(refusals) < 2:  # SQLite's "database is locked", twice
            refusals.append(1)
            raise OperationalError("UPDATE mail_outbox", {}, Exception("database is locked"))
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(outbox, "claim", busy_then_free)
    response = start_sign_in(client, parent.email)

    assert response.headers["Location"] == "/auth/one-time-code"
    assert len(refusals) == 2
    assert [m.to for m in delivered(app)] == [parent.email]  # with no worker


@pytest.mark.config(MAIL_HANDOFF_RETRIES=(timedelta(0),))
def test_a_database_busy_beyond_the_retries_leaves_the_mail_to_the_worker(
    app, client, session, runner, parent, monkeypatch, caplog
):
    def always_busy(*args, **kwargs):
        raise OperationalError("UPDATE mail_outbox", {}, Exception("database is locked"))

    monkeypatch.setattr(outbox, "claim", always_busy)
    start_sign_in(client, parent.email)
    monkeypatch.undo()

    assert delivered(app) == []
    (logged,) = [r for r in caplog.records if "left for `flask mail deliver`" in r.getMessage()]
    assert isinstance(logged.exc_info[1], OperationalError)  # the cause, for whoever reads it
    runner.invoke(args=["mail", "deliver", "--once"])
    assert [m.to for m in delivered(app)] == [parent.email]


def test_demo_capture_writes_no_row(app, session):
    with mail.captured() as inbox:
        mail.send("demo@example.com", "Konu", "Gövde")
    session.commit()

    assert [m.to for m in inbox] == ["demo@example.com"]
    assert delivered(app) == [] and rows(session) == []


def test_an_unknown_backend_is_refused_at_start(database_url):
    from portal import create_app

    with pytest.raises(RuntimeError, match="MAIL_BACKEND"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "MAIL_BACKEND": "pigeon"})


def test_the_worker_purges_delivered_rows_after_the_keeping_time(app, session, runner):
    now, keep = utcnow(), app.config["MAIL_KEEP_SENT"]
    month_ago = now - timedelta(days=30)
    for recipient, sent_at in [
        ("eski@example.com", now - keep - timedelta(minutes=1)),
        ("yeni@example.com", now - keep + timedelta(minutes=1)),
        ("bekleyen@example.com", None),  # a month of failures: kept until it goes out
    ]:
        session.add(
            MailOutbox(
                recipient=recipient,
                subject="" if sent_at else "Konu",
                body="" if sent_at else "Gövde",
                created_at=month_ago,
                next_try_at=now + timedelta(hours=1),
                attempts=30,
                sent_at=sent_at,
            )
        )
    session.commit()

    result = runner.invoke(args=["mail", "deliver", "--once"])

    assert "0 sent, 0 failed (will retry), 1 delivered rows purged" in result.output
    assert {row.recipient for row in rows(session)} == {"yeni@example.com", "bekleyen@example.com"}


def test_send_many_writes_a_batch_in_one_statement_and_leaves_it_to_the_worker(app, session):
    batch = [mail.Mail(f"veli{n}@example.com", f"Makbuz {n}", f"Gövde {n}") for n in range(3)]
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", count)
    try:
        assert mail.send_many(session, batch) == 3
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", count)
    session.commit()

    assert len(statements) == 1
    assert delivered(app) == []  # not after the commit, as send()'s: the worker's
    assert [(r.recipient, r.subject, r.sent_at) for r in rows(session)] == [
        (f"veli{n}@example.com", f"Makbuz {n}", None) for n in range(3)
    ]
    mail.deliver()
    assert [(m.to, m.body) for m in delivered(app)] == [(m.to, m.body) for m in batch]


def test_send_many_in_a_capture_writes_no_row(app, session):
    with mail.captured() as kept:
        mail.send_many(session, [mail.Mail("veli@example.com", "Konu", "Gövde")])
    session.commit()

    assert [m.to for m in kept] == ["veli@example.com"] and rows(session) == []
