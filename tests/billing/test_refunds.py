"""Refunds: the sandbox's refunds, a refund never exceeding what is left of its charge (also
two at once), cancelling at once within the withdrawal period, the operator's command, the
receipt that shows a refund, and the mail that says one was made.

Pages in English (the `english` fixture); the domain's mails in the parent's language.
"""

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.billing import refunds
from portal.billing.gateway import FailureCode, SandboxGateway
from portal.billing.refunds import RefundError, refund, withdrawal_refunds
from portal.clock import istanbul_today, utcnow
from portal.extensions import db
from portal.models import Payment
from tests import dbutil
from tests.billing.helpers import PAGE, TL, at, page, pay, payments_of, subscriptions_of, text
from tests.billing.test_receipt_mail import queued
from tests.billing.test_renewals import card, start
from tests.helpers import in_parallel, post
from tests.test_html import assert_valid_html

NO_REFUNDS_CARD = "4000000000005126"  # charges succeed, refunds are refused
DAY = date(2027, 3, 1)


def charge_of(session, subscription) -> Payment:
    return session.scalars(
        select(Payment).where(
            Payment.user_subscription_id == subscription.id, Payment.purpose != "refund"
        )
    ).one()


def refunds_of(session, payment) -> list[Payment]:
    session.expire_all()
    return list(
        session.scalars(
            select(Payment).where(Payment.refunded_payment_id == payment.id).order_by(Payment.id)
        )
    )


def give_back(session, payment, amount=None, key=None) -> Payment:
    row = refund(
        session,
        SandboxGateway(),
        payment.id,
        idempotency_key=key or uuid.uuid4().hex,
        reason="test",
        now=at(DAY, 10),
        amount=None if amount is None else Decimal(amount),
    )
    session.commit()
    return row


# --- the sandbox ---------------------------------------------------------------------------


def test_the_sandbox_refunds_a_charge_and_the_same_key_gives_the_same_reference():
    gateway = SandboxGateway()
    token = gateway.save_card(card(), DAY).token
    charged = gateway.charge(token, Decimal("120.00"), "TRY", "k1")

    first = gateway.refund(charged.reference, Decimal("50.00"), "TRY", "r1")
    again = gateway.refund(charged.reference, Decimal("50.00"), "TRY", "r1")

    assert first.succeeded and first.reference.startswith("sbx_re_")
    assert again == first
    assert gateway.refund(charged.reference, Decimal("50.00"), "TRY", "r2") != first


def test_the_refund_refusing_test_card_pays_but_refuses_every_refund():
    gateway = SandboxGateway()
    token = gateway.save_card(card(NO_REFUNDS_CARD), DAY).token
    charged = gateway.charge(token, Decimal("120.00"), "TRY", "k1")

    refused = gateway.refund(charged.reference, Decimal("1.00"), "TRY", "r1")

    assert charged.succeeded and charged.reference.startswith("sbx_ch_")
    assert not refused.succeeded and refused.failure_code == FailureCode.REFUND_REFUSED


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-1.00"), 5])
def test_the_sandbox_refuses_a_refund_of_nothing_or_not_in_decimal(amount):
    gateway = SandboxGateway()
    charged = gateway.charge(gateway.save_card(card(), DAY).token, Decimal("9.90"), "TRY", "k")
    with pytest.raises(ValueError):
        gateway.refund(charged.reference, amount, "TRY", "r")


# --- never more than what was paid ---------------------------------------------------------


def test_a_full_refund_is_a_row_of_its_own_with_the_charges_amounts(session, make):
    subscription = start(session, make, make.price(amount="120.00"), DAY)
    charge = charge_of(session, subscription)

    row = give_back(session, charge)

    assert (row.purpose, row.status, row.refunded_payment_id) == ("refund", "succeeded", charge.id)
    assert (row.net_amount, row.kdv_amount, row.gross_amount) == (
        charge.net_amount,
        charge.kdv_amount,
        charge.gross_amount,
    )
    assert row.user_id == charge.user_id and row.user_subscription_id == subscription.id
    assert row.gateway_reference.startswith("sbx_re_") and row.charged_period is None
    with pytest.raises(RefundError) as nothing_left:
        give_back(session, charge, "0.01")
    assert nothing_left.value.code == "nothing_left"


