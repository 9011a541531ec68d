"""The subscription lifecycle: subscribe (charged now or a trial), cancel and undo, pause and
resume, a change of plan or cycle, and prices archived under current subscribers."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, text

from portal.billing.cards import store_card
from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.limits import limit_for
from portal.billing.payments import PaymentFailed, payments_of
from portal.billing.renewals import renew
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import (
    Action,
    SubscriptionError,
    allowed_actions,
    cancel_at_period_end,
    cancel_change,
    cancel_now,
    current_subscription,
    pause,
    preview_change,
    quote,
    resume,
    resume_preview,
    schedule_change,
    subscribe,
    undo_cancel,
)
from portal.clock import istanbul_today, utcnow
from portal.extensions import db
from portal.models import CustomerCreditCard, Payment, UserLog, UserPaymentCard, UserSubscription
from tests import dbutil
from tests.billing.helpers import at
from tests.helpers import in_parallel

TODAY = date(2026, 11, 10)
GOOD_CARD = "4242424242424242"
POOR_CARD = "4000000000009995"  # saved, every charge fails: insufficient_funds
FAILING_CARD = "4000000000000341"  # saved, every charge fails: card_declined
FREE = {"favorites": 2}


def card(number=GOOD_CARD, holder=None):
    """The card as the sandbox's hosted page saved it: all that reaches the portal."""
    details = CardDetails(number=number, exp_month=12, exp_year=2030, cvc="918", holder_name=holder)
    return SandboxGateway().save_card(details, TODAY)


def start(session, price, user=None, *, number=GOOD_CARD, key=None, today=TODAY, customer=None):
    """Subscribe a parent (or, with customer=, a company) the way checkout does."""
    subscriber = Subscriber(customer_id=customer.id) if customer else Subscriber(user_id=user.id)
    return subscribe(
        session,
        SandboxGateway(),
        subscriber,
        price.id,
        card(number, holder="Elif Şahin"),
        idempotency_key=key or uuid.uuid4().hex,
        today=today,
        actor_user_id=user.id,
    )


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def succeeded_payments(session, subscription):
    return session.scalars(
        select(Payment)
        .where(Payment.user_subscription_id == subscription.id, Payment.status == "succeeded")
        .order_by(Payment.id)
    ).all()


@pytest.fixture
def parent(make, session):
    return make.user("parent")


# --- subscribing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "kdv_included", "net", "kdv", "gross"),
    [
        ("49.90", True, "41.58", "8.32", "49.90"),  # the price is what the parent pays
        ("100.00", True, "83.33", "16.67", "100.00"),
        ("1490.00", False, "1490.00", "298.00", "1788.00"),  # KDV is added on top
    ],
)
def test_subscribing_charges_the_first_period_now(
    session, make, parent, amount, kdv_included, net, kdv, gross
):
    price = make.price(amount=amount, kdv_included=kdv_included)

    subscription = start(session, price, parent, key="checkout-1")
    session.commit()
    session.expire_all()

    assert subscription.status == "active"
    assert subscription.start_date == subscription.anchor_date == TODAY
    assert subscription.end_date == subscription.next_billing_date == date(2026, 12, 10)
    assert subscription.last_payment_date == TODAY
    assert subscription.trial_end_date is None
    assert subscription.amount == Decimal(amount)
    assert subscription.plan_price_id == price.id
    (payment,) = session.scalars(select(Payment)).all()
    assert payment.user_subscription_id == subscription.id and payment.user_id == parent.id
    assert payment.purpose == "first_charge" and payment.status == "succeeded"
    assert payment.plan_price_id == price.id
    assert (payment.net_amount, payment.kdv_amount, payment.gross_amount) == (
        Decimal(net),
        Decimal(kdv),
        Decimal(gross),
    )
    assert payment.charged_period == TODAY
    assert payment.idempotency_key == "checkout-1"
    assert payment.gateway == "sandbox" and payment.gateway_reference.startswith("sbx_ch_")
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")


