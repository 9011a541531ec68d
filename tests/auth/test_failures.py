"""Issue 9: sign-in limits that protect the owner, code caps per account, equal work for known
and unknown addresses, and failed sign-ins in the audit log."""

import re

import pytest
from sqlalchemy import func, select

from portal import mail
from portal.auth import passwords
from portal.auth.failures import ATTACK_MAIL
from portal.models import OtpCode, UserLog
from tests.helpers import AuthActions, csrf_token, last_code_mailed_to

ATTACKER_IPS = [f"203.0.113.{n}" for n in range(1, 30)]


@pytest.fixture
def parent(make, session):
    user = make.user("parent", email="veli@example.com")
    session.commit()
    return user


def try_password(client, email, password, ip="198.51.100.7"):
    client.get("/auth/login", environ_base={"REMOTE_ADDR": ip})
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": ip},
    )


def mails_to(app, email, subject=None):
    return [
        m
        for m in app.extensions.get("mail_outbox", [])
        if m.to == email and (subject is None or m.subject == subject)
    ]


def events(session, event, **where):
    query = select(UserLog).where(UserLog.event == event).order_by(UserLog.id)
    for column, value in where.items():
        query = query.where(getattr(UserLog, column) == value)
    return session.scalars(query).all()


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_ten_wrong_passwords_from_elsewhere_do_not_stop_the_owner_on_a_known_device(
    app, client, session, auth, parent
):
    # The owner's browser becomes a known device by finishing a code sign-in.
    auth.login(parent.email)
    auth.logout()
    attacker = app.test_client()

    tries = [
        try_password(attacker, parent.email, f"guess-{n}", ip).status_code
        for n, ip in enumerate(ATTACKER_IPS[:12])
    ]

    assert tries[:10] == [422] * 10 and tries[10:] == [429, 429]
    # The right password from a new browser is refused as well: the attacker learns nothing.
    assert try_password(app.test_client(), parent.email, "correct horse battery").status_code == 429
    # The owner's known browser: a wrong password is only wrong, the right one gets in.
    assert try_password(client, parent.email, "typo").status_code == 422
    owner = try_password(client, parent.email, "correct horse battery")
    assert owner.status_code == 303 and owner.headers["Location"] == "/account/"
    # Told once, not per attempt.
    subject = str(ATTACK_MAIL[0])
    assert len(mails_to(app, parent.email, subject)) == 1
    limited = events(session, "sign_in_limited", user_id=parent.id)
    assert limited and all(row.data["limit"] == "password" for row in limited)
    assert sum(row.data["count"] for row in limited) == 3


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_a_known_device_has_its_own_limit_that_no_one_else_spends(
    app, client, session, auth, parent
):
    auth.login(parent.email)
    auth.logout()

    tries = [try_password(client, parent.email, f"typo-{n}").status_code for n in range(11)]

    assert tries[:10] == [422] * 10 and tries[10] == 429
    # Someone elsewhere is not held back by the owner's typos on their own device.
    other = try_password(app.test_client(), parent.email, "wrong", ip=ATTACKER_IPS[0])
    assert other.status_code == 422


def test_security_page_tells_of_failed_sign_ins_from_unknown_devices(
    app, client, session, auth, parent
):
    attacker = app.test_client()
    for n, ip in enumerate(ATTACKER_IPS[:3]):
        try_password(attacker, parent.email, f"guess-{n}", ip)
    try_password(attacker, parent.email, "guess-again", ATTACKER_IPS[0])

    auth.login(parent.email)
    page = client.get("/auth/security").get_data(as_text=True)

    section = re.search(r'<section[^>]*id="failed-sign-ins".*?</section>', page, re.S)
    assert section is not None
    assert re.search(r"\b4\b", section.group(0))


def test_no_failures_no_warning_on_the_security_page(client, auth, parent):
    auth.login(parent.email)
    assert 'id="failed-sign-ins"' not in client.get("/auth/security").get_data(as_text=True)


