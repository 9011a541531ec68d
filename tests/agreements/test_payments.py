"""Paying a signed agreement (portal.agreements.payments): what is due and when, the exact
amounts with the one KDV rounding per charge, the charge through billing's payments with the
company as payer, idempotency, an installment never paid twice, failures recorded, and the
refusal of every agreement that is not signed."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.access.permissions import Role
from portal.agreements import agreements
from portal.agreements import payments as agreement_payments
from portal.agreements.payments import AgreementPaymentError, installments, pay, schedule
from portal.billing.cards import store_card
from portal.billing.gateway import SandboxGateway, SavedCard
from portal.billing.payments import PaymentFailed
from portal.billing.subscribers import Subscriber
from portal.clock import istanbul_today
from portal.models import Payment, UserLog
from portal.models.customers import AgreementStatus
from tests.agreements.conftest import PROVIDER, WITNESS
from tests.helpers import in_parallel

D = Decimal
TODAY = date(2027, 3, 10)


def line(name, quantity, unit_price, period):
    return {"name": name, "quantity": quantity, "unit_price": unit_price, "period": period}


def sign_all(session, agreement, signers, now):
    for role in agreement.required_roles:
        agreements.sign(
            session,
            agreement,
            signers[Role(role)],
            WITNESS,
            seen_sha256=agreement.document_sha256,
            now=now,
        )
    session.commit()
    assert agreement.status == AgreementStatus.SIGNED
    return agreement


@pytest.fixture
def signed(session, sent, signers, now):
    """The conftest's agreement (2 × 1.500,00 ₺ yearly, 2027), signed by admin and finance."""
    return sign_all(session, sent, signers, now)


def card(session, company, behaviour="ok"):
    saved = SavedCard(
        "sandbox", f"sbx_{behaviour}_{uuid.uuid4().hex[:24]}", "visa", "4242", 12, 2031
    )
    stored = store_card(session, Subscriber(customer_id=company.id), saved)
    session.commit()
    return stored


def pay_now(session, agreement, actor, the_card, due_on=None, key=None, today=TODAY):
    due_on = due_on or agreement.starts_on
    return pay(
        session,
        SandboxGateway(),
        agreement,
        due_on,
        the_card,
        idempotency_key=key or uuid.uuid4().hex,
        today=today,
        actor_user_id=actor.user_id,
    )


def payments_of(session, agreement) -> list[Payment]:
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.customer_agreement_id == agreement.id)
            .order_by(Payment.id)
        )
    )


def events(session, name):
    return list(session.scalars(select(UserLog).where(UserLog.event == name)))


# --- What is due, and the amounts --------------------------------------------------------


def test_a_yearly_line_over_one_year_is_one_installment_of_the_net_total_plus_kdv(make, company):
    agreement = make.agreement(company)  # 2 × 1.500,00 ₺ yearly, 2027-01-01 .. 2027-12-31

    (only,) = installments(agreement)

    assert only.due_on == date(2027, 1, 1)
    assert (only.charge.net, only.charge.kdv, only.charge.gross) == (
        D("3000.00"),
        D("600.00"),
        D("3600.00"),
    )


def test_each_line_is_due_at_the_start_of_each_of_its_periods_within_the_term(make, company):
    # Anchored on Jan 31: the months clamp (Feb 28, Apr 30) and come back (Mar 31), counted
    # from the start each time, never from the previous month.
    agreement = make.agreement(
        company,
        starts_on=date(2027, 1, 31),
        ends_on=date(2028, 1, 30),
        products=[
            line("Kurulum", 1, "999.99", "one_time"),
            line("Destek", 3, "33.33", "monthly"),
            line("Listeleme", 1, "1000.00", "yearly"),
        ],
    )

    plan = installments(agreement)

    assert [i.due_on for i in plan][:4] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert len(plan) == 12  # the yearly line's next period (2028-01-31) is after the term
    first, second = plan[0], plan[1]
    assert [p.name for p in first.products] == ["Kurulum", "Destek", "Listeleme"]
    # 999.99 + 99.99 + 1000.00 = 2099.98; KDV 419.996 rounds half-up at the kuruş to 420.00.
    assert (first.charge.net, first.charge.kdv, first.charge.gross) == (
        D("2099.98"),
        D("420.00"),
        D("2519.98"),
    )
    assert [p.name for p in second.products] == ["Destek"]
    assert (second.charge.net, second.charge.kdv, second.charge.gross) == (
        D("99.99"),
        D("20.00"),
        D("119.99"),
    )


def test_kdv_is_rounded_once_on_the_installment_not_per_line(make, company):
    agreement = make.agreement(
        company,
        products=[line("A", 1, "0.03", "one_time"), line("B", 1, "0.03", "one_time")],
    )

    (only,) = installments(agreement)

    # Per line 0.006 would round to 0.01 twice (0.02); on the sum, 0.012 rounds to 0.01.
    assert (only.charge.net, only.charge.kdv, only.charge.gross) == (
        D("0.06"),
        D("0.01"),
        D("0.07"),
    )