def test_the_saved_card_keeps_only_token_brand_last4_and_expiry(session, make, parent):
    subscription = start(session, make.price(), parent)
    session.commit()

    (saved,) = session.scalars(select(UserPaymentCard)).all()
    assert subscription.user_payment_card_id == saved.id and saved.user_id == parent.id
    assert saved.gateway == "sandbox" and saved.token.startswith("sbx_ok_")
    assert (saved.brand, saved.last4, saved.exp_month, saved.exp_year) == ("visa", "4242", 12, 2030)
    for table in db.metadata.sorted_tables:
        for row in session.execute(text(f"SELECT * FROM {table.name}")):
            for value in row:
                assert GOOD_CARD not in str(value), table.name
                assert "4242 4242" not in str(value), table.name


# A card refused when saved never reaches subscribe(): the hosted page's answer says so, and
# checkout_return logs it (tests/billing/test_checkout.py).
@pytest.mark.parametrize(
    ("number", "failure_code"),
    [(POOR_CARD, "insufficient_funds"), (FAILING_CARD, "card_declined")],
)
def test_a_refused_charge_stores_nothing_but_a_payment_failed_log(
    session, make, parent, number, failure_code
):
    price = make.price()

    with pytest.raises(PaymentFailed) as failed:
        start(session, price, parent, number=number)
    session.commit()  # as the view does, to keep the log of the attempt

    assert failed.value.failure_code == failure_code
    assert count(session, UserSubscription) == 0
    assert count(session, UserPaymentCard) == 0
    assert count(session, Payment) == 0
    (log,) = session.scalars(select(UserLog).where(UserLog.event == "payment_failed")).all()
    assert log.user_id == parent.id
    assert log.data == {"plan_price_id": price.id, "failure_code": failure_code}


def test_the_same_idempotency_key_twice_gives_one_subscription_and_one_payment(
    session, make, parent
):
    price = make.price()
    first = start(session, price, parent, key="double-click")
    session.commit()

    again = start(session, price, parent, key="double-click")
    session.commit()

    assert again.id == first.id
    assert count(session, UserSubscription) == 1
    assert count(session, Payment) == 1
    assert count(session, UserPaymentCard) == 1


def test_the_same_key_twice_gives_one_trial_even_with_another_saved_card(session, make, parent):
    price = make.price(trial_days=14)
    first = start(session, price, parent, key="double-click")
    session.commit()

    again = start(session, price, parent, key="double-click")  # the second hosted page's card
    session.commit()

    assert again.id == first.id and again.status == "trial"
    assert first.checkout_key == "double-click"
    assert count(session, UserSubscription) == 1
    assert count(session, Payment) == 0


def test_a_trials_key_used_by_another_parent_starts_nothing_for_them(session, make, parent):
    price = make.price(trial_days=14)
    start(session, price, parent, key="shared-key")
    other = make.user("parent")

    with pytest.raises(SubscriptionError) as refused:
        start(session, price, other, key="shared-key")

    assert refused.value.code == "form_already_used"
    assert count(session, UserSubscription) == 1


@pytest.mark.parametrize("trial_days", [0, 14])
def test_a_second_subscription_while_one_is_current_is_refused(session, make, parent, trial_days):
    start(session, make.price(trial_days=trial_days), parent)
    other_price = make.price(make.plan(), billing_cycle="yearly", amount="900.00")

    with pytest.raises(SubscriptionError) as refused:
        start(session, other_price, parent)

    assert refused.value.code == "already_subscribed"
    assert count(session, UserSubscription) == 1
    assert count(session, Payment) == (0 if trial_days else 1)


def test_a_paused_subscription_is_still_current_and_blocks_a_new_one(session, make, parent):
    subscription = start(session, make.price(), parent)
    pause(session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30))

    with pytest.raises(SubscriptionError) as refused:
        start(session, make.price(), parent)

    assert refused.value.code == "already_subscribed"
    assert current_subscription(session, Subscriber(user_id=parent.id)) == subscription


