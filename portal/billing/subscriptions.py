"""The subscription lifecycle: subscribe, trial, pause and resume, cancel and undo, change.

Plain module: the caller passes the session, the gateway, the business date (Europe/Istanbul)
and, for steps that record an instant, `now` (aware UTC, from portal.clock), and commits. The
states and what moves between them:

    trial ──(trial ends, charge succeeds: renewals)──────────────► active
    active ──pause(until)──► paused ──resume, or the renewal job on `until`──► active
    trial/active ──cancel_now──► cancelled   (paused too)
    trial/active ──cancel_at_period_end──► (still trial/active) ──(period ends)──► cancelled
                 ◄──────────────undo_cancel───────────────────────┘ (before it ends)
    trial/active ──(charges fail and retries run out: renewals)──► expired

A pause is not a cancellation: both stop the next renewal and keep the plan until the paid
period ends, but a pause has an end (pause_until, at most PAUSE_MAX_MONTHS months ahead) on
which renewals resume by themselves, while a cancellation at period end ends the subscription
for good on that day unless it is undone before. A pause that outlasts the paid period
resumes with a new period anchored on its end date, charged then; the days in between are
neither paid nor served.

The dates: a paid subscription's periods run from anchor_date (portal.billing.periods);
end_date is where the current period ends, which is also the start of the next period to pay,
and next_billing_date is when the renewal job next looks at it (end_date, or a retry date).
A trial runs from start_date to trial_end_date, which is also the anchor: period 0 is the
first paid one, charged when the trial ends.

An upgrade (is_upgrade: an active subscription moving to a price of the same billing cycle
whose total with KDV is higher) takes effect at once: the difference of the two totals is
prorated by the days left in the current period, day-accurate on the Istanbul calendar
(days left counting today, over the period's days, with the period's real start and end from
portal.billing.periods), rounded ROUND_HALF_UP to the kuruş once on the total, and charged now
(prorated_difference); the period and the next billing date stay, and the next renewal charges
the new price in full. Any other change (a downgrade, a cycle change, any change of a trial)
takes effect on the next billing date: nothing is charged now, the new price is charged then
and its periods are anchored there. No partial refunds. In both cases the preview
(preview_change) is exactly what is charged, and when.

allowed_actions() is the one answer to "what may be done to this subscription now": the
subscription page offers exactly those actions, the views refuse the others, and every step
here checks it again. Payments and saved cards are portal.billing.payments and
portal.billing.cards; this module only decides when to use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from functools import cache

from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, bindparam, exists, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from portal.audit import NO_ORIGIN, Origin, log_event
from portal.billing import receipts, refunds
from portal.billing.cards import CardOnFile, attach_card, saved_card_of, store_card
from portal.billing.gateway import PaymentGateway, SavedCard
from portal.billing.money import CENT, Charge, charge_for
from portal.billing.payments import (
    failure_of,
    log_failed_attempt,
    new_payment,
    settle,
)
from portal.billing.periods import is_renewable, period_end, period_start
from portal.billing.subscribers import Subscriber
from portal.clock import istanbul_today
from portal.models import Customer, Payment, PlanPrice, SubscriptionPlan, User, UserSubscription
from portal.models.billing import PaymentPurpose, PaymentStatus, PriceStatus, SubscriptionStatus
from portal.refusal import Refusal

TRIAL = SubscriptionStatus.TRIAL
ACTIVE = SubscriptionStatus.ACTIVE
PAUSED = SubscriptionStatus.PAUSED
CANCELLED = SubscriptionStatus.CANCELLED
EXPIRED = SubscriptionStatus.EXPIRED
# A subscription that has not ended: at most one per subscriber.
CURRENT_STATUSES = (TRIAL, ACTIVE, PAUSED)
# How far ahead a pause may end, in calendar months: long enough for a summer or a term
# abroad, short enough that a forgotten pause does not become a silent cancellation.
PAUSE_MAX_MONTHS = 3


class Action(StrEnum):
    """What a subscriber may do to their subscription; the values name the actions in URLs."""

    CANCEL_AT_PERIOD_END = "cancel-at-period-end"
    UNDO_CANCEL = "undo-cancel"
    PAUSE = "pause"
    RESUME = "resume"
    CHANGE = "change"  # choose another plan or billing cycle
    CANCEL_CHANGE = "cancel-change"
    CANCEL_NOW = "cancel-now"


class SubscriptionError(Refusal):
    """A lifecycle step that is not allowed now; `code` names why, for the views' messages."""


