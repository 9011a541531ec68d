"""Deleting a parent's account: sessions end, personal data goes, the evidence stays.

The users row itself stays, soft-deleted and anonymised, because the records the law asks us
to keep point at it: the consents (what was agreed to, when, from where) and the audit trail.
Everything else that describes the person, or lets anyone act as them, is removed.
A running subscription (trial, active or paused) ends with the account, at once, through the
same step as the subscriber's own "cancel now": it must not renew against an account nobody
can sign in to, nor stay in force for a person whose details are gone. Like "cancel now" it
refunds the charges made within the withdrawal period (portal.billing.refunds) and nothing
older. `subscription_fate()` is what the deletion page says will happen, and
`delete_account()` does exactly that.
Plain module: the caller passes the session and the Origin, and commits.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal import mail
from portal.audit import Origin, log_event
from portal.auth import registration
from portal.auth.sessions import end_sessions
from portal.billing import refunds, subscriptions
from portal.billing.gateway import PaymentGateway
from portal.billing.receipts import portal_url
from portal.billing.subscribers import Subscriber
from portal.clock import istanbul_today
from portal.i18n import local_datetime
from portal.models import (
    InvoiceDetails,
    OtpCode,
    User,
    UserContact,
    UserFavorite,
    UserNotificationId,
    UserSubscription,
    VerificationCode,
)

DELETED_NAME = "Silinmiş kullanıcı"


def deleted_email(user_id: int) -> str:
    """The address a deleted account keeps: unique, lower-case, and undeliverable (RFC 2606)."""
    return f"deleted-{user_id}@deleted.invalid"


@dataclass(frozen=True)
class SubscriptionFate:
    """What deleting the account does to the parent's running subscription: it ends on
    `ends_on` (the day of the deletion) and is never renewed or charged again; `refund` is
    what goes back to the card (the charges within the withdrawal period), the rest of what
    was paid is not refunded."""

    subscription: UserSubscription
    ends_on: date
    trial: bool  # a free trial: nothing was paid, nothing is lost but the days left
    paid_until: date | None  # the end of the period already paid for; None: lifetime or trial
    refund: Decimal  # 0 when nothing is refunded
    withdrawal_days: int = refunds.WITHDRAWAL_DAYS


def subscription_fate(
    session: Session, user: User, now: datetime, *, lock: str | None = None
) -> SubscriptionFate | None:
    """What deleting the account at `now` would do to the parent's running subscription;
    None when there is none (an ended subscription is left as it is). `lock` as for
    subscriptions.current_subscription()."""
    subscription = subscriptions.current_subscription(
        session, Subscriber(user_id=user.id), lock=lock
    )
    if subscription is None:
        return None
    trial = subscription.status == subscriptions.TRIAL
    today = istanbul_today(now)
    due = refunds.withdrawal_refunds(session, subscription, today)
    return SubscriptionFate(
        subscription=subscription,
        ends_on=today,
        trial=trial,
        paid_until=None if trial else subscription.end_date,
        refund=sum((refundable.left.gross for refundable in due), Decimal("0.00")),
    )


def delete_account(
    session: Session, user: User, origin: Origin, now: datetime, gateway: PaymentGateway
) -> None:
    """End every session, withdraw live consent, remove personal data, soft-delete the user.

    A running subscription is cancelled at once, refunding through `gateway` the charges
    within the withdrawal period (subscription_fate() says so beforehand), so the renewal job
    never charges a deleted account. A refund the gateway refuses is recorded as a failed
    refund row for an operator to retry, and the account is deleted all the same.

    Kept: user_consents (marked withdrawn), user_logs and the payments, the evidence that
    processing until now was lawful and the records tax law asks for. The old address is free
    again, so the person can open a new account. The old address is mailed a confirmation
    (in the caller's transaction, like the rest).
    """
    old_email = user.email  # the confirmation goes where the account lived, before it goes
    # Locked: a renewal run working on it at this moment finishes first, or skips it.
    fate = subscription_fate(session, user, now, lock="update")
    if fate is not None:
        subscriptions.cancel_now(
            session, fate.subscription, user.id, origin, now=now, refund_with=gateway
        )
    log_event(session, "account_deleted", user.id, origin)
    end_sessions(session, user.id)
    registration.withdraw_consent(session, user, origin, now)
    for model in (UserContact, UserFavorite, UserNotificationId, VerificationCode, OtpCode):
        session.execute(delete(model).where(model.user_id == user.id))
    # Invoice identities of checkouts that started no subscription record no sale: they go.
    # Those of subscriptions bought stay with the payments (tax law), as their receipts do.
    session.execute(
        delete(InvoiceDetails).where(
            InvoiceDetails.user_id == user.id, InvoiceDetails.user_subscription_id.is_(None)
        )
    )
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