@pytest.mark.parametrize(
    "unavailable",
    [
        lambda make: make.price(status="archived"),
        lambda make: make.price(make.plan(audience="companies")),
        lambda make: make.price(make.plan(is_active=False)),
    ],
    ids=["archived price", "companies plan", "inactive plan"],
)
def test_a_price_that_is_not_for_sale_to_this_subscriber_is_unavailable(
    session, make, parent, unavailable
):
    price = unavailable(make)

    with pytest.raises(SubscriptionError) as refused:
        start(session, price, parent)

    assert refused.value.code == "price_unavailable"
    assert count(session, UserPaymentCard) == 0 and count(session, Payment) == 0


def test_a_company_cannot_buy_a_parents_plan(session, make):
    staff = make.customer_user()

    with pytest.raises(SubscriptionError) as refused:
        start(session, make.price(), staff.user, customer=staff.customer)

    assert refused.value.code == "price_unavailable"


def test_a_company_subscription_stores_a_customer_credit_card(session, make):
    staff = make.customer_user()
    price = make.price(make.plan(audience="companies"), amount="1490.00", kdv_included=False)

    subscription = start(session, price, staff.user, customer=staff.customer)
    session.commit()

    assert subscription.customer_id == staff.customer.id and subscription.user_id is None
    (saved,) = session.scalars(select(CustomerCreditCard)).all()
    assert subscription.customer_credit_card_id == saved.id
    assert saved.customer_id == staff.customer.id
    assert (saved.brand, saved.last4, saved.holder_name) == ("visa", "4242", "Elif Şahin")
    assert count(session, UserPaymentCard) == 0
    (payment,) = payments_of(session, Subscriber(customer_id=staff.customer.id))
    assert payment.customer_id == staff.customer.id and payment.user_id is None
    assert payment.gross_amount == Decimal("1788.00")
    assert payments_of(session, Subscriber(user_id=staff.user.id)) == []


@pytest.mark.parametrize(("amount", "kdv_included"), [("59.90", True), ("49.90", False)])
def test_a_price_of_any_kurus_amount_can_be_bought(session, make, parent, amount, kdv_included):
    price = make.price(amount=amount, kdv_included=kdv_included)

    subscription = start(session, price, parent)
    session.commit()

    (payment,) = succeeded_payments(session, subscription)
    assert payment.gross_amount == payment.net_amount + payment.kdv_amount


# --- trials --------------------------------------------------------------------------------


def test_a_trial_charges_nothing_and_ends_after_its_days(session, make, parent):
    price = make.price(trial_days=7)

    subscription = start(session, price, parent)
    session.commit()

    assert subscription.status == "trial"
    assert subscription.start_date == TODAY
    assert subscription.trial_end_date == TODAY + timedelta(days=7)
    # The first paid period starts when the trial ends, and is charged then.
    assert subscription.anchor_date == subscription.trial_end_date
    assert subscription.end_date == subscription.next_billing_date == date(2026, 11, 17)
    assert subscription.last_payment_date is None
    assert count(session, Payment) == 0
    assert count(session, UserPaymentCard) == 1  # kept for the charge at the trial's end


def test_a_trial_is_given_once_per_plan_even_after_the_first_subscription_ended(
    session, make, parent
):
    plan = make.plan()
    price = make.price(plan, trial_days=7)
    first = start(session, price, parent)
    cancel_now(session, first, parent.id, now=at(TODAY + timedelta(days=2)))
    assert quote(session, Subscriber(user_id=parent.id), price, TODAY).trial_days == 0

    second = start(session, price, parent, today=TODAY + timedelta(days=3))
    session.commit()

    assert second.status == "active" and second.trial_end_date is None
    assert second.anchor_date == TODAY + timedelta(days=3)
    (payment,) = succeeded_payments(session, second)
    assert payment.purpose == "first_charge" and payment.gross_amount == price.amount


def test_a_trial_of_another_plan_is_still_offered(session, make, parent):
    first = start(session, make.price(trial_days=7), parent)
    cancel_now(session, first, parent.id, now=at(TODAY))
    other = make.price(make.plan(), trial_days=14)

    offer = quote(session, Subscriber(user_id=parent.id), other, TODAY)

    assert offer.trial_days == 14 and offer.first_charge_on == TODAY + timedelta(days=14)
    assert start(session, other, parent).status == "trial"