@dataclass(frozen=True)
class Quote:
    """What subscribing to a price means, shown at checkout before the card is asked for."""

    price: PlanPrice
    charge: Charge
    trial_days: int  # 0 when no trial applies (none offered, or already used)
    first_charge_on: date  # today, or the day the trial ends
    period_ends_on: date | None  # the end of the first paid period; None for lifetime


@dataclass(frozen=True)
class ChangePreview:
    """What a change of plan or cycle will do, shown before the subscriber confirms.

    For an upgrade, `charge` is the prorated difference charged today for the rest of the
    current period (days_left of days_in_period), and `period_ends_on` is where that period
    ends and the new price is first charged in full (`full_charge`). For any other change,
    `charge` is the new price, charged in full when it takes effect.
    """

    price: PlanPrice
    charge: Charge
    takes_effect_on: date
    period_ends_on: date | None
    upgrade: bool = False
    days_left: int = 0
    days_in_period: int = 0
    full_charge: Charge | None = None

    @property
    def last_day_paid(self) -> date | None:
        """The last day an upgrade's charge pays for (periods are half-open; people name the
        last day covered)."""
        return self.period_ends_on - timedelta(days=1) if self.period_ends_on else None


def current_subscription(
    session: Session, subscriber: Subscriber, *, lock: str | None = None
) -> UserSubscription | None:
    """The subscriber's subscription that has not ended (trial, active or paused), if any.

    `lock` "share" or "update" reads it FOR SHARE / FOR UPDATE. A locking read also sees what
    other transactions committed after this one began (MariaDB's REPEATABLE READ otherwise
    keeps showing its first snapshot).
    """
    query = (
        select(UserSubscription)
        .where(subscriber.owner_clause(UserSubscription))
        .where(UserSubscription.status.in_(CURRENT_STATUSES))
        .order_by(UserSubscription.id.desc())
        .limit(1)
    )
    if lock is not None:
        if lock not in ("share", "update"):
            raise ValueError(f"lock is 'share' or 'update', not {lock!r}")
        query = query.with_for_update(read=lock == "share")
    return session.scalar(query)


def subscription_history(session: Session, subscriber: Subscriber) -> list[UserSubscription]:
    """Every subscription the subscriber has had, newest first, each with its plan."""
    by_user = subscriber.user_id is not None
    owner = subscriber.user_id if by_user else subscriber.customer_id
    return list(session.scalars(_history_statement(by_user), {"owner_id": owner}))


@cache
def _history_statement(by_user: bool) -> Select:
    """`subscription_history` of the parent (`by_user`) or company `owner_id`; built once: the
    subscription page asks on every view (decisions.md, "Statements built once")."""
    owner = UserSubscription.user_id if by_user else UserSubscription.customer_id
    return (
        select(UserSubscription)
        .where(owner == bindparam("owner_id"))
        .order_by(UserSubscription.id.desc())
        .options(joinedload(UserSubscription.plan))  # each line names its plan
    )


def current_of(history: list[UserSubscription]) -> UserSubscription | None:
    """The subscription of `history` (newest first, as `subscription_history` gives it) that
    has not ended: what `current_subscription` reads, for a page that has the history."""
    return next((s for s in history if s.status in CURRENT_STATUSES), None)


def trial_available(session: Session, subscriber: Subscriber, plan_id: int) -> bool:
    """A subscriber gets one trial per plan, ever: a trial ended or cancelled still counts."""
    had_trial = session.scalar(
        select(
            exists().where(
                subscriber.owner_clause(UserSubscription),
                UserSubscription.subscription_plan_id == plan_id,
                UserSubscription.trial_end_date.is_not(None),
            )
        )
    )
    return not had_trial


