"""The change page for an upgrade: the exact prorated amount and the dates before confirming,
a confirmation that charges exactly that, a double click that charges once, a preview gone
stale that is shown again, and a refused card that changes nothing.

The amounts' arithmetic is checked on hand-computed cases in test_upgrades.py; here the page
shows what the domain computes, and the payment is what the page showed.
"""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from portal.billing.periods import period_end
from portal.clock import istanbul_today
from portal.models import UserPaymentCard
from tests.billing.helpers import (
    PAGE,
    TL,
    long_date,
    named_plan,
    page,
    payments_of,
    subscriptions_of,
    text,
)
from tests.helpers import HTMX, post
from tests.test_html import assert_valid_html


def hidden(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html).group(0)
    return re.search(r'\bvalue="([^"]*)"', tag).group(1)


def english_money(amount: Decimal) -> str:
    return f"{amount:,.2f}{TL}"


@pytest.fixture
def mid_period(session, subscribed):
    """The parent's monthly subscription (120.00 a month) bought 10 days ago."""
    today = istanbul_today()
    anchor = today - timedelta(days=10)
    subscribed.start_date = subscribed.anchor_date = anchor
    subscribed.end_date = subscribed.next_billing_date = period_end(anchor, "monthly", 0)
    session.commit()
    return subscribed


@pytest.fixture
def premium(make, session, subscribed):
    """Aile Premium at 240.00 a month: an upgrade from Aile Plus's 120.00."""
    price = make.price(named_plan(make, "Aile Premium"), amount="240.00", kdv_included=True)
    session.commit()
    return price


def expected(subscription):
    """120.00 more a month, for the days left of the period (rounded half up once)."""
    today = istanbul_today()
    left = (subscription.end_date - today).days
    days = (subscription.end_date - subscription.anchor_date).days
    gross = (Decimal("120.00") * left / days).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return gross, left, days


def test_an_upgrade_is_previewed_with_its_amount_and_charged_exactly_that(
    client, session, signed_in, english, mid_period, premium
):
    gross, left, days = expected(mid_period)
    net = (gross / Decimal("1.2")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    end = mid_period.end_date

    preview = client.get(f"/subscription/change/{premium.id}")
    html = preview.get_data(as_text=True)
    confirmed = client.post(
        f"/subscription/change/{premium.id}",
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "idempotency_key": hidden(html, "idempotency_key"),
            "shown_amount": hidden(html, "shown_amount"),
        },
    )
    after = page(client)

    assert preview.status_code == 200
    shown = text(html)
    today = istanbul_today()
    assert f"Aile Premium starts today, {long_date(today)}, in place of Aile Plus." in shown
    assert (
        f"Charged today: {english_money(gross)} ({english_money(net)} + "
        f"{english_money(gross - net)} KDV), the difference between the two prices for the "
        f"{left} of {days} days left in the current period, which ends on "
        f"{long_date(end - timedelta(days=1))}."
    ) in shown
    assert f"From {long_date(end)} it renews at 240.00{TL}, billed monthly." in shown
    assert f"Upgrade and pay {english_money(gross)}" in shown
    assert hidden(html, "shown_amount") == f"{gross:.2f}"
    assert_valid_html(html, "upgrade preview")
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == PAGE
    first, upgraded = sorted(payments_of(session, signed_in), key=lambda p: p.id)
    assert upgraded.purpose == "plan_change" and upgraded.status == "succeeded"
    assert upgraded.gross_amount == gross and upgraded.net_amount == net
    assert upgraded.plan_price_id == premium.id and upgraded.charged_period == today
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.plan_price_id == premium.id and subscription.end_date == end
    shown = text(after)
    assert (
        f"Done. You are on Aile Premium from today: {english_money(gross)} was charged for the "
        f"rest of the period. From {long_date(end)} it renews at 240.00{TL}."
    ) in shown
    assert "Aile Premium · Monthly" in shown
    assert_valid_html(after, "subscription page after an upgrade")


def test_an_upgrade_confirmed_twice_charges_once_and_answers_twice_alike(
    client, session, signed_in, english, mid_period, premium
):
    html = client.get(f"/subscription/change/{premium.id}").get_data(as_text=True)
    fields = {
        "csrf_token": hidden(html, "csrf_token"),
        "idempotency_key": hidden(html, "idempotency_key"),
        "shown_amount": hidden(html, "shown_amount"),
    }

    first = client.post(f"/subscription/change/{premium.id}", data=fields)
    first_page = text(page(client))
    second = client.post(f"/subscription/change/{premium.id}", data=fields)
    second_page = text(page(client))

    assert (first.status_code, second.status_code) == (303, 303)
    assert "Done. You are on Aile Premium from today" in first_page
    assert "Done. You are on Aile Premium from today" in second_page
    assert "already on this plan" not in second_page
    upgrades = [p for p in payments_of(session, signed_in) if p.purpose == "plan_change"]
    assert len(upgrades) == 1


def test_a_preview_gone_stale_is_shown_again_with_the_new_amount_and_charges_nothing(
    client, session, signed_in, english, mid_period, premium
):
    gross, _left, _days = expected(mid_period)

    response = post(
        client,
        f"/subscription/change/{premium.id}",
        idempotency_key="0123456789abcdef0123456789abcdef",
        shown_amount="1.00",
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The amount has changed since the page was shown." in text(html)
    assert hidden(html, "shown_amount") == f"{gross:.2f}"
    assert len(payments_of(session, signed_in)) == 1
    assert subscriptions_of(session, signed_in)[0].plan_price_id != premium.id
    assert_valid_html(html, "stale upgrade preview")


@pytest.mark.parametrize("headers", [None, HTMX])
def test_a_refused_upgrade_says_why_next_to_the_button_and_changes_nothing(
    client, session, signed_in, english, mid_period, premium, headers
):
    poor = UserPaymentCard(
        user_id=signed_in.id,
        gateway="sandbox",
        token="sbx_insufficient_funds_0123456789abcdef01234567",
        brand="visa",
        last4="9995",
        exp_month=12,
        exp_year=istanbul_today().year + 2,
    )
    session.add(poor)
    session.flush()
    mid_period.user_payment_card_id = poor.id
    session.commit()
    html = client.get(f"/subscription/change/{premium.id}").get_data(as_text=True)
    key = hidden(html, "idempotency_key")

    response = client.post(
        f"/subscription/change/{premium.id}",
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "idempotency_key": key,
            "shown_amount": hidden(html, "shown_amount"),
        },
        headers=headers,
    )

    assert response.status_code == 422
    answer = response.get_data(as_text=True)
    assert "The card has insufficient funds. Nothing was charged" in text(answer)
    assert hidden(answer, "idempotency_key") != key  # another try is another charge
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.plan_price_id == mid_period.plan_price_id
    (failed,) = [p for p in payments_of(session, signed_in) if p.status == "failed"]
    assert failed.purpose == "plan_change" and failed.charged_period is None


def test_a_downgrade_or_a_cycle_change_still_waits_for_the_period_end(
    client, session, make, signed_in, english, mid_period
):
    cheaper = make.price(named_plan(make, "Aile Mini"), amount="60.00")
    session.commit()

    shown = text(page(client, f"/subscription/change/{cheaper.id}"))

    assert f"You stay on Aile Plus (Monthly) until {long_date(mid_period.end_date)}." in shown
    assert "Nothing is charged today." in shown
    assert "Charged today" not in shown
