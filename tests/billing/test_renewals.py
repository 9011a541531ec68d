"""The renewal run: calendar-correct periods through real runs, trials ending, retries and
expiry, cancellations and plan changes taking effect, catch-up, repeated and parallel runs, and
the `flask billing renew` command."""

import uuid
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from portal.billing.cards import store_card
from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.renewals import RETRY_AFTER_DAYS, RenewalReport, renew
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import cancel_at_period_end, schedule_change, subscribe
from portal.clock import istanbul_today
from portal.extensions import db
from portal.models import Payment, UserPaymentCard, UserSubscription
from tests import dbutil
from tests.billing.helpers import at
from tests.helpers import in_parallel

GOOD_CARD = "4242424242424242"
POOR_CARD = "4000000000009995"  # saved, every charge fails: insufficient_funds
FAILING_CARD = "4000000000000341"  # saved, every charge fails: card_declined


def card(number=GOOD_CARD):
    return CardDetails(number=number, exp_month=12, exp_year=2035, cvc="918")


def start(session, make, price, today, number=GOOD_CARD, user=None):
    """A parent subscribes through checkout's own function; committed, as checkout does."""
    user = user or make.user()
    subscription = subscribe(
        session,
        SandboxGateway(),
        Subscriber(user_id=user.id),
        price.id,
        SandboxGateway().save_card(card(number), today),
        idempotency_key=uuid.uuid4().hex,
        today=today,
        actor_user_id=user.id,
    )
    session.commit()
    return subscription


def run(session, day, batch_size=1000) -> RenewalReport:
    """The daily run for `day`, started at 03:00 in Istanbul that day, as cron would."""
    return renew(session, SandboxGateway(), day, batch_size=batch_size, now=at(day, 3))


def days(first, last):
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def run_daily(session, first, last) -> dict[date, RenewalReport]:
    """Cron, once a day from `first` to `last`."""
    return {day: run(session, day) for day in days(first, last)}


def payments(session, subscription, status="succeeded"):
    return session.scalars(
        select(Payment)
        .where(Payment.user_subscription_id == subscription.id, Payment.status == status)
        .order_by(Payment.id)
    ).all()


def charged_periods(session, subscription):
    return [p.charged_period for p in payments(session, subscription)]


def use_card(session, subscription, number):
    """The parent saved another card, which renewals charge from now on."""
    saved = SandboxGateway().save_card(card(number), date(2026, 1, 1))
    row = store_card(session, Subscriber(user_id=subscription.user_id), saved)
    subscription.user_payment_card_id = row.id
    session.commit()


# --- periods through real runs -------------------------------------------------------------