def test_another_parent_still_gets_the_trial(session, make, parent):
    price = make.price(trial_days=7)
    start(session, price, parent)

    assert start(session, price, make.user()).status == "trial"


# --- cancelling ----------------------------------------------------------------------------


def test_cancel_at_period_end_keeps_it_running_and_undo_renews_it_again(session, make, parent):
    subscription = start(session, make.price(), parent)
    session.commit()

    cancel_at_period_end(session, subscription, parent.id)
    assert subscription.status == "active"
    assert subscription.cancel_at_period_end is True and subscription.auto_renew is False
    assert subscription.end_date == date(2026, 12, 10)
    with pytest.raises(SubscriptionError):
        cancel_at_period_end(session, subscription, parent.id)  # already scheduled

    undo_cancel(session, subscription, parent.id)
    assert subscription.cancel_at_period_end is False and subscription.auto_renew is True
    with pytest.raises(SubscriptionError) as refused:
        undo_cancel(session, subscription, parent.id)
    assert refused.value.code == "not_allowed_now"
    session.commit()

    renew(session, SandboxGateway(), date(2026, 12, 10), now=at(date(2026, 12, 10)))
    assert subscription.status == "active"
    assert [p.charged_period for p in succeeded_payments(session, subscription)] == [
        TODAY,
        date(2026, 12, 10),
    ]
    events = session.scalars(select(UserLog.event).order_by(UserLog.id)).all()
    assert events[-2:] == ["subscription_cancel_scheduled", "subscription_cancel_undone"]


def test_cancel_now_ends_it_today_without_refund_or_further_charges(session, make, parent):
    price = make.price(make.plan(features={"favorites": 100}))
    subscription = start(session, price, parent, today=istanbul_today())
    now = utcnow()
    today = istanbul_today(now)
    assert limit_for(session, "favorites", FREE, user_id=parent.id) == 100

    cancel_now(session, subscription, parent.id, now=now)
    session.commit()

    assert subscription.status == "cancelled" and subscription.cancelled_at == now
    assert subscription.end_date == today and subscription.next_billing_date is None
    assert current_subscription(session, Subscriber(user_id=parent.id)) is None
    assert limit_for(session, "favorites", FREE, user_id=parent.id) == 2
    report = renew(session, SandboxGateway(), today + relativedelta(months=2), now=now)
    assert report.charged == 0
    assert [p.purpose for p in payments_of(session, Subscriber(user_id=parent.id))] == [
        "first_charge"
    ]
    with pytest.raises(SubscriptionError):
        cancel_now(session, subscription, parent.id, now=now)


# --- pausing and resuming ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subscribed_days_ago", "limit"),
    [(0, 100), (6, 100), (7, 2)],
    ids=["period just started", "last paid day", "period over"],
)
def test_a_paused_plan_keeps_its_limits_until_the_paid_period_ends(
    session, make, parent, subscribed_days_ago, limit
):
    price = make.price(make.plan(features={"favorites": 100}), billing_cycle="weekly")
    today = istanbul_today()
    subscription = start(session, price, parent, today=today - timedelta(subscribed_days_ago))

    pause(session, subscription, parent.id, now=at(today), until=today + timedelta(days=30))
    session.commit()

    assert subscription.status == "paused" and subscription.paused_at == at(today)
    assert subscription.next_billing_date is None
    assert limit_for(session, "favorites", FREE, user_id=parent.id) == limit


def test_a_paused_subscription_is_not_renewed_before_its_pause_ends(session, make, parent):
    subscription = start(session, make.price(), parent)
    pause(session, subscription, parent.id, now=at(TODAY), until=date(2027, 2, 1))
    session.commit()

    report = renew(session, SandboxGateway(), date(2027, 1, 31), now=at(date(2027, 1, 31)))

    assert report.charged == report.failed == 0
    assert subscription.status == "paused"
    assert len(succeeded_payments(session, subscription)) == 1


