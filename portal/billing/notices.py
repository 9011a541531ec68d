"""Billing e-mails: a trial about to end, a renewal that failed, a subscription that expired,
a refund made. Each through the outbox, in the caller's transaction, at most once per event.

Once per event: each mail is recorded in billing_notices, unique per subscription, kind and
event (the trial's end date; the unpaid period and the attempt; the unpaid period; the
refund's payment id), written in a SAVEPOINT before the mail is queued, so a job run again,
or two runs at once, queue it once. The outbox cannot tell: it deletes delivered mail.

Who reads them, and in which language, as for receipts (portal.billing.receipts): a parent at
their own address, a company's active members who may see its billing; each in their
account's language, else the current one (the request's, or the portal's default in a job).

When: the renewal job (portal.billing.renewals) sends the trial reminders of its date
(trials ending within TRIAL_NOTICE_DAYS days, so a missed day still warns), and, for each
batch, the failed renewals (with the retry date and a link to change the card) and the
expiries; a refund (portal.billing.refunds) sends its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import mail
from portal.access.permissions import Permission, roles_with
from portal.billing.money import charge_for
from portal.clock import istanbul_today
from portal.i18n import BILLING_CYCLE_NAMES, business_date, money
from portal.models import (
    BillingNotice,
    Customer,
    CustomerUser,
    CustomerUserRole,
    Payment,
    PlanPrice,
    User,
    UserSubscription,
)
from portal.models.billing import NoticeKind, SubscriptionStatus

# How many days before a trial ends its subscriber is told.
TRIAL_NOTICE_DAYS = 3


@dataclass(frozen=True)
class Reader:
    """Someone a billing mail goes to."""

    email: str
    locale: str | None


def readers_of(session: Session, subscription) -> list[Reader]:
    """Who is told about the subscription (or payment): the parent, or the company's active
    members who may see its billing; nobody for a deleted parent."""
    if subscription.user_id is not None:
        user = session.get(User, subscription.user_id)
        if user is None or user.deleted_at is not None:
            return []
        return [Reader(user.email, user.locale)]
    rows = session.execute(
        select(User.email, User.locale)
        .join(CustomerUser, CustomerUser.user_id == User.id)
        .join(CustomerUserRole, CustomerUserRole.id == CustomerUser.role_id)
        .join(Customer, Customer.id == CustomerUser.customer_id)
        .where(
            CustomerUser.customer_id == subscription.customer_id,
            CustomerUser.is_active,
            User.deleted_at.is_(None),
            CustomerUserRole.code.in_([str(role) for role in roles_with(Permission.SEE_BILLING)]),
        )
        .order_by(User.id)
    )
    return [Reader(email, locale) for email, locale in rows]


def _first_time(session: Session, subscription_id: int, kind: NoticeKind, event: str) -> bool:
    """Record the notice; False when it was recorded before (this run or another)."""
    known = session.scalar(
        select(BillingNotice.id).where(
            BillingNotice.user_subscription_id == subscription_id,
            BillingNotice.kind == kind,
            BillingNotice.event == event,
        )
    )
    if known is not None:
        return False
    try:
        with session.begin_nested():  # another run recorded it meanwhile: not a failure
            session.add(BillingNotice(user_subscription_id=subscription_id, kind=kind, event=event))
    except IntegrityError:
        return False
    return True


def _send(session: Session, subscription, compose, *, batch: bool) -> int:
    """Queue compose() -> (subject, body) for each reader, in the reader's language."""
    languages = current_app.config["LANGUAGES"]
    fallback = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    mails = []
    for reader in readers_of(session, subscription):
        with force_locale(reader.locale if reader.locale in languages else fallback):
            subject, body = compose()
            mails.append(mail.Mail(reader.email, str(subject), str(body)))
    if batch:  # a job: left for `flask mail deliver`, as renewal receipts are
        return mail.send_many(session, mails)
    for item in mails:
        mail.send(item.to, item.subject, item.body)
    return len(mails)


def _links():
    # Imported here: receipts imports the models and Flask's URL map only when asked.
    from portal.billing.receipts import portal_url, receipt_links

    return portal_url, receipt_links()


def _is_company(subscription) -> bool:
    return subscription.customer_id is not None


def _subscription_url(subscription) -> str:
    portal_url, _receipt = _links()
    return portal_url(
        "billing.company_subscription" if _is_company(subscription) else "billing.subscription"
    )


def _price_of(session: Session, subscription: UserSubscription) -> PlanPrice:
    """The price the next charge is for: a scheduled change's, else the subscription's."""
    return session.get(
        PlanPrice, subscription.scheduled_plan_price_id or subscription.plan_price_id
    )


def _next_charge(session: Session, subscription: UserSubscription):
    price = _price_of(session, subscription)
    amount = subscription.amount if price.id == subscription.plan_price_id else price.amount
    kdv_included = (
        subscription.kdv_included if price.id == subscription.plan_price_id else price.kdv_included
    )
    return price, charge_for(amount, kdv_included)