def test_monthly_anchor_on_31st_clamps_then_recovers_through_daily_runs(session, make):
    subscription = start(session, make, make.price(), date(2027, 1, 31))

    reports = run_daily(session, date(2027, 2, 1), date(2027, 5, 1))

    assert [day for day, report in reports.items() if report.charged] == [
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert charged_periods(session, subscription) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert subscription.anchor_date == date(2027, 1, 31) and subscription.period_index == 3
    assert subscription.end_date == subscription.next_billing_date == date(2027, 5, 31)


def test_monthly_anchor_on_31st_is_charged_on_29_february_in_a_leap_year(session, make):
    subscription = start(session, make, make.price(), date(2028, 1, 31))

    reports = run_daily(session, date(2028, 2, 1), date(2028, 4, 1))

    assert [day for day, report in reports.items() if report.charged] == [
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]
    assert subscription.end_date == date(2028, 4, 30)


def test_yearly_anchor_on_29_february_renews_on_28_february_until_the_next_leap_year(session, make):
    subscription = start(
        session, make, make.price(billing_cycle="yearly", amount="900.00"), date(2028, 2, 29)
    )

    charged_on = []
    for year in (2029, 2030, 2031, 2032):
        for day in days(date(year, 2, 25), date(year, 3, 2)):
            if run(session, day).charged:
                charged_on.append(day)

    assert charged_on == [
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
    ]
    assert subscription.end_date == date(2033, 2, 28)


def test_a_lifetime_subscription_is_never_renewed(session, make):
    subscription = start(
        session, make, make.price(billing_cycle="lifetime", amount="2499.00"), date(2026, 11, 10)
    )

    reports = [run(session, day) for day in (date(2026, 12, 10), date(2027, 11, 10))]
    reports.append(run(session, date(2046, 1, 1)))

    assert reports == [RenewalReport(report.business_date) for report in reports]
    assert subscription.status == "active"
    assert subscription.end_date is None and subscription.next_billing_date is None
    assert len(payments(session, subscription)) == 1


# --- trials, failures, retries -------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "failure_code"),
    [(POOR_CARD, "insufficient_funds"), (FAILING_CARD, "card_declined")],
)
def test_a_trial_whose_charge_keeps_failing_is_retried_on_schedule_then_expires(
    session, make, number, failure_code
):
    price = make.price(amount="49.90", trial_days=7)
    subscription = start(session, make, price, date(2026, 11, 10), number=number)
    trial_end = date(2026, 11, 17)
    attempt_days = [trial_end] + [trial_end + timedelta(d) for d in RETRY_AFTER_DAYS]

    states = {}
    reports = {}
    for day in days(date(2026, 11, 10), attempt_days[-1] + timedelta(30)):
        reports[day] = run(session, day)
        states[day] = (subscription.status, subscription.retry_count)

    assert [day for day, report in reports.items() if report.failed] == attempt_days
    assert [day for day, report in reports.items() if report.expired] == [attempt_days[-1]]
    # While retries run it stays a trial (its plan keeps working); then it expires.
    assert states[trial_end] == ("trial", 1)
    assert states[attempt_days[-2]] == ("trial", len(RETRY_AFTER_DAYS))
    assert subscription.status == "expired" and subscription.next_billing_date is None
    failed = payments(session, subscription, status="failed")
    assert len(failed) == len(attempt_days)
    assert {p.failure_code for p in failed} == {failure_code}
    assert {p.purpose for p in failed} == {"trial_end"}
    assert {p.gross_amount for p in failed} == {Decimal("49.90")}
    assert {p.charged_period for p in failed} == {None}
    assert len({p.idempotency_key for p in failed}) == len(attempt_days)
    assert payments(session, subscription) == []


def test_after_a_failed_charge_the_next_attempt_is_the_first_retry_date(session, make):
    subscription = start(session, make, make.price(trial_days=7), date(2026, 11, 10), POOR_CARD)

    run(session, date(2026, 11, 17))

    assert subscription.retry_count == 1
    assert subscription.next_billing_date == date(2026, 11, 17) + timedelta(RETRY_AFTER_DAYS[0])
    assert subscription.end_date == date(2026, 11, 17)  # the unpaid period still starts here


@pytest.mark.parametrize(
    ("trial_days", "purpose"), [(7, "trial_end"), (0, "renewal")], ids=["trial", "active"]
)
def test_a_retry_that_succeeds_makes_it_active_and_keeps_the_anchor(
    session, make, trial_days, purpose
):
    price = make.price(trial_days=trial_days)
    subscription = start(session, make, price, date(2026, 11, 10))
    due = subscription.end_date
    use_card(session, subscription, FAILING_CARD)
    first = run(session, due)
    assert first.failed == 1 and subscription.retry_count == 1

    use_card(session, subscription, GOOD_CARD)
    second = run(session, subscription.next_billing_date)

    assert second.charged == 1 and second.trials_converted == (1 if trial_days else 0)
    assert subscription.status == "active" and subscription.retry_count == 0
    assert subscription.anchor_date == (due if trial_days else date(2026, 11, 10))
    paid = payments(session, subscription)[-1]
    assert paid.purpose == purpose and paid.charged_period == due
    # The next period starts a month after the due date, not after the day it was paid.
    assert subscription.end_date == subscription.next_billing_date == due + relativedelta(months=1)
    assert subscription.last_payment_date == due + timedelta(RETRY_AFTER_DAYS[0])


