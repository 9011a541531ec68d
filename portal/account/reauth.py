"""Asking for the current password again before a change that could lock the owner out."""

from sqlalchemy.orm import Session

from portal.audit import Origin, log_event
from portal.auth.passwords import verify_password
from portal.models import User


def confirm_password(
    session: Session, user: User, password: str, action: str, origin: Origin
) -> bool:
    """True when `password` is the user's; a wrong one is recorded (never the password)."""
    if verify_password(user.password_hash, password or ""):
        return True
    log_event(session, "password_check_failed", user.id, origin, action=action)
    return False
