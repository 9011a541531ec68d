"""Refunds: money given back for a charge, through a payment row of its own.

Plain module; the caller passes the session, the gateway and `now`, and commits.

A refund is a payments row with purpose `refund`, `refunded_payment_id` naming the charge, and
positive amounts (net + KDV = gross like every row; the purpose says which way the money
went). What a charge still has to refund is its amounts minus those of its succeeded
refunds, and no refund ever asks for more: the charge row is locked (FOR UPDATE) and its
refunds read with a locking read before the amount is checked, so two refunds of one charge
at once (a double click, an operator and a subscriber) are taken one after the other and the
second sees the first. The gateway is asked while the lock is held, as checkout does.

Two ways in:

- cancelling at once within the withdrawal period (WITHDRAWAL_DAYS, cayma hakkı): every
  charge of the subscription made in the last WITHDRAWAL_DAYS Istanbul days is refunded in
  full (what is left of it), by subscriptions.cancel_now; the cancel page says beforehand what
  (withdrawal_refunds);
- an operator's decision: `flask billing refund PAYMENT_ID [--amount X] --reason ...`, any
  amount up to what is left of the charge.

A refund the gateway refuses is recorded as a failed refund row (failure_code says why) and
changes nothing else; an operator can try again. A refund that went through mails its payer
(portal.billing.notices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import NO_ORIGIN, Origin, log_event
from portal.billing import notices
from portal.billing.gateway import FailureCode, PaymentGateway
from portal.billing.money import CENT, Charge, charge_for
from portal.clock import istanbul_today
from portal.models import Payment, UserSubscription
from portal.models.billing import PaymentPurpose, PaymentStatus
from portal.refusal import Refusal

# The withdrawal period of the distance contracts regulation (Mesafeli Sözleşmeler
# Yönetmeliği, art. 9): 14 days. Counted in Istanbul days from the day of the charge, that
# day excluded: a charge made on 1 March can be withdrawn from until 15 March inclusive.
WITHDRAWAL_DAYS = 14


class RefundError(Refusal):
    """A refund that may not be made; `code` names why: "not_refundable" (not a succeeded
    charge, a free one or a refund), "nothing_left" (refunded in full already),
    "amount_not_positive", "amount_too_large" (more than is left)."""


@dataclass(frozen=True)
class Refundable:
    """A charge and what is left of it to refund."""

    payment: Payment
    left: Charge

    @property
    def until(self) -> date:
        """The last day the charge can be withdrawn from."""
        return withdrawal_ends_on(self.payment)


def refunds_of(session: Session, payment: Payment, *, lock: bool = False) -> list[Payment]:
    """The refund rows (any status) of a charge, oldest first; `lock` reads them FOR UPDATE
    (a locking read also sees what others committed since this transaction began)."""
    query = select(Payment).where(Payment.refunded_payment_id == payment.id).order_by(Payment.id)
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query))


def succeeded_refunds(session: Session, payment: Payment) -> list[Payment]:
    """The refunds of a charge that went through, oldest first (its receipt lists them)."""
    return [r for r in refunds_of(session, payment) if r.status == PaymentStatus.SUCCEEDED]


def left_to_refund(payment: Payment, refunds: list[Payment]) -> Charge:
    """The charge's amounts minus those of its succeeded refunds."""
    done = [r for r in refunds if r.status == PaymentStatus.SUCCEEDED]
    return Charge(
        payment.net_amount - sum((r.net_amount for r in done), Decimal(0)),
        payment.kdv_amount - sum((r.kdv_amount for r in done), Decimal(0)),
        payment.gross_amount - sum((r.gross_amount for r in done), Decimal(0)),
    )


def _is_refundable_charge(payment: Payment) -> bool:
    return (
        payment.status == PaymentStatus.SUCCEEDED
        and payment.purpose != PaymentPurpose.REFUND
        and payment.gross_amount > 0
        and payment.gateway_reference is not None
    )