def test_failed_sign_ins_are_audited_once_per_source_and_window_with_a_count(
    app, client, session, parent
):
    for _ in range(3):
        try_password(client, parent.email, "wrong", ip="198.51.100.1")
    for _ in range(2):
        try_password(client, parent.email, "wrong", ip="198.51.100.2")
    for _ in range(2):
        try_password(client, "Kimse@Example.com", "wrong", ip="198.51.100.1")

    known = events(session, "sign_in_failed", user_id=parent.id)
    assert [(row.ip_address, row.data["count"]) for row in known] == [
        ("198.51.100.1", 3),
        ("198.51.100.2", 2),
    ]
    assert all(row.user_agent and row.data["target"] == f"user:{parent.id}" for row in known)
    assert all(row.data["known_device"] is False for row in known)
    [unknown] = session.scalars(
        select(UserLog).where(UserLog.event == "sign_in_failed", UserLog.user_id.is_(None))
    ).all()
    assert unknown.data["count"] == 2 and unknown.data["target"].startswith("email:")
    # A typed address may be a mistyped password: it is never stored.
    assert "kimse" not in str([row.data for row in session.scalars(select(UserLog))])


def start_pending_sign_in(app, email):
    browser = app.test_client()
    response = try_password(browser, email, "correct horse battery")
    assert response.headers["Location"] == "/auth/one-time-code"
    return browser


def enter_code(client, code):
    return client.post("/auth/one-time-code", data={"code": code, "csrf_token": csrf_token(client)})


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.config(CODE_ISSUE_LIMIT=3)
def test_sign_in_codes_are_capped_per_account_whatever_the_number_of_browsers(app, session, parent):
    for _ in range(4):
        start_pending_sign_in(app, parent.email)

    assert len(mails_to(app, parent.email)) == 3
    assert session.scalar(select(func.count()).select_from(OtpCode)) == 3
    [limited] = events(session, "sign_in_limited", user_id=parent.id)
    assert limited.data["limit"] == "codes_issued"


@pytest.mark.config(CODE_GUESS_LIMIT=3)
def test_wrong_code_guesses_are_capped_across_all_pending_sign_ins(app, session, parent):
    first = start_pending_sign_in(app, parent.email)
    first_code = last_code_mailed_to(app, parent.email)
    second = start_pending_sign_in(app, parent.email)
    second_code = last_code_mailed_to(app, parent.email)

    assert enter_code(first, wrong(first_code)).status_code == 422
    assert enter_code(first, wrong(first_code)).status_code == 422
    assert enter_code(second, wrong(second_code)).status_code == 422
    # Three wrong guesses in all: each code had tries left, but the account has none.
    assert enter_code(second, second_code).status_code == 422
    assert enter_code(first, first_code).status_code == 422
    assert len(events(session, "email_code_failed", user_id=parent.id)) == 3
    assert events(session, "sign_in_limited", user_id=parent.id)[0].data["limit"] == (
        "code_guesses"
    )


@pytest.mark.config(CODE_GUESS_LIMIT=2, CODE_ISSUE_LIMIT=2)
def test_the_owners_known_device_is_not_held_by_the_code_caps(app, client, session, auth, parent):
    auth.login(parent.email)
    client.post("/auth/two-step", data={"two_step_enabled": "y", "csrf_token": csrf_token(client)})
    auth.logout()
    attacker = start_pending_sign_in(app, parent.email)
    code = last_code_mailed_to(app, parent.email)
    enter_code(attacker, wrong(code))
    enter_code(attacker, wrong(code))
    assert enter_code(attacker, code).status_code == 422

    response = AuthActions(client).login(parent.email)

    assert response.status_code == 303 and response.headers["Location"] == "/account/"


class CountingHasher:
    """argon2's PasswordHasher, counting the hashes and verifications asked of it."""

    def __init__(self, hasher):
        self._hasher, self.calls = hasher, 0

    def hash(self, password):
        self.calls += 1
        return self._hasher.hash(password)

    def verify(self, hashed, password):
        self.calls += 1
        return self._hasher.verify(hashed, password)