def purchasable_price(session: Session, subscriber: Subscriber, price_id: int) -> PlanPrice:
    """The active price of an active plan for this subscriber's audience.

    :raise SubscriptionError("price_unavailable"): otherwise (archived, another audience...).
    """
    price = session.scalar(
        select(PlanPrice)
        .join(SubscriptionPlan, SubscriptionPlan.id == PlanPrice.subscription_plan_id)
        .options(contains_eager(PlanPrice.plan))  # the pages that sell it name the plan
        .where(
            PlanPrice.id == price_id,
            PlanPrice.status == PriceStatus.ACTIVE,
            SubscriptionPlan.is_active,
            SubscriptionPlan.audience == subscriber.audience,
        )
    )
    if price is None:
        raise SubscriptionError("price_unavailable")
    return price


def quote(session: Session, subscriber: Subscriber, price: PlanPrice, today: date) -> Quote:
    """What subscribing to `price` today would charge, and when."""
    trial_days = (
        price.trial_days
        if price.trial_days and trial_available(session, subscriber, price.subscription_plan_id)
        else 0
    )
    first_charge_on = today + timedelta(days=trial_days)
    return Quote(
        price=price,
        charge=charge_for(price.amount, price.kdv_included),
        trial_days=trial_days,
        first_charge_on=first_charge_on,
        period_ends_on=period_end(first_charge_on, price.billing_cycle, 0),
    )


def _lock_subscriber(session: Session, subscriber: Subscriber) -> None:
    # One checkout at a time per subscriber, so two tabs (or a double click) cannot both find
    # "no subscription yet" and both subscribe. SQLite ignores FOR UPDATE; it has one writer.
    model, key = (
        (User, subscriber.user_id)
        if subscriber.user_id is not None
        else (Customer, subscriber.customer_id)
    )
    session.execute(select(model.id).where(model.id == key).with_for_update())


def subscribe(
    session: Session,
    gateway: PaymentGateway,
    subscriber: Subscriber,
    price_id: int,
    card: SavedCard,
    *,
    idempotency_key: str,
    today: date,
    actor_user_id: int,
    origin: Origin = NO_ORIGIN,
) -> UserSubscription:
    """Start a subscription to a price with a card the gateway saved (its hosted page took the
    number): a trial when one applies, else charged now.

    The same idempotency_key twice (a double click, a retried request), or the same saved card
    brought back twice from the hosted page, gives back the first subscription without
    charging again.

    :raise SubscriptionError: "already_subscribed", "price_unavailable", "form_already_used".
    :raise PaymentFailed: the charge failed; nothing is stored.
    """
    _lock_subscriber(session, subscriber)
    # Locking reads from here on. On MariaDB (REPEATABLE READ) a plain read would still see the
    # snapshot this request took before it waited for the lock, so a second tab found no
    # subscription and no payment yet and charged the card again (a test catches it).
    used, replayed = _started_by(session, subscriber, idempotency_key)
    if used:
        if replayed is not None and replayed.status in CURRENT_STATUSES:
            return replayed
        # The key started something that has ended since (a form sent again from the
        # browser's history): it must neither charge again nor claim a new start.
        raise SubscriptionError("form_already_used")
    current = current_subscription(session, subscriber, lock="share")
    if current is not None:
        # A trial has no payment row to find by its key: the hosted page's answer brought back
        # twice is known by its token, which the gateway issues once per card it saves.
        saved_card = saved_card_of(session, current)
        if saved_card is not None and saved_card.token == card.token:
            return current
        raise SubscriptionError("already_subscribed")
    price = purchasable_price(session, subscriber, price_id)
    offer = quote(session, subscriber, price, today)
    saved = card

    subscription = UserSubscription(
        user_id=subscriber.user_id,
        customer_id=subscriber.customer_id,
        subscription_plan_id=price.subscription_plan_id,
        plan_price_id=price.id,
        billing_cycle=price.billing_cycle,
        amount=price.amount,
        currency=price.currency,
        kdv_included=price.kdv_included,
        start_date=today,
        anchor_date=offer.first_charge_on,
        period_index=0,
        checkout_key=idempotency_key,
    )
    payment = None
    if offer.trial_days:
        # Nothing is charged until the trial ends: the renewal job charges period 0 then.
        subscription.status = TRIAL
        subscription.trial_end_date = offer.first_charge_on
        subscription.end_date = offer.first_charge_on
        subscription.next_billing_date = offer.first_charge_on
    else:
        # Charged before anything is stored, so a failed charge leaves no row but the audit's.
        payment = new_payment(
            subscriber,
            PaymentPurpose.FIRST_CHARGE,
            offer.charge,
            price.currency,
            gateway.name,
            idempotency_key,
            saved,
            plan_price_id=price.id,
        )
        settle(payment, gateway, saved)
        if payment.status != PaymentStatus.SUCCEEDED:
            log_failed_attempt(
                session, actor_user_id, origin, payment.failure_code, plan_price_id=price.id
            )
            raise failure_of(payment)
        subscription.status = ACTIVE
        subscription.end_date = offer.period_ends_on
        subscription.next_billing_date = offer.period_ends_on
        subscription.last_payment_date = today
    attach_card(subscription, store_card(session, subscriber, saved, saved.holder_name))
    session.add(subscription)
    session.flush()
    if payment is not None:
        payment.user_subscription_id = subscription.id
        payment.charged_period = subscription.anchor_date
        session.add(payment)
        session.flush()
        receipts.mail_receipt(session, payment)
    log_event(
        session,
        "subscription_started",
        actor_user_id,
        origin,
        subscription_id=subscription.id,
        plan_price_id=price.id,
        status=subscription.status,
    )
    return subscription


