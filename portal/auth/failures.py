"""Failed sign-ins: the audit rows they leave, and telling an account's owner of an attack.

A wrong password leaves one `sign_in_failed` row per account (or typed address), source and
window (portal.audit.log_once), with a count and whether it came from one of the account's
known devices. When the sign-ins of an account from unknown devices reach their limit (the
limiter in portal/auth/views/sign_in.py), the refusal is a `sign_in_limited` row and the owner
gets one e-mail per SIGN_IN_ATTACK_NOTICE_INTERVAL; their known devices still sign in.
"""

from datetime import datetime, timedelta
from hashlib import sha256

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import mail
from portal.audit import Origin, log_once
from portal.auth.login import normalize_email
from portal.models import User, UserLog

# How far back the security page looks for failed sign-ins.
SECURITY_PAGE_LOOKBACK = timedelta(days=30)
# What `limit` a sign_in_limited row names.
PASSWORD_LIMIT = "password"

ATTACK_MAIL = (
    _l("Failed sign-ins to your Okul account"),
    _l(
        "There have been many attempts to sign in to your Okul account with a wrong password "
        "from browsers you have not signed in with before. Further attempts from them are "
        "refused for a while; the browsers you usually sign in with are not affected. If "
        "this was not you, your password held, but choose a long one that you use nowhere "
        "else, and consider asking for a sign-in code every time (on the security page)."
    ),
)


def account_of(session: Session, email: str) -> User | None:
    """The live account with this address, verified or not; None for an unknown address."""
    return session.scalar(select(User).where(User.email == normalize_email(email or "")))


def target_of(email: str, user: User | None) -> str:
    """How an audit row names the account tried: its id, or for an address with no account a
    hash of it (a typed address may hold a typo of a password, so it is never stored)."""
    if user is not None:
        return f"user:{user.id}"
    return "email:" + sha256(normalize_email(email or "").encode()).hexdigest()[:16]


def record_failed_sign_in(
    session: Session, email: str, known_device: bool, origin: Origin, now: datetime
) -> UserLog:
    """Note a wrong password (or an unknown or unverified address); the caller commits."""
    user = account_of(session, email)
    return log_once(
        session,
        "sign_in_failed",
        user.id if user else None,
        origin,
        target_of(email, user),
        now,
        known_device=known_device,
    )


def record_limit_reached(
    session: Session,
    user: User | None,
    email: str,
    limit: str,
    origin: Origin,
    now: datetime,
    notice_interval: timedelta | None = None,
) -> bool:
    """Note a refusal by a per-account limit; with `notice_interval`, mail the owner unless they
    were told within it. Returns whether a mail went out. The caller commits."""
    row = log_once(
        session,
        "sign_in_limited",
        user.id if user else None,
        origin,
        f"{target_of(email, user)}:{limit}",
        now,
        limit=limit,
    )
    if user is None or notice_interval is None:
        return False
    told = session.scalars(
        select(UserLog.data).where(
            UserLog.user_id == user.id,
            UserLog.created_at > now - notice_interval,
            UserLog.event == "sign_in_limited",
        )
    )
    if any((data or {}).get("owner_told") for data in told):
        return False
    row.data = {**row.data, "owner_told": True}
    subject, body = ATTACK_MAIL
    mail.send(user.email, str(subject), str(body))
    return True


def unknown_device_failures(
    session: Session, user_id: int, now: datetime
) -> tuple[int, datetime | None]:
    """Failed sign-ins from unknown devices in the last SECURITY_PAGE_LOOKBACK: how many, and
    since when (the oldest), for the security page."""
    rows = session.execute(
        select(UserLog.data, UserLog.created_at).where(
            UserLog.user_id == user_id,
            UserLog.created_at > now - SECURITY_PAGE_LOOKBACK,
            UserLog.event == "sign_in_failed",
        )
    ).all()
    unknown = [row for row in rows if not (row.data or {}).get("known_device")]
    if not unknown:
        return 0, None
    count = sum(int((row.data or {}).get("count", 1)) for row in unknown)
    return count, min(row.created_at for row in unknown)
