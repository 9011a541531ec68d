"""Deleting a parent's account: sessions end, personal data goes, the evidence stays.

The users row itself stays, soft-deleted and anonymised, because the records the law asks us
to keep point at it: the consents (what was agreed to, when, from where) and the audit trail.
Everything else that describes the person, or lets anyone act as them, is removed.
Plain module: the caller passes the session and the Origin, and commits.
"""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal import mail
from portal.audit import Origin, log_event
from portal.auth import registration
from portal.auth.sessions import end_sessions
from portal.billing.receipts import portal_url
from portal.i18n import local_datetime
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
    The old address is mailed a confirmation (in the caller's transaction, like the rest).
    """
    old_email = user.email  # the confirmation goes where the account lived, before it goes
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
    mail_confirmation(old_email, now)


def mail_confirmation(email: str, now: datetime) -> None:
    """Tell the old address that the account is gone, what was kept and why, and whom to
    ask; in the current language (the request's, which follows the account's own)."""
    mail.send(
        email,
        _("Your Okul account is deleted"),
        "\n".join(
            [
                _(
                    "Your Okul account (%(email)s) was deleted on %(when)s. You can no longer "
                    "sign in with it, and your name, phone numbers, contact details, budget, "
                    "favorites and devices have been removed.",
                    email=email,
                    when=local_datetime(now),
                ),
                "",
                _("What we keep, and why:"),
                _(
                    "- Your KVKK consent records (what you agreed to, when and from where), now "
                    "marked withdrawn, and the record of your account's activity: they show "
                    "that your data was processed lawfully while you had an account."
                ),
                _(
                    "- Your payments and their receipts, if you paid for a plan: Turkish tax "
                    "and commercial law (VUK art. 253, TTK art. 82) require us to keep them "
                    "for up to ten years."
                ),
                "",
                _(
                    "For questions about your data, or to use your rights under KVKK article "
                    "11, contact the data controller named in our privacy notice: %(url)s",
                    url=portal_url("core.kvkk_notice"),
                ),
                "",
                _(
                    "If you did not delete your account, contact us at once. This address is "
                    "free again: you can open a new account with it whenever you like."
                ),
            ]
        ),
    )