def test_resuming_within_the_paid_period_charges_nothing(session, make, parent):
    subscription = start(session, make.price(), parent)
    pause(session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30))
    assert resume_preview(subscription, date(2026, 12, 9)) is None

    resume(session, SandboxGateway(), subscription, date(2026, 12, 9), parent.id)
    session.commit()

    assert subscription.status == "active" and subscription.paused_at is None
    assert subscription.anchor_date == TODAY
    assert subscription.end_date == subscription.next_billing_date == date(2026, 12, 10)
    assert count(session, Payment) == 1


def test_resuming_after_the_paid_period_charges_now_and_anchors_at_today(session, make, parent):
    price = make.price(amount="100.00")
    subscription = start(session, price, parent, today=date(2027, 1, 31))
    pause(session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30))
    comeback = date(2027, 3, 15)
    assert resume_preview(subscription, date(2027, 2, 27)) is None
    shown = resume_preview(subscription, comeback)
    assert shown.charge.gross == Decimal("100.00") and shown.period_ends_on == date(2027, 4, 15)

    resume(session, SandboxGateway(), subscription, comeback, parent.id)
    session.commit()

    assert subscription.status == "active"
    assert subscription.anchor_date == comeback and subscription.period_index == 0
    assert subscription.end_date == subscription.next_billing_date == date(2027, 4, 15)
    assert subscription.last_payment_date == comeback
    first, resumed = succeeded_payments(session, subscription)
    assert resumed.charged_period == comeback
    assert resumed.gross_amount == shown.charge.gross
    assert resumed.idempotency_key != first.idempotency_key
    # The renewal job then charges from the new anchor.
    renew(session, SandboxGateway(), date(2027, 4, 15), now=at(date(2027, 4, 15)))
    assert succeeded_payments(session, subscription)[-1].charged_period == date(2027, 4, 15)


def test_resuming_on_the_day_the_paid_period_ends_charges_the_new_period(session, make, parent):
    subscription = start(session, make.price(), parent)
    pause(session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30))

    resume(session, SandboxGateway(), subscription, date(2026, 12, 10), parent.id)

    assert subscription.anchor_date == date(2026, 12, 10)
    assert len(succeeded_payments(session, subscription)) == 2


def use_card(session, subscription, number):
    """The parent saved another card, which renewals charge from now on."""
    saved = card(number)
    row = store_card(session, Subscriber(user_id=subscription.user_id), saved)
    subscription.user_payment_card_id = row.id


def test_a_declined_resume_stays_paused_and_a_later_one_with_a_good_card_succeeds(
    session, make, parent
):
    subscription = start(session, make.price(), parent)
    pause(session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30))
    use_card(session, subscription, FAILING_CARD)
    session.commit()
    comeback = date(2027, 1, 20)

    with pytest.raises(PaymentFailed) as failed:
        resume(session, SandboxGateway(), subscription, comeback, parent.id)
    session.commit()

    assert failed.value.failure_code == "card_declined"
    assert subscription.status == "paused" and subscription.next_billing_date is None
    assert subscription.anchor_date == TODAY and subscription.end_date == date(2026, 12, 10)
    failed_payment = session.scalar(select(Payment).where(Payment.status == "failed"))
    assert failed_payment.failure_code == "card_declined"
    assert failed_payment.charged_period is None and failed_payment.card_last4 == "0341"

    use_card(session, subscription, GOOD_CARD)
    resume(session, SandboxGateway(), subscription, comeback, parent.id)
    session.commit()

    assert subscription.status == "active" and subscription.anchor_date == comeback
    assert [p.charged_period for p in succeeded_payments(session, subscription)] == [
        TODAY,
        comeback,
    ]


@pytest.mark.parametrize("trial_days", [7, 0])
def test_only_an_active_renewing_subscription_can_be_paused(session, make, parent, trial_days):
    subscription = start(session, make.price(trial_days=trial_days), parent)
    if not trial_days:
        pause(
            session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30)
        )  # already paused the second time

    with pytest.raises(SubscriptionError) as refused:
        pause(session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30))

    assert refused.value.code == "not_allowed_now"