def _started_by(
    session: Session, subscriber: Subscriber, idempotency_key: str
) -> tuple[bool, UserSubscription | None]:
    """Whether the checkout key was used already, and the subscriber's subscription it
    started (read FOR SHARE): a trial holds the key itself, a paid start's first payment
    holds it too (and is all that holds it for subscriptions started before migration 0020)."""
    started = session.scalar(
        select(UserSubscription)
        .where(UserSubscription.checkout_key == idempotency_key)
        .with_for_update(read=True)
    )
    if started is not None:
        return True, started if subscriber.owns(started) else None
    earlier = session.scalar(
        select(Payment).where(Payment.idempotency_key == idempotency_key).with_for_update(read=True)
    )
    if earlier is None:
        return False, None
    if not subscriber.owns(earlier) or earlier.user_subscription_id is None:
        return True, None
    return True, session.get(
        UserSubscription, earlier.user_subscription_id, with_for_update={"read": True}
    )


def started_by(
    session: Session, subscriber: Subscriber, idempotency_key: str
) -> UserSubscription | None:
    """The subscriber's current subscription that this checkout key started, if any: the
    answer to a checkout form sent again after it worked."""
    _used, started = _started_by(session, subscriber, idempotency_key)
    return started if started is not None and started.status in CURRENT_STATUSES else None


def allowed_actions(subscription: UserSubscription) -> frozenset[Action]:
    """What the subscriber may do to the subscription now: the page offers exactly these,
    and each step refuses anything else."""
    if subscription.status not in CURRENT_STATUSES:
        return frozenset()
    allowed = {Action.CANCEL_NOW}
    if subscription.scheduled_plan_price_id is not None:
        allowed.add(Action.CANCEL_CHANGE)
    if subscription.status == PAUSED:
        allowed.add(Action.RESUME)
    elif is_renewable(subscription.billing_cycle):  # a lifetime one has no period to act on
        allowed.add(
            Action.UNDO_CANCEL if subscription.cancel_at_period_end else Action.CANCEL_AT_PERIOD_END
        )
        # While a failed charge is retried, neither pausing nor a new price may interfere.
        if not subscription.retry_count:
            allowed.add(Action.CHANGE)
            if subscription.status == ACTIVE:
                allowed.add(Action.PAUSE)
    return frozenset(allowed)


def require_allowed(subscription: UserSubscription, action: Action) -> None:
    """:raise SubscriptionError("not_allowed_now"): `action` is not allowed_actions() now."""
    if action not in allowed_actions(subscription):
        raise SubscriptionError("not_allowed_now")


