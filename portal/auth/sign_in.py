"""Signing in: password, then an e-mailed one-time code from a new device or with two-step on.

A code is bound to the user, its purpose and the pending sign-in (a random token kept in the
browser's session, whose hash the otp_codes row holds), so it finishes only that sign-in.
Password reset uses the same codes and never signs anyone in.

Codes are capped per account (portal.auth.codes.limit_reached) except for a browser that is
one of the account's known devices: an attacker who spends the budget cannot keep the owner's
own browser out. A pending reset code dies when the password or the address changes.
An unknown (or unverified) address asking for a reset gets a notice instead of a code, so both
answers do the same work: one mail handed to portal.mail after the answer is decided.
"""

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import mail
from portal.audit import Origin, log_event
from portal.auth import failures
from portal.auth.codes import (
    CODE_GUESSES,
    CodePolicy,
    issue_code,
    limit_reached,
    mail_code,
    retire_codes,
    use_code,
)
from portal.auth.login import normalize_email
from portal.auth.passwords import hash_password
from portal.auth.sessions import end_sessions, is_known_device, token_hash
from portal.models import OtpCode, User

SIGN_IN = "sign_in"
RESET_PASSWORD = "reset_password"
SIGN_IN_MAIL = (
    _l("Your Okul sign-in code: %(code)s"),
    _l(
        "Someone is signing in to your Okul account. If it is you, enter %(code)s; it is "
        "valid for %(minutes)d minutes. If it is not you, change your password."
    ),
)
# To an address with no account (or an unverified one) that asked for a reset.
RESET_NO_ACCOUNT_MAIL = (
    _l("Your Okul password reset"),
    _l(
        "Someone (perhaps you) asked to reset the password of an Okul account with this "
        "address, but no account can sign in with it. If it was you, perhaps you registered "
        "with another address, or have not verified this one yet. If it was not you, ignore "
        "this message."
    ),
)
# What send_sign_in_code answers besides a CodePolicy cap (codes.CODES_ISSUED / CODE_GUESSES).
SENT = "sent"
TOO_SOON = "too_soon"
RESET_MAIL = (
    _l("Your Okul password reset code: %(code)s"),
    _l(
        "To choose a new password, enter %(code)s; it is valid for %(minutes)d minutes. If "
        "you did not ask for it, ignore this message: your password stays as it is."
    ),
)


def needs_code(session: Session, user: User, device_id: str | None) -> bool:
    """Ask for a code when the user wants it every time, or the browser is new to them."""
    return user.two_step_enabled or not is_known_device(session, user.id, device_id)


def new_pending_token() -> str:
    """The secret that ties a sign-in code to one browser's pending sign-in."""
    return secrets.token_urlsafe(32)


def known_device(session: Session, email: str, device_id: str | None) -> bool:
    """The browser is one of the known devices of the account with this address."""
    user = failures.account_of(session, email)
    return user is not None and is_known_device(session, user.id, device_id)


def _note_code_limit(
    session: Session, user: User, limit: str, origin: Origin, now: datetime
) -> None:
    failures.record_limit_reached(session, user, user.email, limit, origin, now)


def send_sign_in_code(
    session: Session,
    policy: CodePolicy,
    user: User,
    pending_token: str,
    origin: Origin,
    now: datetime,
    limited: bool = True,
) -> str:
    """Mail a sign-in code for this pending sign-in: SENT, TOO_SOON (one was sent too
    recently), or the account's cap that refused it (only when `limited`)."""
    if limited:
        limit = limit_reached(session, OtpCode, policy, user.id, SIGN_IN, now)
        if limit is not None:
            _note_code_limit(session, user, limit, origin, now)
            return limit
    code = issue_code(
        session,
        OtpCode,
        policy,
        user.id,
        SIGN_IN,
        now,
        scope=("sign_in_hash",),
        limited=False,
        sign_in_hash=token_hash(pending_token),
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
    )
    if code is None:
        return TOO_SOON
    mail_code(policy, user.email, code, SIGN_IN_MAIL)
    log_event(session, "email_code_sent", user.id, origin, purpose=SIGN_IN)
    return SENT


def check_sign_in_code(
    session: Session,
    policy: CodePolicy,
    user_id: int,
    pending_token: str,
    code: str,
    origin: Origin,
    now: datetime,
    limited: bool = True,
) -> User | None:
    """The user when the code finishes this pending sign-in; None otherwise (also, when
    `limited`, once the account's wrong guesses reach the cap)."""
    user = session.get(User, user_id)
    if user is None:
        return None
    if limited and limit_reached(session, OtpCode, policy, user.id, SIGN_IN, now) == CODE_GUESSES:
        _note_code_limit(session, user, CODE_GUESSES, origin, now)
        return None
    if not use_code(
        session,
        OtpCode,
        policy,
        user.id,
        SIGN_IN,
        code,
        now,
        limited=False,
        sign_in_hash=token_hash(pending_token),
    ):
        log_event(session, "email_code_failed", user.id, origin, purpose=SIGN_IN)
        return None
    return user


def send_reset_code(
    session: Session,
    policy: CodePolicy,
    email: str,
    origin: Origin,
    now: datetime,
    limited: bool = True,
) -> None:
    """Mail a password-reset code to a verified account's address, or a notice (no code) to an
    address that has none; nothing while the account's cap is reached (when `limited`)."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or user.email_verified_at is None:
        subject, body = RESET_NO_ACCOUNT_MAIL
        mail.send(normalize_email(email), str(subject), str(body))
        return
    if limited:
        limit = limit_reached(session, OtpCode, policy, user.id, RESET_PASSWORD, now)
        if limit is not None:
            _note_code_limit(session, user, limit, origin, now)
            return
    code = issue_code(
        session,
        OtpCode,
        policy,
        user.id,
        RESET_PASSWORD,
        now,
        limited=False,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
    )
    if code is None:
        return
    mail_code(policy, user.email, code, RESET_MAIL)
    log_event(session, "email_code_sent", user.id, origin, purpose=RESET_PASSWORD)


def reset_password(
    session: Session,
    policy: CodePolicy,
    email: str,
    code: str,
    new_password: str,
    origin: Origin,
    now: datetime,
    limited: bool = True,
) -> bool:
    """Set a new password when the code is right, and end every session of the account.

    While the account's wrong guesses are at the cap (when `limited`), no code is checked.
    """
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        return False
    if limited and (
        limit_reached(session, OtpCode, policy, user.id, RESET_PASSWORD, now) == CODE_GUESSES
    ):
        _note_code_limit(session, user, CODE_GUESSES, origin, now)
        return False
    if not use_code(session, OtpCode, policy, user.id, RESET_PASSWORD, code, now, limited=False):
        log_event(session, "email_code_failed", user.id, origin, purpose=RESET_PASSWORD)
        return False
    change_password(session, user, new_password, origin, now, keep_session_id=None, how="reset")
    return True


def change_password(
    session: Session,
    user: User,
    new_password: str,
    origin: Origin,
    now: datetime,
    keep_session_id: int | None,
    how: str = "account_page",
) -> None:
    """Store the new password, end the other sessions (all of them when keep is None) and
    retire any pending reset code, so nothing issued before the change outlives it."""
    user.password_hash = hash_password(new_password)
    end_sessions(session, user.id, keep_id=keep_session_id)
    retire_reset_codes(session, user.id, now)
    log_event(session, "password_changed", user.id, origin, how=how)


def retire_reset_codes(session: Session, user_id: int, now: datetime) -> int:
    """End the account's pending password-reset codes (at a password or address change)."""
    return retire_codes(session, OtpCode, user_id, RESET_PASSWORD, now)
