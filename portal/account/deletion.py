"""Deleting a parent's account: sessions end, personal data goes, the evidence stays.

The users row itself stays, soft-deleted and anonymised, because the records the law asks us
to keep point at it: the consents (what was agreed to, when, from where) and the audit trail.
Everything else that describes the person, or lets anyone act as them, is removed.
Plain module: the caller passes the session and the Origin, and commits.
"""

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.audit import Origin, log_event
from portal.auth import registration
from portal.auth.sessions import end_sessions
from portal.models import (
    OtpCode,
    User,
    UserContact,
    UserFavorite,
    UserNotificationId,
    VerificationCode,
)

DELETED_NAME = "Silinmiş kullanıcı"


def deleted_email(user_id: int) -> str:
    """The address a deleted account keeps: unique, lower-case, and undeliverable (RFC 2606)."""
    return f"deleted-{user_id}@deleted.invalid"


def delete_account(session: Session, user: User, origin: Origin, now: datetime) -> None:
    """End every session, withdraw live consent, remove personal data, soft-delete the user.

    Kept: user_consents (marked withdrawn) and user_logs, the evidence that processing until
    now was lawful. The old address is free again, so the person can open a new account.
    """
    log_event(session, "account_deleted", user.id, origin)
    end_sessions(session, user.id)
    registration.withdraw_consent(session, user, origin, now)
    for model in (UserContact, UserFavorite, UserNotificationId, VerificationCode, OtpCode):
        session.execute(delete(model).where(model.user_id == user.id))
    details = user.details
    if details is not None:
        details.phone = None
        details.budget_min = None
        details.budget_max = None
        details.kvkk_accepted_at = None
    user.name = DELETED_NAME
    user.email = deleted_email(user.id)
    user.password_hash = None
    user.email_verified_at = None
    user.locale = None
    user.soft_delete()