def subscription_payment(
    subscription,
    purpose: PaymentPurpose,
    charge: Charge,
    price_id: int,
    gateway: str,
    idempotency_key: str,
    card: CardOnFile | None,
    *,
    row_type=Payment,
) -> Payment:
    """A payment row for one charge of the subscription, buying the price `price_id`.

    `subscription` is a UserSubscription or the renewal run's plain row; `row_type` as in
    portal.billing.payments.new_payment.
    """
    return new_payment(
        Subscriber.of(subscription),
        purpose,
        charge,
        subscription.currency,
        gateway,
        idempotency_key,
        card,
        user_subscription_id=subscription.id,
        plan_price_id=price_id,
        row_type=row_type,
    )


def cancel_at_period_end(
    session: Session, subscription: UserSubscription, actor_user_id: int, origin: Origin = NO_ORIGIN
) -> None:
    """Stop renewing: the subscription keeps working until its period (or trial) ends."""
    require_allowed(subscription, Action.CANCEL_AT_PERIOD_END)
    subscription.cancel_at_period_end = True
    subscription.auto_renew = False
    log_event(
        session,
        "subscription_cancel_scheduled",
        actor_user_id,
        origin,
        subscription_id=subscription.id,
        ends_on=subscription.end_date.isoformat(),
    )


def undo_cancel(
    session: Session, subscription: UserSubscription, actor_user_id: int, origin: Origin = NO_ORIGIN
) -> None:
    """Take back a cancellation at period end, before the period ends."""
    require_allowed(subscription, Action.UNDO_CANCEL)
    subscription.cancel_at_period_end = False
    subscription.auto_renew = True
    log_event(
        session,
        "subscription_cancel_undone",
        actor_user_id,
        origin,
        subscription_id=subscription.id,
    )


def cancel_now(
    session: Session,
    subscription: UserSubscription,
    actor_user_id: int,
    origin: Origin = NO_ORIGIN,
    *,
    now: datetime,
    refund_with: PaymentGateway | None = None,
) -> list[Payment]:
    """End the subscription at `now` (aware UTC); it ends on that day in Istanbul.

    With `refund_with` (the gateway), every charge made within the withdrawal period is
    refunded in full (portal.billing.refunds.withdrawal_refunds, which the cancel page shows
    beforehand); older charges are not. Returns the refund rows, succeeded or failed: a
    refund the gateway refuses is recorded and the subscription ends all the same (the
    subscriber asked to leave; an operator refunds by hand, `flask billing refund`). Without
    a gateway nothing is refunded.
    """
    require_allowed(subscription, Action.CANCEL_NOW)
    made = []
    if refund_with is not None:
        for due in refunds.withdrawal_refunds(session, subscription, istanbul_today(now)):
            made.append(
                refunds.refund(
                    session,
                    refund_with,
                    due.payment.id,
                    idempotency_key=f"sub{subscription.id}:withdrawal:p{due.payment.id}",
                    reason="withdrawal",
                    now=now,
                    actor_user_id=actor_user_id,
                    origin=origin,
                )
            )
    subscription.status = CANCELLED
    subscription.cancelled_at = now
    subscription.pause_until = None
    subscription.end_date = istanbul_today(now)
    subscription.next_billing_date = None
    subscription.auto_renew = False
    subscription.cancel_at_period_end = False
    subscription.scheduled_plan_price_id = None
    log_event(
        session, "subscription_cancelled", actor_user_id, origin, subscription_id=subscription.id
    )
    return made


def latest_pause_end(today: date) -> date:
    """The last day a pause started today may run until: PAUSE_MAX_MONTHS calendar months
    ahead (clamped to the month's end, as periods are)."""
    return today + relativedelta(months=PAUSE_MAX_MONTHS)


def pause_until_refusal(today: date, until: date) -> str | None:
    """Why renewals cannot resume on `until` (a pause started today), else None:
    "pause_until_not_after_today" or "pause_until_too_far"."""
    if until <= today:
        return "pause_until_not_after_today"
    if until > latest_pause_end(today):
        return "pause_until_too_far"
    return None


