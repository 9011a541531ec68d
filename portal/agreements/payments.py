"""Paying a signed agreement: what it asks to be paid and when, and one installment's charge.

The rule (docs/decisions.md, "Agreements: payments"): each product line is due at the start
of each of its periods that begins within the term, counted from `starts_on` with the
billing calendar (portal.billing.periods: a month from Jan 31 is Feb 28, never drifting):

    one_time  once, on starts_on
    monthly   on starts_on + 0, 1, 2, ... months, while that day is within the term
    yearly    on starts_on + 0, 1, 2, ... years, likewise

The lines due on the same day make one installment, charged as one payment: net = Σ quantity
× unit price of those lines (exact), KDV and gross by portal.billing.money.charge_for (KDV
excluded, 20 %, rounded half-up once per charge). A period that begins within the term is due
in full even if the term ends before it does: no proration, as for subscriptions. An
installment that comes to 0,00 ₺ has nothing to pay and is not listed.

An installment is payable once the agreement is signed: the first at once (a company pays
its first period on signing, even before the term starts), each later one from its own day.
They are paid in order: only the earliest unpaid one is payable. The payment's
charged_period is the installment's day, and (customer_agreement_id, charged_period) is
unique among succeeded payments, so no installment is ever paid twice; the form's
idempotency key is unique too, so a double click charges once.

A charge goes through portal.billing.payments with the company as the payer, to a saved
company card or to a card the provider's hosted page has just saved. A charge the gateway
refuses leaves a failed payment row (no charged_period) and a `payment_failed` audit row, as a
subscription's charge of a saved card does; `agreement_paid` records a success.

Only a `signed` agreement may be paid. Plain module: the caller passes the session, the
gateway, today's business date (Europe/Istanbul) and commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.agreements.agreements import Product, products_of, total_of
from portal.audit import NO_ORIGIN, Origin, log_event
from portal.billing import receipts
from portal.billing.cards import CardOnFile
from portal.billing.gateway import PaymentGateway
from portal.billing.money import Charge, charge_for
from portal.billing.payments import failure_of, new_payment, settle
from portal.billing.periods import MONTHLY, YEARLY, period_start
from portal.billing.subscribers import Subscriber
from portal.models import CustomerAgreement, Payment
from portal.models.billing import PaymentPurpose, PaymentStatus
from portal.models.customers import AgreementStatus
from portal.refusal import Refusal

# The billing cycle a product's period counts in; one_time is due on the first day only.
_CYCLES = {"monthly": MONTHLY, "yearly": YEARLY}


class AgreementPaymentError(Refusal):
    """A payment that is refused before any charge; `code` names why, for the views."""


# AgreementPaymentError codes.
NOT_SIGNED = "not_signed"  # draft, awaiting signature, declined, voided, expired, renewed
NOT_PAYABLE = "not_payable"  # not the installment payable now (paid since, or not yet due)
FORM_ALREADY_USED = "form_already_used"  # the key paid for something else


@dataclass(frozen=True)
class Installment:
    """What one day of the term asks to be paid: the lines due then, and their one charge."""

    due_on: date  # also the payment's charged_period
    products: tuple[Product, ...]
    charge: Charge


@dataclass(frozen=True)
class ScheduledInstallment:
    """An installment as the agreement's page shows it: paid (by which payment), payable now,
    or waiting for its day."""

    installment: Installment
    payment: Payment | None  # the succeeded payment, when paid
    payable: bool

    @property
    def paid(self) -> bool:
        return self.payment is not None


def _due_days(product: Product, starts_on: date, ends_on: date) -> list[date]:
    if product.period not in _CYCLES:
        return [starts_on]
    days, n = [], 0
    while (day := period_start(starts_on, _CYCLES[product.period], n)) <= ends_on:
        days.append(day)
        n += 1
    return days


def installments(agreement: CustomerAgreement) -> list[Installment]:
    """The agreement's installments in order of their day (the module docstring's rule)."""
    lines: dict[date, list[Product]] = {}
    for product in products_of(agreement):
        for day in _due_days(product, agreement.starts_on, agreement.ends_on):
            lines.setdefault(day, []).append(product)
    result = []
    for day in sorted(lines):
        net = total_of(lines[day])
        if net > 0:
            result.append(Installment(day, tuple(lines[day]), charge_for(net, kdv_included=False)))
    return result


def _paid(session: Session, agreement: CustomerAgreement, *, lock: bool = False) -> dict:
    query = select(Payment).where(
        Payment.customer_agreement_id == agreement.id,
        Payment.status == PaymentStatus.SUCCEEDED,
    )
    if lock:
        # A locking read: on MariaDB it sees what committed since this transaction began.
        query = query.with_for_update(read=True)
    return {payment.charged_period: payment for payment in session.scalars(query)}


def _payable(installment: Installment, first: bool, today: date) -> bool:
    return first or installment.due_on <= today


def schedule(
    session: Session, agreement: CustomerAgreement, today: date
) -> list[ScheduledInstallment]:
    """Every installment with its state (two statements at most: the payments, read once).

    Nothing is payable unless the agreement is signed; otherwise the earliest unpaid
    installment is, when it is the first or its day has come.
    """
    plan = installments(agreement)
    paid = _paid(session, agreement) if plan else {}
    unpaid = [i for i in plan if i.due_on not in paid]
    next_one = unpaid[0] if unpaid and agreement.status == AgreementStatus.SIGNED else None
    return [
        ScheduledInstallment(
            installment,
            paid.get(installment.due_on),
            installment is next_one and _payable(installment, installment is plan[0], today),
        )
        for installment in plan
    ]


def payable_installment(
    session: Session, agreement: CustomerAgreement, today: date
) -> Installment | None:
    """The installment that may be paid now, or None."""
    return next(
        (row.installment for row in schedule(session, agreement, today) if row.payable), None
    )


def _lock(session: Session, agreement: CustomerAgreement) -> None:
    # FOR UPDATE: two payments of one agreement take turns, and the second sees the first's
    # row (or its void). SQLite has one writer and ignores the clause.
    session.refresh(agreement, with_for_update=True)


def pay(
    session: Session,
    gateway: PaymentGateway,
    agreement: CustomerAgreement,
    due_on: date,
    card: CardOnFile,
    *,
    idempotency_key: str,
    today: date,
    actor_user_id: int,
    origin: Origin = NO_ORIGIN,
) -> Payment:
    """Charge the installment of `due_on` (the one the payer was shown) to `card`, for the
    agreement's company; returns the succeeded payment, and mails its receipt.

    The same idempotency key again (a double click, a reload) gives back the first payment
    without charging: a succeeded one is returned, a failed one raises its failure again.

    :raise AgreementPaymentError: NOT_SIGNED, NOT_PAYABLE (paid since, or not due yet: the
        installment payable now is not the one shown), FORM_ALREADY_USED (the key paid for
        another agreement or installment).
    :raise PaymentFailed: the gateway refused the charge; the failed payment row and the
        audit row are added (the caller commits them).
    """
    _lock(session, agreement)
    earlier = session.scalar(
        select(Payment).where(Payment.idempotency_key == idempotency_key).with_for_update(read=True)
    )
    if earlier is not None:
        if earlier.customer_agreement_id != agreement.id or (
            earlier.status == PaymentStatus.SUCCEEDED and earlier.charged_period != due_on
        ):
            raise AgreementPaymentError(FORM_ALREADY_USED)
        if earlier.status != PaymentStatus.SUCCEEDED:
            raise failure_of(earlier)
        return earlier
    if agreement.status != AgreementStatus.SIGNED:
        raise AgreementPaymentError(NOT_SIGNED)
    paid = _paid(session, agreement, lock=True)
    plan = installments(agreement)
    unpaid = [i for i in plan if i.due_on not in paid]
    installment = unpaid[0] if unpaid else None
    if (
        installment is None
        or installment.due_on != due_on
        or not _payable(installment, installment is plan[0], today)
    ):
        raise AgreementPaymentError(NOT_PAYABLE)
    payment = new_payment(
        Subscriber(customer_id=agreement.customer_id),
        PaymentPurpose.AGREEMENT,
        installment.charge,
        agreement.currency,
        gateway.name,
        idempotency_key,
        card,
    )
    payment.customer_agreement_id = agreement.id
    settle(payment, gateway, card)
    what = {
        "customer_id": agreement.customer_id,
        "customer_agreement_id": agreement.id,
        "agreement_no": agreement.agreement_no,
        "charged_period": due_on.isoformat(),
    }
    if payment.status != PaymentStatus.SUCCEEDED:
        # Kept as a subscription's failed charge is: the row (without a charged_period, so it
        # holds no installment) and the audit; nothing was taken from the card.
        session.add(payment)
        session.flush()
        log_event(
            session,
            "payment_failed",
            actor_user_id,
            origin,
            failure_code=payment.failure_code,
            payment_id=payment.id,
            **what,
        )
        raise failure_of(payment)
    payment.charged_period = due_on
    session.add(payment)
    session.flush()
    receipts.mail_receipt(session, payment)
    log_event(
        session,
        "agreement_paid",
        actor_user_id,
        origin,
        payment_id=payment.id,
        gross_amount=str(payment.gross_amount),
        **what,
    )
    return payment


def log_refused_card(
    session: Session,
    agreement: CustomerAgreement,
    due_on: date,
    failure_code: str,
    actor_user_id: int,
    origin: Origin,
) -> None:
    """Audit a card the provider's hosted page refused to save: nothing was charged and no
    payment row is written, as at a subscription's checkout."""
    log_event(
        session,
        "payment_failed",
        actor_user_id,
        origin,
        failure_code=failure_code,
        customer_id=agreement.customer_id,
        customer_agreement_id=agreement.id,
        agreement_no=agreement.agreement_no,
        charged_period=due_on.isoformat(),
    )
