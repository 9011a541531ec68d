"""The renewal run: everything due on a business date, for cron (`flask billing renew`).

First, each paused subscription whose pause ends on or before the date (pause_until) is
resumed: still within its paid period, it renews at that period's end as before; past it, a
new period starts on the pause's end date and is charged in this same run (below), with the
retries of any other charge if it fails.

Then, for each trial or active subscription whose next_billing_date is on or before the date:

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

A batch is read as plain rows rather than mapped objects, and written back with one INSERT
of its payments and one UPDATE of its subscriptions (portal.database.insert_many and
update_many). A run handles every subscription due that day, and mapped objects (identity
map, change tracking, unit of work, and the garbage they leave) cost over four times what
the server spends on the whole run (docs/benchmarks.md).

The receipts of a batch's succeeded charges are queued in its transaction, with one SELECT
and one INSERT (portal.billing.receipts), for `flask mail deliver`; so are the mails of its
failed charges (with the retry date) and expiries, and, after the batches, the reminders of
trials ending within three days (portal.billing.notices: each once per event, however often
the job runs).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import log_event
from portal.billing import notices
from portal.billing.cards import StoredCard, card_key
from portal.billing.gateway import PaymentGateway
from portal.billing.money import charge_for
from portal.billing.payments import settle
from portal.billing.periods import period_end, period_index_on
from portal.billing.receipts import mail_renewal_receipts
from portal.billing.subscriptions import (
    ACTIVE,
    CANCELLED,
    EXPIRED,
    PAUSED,
    TRIAL,
    subscription_payment,
    switch_price,
)
from portal.database import insert_many, update_many
from portal.models import CustomerCreditCard, Payment, PlanPrice, UserPaymentCard, UserSubscription
from portal.models.billing import PaymentPurpose, PaymentStatus

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
    resumed: int = 0
    notices: int = 0  # subscriptions told of a failed charge, an expiry or a trial's end


@dataclass(slots=True)
class _Due:
    """A due subscription as the run reads it: user_subscriptions' columns of the same names."""

    id: int
    user_id: int | None
    customer_id: int | None
    subscription_plan_id: int
    plan_price_id: int
    billing_cycle: str
    amount: Decimal
    currency: str
    kdv_included: bool
    anchor_date: date
    end_date: date | None
    period_index: int
    status: str
    cancel_at_period_end: bool
    next_billing_date: date | None
    last_payment_date: date | None
    retry_count: int
    cancelled_at: datetime | None
    scheduled_plan_price_id: int | None
    user_payment_card_id: int | None
    customer_credit_card_id: int | None


_READ = [getattr(UserSubscription, field.name) for field in fields(_Due)]
# What a turn may change (_renew_one, switch_price). A batch writes back the ones that changed
# in any of its rows, for all of its rows.
_CHANGEABLE = (
    "subscription_plan_id",
    "plan_price_id",
    "billing_cycle",
    "amount",
    "kdv_included",
    "anchor_date",
    "end_date",
    "period_index",
    "status",
    "next_billing_date",
    "last_payment_date",
    "retry_count",
    "cancelled_at",
    "scheduled_plan_price_id",
)
_POSITION = {field.name: position for position, field in enumerate(fields(_Due))}


@dataclass(slots=True, kw_only=True)
class _PaymentRow:
    """A payments row as plain attributes, made by subscription_payment() and settled by
    settle()."""

    user_subscription_id: int
    user_id: int | None
    customer_id: int | None
    purpose: str
    plan_price_id: int | None
    net_amount: Decimal
    kdv_amount: Decimal
    gross_amount: Decimal
    currency: str
    gateway: str
    idempotency_key: str
    card_brand: str | None
    card_last4: str | None
    status: str | None = None
    gateway_reference: str | None = None
    failure_code: str | None = None
    charged_period: date | None = None


_PAYMENT_COLUMNS = [field.name for field in fields(_PaymentRow)]


class _Memo:
    """The pure functions a run calls for every charge, remembered for the run: a day's
    renewals come back again and again to a handful of prices and anchors."""

    def __init__(self) -> None:
        self.charge_for = lru_cache(maxsize=256)(charge_for)
        self.period_index_on = lru_cache(maxsize=4096)(period_index_on)
        self.period_end = lru_cache(maxsize=4096)(period_end)