def pause(
    session: Session,
    subscription: UserSubscription,
    actor_user_id: int,
    origin: Origin = NO_ORIGIN,
    *,
    now: datetime,
    until: date,
) -> None:
    """Stop renewals from `now` (aware UTC) until the business date `until`, when the renewal
    job resumes it (portal.billing.renewals); the plan keeps working until the paid period
    ends. The subscriber may resume earlier.

    :raise SubscriptionError: "not_allowed_now", or pause_until_refusal()'s codes.
    """
    require_allowed(subscription, Action.PAUSE)
    refused = pause_until_refusal(istanbul_today(now), until)
    if refused is not None:
        raise SubscriptionError(refused)
    subscription.status = PAUSED
    subscription.paused_at = now
    subscription.pause_until = until
    subscription.next_billing_date = None
    log_event(
        session,
        "subscription_paused",
        actor_user_id,
        origin,
        subscription_id=subscription.id,
        until=until.isoformat(),
    )


def resume_preview(subscription: UserSubscription, today: date) -> ChangePreview | None:
    """What resuming today charges: None while the paid period still runs (nothing to pay)."""
    if subscription.end_date is not None and today < subscription.end_date:
        return None
    price = subscription.scheduled_price or subscription.price
    return ChangePreview(
        price=price,
        charge=charge_for(_amount_for(subscription, price), price.kdv_included),
        takes_effect_on=today,
        period_ends_on=period_end(today, price.billing_cycle, 0),
    )


def _amount_for(subscription: UserSubscription, price: PlanPrice):
    # The subscription's own copy of the amount is what it bought; a scheduled change buys the
    # new price's amount.
    return subscription.amount if price.id == subscription.plan_price_id else price.amount


def resume(
    session: Session,
    gateway: PaymentGateway,
    subscription: UserSubscription,
    today: date,
    actor_user_id: int,
    origin: Origin = NO_ORIGIN,
) -> None:
    """Renew again. Within the paid period nothing is charged; after it, a new period starts
    today and is charged now, anchored today.

    :raise PaymentFailed: the charge failed; the subscription stays paused.
    """
    require_allowed(subscription, Action.RESUME)
    preview = resume_preview(subscription, today)
    if preview is not None:
        payment = _charge_new_anchor(
            session, gateway, subscription, preview.price, today, key_suffix="resume"
        )
        if payment.status != PaymentStatus.SUCCEEDED:
            session.flush()
            raise failure_of(payment)
    subscription.status = ACTIVE
    subscription.paused_at = None
    subscription.pause_until = None
    subscription.next_billing_date = subscription.end_date
    log_event(
        session, "subscription_resumed", actor_user_id, origin, subscription_id=subscription.id
    )


def _charge_new_anchor(
    session: Session,
    gateway: PaymentGateway,
    subscription: UserSubscription,
    price: PlanPrice,
    day: date,
    key_suffix: str,
) -> Payment:
    """Charge period 0 of a new anchor at `day` (resume after the period ended)."""
    amount = _amount_for(subscription, price)
    charge = charge_for(amount, price.kdv_included)
    card = saved_card_of(session, subscription)
    # One key per attempt: the subscription's payments so far tell attempts apart.
    attempt = session.scalar(
        select(func.count())
        .select_from(Payment)
        .where(Payment.user_subscription_id == subscription.id)
    )
    key = f"sub{subscription.id}:{day.isoformat()}:{key_suffix}:{attempt}"
    # The price it buys may be a scheduled change's.
    payment = subscription_payment(
        subscription, PaymentPurpose.RENEWAL, charge, price.id, gateway.name, key, card
    )
    settle(payment, gateway, card)
    if payment.status == PaymentStatus.SUCCEEDED:
        switch_price(subscription, price)
        subscription.anchor_date = day
        subscription.period_index = 0
        subscription.end_date = period_end(day, price.billing_cycle, 0)
        subscription.last_payment_date = day
        payment.charged_period = day
    session.add(payment)
    if payment.status == PaymentStatus.SUCCEEDED:
        session.flush()  # the receipt names the payment by its id
        receipts.mail_receipt(session, payment)
    return payment


def switch_price(subscription: UserSubscription, price: PlanPrice) -> None:
    """Put the subscription on another price (a scheduled change taking effect)."""
    if price.id == subscription.plan_price_id:
        return
    subscription.plan_price_id = price.id
    subscription.subscription_plan_id = price.subscription_plan_id
    subscription.billing_cycle = price.billing_cycle
    subscription.amount = price.amount
    subscription.kdv_included = price.kdv_included
    subscription.scheduled_plan_price_id = None