def withdrawal_ends_on(payment: Payment) -> date:
    """The last Istanbul day a charge can be withdrawn from (WITHDRAWAL_DAYS)."""
    return istanbul_today(payment.created_at) + timedelta(days=WITHDRAWAL_DAYS)


def withdrawal_refunds(
    session: Session, subscription: UserSubscription, today: date
) -> list[Refundable]:
    """What cancelling the subscription at once on `today` refunds: each of its charges made
    within the withdrawal period, with what is left of it (none fully refunded already)."""
    since = today - timedelta(days=WITHDRAWAL_DAYS)
    charges = session.scalars(
        select(Payment)
        .where(
            Payment.user_subscription_id == subscription.id,
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.purpose != PaymentPurpose.REFUND,
            Payment.gross_amount > 0,
        )
        .order_by(Payment.id)
    )
    found = []
    for payment in charges:
        if not _is_refundable_charge(payment) or istanbul_today(payment.created_at) < since:
            continue
        left = left_to_refund(payment, refunds_of(session, payment))
        if left.gross > 0:
            found.append(Refundable(payment, left))
    return found


def refund(
    session: Session,
    gateway: PaymentGateway,
    payment_id: int,
    *,
    idempotency_key: str,
    reason: str,
    now: datetime,
    amount: Decimal | None = None,
    actor_user_id: int | None = None,
    origin: Origin = NO_ORIGIN,
) -> Payment:
    """Refund `amount` (all that is left when None) of the charge `payment_id`, through a
    payment row of its own, which is returned: succeeded, or failed with the gateway's
    failure code. The same idempotency_key again returns the first row, asking nothing more.

    :raise RefundError: see the class.
    """
    earlier = session.scalar(select(Payment).where(Payment.idempotency_key == idempotency_key))
    if earlier is not None and earlier.refunded_payment_id == payment_id:
        return earlier
    # Locked, so that two refunds of one charge are taken one after the other.
    charge = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if charge is None or not _is_refundable_charge(charge):
        raise RefundError("not_refundable")
    left = left_to_refund(charge, refunds_of(session, charge, lock=True))
    if left.gross <= 0:
        raise RefundError("nothing_left")
    if amount is None:
        amount = left.gross
    if amount != amount.quantize(CENT) or amount <= 0:
        raise RefundError("amount_not_positive")
    if amount > left.gross:
        raise RefundError("amount_too_large")
    # All that is left: its exact net and KDV, so that the refunds add up to the charge to
    # the kuruş. Part of it: split as a KDV-included amount is.
    given = left if amount == left.gross else charge_for(amount, kdv_included=True)
    row = Payment(
        user_subscription_id=charge.user_subscription_id,
        user_id=charge.user_id,
        customer_id=charge.customer_id,
        customer_agreement_id=charge.customer_agreement_id,
        purpose=PaymentPurpose.REFUND,
        refunded_payment_id=charge.id,
        plan_price_id=charge.plan_price_id,
        net_amount=given.net,
        kdv_amount=given.kdv,
        gross_amount=given.gross,
        currency=charge.currency,
        gateway=gateway.name,
        idempotency_key=idempotency_key,
        card_brand=charge.card_brand,
        card_last4=charge.card_last4,
        created_at=now,
    )
    result = gateway.refund(charge.gateway_reference, given.gross, charge.currency, idempotency_key)
    row.gateway_reference = result.reference
    row.status = PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.FAILED
    row.failure_code = (
        None if result.succeeded else (result.failure_code or FailureCode.REFUND_REFUSED)
    )
    session.add(row)
    session.flush()
    log_event(
        session,
        "payment_refunded" if result.succeeded else "refund_failed",
        actor_user_id,
        origin,
        payment_id=charge.id,
        refund_id=row.id,
        amount=str(given.gross),
        reason=reason,
        **({} if result.succeeded else {"failure_code": row.failure_code}),
    )
    if result.succeeded and charge.user_subscription_id is not None:
        notices.refund_made(session, row, charge)
    return row