def test_a_period_begun_within_the_term_is_due_in_full_and_a_free_one_not_at_all(make, company):
    agreement = make.agreement(
        company,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 6, 30),
        products=[line("Yıllık", 1, "1200.00", "yearly"), line("Ücretsiz", 1, "0.00", "monthly")],
    )

    (only,) = installments(agreement)

    assert only.due_on == date(2027, 1, 1)
    assert only.charge.net == D("1200.00")  # half a year's term, the whole year's price


# --- Paying ---------------------------------------------------------------------------------


def test_paying_charges_the_company_and_records_the_payment_the_audit_and_the_receipt(
    app, session, signed, signers, company
):
    admin = signers[Role.ADMIN]
    the_card = card(session, company)

    payment = pay_now(session, signed, admin, the_card)
    session.commit()

    (row,) = payments_of(session, signed)
    assert row.id == payment.id
    assert (row.purpose, row.status) == ("agreement", "succeeded")
    assert (row.customer_id, row.user_id, row.customer_agreement_id) == (
        company.id,
        None,
        signed.id,
    )
    assert (row.user_subscription_id, row.plan_price_id) == (None, None)
    assert row.charged_period == date(2027, 1, 1)
    assert (row.net_amount, row.kdv_amount, row.gross_amount) == (
        D("3000.00"),
        D("600.00"),
        D("3600.00"),
    )
    assert (row.card_brand, row.card_last4) == ("visa", "4242")
    assert row.gateway_reference.startswith("sbx_ch_")
    (event,) = events(session, "agreement_paid")
    assert event.user_id == admin.user_id
    assert event.data["customer_agreement_id"] == signed.id
    assert event.data["charged_period"] == "2027-01-01"
    assert event.data["gross_amount"] == "3600.00"
    # The receipt goes to the members who may see the company's billing, naming the agreement.
    mails = [m for m in app.extensions.get("mail_outbox", []) if "/receipt" in m.body]
    assert sorted(m.to for m in mails) == sorted(
        m.user.email for m in (signers[Role.ADMIN], signers[Role.FINANCE])
    )
    assert all(signed.agreement_no in m.body and "3.600,00" in m.body for m in mails)


def test_the_same_key_twice_charges_once_and_gives_back_the_first_payment(
    session, signed, signers, company
):
    admin, the_card, key = signers[Role.ADMIN], card(session, company), uuid.uuid4().hex
    first = pay_now(session, signed, admin, the_card, key=key)
    session.commit()

    again = pay_now(session, signed, admin, the_card, key=key)
    session.commit()

    assert again.id == first.id
    assert len(payments_of(session, signed)) == 1
    assert len(events(session, "agreement_paid")) == 1