def test_a_trial_ending_with_a_good_card_is_charged_and_becomes_active(session, make):
    price = make.price(amount="49.90", trial_days=7)
    subscription = start(session, make, price, date(2026, 11, 10))

    before = run(session, date(2026, 11, 16))
    report = run(session, date(2026, 11, 17))

    # The day before, only the reminder that the trial ends (tests/billing/test_notices.py).
    assert before == RenewalReport(date(2026, 11, 16), notices=1)
    assert report.charged == report.trials_converted == 1
    (paid,) = payments(session, subscription)
    assert paid.purpose == "trial_end" and paid.charged_period == date(2026, 11, 17)
    assert (paid.net_amount, paid.kdv_amount, paid.gross_amount) == (
        Decimal("41.58"),
        Decimal("8.32"),
        Decimal("49.90"),
    )
    assert subscription.status == "active"
    assert subscription.end_date == subscription.next_billing_date == date(2026, 12, 17)


def test_a_removed_card_fails_the_renewal_with_no_saved_card(session, make):
    subscription = start(session, make, make.price(), date(2026, 11, 10))
    session.get(UserPaymentCard, subscription.user_payment_card_id).soft_delete()
    session.commit()

    report = run(session, date(2026, 12, 10))

    assert report.failed == 1
    (failed,) = payments(session, subscription, status="failed")
    assert failed.failure_code == "no_saved_card" and failed.card_last4 is None
    assert subscription.retry_count == 1


# --- cancellations and changes taking effect -----------------------------------------------


@pytest.mark.parametrize("trial_days", [0, 7], ids=["active", "trial"])
def test_cancel_at_period_end_ends_it_then_without_a_charge(session, make, trial_days):
    subscription = start(session, make, make.price(trial_days=trial_days), date(2026, 11, 10))
    ends_on = subscription.end_date
    cancel_at_period_end(session, subscription, subscription.user_id)
    session.commit()
    paid_before = len(payments(session, subscription))

    day_before = run(session, ends_on - timedelta(1))
    assert day_before == RenewalReport(ends_on - timedelta(1))
    assert subscription.status == ("trial" if trial_days else "active")
    report = run(session, ends_on)
    later = run(session, ends_on + timedelta(40))

    assert report.ended == 1 and report.charged == 0
    assert later == RenewalReport(ends_on + timedelta(40))
    assert subscription.status == "cancelled" and subscription.cancelled_at == at(ends_on, 3)
    assert subscription.next_billing_date is None
    assert len(payments(session, subscription)) == paid_before
    assert payments(session, subscription, status="failed") == []


def test_a_scheduled_change_is_charged_at_the_new_price_and_anchored_at_the_change(session, make):
    subscription = start(session, make, make.price(amount="100.00"), date(2026, 11, 10))
    yearly = make.price(make.plan(), billing_cycle="yearly", amount="900.00", kdv_included=False)
    schedule_change(
        session,
        Subscriber(user_id=subscription.user_id),
        subscription,
        yearly.id,
        subscription.user_id,
        today=date(2026, 11, 10),
    )
    session.commit()

    report = run(session, date(2026, 12, 10))

    assert report.changed == 1 and report.charged == 1
    changed = payments(session, subscription)[-1]
    assert changed.purpose == "plan_change"
    assert changed.plan_price_id == yearly.id
    assert changed.charged_period == date(2026, 12, 10)
    assert (changed.net_amount, changed.kdv_amount, changed.gross_amount) == (
        Decimal("900.00"),
        Decimal("180.00"),
        Decimal("1080.00"),
    )
    assert subscription.plan_price_id == yearly.id and subscription.billing_cycle == "yearly"
    assert subscription.scheduled_plan_price_id is None
    assert subscription.anchor_date == date(2026, 12, 10) and subscription.period_index == 0
    assert subscription.end_date == subscription.next_billing_date == date(2027, 12, 10)

    run(session, date(2027, 12, 10))
    renewal = payments(session, subscription)[-1]
    assert renewal.purpose == "renewal" and renewal.gross_amount == Decimal("1080.00")


