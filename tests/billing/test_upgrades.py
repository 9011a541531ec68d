"""An upgrade takes effect at once and charges the prorated difference for the rest of the
period; a downgrade, a cycle change and any change of a trial wait for the period's end.

Every amount here is worked out by hand from the rule in portal.billing.subscriptions: the
difference of the two totals with KDV, times (days left counting today) / (days in the
period), ROUND_HALF_UP to the kuruş once, and the KDV in it split off at 20 % as for a
KDV-included price (net = gross / 1.2 rounded half-up, KDV = gross − net).
"""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.billing.cards import store_card
from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.payments import PaymentFailed
from portal.billing.renewals import renew
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import (
    SubscriptionError,
    cancel_at_period_end,
    preview_change,
    prorated_difference,
    schedule_change,
    subscribe,
    upgrade,
)
from portal.models import Payment, UserLog
from tests.billing.helpers import at

GOOD_CARD = "4242424242424242"
POOR_CARD = "4000000000009995"  # saved, every charge fails: insufficient_funds


def saved(number=GOOD_CARD, day=date(2026, 1, 1)):
    details = CardDetails(number=number, exp_month=12, exp_year=2035, cvc="918")
    return SandboxGateway().save_card(details, day)


def start(session, make, price, today, user=None):
    """A parent subscribes at checkout on `today` (committed, as checkout does)."""
    user = user or make.user("parent")
    subscription = subscribe(
        session,
        SandboxGateway(),
        Subscriber(user_id=user.id),
        price.id,
        saved(day=today),
        idempotency_key=uuid.uuid4().hex,
        today=today,
        actor_user_id=user.id,
    )
    session.commit()
    return subscription


def run(session, day):
    """The renewal job for `day`, at 03:00 in Istanbul."""
    return renew(session, SandboxGateway(), day, now=at(day, 3))


def upgrade_to(session, subscription, price, today, key=None):
    done = upgrade(
        session,
        SandboxGateway(),
        Subscriber.of(subscription),
        subscription,
        price.id,
        idempotency_key=key or uuid.uuid4().hex,
        today=today,
        actor_user_id=subscription.user_id,
    )
    session.commit()
    return done


def paid(session, subscription, status="succeeded"):
    return session.scalars(
        select(Payment)
        .where(Payment.user_subscription_id == subscription.id, Payment.status == status)
        .order_by(Payment.id)
    ).all()


def amounts(charge_or_payment):
    if isinstance(charge_or_payment, Payment):
        p = charge_or_payment
        return (p.net_amount, p.kdv_amount, p.gross_amount)
    c = charge_or_payment
    return (c.net, c.kdv, c.gross)


def dec(*values):
    return tuple(Decimal(v) for v in values)


# --- the arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid_gross", "new_gross", "left", "days", "net", "kdv", "gross"),
    [
        # 100 × 15/30 = 50.00; 50 / 1.2 = 41.666… → 41.67
        ("100.00", "200.00", 15, 30, "41.67", "8.33", "50.00"),
        # 100 × 1/30 = 3.333… → 3.33; 3.33 / 1.2 = 2.775 exactly → half up 2.78
        ("100.00", "200.00", 1, 30, "2.78", "0.55", "3.33"),
        # the whole period: the whole difference
        ("100.00", "200.00", 30, 30, "83.33", "16.67", "100.00"),
        # 0.01 × 1/31 = 0.0003… → 0.00: nothing to charge
        ("100.00", "100.01", 1, 31, "0.00", "0.00", "0.00"),
        # 600 × 193/366 = 316.393… → 316.39; / 1.2 = 263.658… → 263.66
        ("1200.00", "1800.00", 193, 366, "263.66", "52.73", "316.39"),
    ],
)
def test_the_prorated_difference_is_rounded_once_on_the_total(
    paid_gross, new_gross, left, days, net, kdv, gross
):
    charge = prorated_difference(Decimal(paid_gross), Decimal(new_gross), left, days)

    assert amounts(charge) == dec(net, kdv, gross)


@pytest.mark.parametrize(("left", "days"), [(0, 30), (31, 30), (-1, 30)])
def test_days_left_outside_the_period_are_refused(left, days):
    with pytest.raises(ValueError):
        prorated_difference(Decimal("100.00"), Decimal("200.00"), left, days)


