"""Payment rows on their own: made for a charge, settled through the gateway, listed for
whoever paid, and usable without any subscription (as agreement payments will be)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.audit import NO_ORIGIN
from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.money import charge_for
from portal.billing.payments import (
    PaymentFailed,
    failure_of,
    log_failed_attempt,
    new_payment,
    paid_payment,
    payments_of,
    settle,
)
from portal.billing.subscribers import Subscriber
from portal.models import Payment, UserLog
from portal.models.billing import PaymentPurpose

TODAY = date(2026, 11, 10)
CHARGE = charge_for(Decimal("1000.00"), kdv_included=False)  # 1.000 + 200 KDV = 1.200


def saved(number="4242424242424242"):
    card = CardDetails(number=number, exp_month=12, exp_year=2030, cvc="918")
    return SandboxGateway().save_card(card, TODAY)


class NoGateway:
    """A gateway that must not be asked."""

    name = "none"

    def charge(self, *args):
        raise AssertionError("the gateway was asked to charge")


def payment_for(payer, card, key="agreement-1", charge=CHARGE, **values):
    return new_payment(
        payer, PaymentPurpose.FIRST_CHARGE, charge, "TRY", "sandbox", key, card, **values
    )


def test_a_company_pays_without_any_subscription(session, make):
    customer = make.customer()
    card = saved()
    payer = Subscriber(customer_id=customer.id)

    payment = payment_for(payer, card)
    settle(payment, SandboxGateway(), card)
    session.add(payment)
    session.commit()
    session.expire_all()

    (stored,) = session.scalars(select(Payment)).all()
    assert stored.customer_id == customer.id and stored.user_id is None
    assert stored.user_subscription_id is None and stored.plan_price_id is None
    assert (stored.net_amount, stored.kdv_amount, stored.gross_amount) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("1200.00"),
    )
    assert stored.status == "succeeded" and stored.failure_code is None
    assert stored.gateway == "sandbox" and stored.gateway_reference.startswith("sbx_ch_")
    assert (stored.card_brand, stored.card_last4) == ("visa", "4242")
    assert stored.idempotency_key == "agreement-1" and stored.charged_period is None


def test_a_refused_charge_is_recorded_with_its_reason(session, make):
    card = saved("4000000000009995")  # every charge fails: insufficient_funds
    payment = payment_for(Subscriber(user_id=make.user().id), card)

    settle(payment, SandboxGateway(), card)

    assert payment.status == "failed" and payment.failure_code == "insufficient_funds"
    assert payment.gateway_reference.startswith("sbx_ch_")  # the gateway saw the attempt
    failed = failure_of(payment)
    assert isinstance(failed, PaymentFailed) and failed.failure_code == "insufficient_funds"


def test_a_gateway_that_gives_no_reason_is_taken_to_have_declined(session, make):
    payment = payment_for(Subscriber(user_id=make.user().id), saved())
    payment.status, payment.failure_code = "failed", None

    assert failure_of(payment).failure_code == "card_declined"


def test_a_free_charge_succeeds_without_asking_the_gateway(session, make):
    free = charge_for(Decimal("0.00"), kdv_included=True)
    payment = payment_for(Subscriber(user_id=make.user().id), saved(), charge=free)

    settle(payment, NoGateway(), saved())

    assert payment.status == "succeeded" and payment.gateway_reference is None


def test_without_a_card_the_charge_fails_with_no_saved_card(session, make):
    payment = payment_for(Subscriber(user_id=make.user().id), None)

    settle(payment, NoGateway(), None)

    assert payment.status == "failed" and payment.failure_code == "no_saved_card"
    assert payment.card_brand is None and payment.card_last4 is None


def test_settling_the_same_key_again_gets_the_same_reference(session, make):
    card = saved()
    payer = Subscriber(user_id=make.user().id)
    first, again = payment_for(payer, card, key="k-1"), payment_for(payer, card, key="k-1")

    settle(first, SandboxGateway(), card)
    settle(again, SandboxGateway(), card)

    assert first.gateway_reference == again.gateway_reference


def test_new_payment_builds_whatever_row_type_it_is_given():
    row = payment_for(
        Subscriber(user_id=7), saved(), user_subscription_id=3, plan_price_id=5, row_type=dict
    )

    assert row == {
        "user_subscription_id": 3,
        "user_id": 7,
        "customer_id": None,
        "purpose": "first_charge",
        "plan_price_id": 5,
        "net_amount": Decimal("1000.00"),
        "kdv_amount": Decimal("200.00"),
        "gross_amount": Decimal("1200.00"),
        "currency": "TRY",
        "gateway": "sandbox",
        "idempotency_key": "agreement-1",
        "card_brand": "visa",
        "card_last4": "4242",
    }


def stored_payment(session, payer, key, status="succeeded", created_at=None):
    payment = payment_for(payer, saved(), key=key)
    payment.status = status
    payment.created_at = created_at or datetime(2026, 11, 10, 9, tzinfo=UTC)
    session.add(payment)
    session.flush()
    return payment


def test_payments_of_lists_the_payers_own_attempts_newest_first(session, make):
    parent, customer = make.user(), make.customer()
    mine, company = Subscriber(user_id=parent.id), Subscriber(customer_id=customer.id)
    noon = datetime(2026, 11, 10, 12, tzinfo=UTC)
    older = stored_payment(session, mine, "a", created_at=noon - timedelta(days=1))
    failed = stored_payment(session, mine, "b", status="failed", created_at=noon)
    same_time = stored_payment(session, mine, "c", created_at=noon)
    stored_payment(session, company, "d")

    assert payments_of(session, mine) == [same_time, failed, older]
    assert [p.idempotency_key for p in payments_of(session, company)] == ["d"]


def test_a_receipt_is_for_the_payers_own_succeeded_payment_only(session, make):
    parent, other = make.user(), make.user()
    mine = Subscriber(user_id=parent.id)
    paid = stored_payment(session, mine, "paid")
    failed = stored_payment(session, mine, "failed", status="failed")
    theirs = stored_payment(session, Subscriber(user_id=other.id), "theirs")

    assert paid_payment(session, mine, paid.id) is paid
    assert paid_payment(session, mine, failed.id) is None
    assert paid_payment(session, mine, theirs.id) is None
    assert paid_payment(session, mine, theirs.id + 1000) is None
    assert paid_payment(session, Subscriber(customer_id=make.customer().id), paid.id) is None


def test_a_failed_attempt_is_audited_with_what_was_being_bought(session, make):
    parent = make.user()

    log_failed_attempt(session, parent.id, NO_ORIGIN, "card_declined", plan_price_id=42)
    session.commit()

    (row,) = session.scalars(select(UserLog).where(UserLog.event == "payment_failed")).all()
    assert row.user_id == parent.id
    assert row.data == {"failure_code": "card_declined", "plan_price_id": 42}


@pytest.mark.parametrize(
    ("payer", "expected"),
    [(Subscriber(user_id=1), "parents"), (Subscriber(customer_id=1), "companies")],
)
def test_a_subscriber_is_a_parent_or_a_company_never_both(payer, expected):
    assert payer.audience == expected
    for wrong in ({}, {"user_id": 1, "customer_id": 2}):
        with pytest.raises(ValueError):
            Subscriber(**wrong)