# --- changing plan or cycle ----------------------------------------------------------------


def test_a_downgrade_takes_effect_at_the_period_end_and_is_charged_as_previewed(
    session, make, parent
):
    # A lower price of the same cycle (an upgrade is charged at once: the tests below).
    subscription = start(session, make.price(amount="300.00"), parent)
    basic = make.price(make.plan(features={"favorites": None}), amount="200.00")
    subscriber = Subscriber(user_id=parent.id)

    shown = preview_change(session, subscriber, subscription, basic.id, today=TODAY)
    assert shown.takes_effect_on == date(2026, 12, 10)
    assert shown.period_ends_on == date(2027, 1, 10)
    assert shown.charge.gross == Decimal("200.00")
    schedule_change(session, subscriber, subscription, basic.id, parent.id, today=TODAY)
    session.commit()

    assert subscription.scheduled_plan_price_id == basic.id
    assert subscription.plan_price_id != basic.id  # nothing changes before the period ends
    assert count(session, Payment) == 1  # and nothing is charged now

    renew(session, SandboxGateway(), shown.takes_effect_on, now=at(shown.takes_effect_on))

    assert subscription.plan_price_id == basic.id
    assert subscription.subscription_plan_id == basic.subscription_plan_id
    assert subscription.scheduled_plan_price_id is None
    assert subscription.anchor_date == shown.takes_effect_on
    assert subscription.end_date == shown.period_ends_on
    changed = succeeded_payments(session, subscription)[-1]
    assert changed.purpose == "plan_change" and changed.plan_price_id == basic.id
    assert changed.gross_amount == shown.charge.gross
    assert changed.charged_period == shown.takes_effect_on


def test_the_same_price_is_not_a_change(session, make, parent):
    price = make.price()
    subscription = start(session, price, parent)

    with pytest.raises(SubscriptionError) as refused:
        preview_change(session, Subscriber(user_id=parent.id), subscription, price.id, today=TODAY)

    assert refused.value.code == "same_price"


def test_a_change_to_another_audiences_price_is_unavailable(session, make, parent):
    subscription = start(session, make.price(), parent)
    for_companies = make.price(make.plan(audience="companies"))

    with pytest.raises(SubscriptionError) as refused:
        preview_change(
            session, Subscriber(user_id=parent.id), subscription, for_companies.id, today=TODAY
        )

    assert refused.value.code == "price_unavailable"


def test_a_lifetime_subscription_cannot_be_changed_paused_or_cancelled_at_period_end(
    session, make, parent
):
    subscription = start(session, make.price(billing_cycle="lifetime", amount="2499.00"), parent)
    other = make.price(make.plan(), billing_cycle="yearly")
    assert subscription.end_date is None and subscription.next_billing_date is None

    for step in (
        lambda: preview_change(
            session, Subscriber(user_id=parent.id), subscription, other.id, today=TODAY
        ),
        lambda: pause(
            session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30)
        ),
        lambda: cancel_at_period_end(session, subscription, parent.id),
    ):
        with pytest.raises(SubscriptionError) as refused:
            step()
        assert refused.value.code == "not_allowed_now"


def test_scheduling_a_change_takes_back_a_cancellation_and_cancelling_it_keeps_the_old_price(
    session, make, parent
):
    price = make.price(amount="100.00")
    subscription = start(session, price, parent)
    yearly = make.price(make.plan(), billing_cycle="yearly", amount="900.00")
    subscriber = Subscriber(user_id=parent.id)
    cancel_at_period_end(session, subscription, parent.id)

    schedule_change(session, subscriber, subscription, yearly.id, parent.id, today=TODAY)
    assert subscription.cancel_at_period_end is False and subscription.auto_renew is True
    cancel_change(session, subscription, parent.id)
    session.commit()
    with pytest.raises(SubscriptionError):
        cancel_change(session, subscription, parent.id)

    renew(session, SandboxGateway(), date(2026, 12, 10), now=at(date(2026, 12, 10)))
    assert subscription.plan_price_id == price.id and subscription.billing_cycle == "monthly"
    renewal = succeeded_payments(session, subscription)[-1]
    assert renewal.purpose == "renewal" and renewal.gross_amount == Decimal("100.00")