def trial_reminders(session: Session, business_day: date) -> int:
    """Tell the subscribers whose trial ends within TRIAL_NOTICE_DAYS days after
    `business_day` (and is not cancelled) when it ends and what is charged then; once per
    trial. Returns how many subscriptions were told."""
    ending = session.scalars(
        select(UserSubscription)
        .where(
            UserSubscription.status == SubscriptionStatus.TRIAL,
            UserSubscription.cancel_at_period_end.is_(False),
            UserSubscription.trial_end_date > business_day,
            UserSubscription.trial_end_date <= business_day + timedelta(days=TRIAL_NOTICE_DAYS),
        )
        .order_by(UserSubscription.id)
    ).all()
    told = 0
    for subscription in ending:
        if not _first_time(
            session,
            subscription.id,
            NoticeKind.TRIAL_ENDING,
            subscription.trial_end_date.isoformat(),
        ):
            continue
        price, charge = _next_charge(session, subscription)
        url = _subscription_url(subscription)

        def compose(subscription=subscription, price=price, charge=charge, url=url):
            ends = business_date(subscription.trial_end_date)
            plan = price.plan.display_name
            return (
                _("Your Okul trial ends on %(date)s", date=ends),
                "\n".join(
                    [
                        _(
                            "Your free trial of %(plan)s ends on %(date)s.",
                            plan=plan,
                            date=ends,
                        ),
                        _(
                            "That day we charge %(amount)s (KDV included) to your saved card "
                            "for the first period (%(cycle)s), and the subscription renews "
                            "after that until you cancel.",
                            amount=money(charge.gross),
                            cycle=BILLING_CYCLE_NAMES[price.billing_cycle],
                        ),
                        _(
                            "If you cancel before %(date)s, nothing is charged.",
                            date=ends,
                        ),
                        "",
                        _("Your subscription:"),
                        url,
                    ]
                ),
            )

        _send(session, subscription, compose, batch=True)
        told += 1
    return told


def renewal_events(session: Session, ids: list[int]) -> int:
    """After a renewal batch: tell the subscriptions among `ids` whose charge failed this
    time (they are retrying) or that expired, once per attempt and per expiry. Returns how
    many subscriptions were told."""
    if not ids:
        return 0
    rows = session.scalars(
        select(UserSubscription)
        .where(UserSubscription.id.in_(ids))
        .order_by(UserSubscription.id)
        .execution_options(populate_existing=True)  # the batch wrote them without the ORM
    ).all()
    told = 0
    for subscription in rows:
        if subscription.status == SubscriptionStatus.EXPIRED:
            told += _expired(session, subscription)
        elif subscription.retry_count and subscription.next_billing_date is not None:
            told += _renewal_failed(session, subscription)
    return told


def _renewal_failed(session: Session, subscription: UserSubscription) -> int:
    event = f"{subscription.end_date.isoformat()}:{subscription.retry_count}"
    if not _first_time(session, subscription.id, NoticeKind.RENEWAL_FAILED, event):
        return 0
    price, charge = _next_charge(session, subscription)
    portal_url, _receipt = _links()
    cards = portal_url("billing.company_cards" if _is_company(subscription) else "billing.cards")
    url = _subscription_url(subscription)

    def compose():
        return (
            _("Your Okul payment failed"),
            "\n".join(
                [
                    _(
                        "We could not charge %(amount)s for %(plan)s (%(cycle)s), due on %(date)s.",
                        amount=money(charge.gross),
                        plan=price.plan.display_name,
                        cycle=BILLING_CYCLE_NAMES[price.billing_cycle],
                        date=business_date(subscription.end_date),
                    ),
                    _(
                        "We will try again on %(date)s. Until then the subscription keeps "
                        "working; if the payment keeps failing, it ends.",
                        date=business_date(subscription.next_billing_date),
                    ),
                    "",
                    _("To pay with another card, add it here and make it the default:"),
                    cards,
                    "",
                    _("Your subscription:"),
                    url,
                ]
            ),
        )

    _send(session, subscription, compose, batch=True)
    return 1


def _expired(session: Session, subscription: UserSubscription) -> int:
    if not _first_time(
        session, subscription.id, NoticeKind.EXPIRED, subscription.end_date.isoformat()
    ):
        return 0
    portal_url, _receipt = _links()
    plans = portal_url("billing.plans")
    plan = subscription.plan

    def compose():
        return (
            _("Your Okul subscription has ended"),
            "\n".join(
                [
                    _(
                        "Your subscription to %(plan)s has ended: the payment due on %(date)s "
                        "failed on every attempt.",
                        plan=plan.display_name,
                        date=business_date(subscription.end_date),
                    ),
                    _("You are back on the free limits. Nothing more will be charged."),
                    "",
                    _("To subscribe again:"),
                    plans,
                ]
            ),
        )

    _send(session, subscription, compose, batch=True)
    return 1


def refund_made(session: Session, refund: Payment, charge: Payment) -> int:
    """Tell the payer that `refund` (succeeded, flushed) gave money back for `charge`."""
    if not _first_time(
        session, refund.user_subscription_id, NoticeKind.REFUND_MADE, str(refund.id)
    ):
        return 0
    _portal_url, receipt_link = _links()
    link = receipt_link(charge.id)

    def compose():
        return (
            _("Your Okul refund of %(amount)s", amount=money(refund.gross_amount)),
            "\n".join(
                [
                    _(
                        "We refunded %(amount)s of your payment %(number)s of %(date)s.",
                        amount=money(refund.gross_amount),
                        number=f"{charge.id:08d}",
                        date=business_date(_paid_on(charge.created_at)),
                    ),
                    _(
                        "It goes back to the card it was paid with (%(card)s); your bank may "
                        "take a few days to show it.",
                        card=f"{(charge.card_brand or '').title()} •••• {charge.card_last4 or ''}",
                    ),
                    "",
                    _("The receipt, with the refund:"),
                    link,
                ]
            ),
        )

    return _send(session, refund, compose, batch=False)


def _paid_on(instant: datetime) -> date:
    return istanbul_today(instant)