def test_partial_refunds_add_up_to_the_charge_and_never_past_it(session, make):
    subscription = start(session, make, make.price(amount="120.00"), DAY)
    charge = charge_of(session, subscription)

    give_back(session, charge, "50.00")
    give_back(session, charge, "33.33")
    with pytest.raises(RefundError) as too_much:
        give_back(session, charge, "36.68")  # 0.01 more than is left
    session.rollback()
    last = give_back(session, charge)  # all that is left

    done = refunds_of(session, charge)
    assert [r.gross_amount for r in done] == [
        Decimal("50.00"),
        Decimal("33.33"),
        Decimal("36.67"),
    ]
    assert too_much.value.code == "amount_too_large" and last.gross_amount == Decimal("36.67")
    # To the kuruş: net and KDV of the refunds are those of the charge.
    assert sum(r.net_amount for r in done) == charge.net_amount == Decimal("100.00")
    assert sum(r.kdv_amount for r in done) == charge.kdv_amount == Decimal("20.00")


@pytest.mark.parametrize("amount", ["0", "-5.00", "1.001"])
def test_a_refund_of_nothing_of_less_or_of_a_fraction_of_a_kurus_is_refused(session, make, amount):
    charge = charge_of(session, start(session, make, make.price(amount="120.00"), DAY))

    with pytest.raises(RefundError) as refused:
        give_back(session, charge, amount)

    assert refused.value.code == "amount_not_positive"
    assert refunds_of(session, charge) == []


def test_a_refund_a_failed_charge_or_an_unknown_payment_cannot_be_refunded(session, make):
    charge = charge_of(session, start(session, make, make.price(amount="120.00"), DAY))
    row = give_back(session, charge, "10.00")

    for payment_id in (row.id, 987654):
        with pytest.raises(RefundError) as refused:
            refund(
                session,
                SandboxGateway(),
                payment_id,
                idempotency_key=uuid.uuid4().hex,
                reason="test",
                now=at(DAY),
            )
        assert refused.value.code == "not_refundable"


def test_the_same_key_twice_refunds_once(session, make):
    charge = charge_of(session, start(session, make, make.price(amount="120.00"), DAY))

    first = give_back(session, charge, "10.00", key="same-key")
    again = give_back(session, charge, "10.00", key="same-key")

    assert again.id == first.id and len(refunds_of(session, charge)) == 1


def test_a_refund_the_gateway_refuses_is_recorded_as_failed_and_leaves_it_all_to_refund(
    session, make
):
    subscription = start(session, make, make.price(amount="120.00"), DAY, number=NO_REFUNDS_CARD)
    charge = charge_of(session, subscription)

    row = give_back(session, charge)

    assert (row.status, row.failure_code) == ("failed", "refund_refused")
    left = refunds.left_to_refund(charge, refunds_of(session, charge))
    assert left.gross == charge.gross_amount
    assert queued(session) == []  # no "refund made" mail


@pytest.mark.skipif(
    dbutil.dialect() == "sqlite", reason="SQLite has one writer: refunds cannot overlap"
)
def test_two_full_refunds_at_once_give_the_money_back_once(app, session, make):
    charge = charge_of(session, start(session, make, make.price(amount="120.00"), DAY))
    charge_id = charge.id
    session.commit()

    def full_refund():
        return refund(
            db.session,
            SandboxGateway(),
            charge_id,
            idempotency_key=uuid.uuid4().hex,
            reason="test",
            now=utcnow(),
        ).gross_amount

    results = in_parallel(app, full_refund, times=4)

    session.commit()
    refused = [r for r in results if isinstance(r, RefundError)]
    assert results.count(Decimal("120.00")) == 1, results
    assert len(refused) == 3 and {r.code for r in refused} == {"nothing_left"}
    done = [r for r in refunds_of(session, charge) if r.status == "succeeded"]
    assert [r.gross_amount for r in done] == [Decimal("120.00")]


# --- the withdrawal period -----------------------------------------------------------------


def test_a_charge_can_be_withdrawn_from_for_fourteen_days_after_its_day(session, make):
    subscription = start(session, make, make.price(amount="120.00"), DAY)
    charge = charge_of(session, subscription)
    charge.created_at = at(DAY, 10)
    session.commit()

    on_last_day = withdrawal_refunds(session, subscription, DAY + timedelta(days=14))
    day_after = withdrawal_refunds(session, subscription, DAY + timedelta(days=15))

    assert [(r.payment.id, r.left.gross, r.until) for r in on_last_day] == [
        (charge.id, Decimal("120.00"), date(2027, 3, 15))
    ]
    assert day_after == []


def test_what_was_partly_refunded_is_withdrawn_for_what_is_left(session, make):
    subscription = start(session, make, make.price(amount="120.00"), istanbul_today())
    charge = charge_of(session, subscription)
    give_back(session, charge, "20.00")

    (due,) = withdrawal_refunds(session, subscription, istanbul_today())

    assert due.left.gross == Decimal("100.00")


