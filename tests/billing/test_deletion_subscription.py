"""Deleting an account with a running subscription: the page says what happens to it before
the deletion is confirmed, and the deletion does exactly that (it ends today and is never
renewed; what was charged within the 14-day withdrawal period is refunded, nothing older)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.billing.gateway import SandboxGateway
from portal.billing.renewals import renew
from portal.clock import istanbul_today, utcnow
from portal.models import Payment, UserSubscription
from tests.account.test_deletion import URL, delete, the_user
from tests.billing.helpers import (
    TL,
    at,
    count,
    long_date,
    named_plan,
    pay,
    payments_of,
    subscriptions_of,
    text,
)
from tests.helpers import HTMX


@pytest.fixture
def with_trial(make, session):
    price = make.price(
        named_plan(make, "Aile Deneme"), amount="120.00", kdv_included=True, trial_days=14
    )
    session.commit()
    return price


def _warning(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return text(response.get_data(as_text=True))


def _paid_long_ago(session, user, days=20):
    """The parent's charges were made `days` ago: out of the withdrawal period."""
    for payment in session.scalars(select(Payment).where(Payment.user_id == user.id)):
        payment.created_at = utcnow() - timedelta(days=days)
    session.commit()


def test_the_page_says_a_paid_subscription_ends_today_and_refunds_a_recent_charge(
    client, session, english, signed_in, monthly
):
    assert pay(client, monthly).status_code == 303
    today = istanbul_today()

    page = _warning(client)

    assert "Your subscription ends with the account." in page
    assert (
        f"Your Aile Plus subscription (Monthly) ends on {long_date(today)}, when the account is "
        "deleted: it does not renew and nothing more is charged." in page
    )
    assert (
        f"120.00{TL}, what you paid in the last 14 days (the withdrawal period), is refunded to "
        "the card it was paid with. Anything paid before that is not refunded." in page
    )


def test_the_page_says_an_older_charge_is_not_refunded(
    client, session, english, signed_in, monthly
):
    assert pay(client, monthly).status_code == 303
    (subscription,) = subscriptions_of(session, signed_in)
    _paid_long_ago(session, signed_in)

    page = _warning(client)

    assert (
        f"What you paid for the period until {long_date(subscription.end_date)} is not refunded."
        in page
    )
    assert "is refunded" not in page


def test_the_page_says_a_trial_ends_and_nothing_is_charged(
    client, session, english, signed_in, with_trial
):
    assert pay(client, with_trial).status_code == 303

    page = _warning(client)

    assert (
        f"Your free trial of Aile Deneme ends on {long_date(istanbul_today())}, when the account "
        "is deleted. Nothing was charged for it and nothing will be." in page
    )
    assert "is not refunded" not in page


def test_without_a_running_subscription_the_page_has_no_warning(client, english, signed_in):
    page = _warning(client)

    assert "Your subscription ends with the account." not in page


def _refunds(session, user) -> list[Payment]:
    session.expire_all()
    return list(
        session.scalars(
            select(Payment).where(Payment.user_id == user.id, Payment.purpose == "refund")
        )
    )


def test_deleting_within_the_withdrawal_period_refunds_and_it_never_renews(
    client, session, signed_in, monthly
):
    assert pay(client, monthly).status_code == 303
    (subscription,) = subscriptions_of(session, signed_in)
    paid_until = subscription.end_date
    (charge,) = payments_of(session, signed_in)

    response = delete(client)

    assert response.status_code == 303
    assert the_user(session, signed_in).deleted_at is not None
    (ended,) = subscriptions_of(session, signed_in)
    assert ended.status == "cancelled"
    assert ended.end_date == istanbul_today()
    assert ended.next_billing_date is None and ended.auto_renew is False
    (refund,) = _refunds(session, signed_in)
    assert refund.status == "succeeded" and refund.refunded_payment_id == charge.id
    assert refund.gross_amount == Decimal("120.00")
    # The renewal run on the day the period would have renewed, and a month later, charges
    # nothing: no payment row is added.
    _renew_on(session, paid_until, paid_until + timedelta(days=31))
    assert count(session, Payment, Payment.user_id == signed_in.id) == 2


def test_deleting_after_the_withdrawal_period_refunds_nothing_and_it_never_renews(
    client, session, signed_in, monthly
):
    assert pay(client, monthly).status_code == 303
    (subscription,) = subscriptions_of(session, signed_in)
    paid_until = subscription.end_date
    _paid_long_ago(session, signed_in)

    response = delete(client)

    assert response.status_code == 303
    (ended,) = subscriptions_of(session, signed_in)
    assert ended.status == "cancelled" and ended.end_date == istanbul_today()
    assert _refunds(session, signed_in) == []
    _renew_on(session, paid_until, paid_until + timedelta(days=31))
    assert count(session, Payment, Payment.user_id == signed_in.id) == 1
    assert count(session, UserSubscription, UserSubscription.status == "active") == 0


def _renew_on(session, *days):
    for day in days:
        renew(session, SandboxGateway(), day, now=at(day, 3))
        session.commit()


def test_deleting_over_htmx_ends_a_trial(client, session, signed_in, with_trial):
    assert pay(client, with_trial).status_code == 303

    response = delete(client, headers=HTMX)

    assert response.status_code == 200 and response.headers["HX-Redirect"]
    (ended,) = subscriptions_of(session, signed_in)
    assert ended.status == "cancelled"
    assert ended.end_date == istanbul_today()
    assert count(session, Payment, Payment.user_id == signed_in.id) == 0


def test_a_wrong_password_leaves_the_subscription_running(client, session, signed_in, monthly):
    assert pay(client, monthly).status_code == 303

    response = delete(client, password="not-the-password")

    assert response.status_code == 422
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active" and subscription.auto_renew is True