# --- prices change under current subscribers -----------------------------------------------


def test_an_archived_price_keeps_its_amount_for_current_subscribers(session, make, parent):
    plan = make.plan()
    old = make.price(plan, amount="49.90")
    subscription = start(session, old, parent)
    old.status, old.archived_at = "archived", utcnow()
    new = make.price(plan, amount="69.90")
    session.commit()

    renew(session, SandboxGateway(), date(2026, 12, 10), now=at(date(2026, 12, 10)))

    renewal = succeeded_payments(session, subscription)[-1]
    assert renewal.charged_period == date(2026, 12, 10)
    assert renewal.gross_amount == Decimal("49.90")
    assert subscription.plan_price_id == old.id
    # Newcomers pay the new price and cannot buy the archived one.
    newcomer = make.user()
    with pytest.raises(SubscriptionError):
        start(session, old, newcomer)
    assert succeeded_payments(session, start(session, new, newcomer))[0].gross_amount == (
        Decimal("69.90")
    )


def test_resuming_after_the_price_was_archived_charges_the_amount_bought(session, make, parent):
    plan = make.plan()
    old = make.price(plan, amount="49.90")
    subscription = start(session, old, parent)
    pause(session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30))
    old.status = "archived"
    make.price(plan, amount="69.90")

    shown = resume_preview(subscription, date(2027, 2, 1))
    resume(session, SandboxGateway(), subscription, date(2027, 2, 1), parent.id)

    assert shown.charge.gross == Decimal("49.90")
    assert succeeded_payments(session, subscription)[-1].gross_amount == Decimal("49.90")


@pytest.mark.skipif(
    dbutil.dialect() == "sqlite", reason="SQLite has one writer: checkouts cannot overlap"
)
@pytest.mark.parametrize("same_key", [True, False], ids=["double click", "two tabs"])
def test_two_checkouts_at_once_give_one_subscription_and_one_charge(
    app, session, make, parent, same_key
):
    price = make.price()
    session.commit()
    parent_id, price_id = parent.id, price.id
    keys = iter(["one-form"] * 2 if same_key else ["first-tab", "second-tab"])

    def checkout():
        key = next(keys)
        # A request reads before it subscribes: the signed-in user, the current subscription.
        db.session.get(type(parent), parent_id)
        current_subscription(db.session, Subscriber(user_id=parent_id))
        return subscribe(
            db.session,
            SandboxGateway(),
            Subscriber(user_id=parent_id),
            price_id,
            card(),
            idempotency_key=key,
            today=TODAY,
            actor_user_id=parent_id,
        ).id

    results = in_parallel(app, checkout, times=2)
    session.commit()  # end this session's snapshot (MariaDB: REPEATABLE READ)

    subscription_id = session.scalar(select(UserSubscription.id))
    outcomes = [getattr(r, "code", r) for r in results]
    if same_key:  # the second request gets the first one's subscription back
        assert outcomes == [subscription_id, subscription_id], results
    else:  # the second tab is refused, and told to change the subscription instead
        assert sorted(outcomes, key=str) == [subscription_id, "already_subscribed"], results
    assert count(session, UserSubscription) == 1
    assert count(session, Payment) == 1
    assert count(session, UserPaymentCard) == 1


# --- what may be done now ------------------------------------------------------------------