def is_upgrade(subscription: UserSubscription, price: PlanPrice, today: date) -> bool:
    """Whether moving to `price` today is an upgrade, which takes effect at once: a paid
    (active) subscription, a price of the same billing cycle whose total with KDV is higher
    than what the subscription pays, and a current period that still has today in it.

    A trial has paid nothing to prorate, and a cycle change has no common period to compare
    prices over: both, like a downgrade, take effect at the period's end.
    """
    if subscription.status != ACTIVE or price.billing_cycle != subscription.billing_cycle:
        return False
    if subscription.end_date is None or not today < subscription.end_date:
        return False
    paid = charge_for(subscription.amount, subscription.kdv_included).gross
    return charge_for(price.amount, price.kdv_included).gross > paid


def current_period_start(subscription: UserSubscription) -> date:
    """The first day of the period the subscription has paid for (from its anchor)."""
    return period_start(
        subscription.anchor_date, subscription.billing_cycle, subscription.period_index
    )


def prorated_difference(
    paid_gross: Decimal, new_gross: Decimal, days_left: int, days_in_period: int
) -> Charge:
    """What an upgrade charges for the rest of the period: the difference of the two totals
    with KDV, times days_left / days_in_period, rounded ROUND_HALF_UP to the kuruş once, on
    the total; the KDV in it is split off as portal.billing.money splits a KDV-included price.
    """
    if not 0 < days_left <= days_in_period:
        raise ValueError(f"{days_left} days left of a {days_in_period}-day period")
    if new_gross <= paid_gross:
        raise ValueError(f"{new_gross} is not more than {paid_gross}")
    with localcontext() as context:
        context.prec = 60  # exact to far below a kuruş before the one rounding
        gross = ((new_gross - paid_gross) * days_left / days_in_period).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
    return charge_for(gross, kdv_included=True)


def preview_change(
    session: Session,
    subscriber: Subscriber,
    subscription: UserSubscription,
    price_id: int,
    *,
    today: date,
) -> ChangePreview:
    """What moving to another price will do: an upgrade (is_upgrade) takes effect today and
    charges the prorated difference now; any other change takes effect on the next billing
    date, charging the new price then.

    :raise SubscriptionError: "not_allowed_now" (paused, ended, lifetime, retrying a charge),
        "same_price", "price_unavailable".
    """
    require_allowed(subscription, Action.CHANGE)
    price = purchasable_price(session, subscriber, price_id)
    if price.id == subscription.plan_price_id:
        raise SubscriptionError("same_price")
    full = charge_for(price.amount, price.kdv_included)
    if is_upgrade(subscription, price, today):
        ends_on = subscription.end_date
        days_in_period = (ends_on - current_period_start(subscription)).days
        days_left = (ends_on - today).days
        paid = charge_for(subscription.amount, subscription.kdv_included).gross
        return ChangePreview(
            price=price,
            charge=prorated_difference(paid, full.gross, days_left, days_in_period),
            takes_effect_on=today,
            period_ends_on=ends_on,
            upgrade=True,
            days_left=days_left,
            days_in_period=days_in_period,
            full_charge=full,
        )
    takes_effect_on = subscription.end_date
    return ChangePreview(
        price=price,
        charge=full,
        takes_effect_on=takes_effect_on,
        period_ends_on=period_end(takes_effect_on, price.billing_cycle, 0),
    )