def test_a_lower_or_equal_price_has_no_prorated_difference():
    with pytest.raises(ValueError):
        prorated_difference(Decimal("200.00"), Decimal("200.00"), 10, 30)


# --- upgrading through the calendar --------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "left", "days", "net", "kdv", "gross"),
    [
        (date(2026, 11, 25), 15, 30, "41.67", "8.33", "50.00"),  # Nov 10 – Dec 10, mid-period
        (date(2026, 12, 9), 1, 30, "2.78", "0.55", "3.33"),  # the period's last day
        (date(2026, 11, 10), 30, 30, "83.33", "16.67", "100.00"),  # the day it was bought
    ],
)
def test_a_monthly_upgrade_charges_the_rest_of_the_period_now(
    session, make, today, left, days, net, kdv, gross
):
    subscription = start(session, make, make.price(amount="100.00"), date(2026, 11, 10))
    premium = make.price(make.plan(), amount="200.00")
    session.commit()

    shown = preview_change(
        session, Subscriber.of(subscription), subscription, premium.id, today=today
    )
    done = upgrade_to(session, subscription, premium, today)

    assert shown.upgrade and (shown.days_left, shown.days_in_period) == (left, days)
    assert shown.takes_effect_on == today and shown.period_ends_on == date(2026, 12, 10)
    assert amounts(shown.charge) == dec(net, kdv, gross)
    assert done.charge == shown.charge
    first, upgraded = paid(session, subscription)
    assert amounts(upgraded) == dec(net, kdv, gross)
    assert upgraded.purpose == "plan_change" and upgraded.plan_price_id == premium.id
    assert upgraded.charged_period == today
    assert (first.charged_period, first.purpose) == (date(2026, 11, 10), "first_charge")
    # On the new plan from today; the period, its end and the next payment stay.
    assert subscription.plan_price_id == premium.id
    assert subscription.subscription_plan_id == premium.subscription_plan_id
    assert subscription.amount == Decimal("200.00")
    assert subscription.anchor_date == date(2026, 11, 10) and subscription.period_index == 0
    assert subscription.end_date == subscription.next_billing_date == date(2026, 12, 10)
    (log,) = session.scalars(select(UserLog).where(UserLog.event == "subscription_upgraded"))
    assert log.data["plan_price_id"] == premium.id and log.data["days_left"] == left


def test_after_an_upgrade_the_next_renewal_charges_the_new_price_in_full(session, make):
    subscription = start(session, make, make.price(amount="100.00"), date(2026, 11, 10))
    premium = make.price(make.plan(), amount="200.00")
    upgrade_to(session, subscription, premium, date(2026, 11, 25))

    run(session, date(2026, 12, 10))

    renewal = paid(session, subscription)[-1]
    assert renewal.purpose == "renewal" and renewal.plan_price_id == premium.id
    assert amounts(renewal) == dec("166.67", "33.33", "200.00")
    assert renewal.charged_period == date(2026, 12, 10)
    assert subscription.end_date == date(2027, 1, 10)


def test_an_anchor_on_31_january_counts_the_clamped_28_day_february_period(session, make):
    # Period 0 runs Jan 31 – Feb 28, 2027 (28 days); on Feb 20, 8 days are left.
    subscription = start(session, make, make.price(amount="100.00"), date(2027, 1, 31))
    premium = make.price(make.plan(), amount="200.00")

    done = upgrade_to(session, subscription, premium, date(2027, 2, 20))

    assert (done.days_left, done.days_in_period) == (8, 28)
    # 100 × 8/28 = 28.571… → 28.57; / 1.2 = 23.808… → 23.81
    assert amounts(paid(session, subscription)[-1]) == dec("23.81", "4.76", "28.57")


def test_after_the_clamped_february_the_march_period_has_31_days(session, make):
    # Period 1 runs Feb 28 – Mar 31, 2027: the anchor's 31st comes back.
    subscription = start(session, make, make.price(amount="100.00"), date(2027, 1, 31))
    premium = make.price(make.plan(), amount="200.00")
    run(session, date(2027, 2, 28))

    done = upgrade_to(session, subscription, premium, date(2027, 3, 15))

    assert (done.days_left, done.days_in_period) == (16, 31)
    assert done.period_ends_on == date(2027, 3, 31)
    # 100 × 16/31 = 51.612… → 51.61; / 1.2 = 43.008… → 43.01
    assert amounts(paid(session, subscription)[-1]) == dec("43.01", "8.60", "51.61")


