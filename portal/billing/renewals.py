"""The renewal run: everything due on a business date, for cron (`flask billing renew`).

For each trial or active subscription whose next_billing_date is on or before the date:

- cancelled at period end: it ends now (status cancelled), nothing is charged;
- a confirmed change of plan or cycle: the new price is charged, anchored at the change date,
  and takes over once paid;
- otherwise the period starting at end_date is charged; on success the next period is set,
  and periods missed while the job did not run are charged one by one (catch-up);
- a failed charge is recorded and retried RETRY_AFTER_DAYS after the due date (1, 3 and 7
  days: four attempts in all); when the last retry fails the subscription expires. A failure
  stops the subscription's turn in this run, so missed days never squeeze several retries
  into one run. While retries run the subscription keeps its status and plan (past due is
  retry_count > 0).

Safe to run twice for the same date: what was handled is no longer due. Safe to run from two
processes at once on PostgreSQL and MariaDB: each batch is read with FOR UPDATE SKIP LOCKED,
so a subscription is handled by one process, and payments' unique (subscription, period) and
idempotency keys would refuse a second charge of a period anyway. Idempotency keys are built
from the subscription, the period and the attempt, so a run that dies after the gateway
charged but before its commit charges nothing more when it runs again.

One transaction per batch, never per row: a batch is locked, charged, written and committed
together. With a networked gateway the batch size bounds how long row locks are held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.billing.gateway import PaymentGateway
from portal.billing.money import charge_for
from portal.billing.periods import period_end, period_index_on
from portal.billing.subscriptions import (
    ACTIVE,
    CANCELLED,
    EXPIRED,
    TRIAL,
    new_payment,
    settle,
    switch_price,
)
from portal.models import CustomerCreditCard, PlanPrice, UserPaymentCard, UserSubscription

RETRY_AFTER_DAYS = (1, 3, 7)
DEFAULT_BATCH_SIZE = 1000


@dataclass
class RenewalReport:
    """What one run did."""

    business_date: date
    charged: int = 0
    failed: int = 0
    trials_converted: int = 0
    changed: int = 0
    ended: int = 0
    expired: int = 0


def renew(
    session: Session,
    gateway: PaymentGateway,
    business_date: date,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> RenewalReport:
    """Handle every subscription due on or before `business_date`, a batch per transaction."""
    report = RenewalReport(business_date)
    last_id = 0
    while True:
        batch = session.scalars(
            select(UserSubscription)
            .where(
                UserSubscription.status.in_((TRIAL, ACTIVE)),
                UserSubscription.next_billing_date <= business_date,
                # Each subscription gets one turn per run, even if it is still due after it.
                UserSubscription.id > last_id,
            )
            .order_by(UserSubscription.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not batch:
            break
        cards = _cards_of(session, batch)
        prices = _scheduled_prices_of(session, batch)
        for subscription in batch:
            _renew_one(session, gateway, subscription, business_date, cards, prices, report)
        last_id = batch[-1].id
        session.commit()
    return report


def _cards_of(session: Session, batch: list[UserSubscription]) -> dict[tuple[str, int], object]:
    # Two queries per batch instead of one per subscription. A removed (soft-deleted) card is
    # left out, so its subscription's charge fails with no_saved_card.
    cards: dict[tuple[str, int], object] = {}
    user_card_ids = {s.user_payment_card_id for s in batch if s.user_payment_card_id}
    customer_card_ids = {s.customer_credit_card_id for s in batch if s.customer_credit_card_id}
    if user_card_ids:
        for card in session.scalars(
            select(UserPaymentCard).where(UserPaymentCard.id.in_(user_card_ids))
        ):
            cards["user", card.id] = card
    if customer_card_ids:
        for card in session.scalars(
            select(CustomerCreditCard).where(CustomerCreditCard.id.in_(customer_card_ids))
        ):
            cards["customer", card.id] = card
    return cards


def _scheduled_prices_of(session: Session, batch: list[UserSubscription]) -> dict[int, PlanPrice]:
    ids = {s.scheduled_plan_price_id for s in batch if s.scheduled_plan_price_id}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(PlanPrice).where(PlanPrice.id.in_(ids)))}


def _card_for(subscription: UserSubscription, cards: dict):
    if subscription.user_payment_card_id is not None:
        return cards.get(("user", subscription.user_payment_card_id))
    if subscription.customer_credit_card_id is not None:
        return cards.get(("customer", subscription.customer_credit_card_id))
    return None


def _renew_one(
    session: Session,
    gateway: PaymentGateway,
    subscription: UserSubscription,
    day: date,
    cards: dict,
    prices: dict[int, PlanPrice],
    report: RenewalReport,
) -> None:
    if subscription.cancel_at_period_end:
        subscription.status = CANCELLED
        subscription.cancelled_at = datetime.now(UTC)
        subscription.next_billing_date = None
        report.ended += 1
        return
    card = _card_for(subscription, cards)
    while subscription.next_billing_date is not None and subscription.next_billing_date <= day:
        due = subscription.end_date  # the start of the period to pay
        purpose = "trial_end" if subscription.status == TRIAL else "renewal"
        # A confirmed change is charged at its new price, anchored at the change date; the
        # subscription moves to it only once that charge succeeds (until then it keeps the
        # plan it paid for, and retries go on charging the new price).
        change = prices.get(subscription.scheduled_plan_price_id)
        if change is not None:
            purpose = "plan_change"
            charge = charge_for(change.amount, change.kdv_included)
            anchor, cycle = due, change.billing_cycle
        else:
            charge = charge_for(subscription.amount, subscription.kdv_included)
            anchor, cycle = subscription.anchor_date, subscription.billing_cycle
        index = period_index_on(anchor, cycle, due)
        key = f"sub{subscription.id}:{due.isoformat()}:{subscription.retry_count}"
        payment = new_payment(subscription, purpose, charge, gateway.name, key, card)
        if change is not None:
            payment.plan_price_id = change.id
        settle(payment, gateway, card)
        session.add(payment)
        if payment.status == "succeeded":
            if change is not None:
                switch_price(subscription, change)
                subscription.anchor_date = anchor
                report.changed += 1
            if subscription.status == TRIAL:
                report.trials_converted += 1
            payment.charged_period = due
            subscription.status = ACTIVE
            subscription.period_index = index
            subscription.end_date = period_end(anchor, cycle, index)
            subscription.next_billing_date = subscription.end_date  # None after lifetime
            subscription.retry_count = 0
            subscription.last_payment_date = day
            report.charged += 1
            continue
        report.failed += 1
        subscription.retry_count += 1
        if subscription.retry_count > len(RETRY_AFTER_DAYS):
            subscription.status = EXPIRED
            subscription.next_billing_date = None
            report.expired += 1
        else:
            subscription.next_billing_date = due + timedelta(
                days=RETRY_AFTER_DAYS[subscription.retry_count - 1]
            )
        break