def upgrade(
    session: Session,
    gateway: PaymentGateway,
    subscriber: Subscriber,
    subscription: UserSubscription,
    price_id: int,
    *,
    idempotency_key: str,
    today: date,
    actor_user_id: int,
    origin: Origin = NO_ORIGIN,
) -> ChangePreview:
    """Move to a higher price now, charging the prorated difference for the rest of the
    period to the saved card; the period, its end and the next billing date stay, and the
    next renewal charges the new price in full. It replaces a planned change and takes back
    a cancellation at period end.

    The payment (purpose plan_change) buys the new price row from today: charged_period is
    today. The same idempotency_key again gives back what the first one did.

    :raise SubscriptionError: as preview_change(), and "not_an_upgrade".
    :raise PaymentFailed: the charge failed; the failed payment is recorded, nothing else
        changes.
    """
    done = upgraded_by(session, subscription, idempotency_key)
    if done is not None:
        return done
    refused = session.scalar(
        select(Payment).where(
            Payment.idempotency_key == _upgrade_key(subscription, idempotency_key)
        )
    )
    if refused is not None:  # this form's charge failed already: the same answer, no new charge
        raise failure_of(refused)
    preview = preview_change(session, subscriber, subscription, price_id, today=today)
    if not preview.upgrade:
        raise SubscriptionError("not_an_upgrade")
    card = saved_card_of(session, subscription)
    payment = subscription_payment(
        subscription,
        PaymentPurpose.PLAN_CHANGE,
        preview.charge,
        preview.price.id,
        gateway.name,
        _upgrade_key(subscription, idempotency_key),
        card,
    )
    settle(payment, gateway, card)
    session.add(payment)
    if payment.status != PaymentStatus.SUCCEEDED:
        session.flush()
        raise failure_of(payment)
    payment.charged_period = today
    switch_price(subscription, preview.price)
    subscription.scheduled_plan_price_id = None
    subscription.cancel_at_period_end = False
    subscription.auto_renew = True
    session.flush()  # the receipt names the payment by its id
    receipts.mail_receipt(session, payment)
    log_event(
        session,
        "subscription_upgraded",
        actor_user_id,
        origin,
        subscription_id=subscription.id,
        plan_price_id=preview.price.id,
        payment_id=payment.id,
        days_left=preview.days_left,
        days_in_period=preview.days_in_period,
    )
    return preview


def _upgrade_key(subscription: UserSubscription, idempotency_key: str) -> str:
    # The change form's key, made the subscription's own so that it can name no other charge.
    return f"sub{subscription.id}:upgrade:{idempotency_key}"


def upgraded_by(
    session: Session, subscription: UserSubscription, idempotency_key: str
) -> ChangePreview | None:
    """What the upgrade confirmed with this key did, if it went through (a double click, a
    retried request): its price, charge and dates as they were."""
    payment = session.scalar(
        select(Payment).where(
            Payment.idempotency_key == _upgrade_key(subscription, idempotency_key),
            Payment.status == PaymentStatus.SUCCEEDED,
        )
    )
    if payment is None:
        return None
    price = session.get(PlanPrice, payment.plan_price_id)
    return ChangePreview(
        price=price,
        charge=Charge(payment.net_amount, payment.kdv_amount, payment.gross_amount),
        takes_effect_on=payment.charged_period,
        period_ends_on=subscription.end_date,
        upgrade=True,
        full_charge=charge_for(price.amount, price.kdv_included),
    )


def schedule_change(
    session: Session,
    subscriber: Subscriber,
    subscription: UserSubscription,
    price_id: int,
    actor_user_id: int,
    origin: Origin = NO_ORIGIN,
    *,
    today: date,
) -> ChangePreview:
    """Confirm a change of plan or cycle that waits for the period's end (a downgrade, a
    cycle change, any change of a trial); it also takes back a cancellation at period end.

    :raise SubscriptionError: as preview_change(), and "upgrade_now" for an upgrade, which
        upgrade() makes.
    """
    preview = preview_change(session, subscriber, subscription, price_id, today=today)
    if preview.upgrade:
        raise SubscriptionError("upgrade_now")
    subscription.scheduled_plan_price_id = preview.price.id
    subscription.cancel_at_period_end = False
    subscription.auto_renew = True
    log_event(
        session,
        "subscription_change_scheduled",
        actor_user_id,
        origin,
        subscription_id=subscription.id,
        plan_price_id=preview.price.id,
        takes_effect_on=preview.takes_effect_on.isoformat(),
    )
    return preview


def cancel_change(
    session: Session, subscription: UserSubscription, actor_user_id: int, origin: Origin = NO_ORIGIN
) -> None:
    """Drop a scheduled change of plan or cycle."""
    require_allowed(subscription, Action.CANCEL_CHANGE)
    subscription.scheduled_plan_price_id = None
    log_event(
        session,
        "subscription_change_cancelled",
        actor_user_id,
        origin,
        subscription_id=subscription.id,
    )