def test_in_a_leap_year_february_from_an_anchor_on_the_31st_has_29_days(session, make):
    subscription = start(session, make, make.price(amount="100.00"), date(2028, 1, 31))
    premium = make.price(make.plan(), amount="200.00")

    done = upgrade_to(session, subscription, premium, date(2028, 2, 20))

    assert (done.days_left, done.days_in_period) == (9, 29)
    assert done.period_ends_on == date(2028, 2, 29)
    # 100 × 9/29 = 31.034… → 31.03; / 1.2 = 25.858… → 25.86
    assert amounts(paid(session, subscription)[-1]) == dec("25.86", "5.17", "31.03")


@pytest.mark.parametrize(
    ("bought", "today", "days", "net", "kdv", "gross"),
    [
        # Nov 10, 2027 – Nov 10, 2028 holds Feb 29, 2028: 366 days. 600 × 193/366 = 316.39
        (date(2027, 11, 10), date(2028, 5, 1), 366, "263.66", "52.73", "316.39"),
        # Nov 10, 2026 – Nov 10, 2027: 365 days. 600 × 193/365 = 317.260… → 317.26
        (date(2026, 11, 10), date(2027, 5, 1), 365, "264.38", "52.88", "317.26"),
    ],
)
def test_a_yearly_upgrade_counts_the_days_of_its_year(
    session, make, bought, today, days, net, kdv, gross
):
    subscription = start(
        session, make, make.price(billing_cycle="yearly", amount="1200.00"), bought
    )
    premium = make.price(make.plan(), billing_cycle="yearly", amount="1800.00")

    done = upgrade_to(session, subscription, premium, today)

    assert (done.days_left, done.days_in_period) == (193, days)
    assert amounts(paid(session, subscription)[-1]) == dec(net, kdv, gross)
    assert subscription.end_date == bought.replace(year=bought.year + 1)


def test_a_companys_upgrade_prorates_the_totals_with_kdv(session, make):
    # KDV-excluded prices: 1000 + 200 KDV = 1200 against 1500 + 300 KDV = 1800; 600 × 15/30.
    customer = make.customer()
    old = make.price(make.plan(audience="companies"), amount="1000.00", kdv_included=False)
    new = make.price(make.plan(audience="companies"), amount="1500.00", kdv_included=False)
    staff = make.customer_user(customer=customer)
    session.commit()
    subscription = subscribe(
        session,
        SandboxGateway(),
        Subscriber(customer_id=customer.id),
        old.id,
        saved(),
        idempotency_key=uuid.uuid4().hex,
        today=date(2026, 11, 10),
        actor_user_id=staff.user.id,
    )
    session.commit()

    upgrade(
        session,
        SandboxGateway(),
        Subscriber(customer_id=customer.id),
        subscription,
        new.id,
        idempotency_key=uuid.uuid4().hex,
        today=date(2026, 11, 25),
        actor_user_id=staff.user.id,
    )
    session.commit()

    upgraded = paid(session, subscription)[-1]
    assert amounts(upgraded) == dec("250.00", "50.00", "300.00")
    assert upgraded.customer_id == customer.id and upgraded.user_id is None


# --- what is not an upgrade ----------------------------------------------------------------


def test_a_higher_price_of_another_cycle_waits_for_the_period_end(session, make):
    subscription = start(session, make, make.price(amount="100.00"), date(2026, 11, 10))
    yearly = make.price(make.plan(), billing_cycle="yearly", amount="2000.00")

    shown = preview_change(
        session, Subscriber.of(subscription), subscription, yearly.id, today=date(2026, 11, 20)
    )

    assert not shown.upgrade and shown.takes_effect_on == date(2026, 12, 10)
    with pytest.raises(SubscriptionError) as refused:
        upgrade_to(session, subscription, yearly, date(2026, 11, 20))
    assert refused.value.code == "not_an_upgrade"
    assert len(paid(session, subscription)) == 1