def test_a_change_whose_charge_fails_keeps_the_paid_plan_until_a_retry_pays_for_it(session, make):
    monthly = make.price(amount="100.00")
    subscription = start(session, make, monthly, date(2026, 11, 10))
    yearly = make.price(make.plan(), billing_cycle="yearly", amount="900.00")
    schedule_change(
        session,
        Subscriber(user_id=subscription.user_id),
        subscription,
        yearly.id,
        subscription.user_id,
        today=date(2026, 11, 10),
    )
    session.commit()
    use_card(session, subscription, FAILING_CARD)

    report = run(session, date(2026, 12, 10))

    assert report.failed == 1 and report.changed == 0
    (failed,) = payments(session, subscription, status="failed")
    assert failed.purpose == "plan_change" and failed.plan_price_id == yearly.id
    assert failed.gross_amount == Decimal("900.00")
    assert subscription.plan_price_id == monthly.id and subscription.billing_cycle == "monthly"
    assert subscription.scheduled_plan_price_id == yearly.id
    assert subscription.next_billing_date == date(2026, 12, 11)

    use_card(session, subscription, GOOD_CARD)
    report = run(session, date(2026, 12, 11))

    assert report.changed == 1 and report.charged == 1
    paid = payments(session, subscription)[-1]
    assert paid.purpose == "plan_change" and paid.charged_period == date(2026, 12, 10)
    assert subscription.plan_price_id == yearly.id
    assert subscription.anchor_date == date(2026, 12, 10)
    assert subscription.end_date == date(2027, 12, 10)


def test_a_free_price_renews_without_asking_the_gateway(session, make):
    # The gateway refuses to charge zero; a free price must still renew, not block the run.
    subscription = start(session, make, make.price(amount="0.00"), date(2026, 11, 10))
    (first,) = payments(session, subscription)
    assert first.gross_amount == Decimal("0.00") and first.gateway_reference is None

    report = run(session, date(2026, 12, 10))

    assert report.charged == 1 and report.failed == 0
    assert charged_periods(session, subscription) == [date(2026, 11, 10), date(2026, 12, 10)]
    assert subscription.next_billing_date == date(2027, 1, 10)


# --- repeated, late and parallel runs ------------------------------------------------------


def test_two_runs_for_the_same_date_charge_each_due_period_once(session, make):
    monthly = start(session, make, make.price(), date(2026, 11, 10))
    trial = start(session, make, make.price(trial_days=30), date(2026, 11, 10))
    weekly = start(session, make, make.price(billing_cycle="weekly"), date(2026, 12, 3))
    not_due = start(session, make, make.price(), date(2026, 11, 25))

    first = run(session, date(2026, 12, 10), batch_size=2)
    second = run(session, date(2026, 12, 10), batch_size=2)

    assert (first.charged, first.trials_converted) == (3, 1)
    assert second == RenewalReport(date(2026, 12, 10))
    assert charged_periods(session, monthly) == [date(2026, 11, 10), date(2026, 12, 10)]
    assert charged_periods(session, trial) == [date(2026, 12, 10)]
    assert charged_periods(session, weekly) == [date(2026, 12, 3), date(2026, 12, 10)]
    assert charged_periods(session, not_due) == [date(2026, 11, 25)]


@pytest.mark.parametrize(
    ("cycle", "late_run", "periods"),
    [
        ("monthly", date(2027, 1, 20), [date(2026, 11, 10), date(2026, 12, 10), date(2027, 1, 10)]),
        ("daily", date(2026, 11, 13), [date(2026, 11, 10) + timedelta(n) for n in range(4)]),
    ],
)
def test_a_late_run_charges_each_missed_period_once(session, make, cycle, late_run, periods):
    subscription = start(session, make, make.price(billing_cycle=cycle), date(2026, 11, 10))

    report = run(session, late_run)

    assert report.charged == len(periods) - 1
    assert charged_periods(session, subscription) == periods
    assert subscription.end_date > late_run
    # Running the missed dates afterwards, or the late one again, charges nothing more.
    for day in [*periods[1:], late_run]:
        assert run(session, day) == RenewalReport(day)
    assert charged_periods(session, subscription) == periods


