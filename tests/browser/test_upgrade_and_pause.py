"""An upgrade mid-year and a pause with an end, in a real browser (JavaScript on and off).

A parent who bought Veli Plus yearly (479,00 ₺) four months ago chooses Veli Premium yearly
(899,00 ₺) from the plans page; the change page shows the prorated difference for the days
left in the year and the date the year ends, and confirming pays exactly that. Then the parent
pauses renewals until a day three weeks ahead, and the renewal job, run in-process for that
business date as cron would, resumes the subscription by itself.

Read in English, as the other billing journeys are; the subscription is arranged through the
domain's own subscribe() with a sandbox card (the checkout has its own journeys), bought
on a day 120 days ago so that the upgrade falls in the middle of its year.
"""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import uuid4

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select

from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.renewals import renew
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import subscribe
from portal.clock import istanbul_today
from portal.models import Payment, UserSubscription
from tests.billing.helpers import at
from tests.browser.conftest import live_data, price_id, settle
from tests.browser.test_billing_journey import fact, lira, sign_in_in_english
from tests.factories import Factories

pytestmark = pytest.mark.browser


def parent_on_plus_yearly(app, bought_on) -> tuple[int, str]:
    """A parent who bought Veli Plus yearly on `bought_on`: (id, e-mail)."""
    with live_data(app) as session:
        user = Factories(session).user("parent", email=f"upgrade-{uuid4().hex[:8]}@example.com")
        session.commit()
        card = SandboxGateway().save_card(
            CardDetails(number="4242424242424242", exp_month=12, exp_year=2035, cvc="123"),
            bought_on,
        )
        subscribe(
            session,
            SandboxGateway(),
            Subscriber(user_id=user.id),
            price_id(app, "veli-plus", "yearly"),
            card,
            idempotency_key=uuid4().hex,
            today=bought_on,
            actor_user_id=user.id,
        )
        session.commit()
        return user.id, user.email


def subscription_of(app, user_id) -> UserSubscription:
    with live_data(app) as session:
        row = session.scalar(select(UserSubscription).where(UserSubscription.user_id == user_id))
        session.expunge_all()
        return row


def payments_of(app, user_id) -> list[Payment]:
    with live_data(app) as session:
        rows = list(
            session.scalars(select(Payment).where(Payment.user_id == user_id).order_by(Payment.id))
        )
        session.expunge_all()
        return rows


def english_lira(amount: Decimal) -> str:
    return lira(f"{amount:,.2f}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_parent_upgrades_mid_year_paying_the_preview_then_pauses_until_a_day(
    new_page, javascript, live_app, assert_accessible
):
    today = istanbul_today()
    bought_on = today - timedelta(days=120)
    user_id, email = parent_on_plus_yearly(live_app, bought_on)
    premium = price_id(live_app, "veli-premium", "yearly")
    before = subscription_of(live_app, user_id)
    year_ends = before.end_date
    # By hand: (899.00 − 479.00) × days left / days in the year, half up to the kuruş.
    left, days = (year_ends - today).days, (year_ends - bought_on).days
    assert left == days - 120 and days in (365, 366)
    due = (Decimal("420.00") * left / days).quantize(Decimal("0.01"), ROUND_HALF_UP)
    page = new_page(javascript=javascript)

    def check_accessible() -> None:
        if javascript:
            settle(page)
            assert_accessible(page)

    sign_in_in_english(page, live_app, email)

    # 1. From the subscription page to the plans, yearly, and Veli Premium's price: a
    #    subscriber is taken to the change page rather than a checkout.
    page.goto("/account/subscription")
    page.get_by_role("link", name="Change plan or billing cycle").click()
    page.wait_for_url(re.compile(r"/plans$"))
    page.get_by_role("radio", name="Yearly").check()
    if not javascript:
        page.get_by_role("button", name="Show prices").click()
    expect(page).to_have_url(re.compile(r"cycle=yearly"))
    page.locator(f'a[href$="/plans/{premium}/checkout"]').click()
    page.wait_for_url(re.compile(rf"/subscription/change/{premium}$"))

    # 2. The preview: the exact amount, the days it pays for, and when the year ends.
    preview = page.locator("#change-preview")
    expect(preview).to_contain_text(f"Charged today: {english_lira(due)}")
    expect(preview).to_contain_text(f"for the {left} of {days} days left in the current period")
    last_day = format_date(year_ends - timedelta(days=1), "long", locale="en")
    expect(preview).to_contain_text(f"which ends on {last_day}")
    expect(preview).to_contain_text(
        f"From {format_date(year_ends, 'long', locale='en')} it renews at {lira('899.00')}"
    )
    button = page.get_by_role("button", name=f"Upgrade and pay {english_lira(due)}")
    expect(button).to_be_visible()
    check_accessible()

    # 3. Confirm: the card is charged exactly what the preview showed, and the parent is on
    #    Premium from today, the year's end unchanged.
    button.click()
    page.wait_for_url(re.compile(r"/account/subscription$"))
    expect(page.locator(".flash-success")).to_contain_text(
        f"{english_lira(due)} was charged for the rest of the period."
    )
    first, upgraded = payments_of(live_app, user_id)
    assert (first.purpose, first.gross_amount) == ("first_charge", Decimal("479.00"))
    assert upgraded.purpose == "plan_change" and upgraded.status == "succeeded"
    assert upgraded.gross_amount == due and upgraded.plan_price_id == premium
    assert upgraded.charged_period == today
    after = subscription_of(live_app, user_id)
    assert after.plan_price_id == premium and after.end_date == year_ends
    expect(fact(page, "Next payment")).to_have_text(format_date(year_ends, "long", locale="en"))
    check_accessible()

    # 4. Pause until a day three weeks ahead: the page says how that differs from cancelling,
    #    and after pausing, when renewals resume.
    until = today + timedelta(days=21)
    pause_section = page.locator("#pause")
    expect(pause_section).to_contain_text("A pause has an end")
    pause_section.get_by_label("Resume renewals on").fill(until.isoformat())
    pause_section.get_by_role("button", name="Pause until this day").click()
    until_text = format_date(until, "long", locale="en")
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"Renewals resume by themselves on {until_text}.")
    expect(fact(page, "Status")).to_have_text("Paused")
    paused = subscription_of(live_app, user_id)
    assert (paused.status, paused.pause_until) == ("paused", until)
    check_accessible()

    # 5. The renewal job on the day before leaves it paused; on the day itself it resumes it,
    #    charging nothing (the year is paid), and the page shows it active again.
    with live_data(live_app) as session:
        assert (
            renew(session, SandboxGateway(), until - timedelta(days=1), now=at(until)).resumed == 0
        )
        assert renew(session, SandboxGateway(), until, now=at(until)).resumed == 1
    page.goto("/account/subscription")
    expect(fact(page, "Status")).to_have_text("Active")
    expect(fact(page, "Next payment")).to_have_text(format_date(year_ends, "long", locale="en"))
    resumed = subscription_of(live_app, user_id)
    assert (resumed.status, resumed.pause_until) == ("active", None)
    assert len(payments_of(live_app, user_id)) == 2