@dataclass(frozen=True, slots=True)
class _Card:
    """What a charge and its payment need of a saved card."""

    token: str
    brand: str
    last4: str


def renew(
    session: Session,
    gateway: PaymentGateway,
    business_date: date,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    now: datetime,
) -> RenewalReport:
    """Handle every subscription due on or before `business_date`, a batch per transaction.

    `now` (aware UTC) is when the run started: the time its payments, cancellations and
    updates are recorded with.
    """
    report = RenewalReport(business_date)
    report.resumed = _resume_paused(session, business_date, now)
    memo = _Memo()
    due = (
        UserSubscription.status.in_((TRIAL, ACTIVE)),
        UserSubscription.next_billing_date <= business_date,
    )
    last_id = 0
    while True:
        rows = session.execute(
            select(*_READ)
            .where(
                *due,
                # Each subscription gets one turn per run, even if it is still due after it.
                UserSubscription.id > last_id,
            )
            .order_by(UserSubscription.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            break
        batch = [_Due(*row) for row in rows]
        cards = _cards_of(session, due, batch[0].id, batch[-1].id)
        prices = _scheduled_prices_of(session, batch)
        payments: list[_PaymentRow] = []
        for subscription in batch:
            _renew_one(
                gateway, subscription, business_date, now, cards, prices, report, payments, memo
            )
        insert_many(
            session,
            Payment,
            [{name: getattr(p, name) for name in _PAYMENT_COLUMNS} for p in payments],
            created_at=now,
        )
        changed = [
            name
            for name in _CHANGEABLE
            if any(
                getattr(s, name) != row[_POSITION[name]] for s, row in zip(batch, rows, strict=True)
            )
        ]
        update_many(
            session,
            UserSubscription,
            [{"id": s.id, **{name: getattr(s, name) for name in changed}} for s in batch],
            updated_at=now,
        )
        # After the subscriptions' UPDATE: a receipt counts its period from the new anchor.
        mail_renewal_receipts(
            session,
            batch[0].id,
            batch[-1].id,
            now,
            [p.idempotency_key for p in payments if p.status == PaymentStatus.SUCCEEDED],
        )
        # Only the failures of this turn: a subscription retrying since an earlier run and
        # not charged now is not due, so not in the batch.
        report.notices += notices.renewal_events(
            session,
            [
                s.id
                for s, row in zip(batch, rows, strict=True)
                if s.retry_count > row[_POSITION["retry_count"]]
                or (s.status == EXPIRED and row[_POSITION["status"]] != EXPIRED)
            ],
        )
        last_id = batch[-1].id
        session.commit()
    report.notices += notices.trial_reminders(session, business_date)
    session.commit()
    return report


def _resume_paused(session: Session, business_date: date, now: datetime) -> int:
    """Resume the paused subscriptions whose pause ends on or before `business_date`, in one
    transaction of their own; how many. A late run resumes them as of the pause's end, so a
    missed day neither charges the days in between nor skips a period end that came since."""
    ending = (UserSubscription.status == PAUSED, UserSubscription.pause_until <= business_date)
    # Found without a lock, then locked by primary key: a locking read that scanned the table
    # would lock every row it passed on MariaDB (REPEATABLE READ) until this transaction ends,
    # and a parallel run's SKIP LOCKED would then skip all of them.
    ids = list(session.scalars(select(UserSubscription.id).where(*ending)))
    rows = (
        session.execute(
            select(
                UserSubscription.id,
                UserSubscription.user_id,
                UserSubscription.anchor_date,
                UserSubscription.period_index,
                UserSubscription.end_date,
                UserSubscription.pause_until,
            )
            .where(UserSubscription.id.in_(ids), *ending)
            .order_by(UserSubscription.id)
            .with_for_update(skip_locked=True)
        ).all()
        if ids
        else []
    )
    if not rows:
        session.commit()  # ends the read's snapshot (MariaDB) before the batches' own reads
        return 0
    resumed = []
    for id_, user_id, anchor, index, end, until in rows:
        if end is None or end <= until:
            # Past the paid period: a new one from the pause's end, charged below.
            anchor, index, end = until, 0, until
        resumed.append(
            {
                "id": id_,
                "status": ACTIVE,
                "paused_at": None,
                "pause_until": None,
                "anchor_date": anchor,
                "period_index": index,
                "end_date": end,
                "next_billing_date": end,
            }
        )
        log_event(
            session,
            "subscription_resumed",
            user_id,
            subscription_id=id_,
            by="renewal_job",
            paused_until=until.isoformat(),
        )
    update_many(session, UserSubscription, resumed, updated_at=now)
    session.commit()
    return len(resumed)


def _cards_of(
    session: Session, due, first_id: int, last_id: int
) -> dict[tuple[type[StoredCard], int], _Card]:
    # The cards of the batch's subscriptions, and of any due one between them that another
    # run holds: two small queries a batch, never one a subscription, and no list of a
    # thousand ids for the driver to splice in. A removed (soft-deleted) card is left out, so
    # its subscription's charge fails with no_saved_card; the filter is written out because
    # these are table columns, which the ORM's soft-delete criteria (four times the cost of
    # the query here) do not reach.
    # Keyed as portal.billing.cards.card_key() names a subscription's card.
    cards: dict[tuple[type[StoredCard], int], _Card] = {}
    for model, card_id in (
        (UserPaymentCard, UserSubscription.user_payment_card_id),
        (CustomerCreditCard, UserSubscription.customer_credit_card_id),
    ):
        table = model.__table__
        for id_, token, brand, last4 in session.execute(
            select(table.c.id, table.c.token, table.c.brand, table.c.last4)
            .join(UserSubscription, card_id == table.c.id)
            .where(*due, UserSubscription.id.between(first_id, last_id))
            .where(table.c.deleted_at.is_(None))
        ):
            cards[model, id_] = _Card(token, brand, last4)
    return cards


def _scheduled_prices_of(session: Session, batch: list[_Due]) -> dict[int, PlanPrice]:
    ids = {s.scheduled_plan_price_id for s in batch if s.scheduled_plan_price_id}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(PlanPrice).where(PlanPrice.id.in_(ids)))}