@pytest.fixture
def work(monkeypatch):
    """Counts of argon2 calls and mails handed to portal.mail, reset by calling it."""
    hasher = CountingHasher(passwords._hasher)
    sent = []
    real_send = mail.send

    def send(to, subject, body):
        sent.append(to)
        return real_send(to, subject, body)

    monkeypatch.setattr(passwords, "_hasher", hasher)
    monkeypatch.setattr(mail, "send", send)

    def taken():
        counts = (hasher.calls, len(sent))
        hasher.calls = 0
        sent.clear()
        return counts

    return taken


def test_sign_in_does_the_same_work_for_known_and_unknown_addresses(client, parent, work):
    work()
    assert try_password(client, parent.email, "wrong").status_code == 422
    known = work()
    assert try_password(client, "kimse@example.com", "wrong").status_code == 422
    unknown = work()

    assert known == unknown == (1, 0)


def test_registration_does_the_same_work_for_taken_and_new_addresses(client, parent, work):
    def register(email):
        client.get("/auth/register")
        return client.post(
            "/auth/register",
            data={
                "name": "Ayşe Yılmaz",
                "email": email,
                "password": "yepyeni-parola-1",
                "csrf_token": csrf_token(client),
            },
        )

    work()
    taken_answer = register(parent.email)
    taken = work()
    new_answer = register("yeni@example.com")
    new = work()

    assert taken_answer.headers["Location"] == new_answer.headers["Location"]
    assert taken == new == (1, 1)


def test_reset_does_the_same_work_for_known_and_unknown_addresses(client, parent, work):
    def ask(email):
        return client.post("/auth/reset", data={"email": email, "csrf_token": csrf_token(client)})

    work()
    known_answer = ask(parent.email)
    known = work()
    unknown_answer = ask("kimse@example.com")
    unknown = work()

    assert known_answer.headers["Location"] == unknown_answer.headers["Location"]
    assert known == unknown == (0, 1)


def ask_reset(client, email):
    client.post("/auth/reset", data={"email": email, "csrf_token": csrf_token(client)})
    return last_code_mailed_to(client.application, email)


def reset_with(client, email, code, password="sifirlanmis-parola"):
    return client.post(
        "/auth/reset/new-password",
        data={
            "email": email,
            "code": code,
            "new_password": password,
            "csrf_token": csrf_token(client),
        },
    )


def test_a_pending_reset_code_dies_with_a_password_change(app, client, session, auth, parent):
    stranger = app.test_client()
    code = ask_reset(stranger, parent.email)
    auth.login(parent.email)

    client.post(
        "/auth/password",
        data={
            "current_password": "correct horse battery",
            "new_password": "yepyeni-parola-1",
            "csrf_token": csrf_token(client),
        },
    )

    assert reset_with(stranger, parent.email, code).status_code == 422
    assert AuthActions(app.test_client()).login(parent.email, "yepyeni-parola-1").status_code == 303


def test_a_pending_reset_code_dies_with_an_email_change(app, client, session, auth, parent):
    stranger = app.test_client()
    code = ask_reset(stranger, parent.email)
    auth.login(parent.email)
    client.post(
        "/account/email",
        data={
            "new_email": "yeni.adres@example.com",
            "password": "correct horse battery",
            "csrf_token": csrf_token(client),
        },
    )
    change_code = last_code_mailed_to(app, "yeni.adres@example.com")
    assert (
        client.post(
            "/account/email/verify", data={"code": change_code, "csrf_token": csrf_token(client)}
        ).status_code
        == 303
    )

    assert reset_with(stranger, "yeni.adres@example.com", code).status_code == 422
    assert reset_with(stranger, "veli@example.com", code).status_code == 422


def test_a_reset_leaves_no_reset_code_alive(app, client, session, parent):
    code = ask_reset(client, parent.email)

    assert reset_with(client, parent.email, code).status_code == 303

    live = select(func.count()).select_from(OtpCode).where(OtpCode.used_at.is_(None))
    assert session.scalar(live) == 0
