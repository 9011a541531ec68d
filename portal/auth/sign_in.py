"""Signing in: password, then an e-mailed one-time code from a new device or with two-step on.

A code is bound to the user, its purpose and the pending sign-in (a random token kept in the
browser's session, whose hash the otp_codes row holds), so it finishes only that sign-in.
Password reset uses the same codes and never signs anyone in.
"""

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Origin, log_event
from portal.auth.codes import CodePolicy, issue_code, mail_code, use_code
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


def send_sign_in_code(
    session: Session,
    policy: CodePolicy,
    user: User,
    pending_token: str,
    origin: Origin,
    now: datetime,
) -> bool:
    """Mail a sign-in code for this pending sign-in; False when one was sent too recently."""
    code = issue_code(
        session,
        OtpCode,
        policy,
        user.id,
        SIGN_IN,
        now,
        scope=("sign_in_hash",),
        sign_in_hash=token_hash(pending_token),
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
    )
    if code is None:
        return False
    mail_code(policy, user.email, code, SIGN_IN_MAIL)
    log_event(session, "email_code_sent", user.id, origin, purpose=SIGN_IN)
    return True


def check_sign_in_code(
    session: Session,
    policy: CodePolicy,
    user_id: int,
    pending_token: str,
    code: str,
    origin: Origin,
    now: datetime,
) -> User | None:
    """The user when the code finishes this pending sign-in; None otherwise."""
    user = session.get(User, user_id)
    if user is None:
        return None
    if not use_code(
        session,
        OtpCode,
        policy,
        user.id,
        SIGN_IN,
        code,
        now,
        sign_in_hash=token_hash(pending_token),
    ):
        log_event(session, "email_code_failed", user.id, origin, purpose=SIGN_IN)
        return None
    return user


def send_reset_code(
    session: Session, policy: CodePolicy, email: str, origin: Origin, now: datetime
) -> None:
    """Mail a password-reset code to a verified account's address; nothing otherwise."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or user.email_verified_at is None:
        return
    code = issue_code(
        session,
        OtpCode,
        policy,
        user.id,
        RESET_PASSWORD,
        now,
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
) -> bool:
    """Set a new password when the code is right, and end every session of the account."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not use_code(session, OtpCode, policy, user.id, RESET_PASSWORD, code, now):
        if user is not None:
            log_event(session, "email_code_failed", user.id, origin, purpose=RESET_PASSWORD)
        return False
    change_password(session, user, new_password, origin, keep_session_id=None, how="reset")
    return True


def change_password(
    session: Session,
    user: User,
    new_password: str,
    origin: Origin,
    keep_session_id: int | None,
    how: str = "account_page",
) -> None:
    """Store the new password and end the other sessions (all of them when keep is None)."""
    user.password_hash = hash_password(new_password)
    end_sessions(session, user.id, keep_id=keep_session_id)
    log_event(session, "password_changed", user.id, origin, how=how)