A = Action
# (the subscription's state, what may be done to it); `scheduled` adds a planned change.
STATES = [
    ({"status": "trial"}, {A.CANCEL_AT_PERIOD_END, A.CHANGE, A.CANCEL_NOW}),
    ({"status": "active"}, {A.CANCEL_AT_PERIOD_END, A.PAUSE, A.CHANGE, A.CANCEL_NOW}),
    (
        {"status": "active", "cancel_at_period_end": True},
        {A.UNDO_CANCEL, A.PAUSE, A.CHANGE, A.CANCEL_NOW},
    ),
    (
        {"status": "active", "scheduled": True},
        {A.CANCEL_AT_PERIOD_END, A.PAUSE, A.CHANGE, A.CANCEL_CHANGE, A.CANCEL_NOW},
    ),
    # Retrying a failed charge: no pause and no new price in between.
    ({"status": "active", "retry_count": 1}, {A.CANCEL_AT_PERIOD_END, A.CANCEL_NOW}),
    ({"status": "trial", "retry_count": 2}, {A.CANCEL_AT_PERIOD_END, A.CANCEL_NOW}),
    ({"status": "active", "billing_cycle": "lifetime"}, {A.CANCEL_NOW}),
    ({"status": "paused"}, {A.RESUME, A.CANCEL_NOW}),
    ({"status": "paused", "scheduled": True}, {A.RESUME, A.CANCEL_CHANGE, A.CANCEL_NOW}),
    ({"status": "cancelled"}, set()),
    ({"status": "expired", "scheduled": True}, set()),
]


def in_state(session, make, parent, status, billing_cycle="monthly", scheduled=False, **values):
    """A parent's subscription in `status`, its paid period running until Dec 1, 2026."""
    price = make.price(billing_cycle=billing_cycle)
    other = make.price(make.plan(), billing_cycle="yearly")
    renewable = billing_cycle != "lifetime"
    return make.subscription(
        price,
        user=parent,
        status=status,
        end_date=date(2026, 12, 1) if renewable else None,
        next_billing_date=date(2026, 12, 1) if renewable and status != "paused" else None,
        scheduled_plan_price_id=other.id if scheduled else None,
        **values,
    ), other


@pytest.mark.parametrize(("state", "expected"), STATES)
def test_allowed_actions_follow_the_state(session, make, parent, state, expected):
    subscription, _other = in_state(session, make, parent, **state)

    assert allowed_actions(subscription) == expected
    assert isinstance(allowed_actions(subscription), frozenset)


@pytest.mark.parametrize(("state", "expected"), STATES)
def test_each_step_is_taken_exactly_when_allowed_actions_lists_it(
    session, make, parent, state, expected
):
    steps = {
        A.CANCEL_AT_PERIOD_END: lambda s, _: cancel_at_period_end(session, s, parent.id),
        A.UNDO_CANCEL: lambda s, _: undo_cancel(session, s, parent.id),
        A.PAUSE: lambda s, _: pause(
            session, s, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30)
        ),
        # Within the paid period, so resuming charges nothing and needs no card.
        A.RESUME: lambda s, _: resume(session, SandboxGateway(), s, TODAY, parent.id),
        A.CHANGE: lambda s, other: preview_change(
            session, Subscriber(user_id=parent.id), s, other.id, today=TODAY
        ),
        A.CANCEL_CHANGE: lambda s, _: cancel_change(session, s, parent.id),
        A.CANCEL_NOW: lambda s, _: cancel_now(session, s, parent.id, now=at(TODAY)),
    }
    assert set(steps) == set(Action)

    taken = set()
    for action, step in steps.items():
        subscription, other = in_state(session, make, parent, **state)
        try:
            step(subscription, other)
        except SubscriptionError as refused:
            assert refused.code == "not_allowed_now", action
        else:
            taken.add(action)

    assert taken == expected


def test_a_step_not_allowed_changes_nothing_and_logs_nothing(session, make, parent):
    subscription, _other = in_state(session, make, parent, "paused")
    session.commit()
    before = count(session, UserLog)

    for step in (
        lambda: pause(
            session, subscription, parent.id, now=at(TODAY), until=TODAY + timedelta(days=30)
        ),
        lambda: cancel_at_period_end(session, subscription, parent.id),
        lambda: cancel_change(session, subscription, parent.id),
    ):
        with pytest.raises(SubscriptionError):
            step()

    assert subscription.status == "paused" and subscription.paused_at is None
    assert not subscription.cancel_at_period_end
    assert count(session, UserLog) == before