def test_a_late_run_stops_at_the_first_failure_and_retries_from_the_due_date(session, make):
    subscription = start(session, make, make.price(), date(2026, 11, 10))
    use_card(session, subscription, POOR_CARD)

    report = run(session, date(2027, 1, 20))

    assert (report.charged, report.failed) == (0, 1)
    assert subscription.retry_count == 1  # one attempt per run, never several at once
    assert subscription.next_billing_date == date(2026, 12, 10) + timedelta(RETRY_AFTER_DAYS[0])


def test_the_cli_command_runs_renewals_for_the_given_date(runner, session, make):
    subscription = start(session, make, make.price(), date(2026, 11, 10))

    result = runner.invoke(args=["billing", "renew", "--date", "2026-12-10"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Renewals for 2026-12-10: 1 charged, 0 failed, 0 trials converted, 0 plan changes, "
        "0 ended, 0 expired, 0 resumed."
    )
    session.expire_all()
    assert charged_periods(session, subscription) == [date(2026, 11, 10), date(2026, 12, 10)]


def test_the_cli_command_defaults_to_today_and_refuses_a_date_that_does_not_exist(
    runner, session, make
):
    today = istanbul_today()
    weekly = make.price(billing_cycle="weekly")
    subscription = start(session, make, weekly, today - timedelta(7))  # due today

    wrong = runner.invoke(args=["billing", "renew", "--date", "2026-02-30"])
    assert wrong.exit_code == 2 and "2026-02-30" in wrong.output
    session.expire_all()
    assert charged_periods(session, subscription) == [today - timedelta(7)]

    result = runner.invoke(args=["billing", "renew"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Renewals for {today.isoformat()}: 1 charged, 0 failed,")
    session.expire_all()
    assert charged_periods(session, subscription) == [today - timedelta(7), today]


@pytest.mark.skipif(
    dbutil.dialect() == "sqlite",
    reason="SQLite has one writer and no row locks: parallel runs are for PostgreSQL and MariaDB",
)
@pytest.mark.parametrize("runs", [2, 4])
def test_parallel_runs_charge_each_due_period_exactly_once(app, session, make, runs):
    due = date(2026, 12, 10)
    price = make.price(amount="49.90")
    subscriptions = []
    for n in range(200):
        subscription = start(session, make, price, date(2026, 11, 10))
        if n % 10 == 0:  # one in ten now has a card whose charges fail: tried once, too
            use_card(session, subscription, FAILING_CARD)
        subscriptions.append(subscription)
    ids = [s.id for s in subscriptions]
    session.commit()  # the threads' own sessions must see every row

    results = in_parallel(
        app,
        lambda: renew(db.session, SandboxGateway(), due, batch_size=7, now=at(due, 3)),
        times=runs,
    )

    assert all(isinstance(r, RenewalReport) for r in results), results
    # They raced: the due set was shared out between runs, not left to the first one.
    assert sum(1 for r in results if r.charged + r.failed) >= 2, results
    assert sum(r.charged for r in results) == 180
    assert sum(r.failed for r in results) == 20
    session.commit()  # end this session's snapshot (MariaDB: REPEATABLE READ)
    charged = Counter(
        session.scalars(
            select(Payment.user_subscription_id).where(
                Payment.status == "succeeded", Payment.charged_period == due
            )
        )
    )
    failed = Counter(
        session.scalars(select(Payment.user_subscription_id).where(Payment.status == "failed"))
    )
    assert set(charged) | set(failed) == set(ids)
    assert set(charged.values()) == {1} and sum(charged.values()) == 180
    assert set(failed.values()) == {1} and sum(failed.values()) == 20
    next_dates = Counter(
        session.scalars(
            select(UserSubscription.next_billing_date).where(UserSubscription.id.in_(ids))
        )
    )
    assert next_dates == {date(2027, 1, 10): 180, due + timedelta(RETRY_AFTER_DAYS[0]): 20}
    assert session.scalar(select(func.count()).select_from(Payment)) == 200 + 200
