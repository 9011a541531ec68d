"""Helpers that act like a browser (sign in through the forms, read the CSRF token, post a
form) and that watch the database (the statements a request sends)."""

import re
import threading
from contextlib import contextmanager

from sqlalchemy import event

from portal.extensions import db
from tests.factories import Factories

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


class AuthActions:
    """Sign in and out through the real forms, the way a browser does."""

    def __init__(self, client):
        self._client = client

    def login(self, email, password=Factories.PASSWORD, **fields):
        """Sign in; when a one-time code is asked for, read it from the mail and enter it.

        Returns the last response: the failed form, or the redirect into the portal.
        """
        self._client.get("/auth/login")
        response = self._client.post(
            "/auth/login",
            data={
                "email": email,
                "password": password,
                "csrf_token": csrf_token(self._client),
                **fields,
            },
        )
        if response.headers.get("Location") != "/auth/one-time-code":
            return response
        return self._client.post(
            "/auth/one-time-code",
            data={
                "code": last_code_mailed_to(self._client.application, email),
                "csrf_token": csrf_token(self._client),
            },
        )

    def logout(self):
        return self._client.post("/auth/logout", data={"csrf_token": csrf_token(self._client)})


def csrf_token(client) -> str:
    """The CSRF token of the client's session (the one every form on its pages carries)."""
    html = client.get("/auth/login").get_data(as_text=True)
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def page_without_secrets(html: str, typed: str) -> str:
    """The page with what may rightly differ between two answers taken out: the address the
    visitor typed (echoed back) and the CSRF token (which carries a timestamp)."""
    html = html.replace(typed, "?")
    token = r'(name="csrf_token"(?: type="hidden")? value=|"X-CSRFToken": )"[^"]+"'
    return re.sub(token, r"\1T", html)


def in_parallel(app, work, times: int = 20) -> list:
    """Run `work()` in `times` threads at once, each in its own app context and session.

    Returns what each returned, or the exception it raised (a lock timeout is a failed try,
    never a success).
    """
    results, barrier = [], threading.Barrier(times)

    def run():
        with app.app_context():
            barrier.wait()
            try:
                results.append(work())
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                results.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def last_code_mailed_to(app, email: str) -> str:
    """The 6-digit code in the newest mail to `email` (tests' mail goes to an outbox)."""
    mails = [m for m in app.extensions.get("mail_outbox", []) if m.to == email.strip().lower()]
    return re.search(r"\b(\d{6})\b", mails[-1].body).group(1)


def post(client, url, headers=None, **fields):
    """Post a form the way the page does: its fields and the CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client), **fields}, headers=headers)


@contextmanager
def counted_statements(app):
    """Collect every SQL statement sent to the database by the requests made in the block.

    The tests' own app context outlives requests, and with it `g` (Flask-Login's user) and
    db.session with everything it loaded; a fresh app context makes each request start cold,
    as it does in production.
    """
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with app.app_context():
            yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
