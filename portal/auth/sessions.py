"""Live sessions (user_session_hash): one row per signed-in browser; no row, no session.

The session cookie and the remember-me cookie carry a random token (User.get_id() returns
it); the row keeps only its SHA-256. Deleting the row ends the session and its remember-me
cookie on the next request. A row also ends when it passes its absolute lifetime or sits idle
longer than the idle timeout (both longer for "keep me signed in"):

    SESSION_LIFETIME / SESSION_IDLE_TIMEOUT                  (12 hours / 2 hours)
    REMEMBERED_SESSION_LIFETIME / REMEMBERED_IDLE_TIMEOUT    (30 days / 7 days)
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from hashlib import sha256

from flask import current_app
from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit import Origin
from portal.models import CustomerUser, User, UserKnownDevice, UserSessionHash

# last_seen_at is written at most this often, so reading a page is not a write every time.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    """How long sessions live (from settings)."""

    lifetime: timedelta
    idle_timeout: timedelta
    remembered_lifetime: timedelta
    remembered_idle_timeout: timedelta

    def idle_limit(self, remember: bool) -> timedelta:
        return self.remembered_idle_timeout if remember else self.idle_timeout


def policy_from(config) -> SessionPolicy:
    """The session rules from the app's settings."""
    return SessionPolicy(
        lifetime=config["SESSION_LIFETIME"],
        idle_timeout=config["SESSION_IDLE_TIMEOUT"],
        remembered_lifetime=config["REMEMBERED_SESSION_LIFETIME"],
        remembered_idle_timeout=config["REMEMBERED_IDLE_TIMEOUT"],
    )


def current_policy() -> SessionPolicy:
    """The session rules of the running app."""
    return policy_from(current_app.config)


def token_hash(token: str) -> str:
    """What the database keeps of a cookie's token."""
    return sha256(token.encode()).hexdigest()


def start_session(
    session: Session,
    policy: SessionPolicy,
    user: User,
    remember: bool,
    origin: Origin,
    device_id: str | None,
    now: datetime,
) -> str:
    """Create the row for a new sign-in and return its token (for the cookie only)."""
    token = secrets.token_urlsafe(32)
    row = UserSessionHash(
        user_id=user.id,
        session_hash=token_hash(token),
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        created_at=now,
        last_seen_at=now,
        expires_at=now + (policy.remembered_lifetime if remember else policy.lifetime),
        remember=remember,
        device_hash=token_hash(device_id) if device_id else None,
    )
    session.add(row)
    session.flush()
    user.session_token, user.current_session_id = token, row.id
    return token


def load_session_user(
    session: Session, policy: SessionPolicy, token: str, now: datetime
) -> User | None:
    """The user of a live session token, or None (and the dead row removed)."""
    # One statement for the row and its user, as every signed-in request pays for it; a
    # soft-deleted user is filtered out by the join (portal/models' soft-delete criteria).
    # The user's details (one row by primary key) come along: a parent's pages read them
    # (the catalogue's budget, checkout's phone, the account home), a statement each before.
    found = session.execute(_session_user_statement(), {"hash": token_hash(token)}).first()
    if found is None:
        return None
    row, user = found
    if now >= row.expires_at or now - row.last_seen_at > policy.idle_limit(row.remember):
        session.delete(row)
        session.commit()
        return None
    if now - row.last_seen_at > TOUCH_INTERVAL:
        session.execute(
            update(UserSessionHash).where(UserSessionHash.id == row.id).values(last_seen_at=now)
        )
        session.commit()
    user.session_token, user.current_session_id = token, row.id
    if user.type_code == "customer_staff":
        _load_membership(session, user)
    return user


def _load_membership(session: Session, user: User) -> None:
    """A staff member's membership and company, in one statement.

    Every staff page reads both (the access rule, the layout, the company's name); left to
    lazy loading they were two more round trips a request. Not joined into the session's
    statement: parents and operators, most requests, would pay for the empty outer joins.
    """
    member = session.scalar(_membership_statement(), {"user_id": user.id})
    set_committed_value(user, "customer_user", member)


# Built once, as every signed-in request runs them (decisions.md, "Statements built once").
@cache
def _session_user_statement() -> Select:
    return (
        select(UserSessionHash, User)
        .join(User, User.id == UserSessionHash.user_id)
        .where(UserSessionHash.session_hash == bindparam("hash"))
        .options(joinedload(User.details))
    )


@cache
def _membership_statement() -> Select:
    return (
        select(CustomerUser)
        .where(CustomerUser.user_id == bindparam("user_id"))
        .options(joinedload(CustomerUser.customer))
    )


def live_sessions(session: Session, user_id: int) -> list[UserSessionHash]:
    """The user's sessions, most recently seen first."""
    return list(
        session.scalars(
            select(UserSessionHash)
            .where(UserSessionHash.user_id == user_id)
            .order_by(UserSessionHash.last_seen_at.desc())
        )
    )


def end_session(session: Session, user_id: int, session_id: int) -> bool:
    """End one of the user's own sessions; False when it is not theirs or already gone."""
    ended = session.execute(
        delete(UserSessionHash).where(
            UserSessionHash.id == session_id, UserSessionHash.user_id == user_id
        )
    )
    return ended.rowcount == 1


def end_sessions(session: Session, user_id: int, keep_id: int | None = None) -> int:
    """End every live session of the user, except `keep_id`; returns how many ended."""
    query = delete(UserSessionHash).where(UserSessionHash.user_id == user_id)
    if keep_id is not None:
        query = query.where(UserSessionHash.id != keep_id)
    return session.execute(query).rowcount


def is_known_device(session: Session, user_id: int, device_id: str | None) -> bool:
    """The browser has finished a one-time-code sign-in for this user before."""
    if not device_id:
        return False
    return (
        session.scalar(
            select(UserKnownDevice.id).where(
                UserKnownDevice.user_id == user_id,
                UserKnownDevice.device_hash == token_hash(device_id),
            )
        )
        is not None
    )


def remember_device(
    session: Session, user_id: int, device_id: str, origin: Origin, now: datetime
) -> None:
    """Add the browser to the user's known devices (or note that it was seen again)."""
    digest = token_hash(device_id)
    row = session.scalar(
        select(UserKnownDevice).where(
            UserKnownDevice.user_id == user_id, UserKnownDevice.device_hash == digest
        )
    )
    if row is None:
        session.add(
            UserKnownDevice(
                user_id=user_id,
                device_hash=digest,
                first_seen_at=now,
                last_seen_at=now,
                user_agent=origin.user_agent,
            )
        )
    else:
        row.last_seen_at = now
