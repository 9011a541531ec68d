"""A pause with an end: the subscriber picks the day renewals resume (at most
PAUSE_MAX_MONTHS ahead), and the renewal job resumes the subscription by itself on that day;
the page says how a pause differs from cancelling at the end of the period."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.billing.cards import store_card
from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.renewals import renew
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import (
    PAUSE_MAX_MONTHS,
    SubscriptionError,
    latest_pause_end,
    pause,
    resume,
    subscribe,
)
from portal.clock import istanbul_today
from portal.models import Payment, UserLog
from tests.billing.helpers import (
    PAGE,
    assert_valid_fragment,
    fragment_text,
    long_date,
    page,
    subscriptions_of,
    text,
)
from tests.billing.helpers import at as at_nine
from tests.helpers import HTMX, post
from tests.test_html import assert_valid_html

BOUGHT = date(2026, 11, 10)  # a monthly period: Nov 10 – Dec 10
POOR_CARD = "4000000000009995"  # saved, every charge fails: insufficient_funds


def saved(number="4242424242424242"):
    details = CardDetails(number=number, exp_month=12, exp_year=2035, cvc="918")
    return SandboxGateway().save_card(details, date(2026, 1, 1))


def start(session, make, today=BOUGHT):
    user = make.user("parent")
    subscription = subscribe(
        session,
        SandboxGateway(),
        Subscriber(user_id=user.id),
        make.price(amount="100.00").id,
        saved(),
        idempotency_key=uuid.uuid4().hex,
        today=today,
        actor_user_id=user.id,
    )
    session.commit()
    return subscription


def pause_on(session, subscription, day, until):
    pause(session, subscription, subscription.user_id, now=at_nine(day), until=until)
    session.commit()


def run(session, day):
    return renew(session, SandboxGateway(), day, now=at_nine(day, 3))


def charges(session, subscription, status="succeeded"):
    session.expire_all()
    return session.scalars(
        select(Payment)
        .where(Payment.user_subscription_id == subscription.id, Payment.status == status)
        .order_by(Payment.id)
    ).all()


# --- the day chosen ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "latest"),
    [
        (date(2026, 11, 10), date(2027, 2, 10)),
        (date(2026, 11, 30), date(2027, 2, 28)),  # clamped to February's end
        (date(2027, 11, 30), date(2028, 2, 29)),  # in a leap year
    ],
)
def test_a_pause_may_last_three_calendar_months(today, latest):
    assert PAUSE_MAX_MONTHS == 3
    assert latest_pause_end(today) == latest


@pytest.mark.parametrize(
    ("until", "code"),
    [
        (BOUGHT, "pause_until_not_after_today"),
        (BOUGHT - timedelta(days=1), "pause_until_not_after_today"),
        (date(2027, 2, 11), "pause_until_too_far"),
    ],
)
def test_a_pause_ending_today_before_or_too_far_is_refused(session, make, until, code):
    subscription = start(session, make)

    with pytest.raises(SubscriptionError) as refused:
        pause_on(session, subscription, BOUGHT, until)

    assert refused.value.code == code
    assert subscription.status == "active" and subscription.pause_until is None


@pytest.mark.parametrize("until", [BOUGHT + timedelta(days=1), date(2027, 2, 10)])
def test_a_pause_from_tomorrow_to_three_months_ahead_is_taken(session, make, until):
    subscription = start(session, make)

    pause_on(session, subscription, BOUGHT, until)

    assert subscription.status == "paused" and subscription.pause_until == until
    assert subscription.next_billing_date is None
    (log,) = session.scalars(select(UserLog).where(UserLog.event == "subscription_paused"))
    assert log.data["until"] == until.isoformat()


# --- the renewal job resumes it ------------------------------------------------------------


def test_a_pause_ending_within_the_paid_period_resumes_then_renews_as_before(session, make):
    subscription = start(session, make)
    pause_on(session, subscription, date(2026, 11, 12), date(2026, 11, 30))

    before = run(session, date(2026, 11, 29))
    on_the_day = run(session, date(2026, 11, 30))

    assert before.resumed == 0 and on_the_day.resumed == 1
    assert on_the_day.charged == 0  # the period is paid until Dec 10
    assert subscription.status == "active" and subscription.pause_until is None
    assert subscription.paused_at is None
    assert subscription.next_billing_date == subscription.end_date == date(2026, 12, 10)
    renewed = run(session, date(2026, 12, 10))
    assert renewed.charged == 1
    assert [p.charged_period for p in charges(session, subscription)] == [
        BOUGHT,
        date(2026, 12, 10),
    ]


def test_a_pause_past_the_paid_period_starts_a_new_period_on_its_end_day(session, make):
    subscription = start(session, make)
    pause_on(session, subscription, date(2026, 11, 20), date(2027, 1, 15))

    at_period_end = run(session, date(2026, 12, 10))
    the_day_before = run(session, date(2027, 1, 14))
    on_the_day = run(session, date(2027, 1, 15))

    assert at_period_end.charged == the_day_before.charged == 0
    assert subscription.status == "active"
    assert on_the_day.resumed == 1 and on_the_day.charged == 1
    resumed = charges(session, subscription)[-1]
    assert resumed.purpose == "renewal" and resumed.charged_period == date(2027, 1, 15)
    assert resumed.gross_amount == Decimal("100.00")
    assert subscription.anchor_date == date(2027, 1, 15) and subscription.period_index == 0
    assert subscription.end_date == subscription.next_billing_date == date(2027, 2, 15)
    (log,) = session.scalars(select(UserLog).where(UserLog.event == "subscription_resumed")).all()
    assert log.user_id == subscription.user_id
    assert log.data["by"] == "renewal_job" and log.data["paused_until"] == "2027-01-15"


def test_a_late_run_resumes_as_of_the_pauses_end_day(session, make):
    subscription = start(session, make)
    pause_on(session, subscription, date(2026, 11, 20), date(2027, 1, 15))

    report = run(session, date(2027, 1, 18))  # cron did not run for three days

    assert report.resumed == 1 and report.charged == 1
    assert charges(session, subscription)[-1].charged_period == date(2027, 1, 15)
    assert subscription.end_date == date(2027, 2, 15)


def test_a_resumed_subscription_whose_charge_fails_is_retried_like_a_renewal(session, make):
    subscription = start(session, make)
    poor = store_card(session, Subscriber.of(subscription), saved(POOR_CARD))
    subscription.user_payment_card_id = poor.id
    session.commit()
    pause_on(session, subscription, date(2026, 11, 20), date(2027, 1, 15))

    report = run(session, date(2027, 1, 15))

    assert report.resumed == 1 and report.failed == 1
    assert subscription.status == "active" and subscription.retry_count == 1
    assert subscription.next_billing_date == date(2027, 1, 16)
    assert len(charges(session, subscription, status="failed")) == 1


def test_a_second_run_on_the_same_day_resumes_and_charges_nothing_more(session, make):
    subscription = start(session, make)
    pause_on(session, subscription, date(2026, 11, 20), date(2027, 1, 15))
    run(session, date(2027, 1, 15))

    again = run(session, date(2027, 1, 15))

    assert again.resumed == again.charged == 0
    assert len(charges(session, subscription)) == 2


def test_resumed_by_hand_before_its_end_the_job_leaves_it_alone(session, make):
    subscription = start(session, make)
    pause_on(session, subscription, date(2026, 11, 20), date(2026, 12, 1))
    resume(session, SandboxGateway(), subscription, date(2026, 11, 25), subscription.user_id)
    session.commit()

    report = run(session, date(2026, 12, 1))

    assert subscription.pause_until is None and report.resumed == 0
    assert subscription.next_billing_date == date(2026, 12, 10)


def test_the_cli_command_says_how_many_it_resumed(runner, session, make):
    subscription = start(session, make)
    pause_on(session, subscription, date(2026, 11, 20), date(2026, 12, 1))

    result = runner.invoke(args=["billing", "renew", "--date", "2026-12-01"])

    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 expired, 1 resumed.")
    session.expire_all()
    assert subscription.status == "active"


# --- the page ------------------------------------------------------------------------------


def test_the_page_says_how_a_pause_differs_from_cancelling_and_asks_for_its_end(
    client, signed_in, english, subscribed
):
    today = istanbul_today()
    ends = subscribed.end_date

    html = page(client)

    shown = text(html)
    assert "Pause or cancel?" in shown
    assert (
        f"Both stop the next renewal, and the plan stays in force until {long_date(ends)}." in shown
    )
    assert "A pause has an end: on the day you choose, renewals resume by themselves" in shown
    assert (
        f"Cancelling at the end of the period ends the subscription for good on "
        f"{long_date(ends)}, unless you undo it before."
    ) in shown
    latest = latest_pause_end(today)
    assert f"At most 3 months ahead: {long_date(latest)} at the latest." in shown
    assert f'min="{(today + timedelta(days=1)).isoformat()}"' in html
    assert f'max="{latest.isoformat()}"' in html
    assert 'type="date"' in html
    assert_valid_html(html, "subscription page with the pause form")


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("", "Choose the day renewals resume."),
        ("2026-02-30", "Not a valid date value."),
        ("today", "Choose a day after today."),
        ("too far", "A pause can last at most 3 months: choose {latest} or an earlier day."),
    ],
)
def test_a_wrong_day_comes_back_next_to_the_field_and_pauses_nothing(
    client, session, signed_in, english, subscribed, until, message
):
    today = istanbul_today()
    latest = latest_pause_end(today)
    value = {
        "today": today.isoformat(),
        "too far": (latest + timedelta(days=1)).isoformat(),
    }.get(until, until)
    expected = message.format(latest=long_date(latest))

    plain = post(client, "/subscription/pause", until=value)
    swapped = post(client, "/subscription/pause", until=value, headers=HTMX)

    assert plain.status_code == 422 and swapped.status_code == 422
    html = plain.get_data(as_text=True)
    assert f'<p class="error" id="until-error">{expected}</p>' in html
    assert 'aria-invalid="true"' in html
    assert_valid_html(html, "pause refused")
    fragment = swapped.get_data(as_text=True)
    assert_valid_fragment(fragment)
    assert expected in fragment_text(fragment)
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active" and subscription.pause_until is None


def test_pausing_with_htmx_answers_with_the_panel_saying_when_it_resumes(
    client, session, signed_in, english, subscribed
):
    until = istanbul_today() + timedelta(days=40)

    response = post(client, "/subscription/pause", until=until.isoformat(), headers=HTMX)

    assert response.status_code == 200
    panel = fragment_text(response.get_data(as_text=True))
    assert f"Renewals resume by themselves on {long_date(until)}." in panel
    assert f"Paused until {long_date(until)}" in panel
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "paused" and subscription.pause_until == until


def test_a_pause_without_the_csrf_token_pauses_nothing(client, session, signed_in, subscribed):
    until = istanbul_today() + timedelta(days=10)

    response = client.post("/subscription/pause", data={"until": until.isoformat()})

    assert response.status_code == 400
    assert subscriptions_of(session, signed_in)[0].status == "active"
    assert client.get(PAGE).status_code == 200
