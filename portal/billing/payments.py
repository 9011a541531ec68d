"""Payments: the row for one charge, settled through the gateway, listed for whoever paid.

Plain module, and nothing in it knows a subscription's lifecycle: a subscription's charges
use it now, an agreement's payments later. A payment names what it paid for through its
own columns (user_subscription_id and plan_price_id today), set by the caller, who also
commits.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, raiseload

from portal.audit import Origin, log_event
from portal.billing.cards import CardOnFile
from portal.billing.gateway import FailureCode, PaymentGateway
from portal.billing.money import Charge
from portal.billing.subscribers import Subscriber
from portal.models import Payment
from portal.models.billing import PaymentPurpose, PaymentStatus
from portal.paging import Page, paginate


class PaymentFailed(Exception):
    """The gateway refused the card or the charge; `failure_code` says why."""

    def __init__(self, failure_code: str):
        super().__init__(failure_code)
        self.failure_code = failure_code


def new_payment(
    payer: Subscriber,
    purpose: PaymentPurpose,
    charge: Charge,
    currency: str,
    gateway: str,
    idempotency_key: str,
    card: CardOnFile | None,
    *,
    user_subscription_id: int | None = None,
    plan_price_id: int | None = None,
    row_type=Payment,
) -> Payment:
    """A payment row for `charge` to `card`, not yet charged: settle() sets its outcome.

    `row_type` builds it: the Payment model, or the renewal run's plain row, which a batch
    writes in one statement.
    """
    return row_type(
        user_subscription_id=user_subscription_id,
        user_id=payer.user_id,
        customer_id=payer.customer_id,
        purpose=purpose,
        plan_price_id=plan_price_id,
        net_amount=charge.net,
        kdv_amount=charge.kdv,
        gross_amount=charge.gross,
        currency=currency,
        gateway=gateway,
        idempotency_key=idempotency_key,
        card_brand=card.brand if card is not None else None,
        card_last4=card.last4 if card is not None else None,
    )


def settle(payment: Payment, gateway: PaymentGateway, card: CardOnFile | None) -> None:
    """Charge a payment's gross amount to the card and record the outcome on it.

    A free charge succeeds without the gateway (which refuses a zero amount); no card fails
    with no_saved_card.
    """
    if payment.gross_amount == 0:
        payment.status = PaymentStatus.SUCCEEDED
        return
    if card is None:
        payment.status, payment.failure_code = PaymentStatus.FAILED, FailureCode.NO_SAVED_CARD
        return
    result = gateway.charge(
        card.token, payment.gross_amount, payment.currency, payment.idempotency_key
    )
    payment.gateway_reference = result.reference
    payment.status = PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.FAILED
    payment.failure_code = result.failure_code


def failure_of(payment: Payment) -> PaymentFailed:
    """The exception for a settled payment that failed (a gateway that gave no reason is
    taken to have declined the card)."""
    return PaymentFailed(payment.failure_code or FailureCode.CARD_DECLINED)


def log_failed_attempt(
    session: Session, actor_user_id: int, origin: Origin, failure_code: str, **what
) -> None:
    """Audit a refused card or charge that left no payment row (`what`: what was being bought)."""
    log_event(session, "payment_failed", actor_user_id, origin, failure_code=failure_code, **what)


def payments_of(session: Session, payer: Subscriber) -> list[Payment]:
    """The payer's payment attempts, newest first."""
    return list(session.scalars(_payments_query(payer)))


def payments_page(session: Session, payer: Subscriber, number: int) -> Page:
    """One page of the payer's payment attempts, newest first, with how many there are."""
    by_user = payer.user_id is not None
    owner = payer.user_id if by_user else payer.customer_id
    return paginate(
        session, _payments_page_statement(by_user), number, parameters={"owner_id": owner}
    )


@cache
def _payments_page_statement(by_user: bool) -> Select:
    """The payments of the parent (`by_user`) or company `owner_id`, newest first; built once:
    the subscription page asks on every view (decisions.md, "Statements built once")."""
    owner = Payment.user_id if by_user else Payment.customer_id
    return (
        select(Payment)
        .where(owner == bindparam("owner_id"))
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        # The list shows the rows' own columns only: any relationship touched would be an N+1.
        .options(raiseload("*"))
    )


def _payments_query(payer: Subscriber):
    return (
        select(Payment)
        .where(payer.owner_clause(Payment))
        .order_by(Payment.created_at.desc(), Payment.id.desc())
    )


def paid_payment(session: Session, payer: Subscriber, payment_id: int) -> Payment | None:
    """The payer's succeeded payment with this id, the one a receipt is for; None for an
    unknown id, someone else's payment, a failed attempt or a refund (which the receipt of
    its charge shows)."""
    payment = session.get(Payment, payment_id)
    if payment is None or not payer.owns(payment) or payment.status != PaymentStatus.SUCCEEDED:
        return None
    if payment.purpose == PaymentPurpose.REFUND:
        return None  # shown on the receipt of the charge it refunds
    return payment