def test_an_upgrade_during_a_trial_waits_for_the_trial_to_end(session, make):
    subscription = start(
        session, make, make.price(amount="100.00", trial_days=14), date(2026, 11, 10)
    )
    premium = make.price(make.plan(), amount="200.00")

    shown = preview_change(
        session, Subscriber.of(subscription), subscription, premium.id, today=date(2026, 11, 12)
    )

    assert not shown.upgrade and shown.takes_effect_on == date(2026, 11, 24)
    assert shown.charge.gross == Decimal("200.00")  # the new price's first charge, then


def test_an_upgrade_cannot_be_scheduled_for_later(session, make):
    subscription = start(session, make, make.price(amount="100.00"), date(2026, 11, 10))
    premium = make.price(make.plan(), amount="200.00")

    with pytest.raises(SubscriptionError) as refused:
        schedule_change(
            session,
            Subscriber.of(subscription),
            subscription,
            premium.id,
            subscription.user_id,
            today=date(2026, 11, 20),
        )

    assert refused.value.code == "upgrade_now"
    assert subscription.scheduled_plan_price_id is None


# --- failures, double clicks, and what an upgrade replaces ---------------------------------


def test_a_refused_upgrade_charge_changes_nothing_but_keeps_the_failed_payment(session, make):
    price = make.price(amount="100.00")
    subscription = start(session, make, price, date(2026, 11, 10))
    premium = make.price(make.plan(), amount="200.00")
    poor = store_card(session, Subscriber.of(subscription), saved(POOR_CARD))
    subscription.user_payment_card_id = poor.id
    session.commit()

    with pytest.raises(PaymentFailed) as failed:
        upgrade_to(session, subscription, premium, date(2026, 11, 25))
    session.commit()  # as the view does

    assert failed.value.failure_code == "insufficient_funds"
    (refused,) = paid(session, subscription, status="failed")
    assert refused.purpose == "plan_change" and refused.charged_period is None
    assert subscription.plan_price_id == price.id and subscription.amount == Decimal("100.00")
    assert len(paid(session, subscription)) == 1


def test_the_same_confirmation_twice_charges_once_and_answers_the_same(session, make):
    subscription = start(session, make, make.price(amount="100.00"), date(2026, 11, 10))
    premium = make.price(make.plan(), amount="200.00")

    first = upgrade_to(session, subscription, premium, date(2026, 11, 25), key="k" * 32)
    again = upgrade_to(session, subscription, premium, date(2026, 11, 25), key="k" * 32)

    assert again.charge == first.charge and again.price.id == premium.id
    assert len(paid(session, subscription)) == 2  # the first charge and one upgrade


def test_two_upgrades_on_one_day_are_two_charges_for_the_same_days(session, make):
    subscription = start(session, make, make.price(amount="100.00"), date(2026, 11, 10))
    plus = make.price(make.plan(), amount="150.00")
    premium = make.price(make.plan(), amount="200.00")

    upgrade_to(session, subscription, plus, date(2026, 11, 25))
    upgrade_to(session, subscription, premium, date(2026, 11, 25))

    _first, to_plus, to_premium = paid(session, subscription)
    assert to_plus.gross_amount == Decimal("25.00")  # 50 × 15/30
    assert to_premium.gross_amount == Decimal("25.00")  # 50 × 15/30, from Plus
    assert to_plus.charged_period == to_premium.charged_period == date(2026, 11, 25)
    assert subscription.plan_price_id == premium.id


def test_an_upgrade_replaces_a_planned_change_and_a_cancellation(session, make):
    subscription = start(session, make, make.price(amount="100.00"), date(2026, 11, 10))
    yearly = make.price(make.plan(), billing_cycle="yearly", amount="900.00")
    premium = make.price(make.plan(), amount="200.00")
    schedule_change(
        session,
        Subscriber.of(subscription),
        subscription,
        yearly.id,
        subscription.user_id,
        today=date(2026, 11, 10),
    )
    cancel_at_period_end(session, subscription, subscription.user_id)
    session.commit()

    upgrade_to(session, subscription, premium, date(2026, 11, 25))

    assert subscription.scheduled_plan_price_id is None
    assert subscription.cancel_at_period_end is False and subscription.auto_renew is True