def test_an_installment_is_never_paid_twice(session, signed, signers, company):
    admin, the_card = signers[Role.ADMIN], card(session, company)
    paid = pay_now(session, signed, admin, the_card)
    session.commit()

    with pytest.raises(AgreementPaymentError) as refused:
        pay_now(session, signed, admin, the_card)  # a new key, a second tab
    session.rollback()

    assert refused.value.code == agreement_payments.NOT_PAYABLE
    assert [p.id for p in payments_of(session, signed)] == [paid.id]
    # And the database refuses a second succeeded charge of the same period by itself.
    session.add(
        Payment(
            customer_id=company.id,
            customer_agreement_id=signed.id,
            purpose="agreement",
            net_amount=D("1.00"),
            kdv_amount=D("0.20"),
            gross_amount=D("1.20"),
            status="succeeded",
            gateway="sandbox",
            idempotency_key=uuid.uuid4().hex,
            charged_period=date(2027, 1, 1),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_installments_are_paid_in_order_each_from_its_own_day(session, make, company, signers, now):
    today = istanbul_today()
    start = today - timedelta(days=40)
    agreement = make.agreement(
        company,
        starts_on=start,
        ends_on=start + relativedelta(months=3) - timedelta(days=1),
        products=[line("Destek", 1, "100.00", "monthly")],
        required_roles=(Role.ADMIN,),
    )
    agreements.send_for_signature(session, agreement, PROVIDER, now=now)
    sign_all(session, agreement, signers, now)
    admin, the_card = signers[Role.ADMIN], card(session, company)
    days = [start + relativedelta(months=n) for n in range(3)]

    # The second installment cannot be paid before the first.
    with pytest.raises(AgreementPaymentError):
        pay_now(session, agreement, admin, the_card, due_on=days[1], today=today)
    session.rollback()
    pay_now(session, agreement, admin, the_card, due_on=days[0], today=today)
    pay_now(session, agreement, admin, the_card, due_on=days[1], today=today)
    session.commit()
    # The third's day has not come.
    with pytest.raises(AgreementPaymentError) as refused:
        pay_now(session, agreement, admin, the_card, due_on=days[2], today=today)
    session.rollback()

    assert refused.value.code == agreement_payments.NOT_PAYABLE
    states = [(row.paid, row.payable) for row in schedule(session, agreement, today)]
    assert states == [(True, False), (True, False), (False, False)]
    assert [p.charged_period for p in payments_of(session, agreement)] == days[:2]


def test_the_first_installment_may_be_paid_on_signing_before_the_term_starts(
    session, signed, signers, company
):
    before_the_term = date(2026, 12, 1)

    (row,) = schedule(session, signed, before_the_term)
    payment = pay_now(
        session, signed, signers[Role.ADMIN], card(session, company), today=before_the_term
    )

    assert row.payable
    assert payment.status == "succeeded"


def test_a_refused_charge_is_recorded_and_the_installment_stays_due(
    session, signed, signers, company
):
    admin, poor, key = (
        signers[Role.ADMIN],
        card(session, company, "insufficient_funds"),
        uuid.uuid4().hex,
    )

    with pytest.raises(PaymentFailed) as failed:
        pay_now(session, signed, admin, poor, key=key)
    session.commit()  # as the view does: the failed row and the audit are kept

    assert failed.value.failure_code == "insufficient_funds"
    (row,) = payments_of(session, signed)
    assert (row.status, row.failure_code, row.charged_period) == (
        "failed",
        "insufficient_funds",
        None,
    )
    (event,) = events(session, "payment_failed")
    assert event.data["customer_agreement_id"] == signed.id
    assert events(session, "agreement_paid") == []
    assert schedule(session, signed, TODAY)[0].payable
    # The same form again raises the same failure and charges nothing more.
    with pytest.raises(PaymentFailed):
        pay_now(session, signed, admin, poor, key=key)
    session.rollback()
    assert len(payments_of(session, signed)) == 1
    # A good card with a new key pays it.
    pay_now(session, signed, admin, card(session, company))
    session.commit()
    assert [p.status for p in payments_of(session, signed)] == ["failed", "succeeded"]


def test_a_key_used_for_another_agreement_is_refused(session, make, signed, signers, company, now):
    admin, the_card, key = signers[Role.ADMIN], card(session, company), uuid.uuid4().hex
    pay_now(session, signed, admin, the_card, key=key)
    session.commit()
    other = make.agreement(company, status="signed")

    with pytest.raises(AgreementPaymentError) as refused:
        pay_now(session, other, admin, the_card, key=key)

    assert refused.value.code == agreement_payments.FORM_ALREADY_USED


@pytest.mark.parametrize("status", ["draft", "awaiting_signature", "declined", "voided", "expired"])
def test_only_a_signed_agreement_may_be_paid(session, make, company, signers, status, now):
    ending = (
        {"ended_at": now, "ended_reason": "Fiyat", "ended_by_user_id": signers[Role.ADMIN].user_id}
        if status in ("declined", "voided")
        else {}
    )
    agreement = make.agreement(company, status=status, **ending)
    session.commit()
    the_card = card(session, company)

    with pytest.raises(AgreementPaymentError) as refused:
        pay_now(session, agreement, signers[Role.ADMIN], the_card)
    session.rollback()

    assert refused.value.code == agreement_payments.NOT_SIGNED
    assert payments_of(session, agreement) == []
    assert not any(row.payable for row in schedule(session, agreement, TODAY))
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


@pytest.mark.parametrize("same_key", [True, False], ids=["double-click", "two-tabs"])
def test_payments_at_once_charge_the_installment_once(
    app, session, signed, signers, company, monkeypatch, same_key
):
    agreement_id, admin_id = signed.id, signers[Role.ADMIN].id
    card_id = card(session, company).id
    shared_key = uuid.uuid4().hex
    charges = []
    real_charge = SandboxGateway.charge

    def counted(self, token, amount, currency, idempotency_key):
        charges.append(idempotency_key)
        return real_charge(self, token, amount, currency, idempotency_key)

    monkeypatch.setattr(SandboxGateway, "charge", counted)

    def work():
        from portal.extensions import db
        from portal.models import CustomerAgreement, CustomerCreditCard, CustomerUser

        own = db.session.get(CustomerAgreement, agreement_id)
        actor = db.session.get(CustomerUser, admin_id)
        payment = pay_now(
            db.session,
            own,
            actor,
            db.session.get(CustomerCreditCard, card_id),
            key=shared_key if same_key else None,
        )
        return payment.id

    results = in_parallel(app, work, times=4)

    (paid,) = payments_of(session, signed)
    assert paid.status == "succeeded"
    refused = [r for r in results if not isinstance(r, int)]
    assert all(isinstance(r, AgreementPaymentError | IntegrityError) for r in refused), refused
    if same_key:
        assert all(r == paid.id for r in results if isinstance(r, int))
    if session.get_bind().dialect.name != "sqlite":
        # SQLite ignores FOR UPDATE (one writer): two tabs at once are not supported there,
        # as for the renewal run; the unique constraint still keeps one payment.
        assert len(charges) == 1