def test_cancel_page_says_what_is_refunded_then_refunds_it_and_mails_the_parent(
    app, client, session, signed_in, english, subscribed
):
    (charge,) = payments_of(session, signed_in)

    question = page(client, "/subscription/cancel")
    response = post(client, "/subscription/cancel")
    after = text(page(client))

    asked = text(question)
    assert f"You are within the 14-day withdrawal period, so 120.00{TL} is refunded" in asked
    assert "End it now and refund" in asked
    assert_valid_html(question, "cancel page with a refund")
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "cancelled"
    (row,) = refunds_of(session, charge)
    assert (row.status, row.gross_amount) == ("succeeded", Decimal("120.00"))
    assert f"120.00{TL} is refunded to your card" in after
    assert "Refunded" in after  # the payments table's line
    # The mail left after the response, in the parent's language (English here: the site's).
    (mail,) = [m for m in app.extensions.get("mail_outbox", []) if "refund" in m.subject]
    assert mail.to == signed_in.email
    assert mail.subject == f"Your Okul refund of 120.00{TL}"
    assert f"We refunded 120.00{TL} of your payment {charge.id:08d}" in mail.body
    assert f"http://localhost/payments/{charge.id}/receipt" in mail.body


def test_the_receipt_shows_the_refund_and_what_was_paid_after_it(
    client, session, signed_in, english, subscribed
):
    (charge,) = payments_of(session, signed_in)
    post(client, "/subscription/cancel")
    (row,) = refunds_of(session, charge)

    html = page(client, f"/payments/{charge.id}/receipt")
    of_refund = client.get(f"/payments/{row.id}/receipt")

    shown = text(html)
    assert "Refunds" in shown and f"−120.00{TL}" in shown and row.gateway_reference in shown
    assert re.search(rf"Paid after refunds\s*0\.00{TL}", shown)
    assert_valid_html(html, "receipt with a refund")
    assert of_refund.status_code == 404  # a refund has no receipt of its own: its charge's


def test_after_the_withdrawal_period_the_cancel_page_says_nothing_is_refunded(
    client, session, signed_in, english, subscribed
):
    (charge,) = payments_of(session, signed_in)
    charge.created_at = utcnow() - timedelta(days=15)
    session.commit()

    question = text(page(client, "/subscription/cancel"))
    post(client, "/subscription/cancel")

    assert "Nothing is refunded: no payment was made in the last 14 days" in question
    assert "End it now and refund" not in question
    assert refunds_of(session, charge) == []
    assert subscriptions_of(session, signed_in)[0].status == "cancelled"


def test_a_refused_refund_still_ends_the_subscription_and_says_so(
    client, session, signed_in, english, monthly
):
    assert pay(client, monthly, number="4000 0000 0000 5126").status_code == 303
    (charge,) = payments_of(session, signed_in)

    post(client, "/subscription/cancel")
    after = text(page(client))

    (row,) = refunds_of(session, charge)
    assert (row.status, row.failure_code) == ("failed", "refund_refused")
    assert subscriptions_of(session, signed_in)[0].status == "cancelled"
    assert "The payment provider refused the refund." in after
    assert "Refund refused" in after


# --- the operator's command ----------------------------------------------------------------


def test_the_operator_refunds_part_of_a_charge_from_the_command_line(app, session, make):
    charge = charge_of(session, start(session, make, make.price(amount="120.00"), DAY))
    runner = app.test_cli_runner()

    done = runner.invoke(
        args=["billing", "refund", str(charge.id), "--amount", "20,50", "--reason", "goodwill"]
    )
    too_much = runner.invoke(
        args=["billing", "refund", str(charge.id), "--amount", "100.00", "--reason", "again"]
    )
    bad = runner.invoke(
        args=["billing", "refund", str(charge.id), "--amount", "abc", "--reason", "x"]
    )

    assert done.exit_code == 0, done.output
    assert f"Refunded 20.50 TRY of payment {charge.id}" in done.output
    assert too_much.exit_code != 0 and "amount_too_large" in too_much.output
    assert bad.exit_code != 0 and "is not an amount" in bad.output
    assert [r.gross_amount for r in refunds_of(session, charge)] == [Decimal("20.50")]
    # The payer is told, in Turkish (the account has no language of its own).
    told = [m.body for m in app.extensions.get("mail_outbox", []) if "iadeniz" in m.subject]
    told += [row.body for row in queued(session) if "iadeniz" in row.subject]
    assert len(told) == 1 and f"20,50{TL}" in told[0]