def _renew_one(
    gateway: PaymentGateway,
    subscription: _Due,
    day: date,
    now: datetime,
    cards: dict,
    prices: dict[int, PlanPrice],
    report: RenewalReport,
    payments: list[_PaymentRow],
    memo: _Memo,
) -> None:
    if subscription.cancel_at_period_end:
        subscription.status = CANCELLED
        subscription.cancelled_at = now
        subscription.next_billing_date = None
        report.ended += 1
        return
    key = card_key(subscription)
    card = cards.get(key) if key is not None else None
    while subscription.next_billing_date is not None and subscription.next_billing_date <= day:
        due = subscription.end_date  # the start of the period to pay
        purpose = (
            PaymentPurpose.TRIAL_END if subscription.status == TRIAL else PaymentPurpose.RENEWAL
        )
        # A confirmed change is charged at its new price, anchored at the change date; the
        # subscription moves to it only once that charge succeeds (until then it keeps the
        # plan it paid for, and retries go on charging the new price).
        change = prices.get(subscription.scheduled_plan_price_id)
        if change is not None:
            purpose = PaymentPurpose.PLAN_CHANGE
            charge = memo.charge_for(change.amount, change.kdv_included)
            anchor, cycle = due, change.billing_cycle
        else:
            charge = memo.charge_for(subscription.amount, subscription.kdv_included)
            anchor, cycle = subscription.anchor_date, subscription.billing_cycle
        index = memo.period_index_on(anchor, cycle, due)
        payment = subscription_payment(
            subscription,
            purpose,
            charge,
            change.id if change is not None else subscription.plan_price_id,
            gateway.name,
            f"sub{subscription.id}:{due.isoformat()}:{subscription.retry_count}",
            card,
            row_type=_PaymentRow,
        )
        settle(payment, gateway, card)
        payments.append(payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            if change is not None:
                switch_price(subscription, change)
                subscription.anchor_date = anchor
                report.changed += 1
            if subscription.status == TRIAL:
                report.trials_converted += 1
            payment.charged_period = due
            subscription.status = ACTIVE
            subscription.period_index = index
            subscription.end_date = memo.period_end(anchor, cycle, index)
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
