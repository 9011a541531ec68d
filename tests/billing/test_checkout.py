"""Checkout: the order with its KDV, paying with a card (plain form and htmx), refusals
that create nothing, idempotency and the CSRF token.

Amounts are checked in the default Turkish locale; words and dates are checked in English,
since the Turkish catalogue gets these strings later.
"""

import re
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.billing.periods import period_end
from portal.clock import istanbul_today
from portal.models import Payment, UserLog, UserPaymentCard, UserSubscription
from tests.billing.helpers import (
    CVC,
    DECLINED_CARD,
    EXPIRED_AT_GATEWAY,
    GOOD_CARD,
    PAGE,
    POOR_CARD,
    TL,
    assert_valid_fragment,
    card_fields,
    checkout_url,
    count,
    fragment_text,
    long_date,
    page,
    pay,
    payments_of,
    staff_signed_in,
    subscriptions_of,
    text,
)
from tests.helpers import HTMX
from tests.test_html import assert_valid_html


def input_value(html: str, name: str) -> str | None:
    """The value attribute of the input named `name` (None when it has none)."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html).group(0)
    value = re.search(r'\bvalue="([^"]*)"', tag)
    return value.group(1) if value else None


def login_next(location: str) -> str | None:
    """Where a redirect to the sign-in page will lead back to (None if it is not one)."""
    parts = urlsplit(location)
    if parts.path != "/auth/login":
        return None
    return parse_qs(parts.query).get("next", [None])[0]


# The checkout page


def test_checkout_shows_net_kdv_and_total_the_turkish_way(client, session, make, signed_in):
    price = make.price(make.plan(), amount="1481.47", kdv_included=True)
    session.commit()

    response = client.get(checkout_url(price))

    html = response.get_data(as_text=True)
    summary = text(html)
    assert response.status_code == 200
    assert f"1.234,56{TL}" in summary  # net: 1481.47 / 1.2, rounded once
    assert f"246,91{TL}" in summary  # KDV 20 %
    assert f"1.481,47{TL}" in summary  # total
    assert "KDV (%20)" in summary  # the Turkish way to write the rate
    assert input_value(html, "number") in (None, "")
    assert re.fullmatch(r"[0-9a-f]{32}", input_value(html, "idempotency_key"))
    assert 'type="password"' in re.search(r'<input[^>]*name="cvc"[^>]*>', html).group(0)
    assert_valid_html(html, "checkout")


def test_checkout_of_a_kdv_excluded_price_adds_kdv_on_top(client, session, make, auth):
    price = make.price(make.plan(audience="companies"), amount="1000.00", kdv_included=False)
    staff_signed_in(make, session, auth, "admin")

    summary = text(page(client, checkout_url(price)))

    assert f"1.000,00{TL}" in summary and f"200,00{TL}" in summary and f"1.200,00{TL}" in summary


def test_checkout_of_a_price_with_trial_days_says_nothing_is_charged_today(
    client, session, make, signed_in, english
):
    price = make.price(make.plan(), amount="60.00", trial_days=14)
    session.commit()
    first_charge = istanbul_today() + timedelta(days=14)

    html = page(client, checkout_url(price))
    summary = text(html)

    assert "Free for 14 days." in summary
    assert "Nothing is charged today" in summary
    assert f"charged 60.00{TL} on {long_date(first_charge)}" in summary
    assert "Start free trial" in summary and "Pay " not in summary
    assert_valid_html(html, "checkout with a trial")


def test_checkout_without_a_trial_says_when_it_renews(client, signed_in, english, monthly):
    renews_on = period_end(istanbul_today(), "monthly", 0)

    summary = text(page(client, checkout_url(monthly)))

    assert "Charged today" in summary and long_date(renews_on) in summary
    assert f"Pay 120.00{TL}" in summary
    assert "Free for" not in summary


def test_a_second_trial_of_the_same_plan_is_not_offered(client, session, make, signed_in, english):
    plan = make.plan()
    price = make.price(plan, trial_days=7)
    make.subscription(
        price,
        user=signed_in,
        status="cancelled",
        anchor_date=date(2026, 1, 8),
        trial_end_date=date(2026, 1, 8),
    )
    session.commit()

    summary = text(page(client, checkout_url(price)))

    assert "Free for" not in summary and "Start free trial" not in summary
    assert "Charged today" in summary


# Paying


def test_paying_with_the_good_card_starts_one_subscription_and_shows_it_with_its_receipt(
    client, session, signed_in, english, monthly
):
    today = istanbul_today()
    next_payment = period_end(today, "monthly", 0)

    response = pay(client, monthly)

    assert response.status_code == 303 and response.headers["Location"] == PAGE
    (subscription,) = subscriptions_of(session, signed_in)
    (payment,) = payments_of(session, signed_in)
    assert subscription.status == "active"
    assert subscription.plan_price_id == monthly.id
    assert subscription.next_billing_date == next_payment
    assert (payment.status, payment.gross_amount) == ("succeeded", Decimal("120.00"))
    assert (payment.net_amount, payment.kdv_amount) == (Decimal("100.00"), Decimal("20.00"))
    assert payment.user_subscription_id == subscription.id
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 1
    html = page(client, response.headers["Location"])
    shown = text(html)
    assert "Thank you. Your subscription has started." in shown
    assert "Aile Plus · Monthly" in shown
    assert f"Next payment {long_date(next_payment)}" in shown
    assert "Visa •••• 4242" in shown
    assert f'href="/payments/{payment.id}/receipt"' in html
    assert "4242424242424242" not in html and GOOD_CARD not in html
    assert_valid_html(html, "subscription page")


def test_the_same_form_posted_twice_charges_once(client, session, signed_in, english, monthly):
    fields = card_fields(client)

    first = client.post(checkout_url(monthly), data=fields)
    second = client.post(checkout_url(monthly), data=fields)

    assert first.status_code == 303 and second.status_code == 303
    # The second answer is the first one's: the parent reads that it started, not a refusal.
    assert second.headers["Location"] == PAGE
    shown = text(page(client))
    assert "Your subscription has started" in shown
    assert "already have a subscription" not in shown
    assert len(subscriptions_of(session, signed_in)) == 1
    assert len(payments_of(session, signed_in)) == 1
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 1


def test_htmx_payment_success_answers_with_a_client_redirect(client, session, signed_in, monthly):
    response = pay(client, monthly, headers=HTMX)

    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == PAGE
    assert len(subscriptions_of(session, signed_in)) == 1


def test_a_declined_card_is_refused_next_to_the_form_and_nothing_is_created(
    client, session, signed_in, english, monthly
):
    fields = card_fields(client, number=DECLINED_CARD)

    response = client.post(checkout_url(monthly), data=fields)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your card was declined. Nothing was charged" in text(html)
    assert 'id="payment-error"' in html
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 0
    new_key = input_value(html, "idempotency_key")
    assert re.fullmatch(r"[0-9a-f]{32}", new_key) and new_key != fields["idempotency_key"]
    assert input_value(html, "number") in (None, "")
    assert input_value(html, "cvc") in (None, "")
    assert "4000000000000002" not in html and CVC not in html
    assert input_value(html, "holder_name") == "Elif Şahin"  # what may be kept, is
    assert_valid_html(html, "checkout refused by the gateway")
    failures = session.scalars(
        select(UserLog).where(UserLog.user_id == signed_in.id, UserLog.event == "payment_failed")
    ).all()
    assert [log.data["failure_code"] for log in failures] == ["card_declined"]


def test_htmx_decline_answers_with_only_the_form_and_its_message(
    client, session, signed_in, english, monthly
):
    response = pay(client, monthly, headers=HTMX, number=DECLINED_CARD)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "HX-Redirect" not in response.headers
    assert html.lstrip().startswith('<form id="checkout-form"')
    assert "Your card was declined" in fragment_text(html)
    assert 'hx-target="this"' in html
    assert "4000000000000002" not in html and CVC not in html
    assert "HX-Request" in response.headers["Vary"]
    assert_valid_fragment(html)
    assert subscriptions_of(session, signed_in) == []


def test_after_a_decline_a_good_card_with_the_new_key_goes_through(
    client, session, signed_in, monthly
):
    refused = pay(client, monthly, number=DECLINED_CARD)
    key = input_value(refused.get_data(as_text=True), "idempotency_key")

    response = pay(client, monthly, idempotency_key=key)

    assert response.status_code == 303
    (payment,) = payments_of(session, signed_in)
    assert payment.idempotency_key == key


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (EXPIRED_AT_GATEWAY, "This card has expired. Nothing was charged"),
        (POOR_CARD, "The card has insufficient funds. Nothing was charged"),
    ],
)
def test_other_gateway_refusals_say_why_and_create_nothing(
    client, session, signed_in, english, monthly, number, message
):
    response = pay(client, monthly, number=number)

    assert response.status_code == 422
    assert message in text(response.get_data(as_text=True))
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"number": "4242 4242 4242 4241"}, "number"),  # the check digit is wrong
        ({"number": "4242"}, "number"),
        ({"number": ""}, "number"),
        ({"cvc": ""}, "cvc"),
        ({"cvc": "12"}, "cvc"),
        ({"cvc": "12a"}, "cvc"),
        ({"holder_name": "   "}, "holder_name"),
        ({"exp_year": "2019"}, "exp_year"),  # not a year on offer
    ],
)
def test_invalid_card_details_are_refused_with_field_errors_and_nothing_is_created(
    client, session, signed_in, monthly, values, field
):
    response = pay(client, monthly, **values)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html
    assert 'aria-invalid="true"' in re.search(rf'<[^>]*\bname="{field}"[^>]*>', html).group(0)
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    assert_valid_html(html, f"checkout with a bad {field}")


def test_a_card_that_expired_last_month_is_refused_by_the_form(
    client, session, signed_in, english, monthly, monkeypatch
):
    # The form's own today, so that "last month" is in a year the form offers whatever
    # month the test runs in.
    monkeypatch.setattr("portal.billing.forms.istanbul_today", lambda: date(2026, 6, 15))

    response = pay(client, monthly, exp_month="05", exp_year="2026")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="exp_year-error"' in html and "This card has expired." in text(html)
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    assert_valid_html(html, "checkout with an expired card")


def test_a_card_that_expires_this_month_still_pays(client, session, signed_in, monthly):
    today = istanbul_today()

    response = pay(client, monthly, exp_month=f"{today.month:02d}", exp_year=str(today.year))

    assert response.status_code == 303
    assert len(subscriptions_of(session, signed_in)) == 1


@pytest.mark.parametrize("key", ["not-a-key", "A" * 32, "0" * 31])
def test_a_tampered_idempotency_key_is_refused(client, session, signed_in, monthly, key):
    response = pay(client, monthly, idempotency_key=key)

    assert response.status_code == 422
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []


@pytest.mark.parametrize(
    "values",
    [
        {"exp_month": None},
        {"exp_month": "13"},
        {"exp_month": "ab"},
        {"exp_year": None},
        {"exp_year": "20x6"},
    ],
)
def test_a_tampered_expiry_is_a_form_error_not_a_server_error(
    client, session, signed_in, monthly, values
):
    response = pay(client, monthly, **values)

    assert response.status_code == 422
    assert subscriptions_of(session, signed_in) == []


def test_a_post_without_the_csrf_token_is_refused_and_charges_nothing(
    client, session, signed_in, monthly
):
    response = client.post(checkout_url(monthly), data=card_fields(client, csrf_token=None))

    assert response.status_code == 400
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, session, monthly):
    url = checkout_url(monthly)

    shown = client.get(url)
    posted = pay(client, monthly)
    htmx = client.get(url, headers=HTMX)
    subscription_page = client.get(PAGE)

    assert shown.status_code == 303 and login_next(shown.headers["Location"]) == url
    assert posted.status_code == 303 and login_next(posted.headers["Location"]) == url
    assert htmx.status_code == 200 and login_next(htmx.headers["HX-Redirect"]) == url
    assert login_next(subscription_page.headers["Location"]) == PAGE
    assert count(session, UserSubscription) == 0 and count(session, Payment) == 0


def test_prices_not_for_sale_to_this_parent_are_not_found(client, session, make, signed_in):
    plan = make.plan()
    archived = make.price(plan, status="archived")
    hidden = make.price(make.plan(is_active=False))
    company = make.price(make.plan(audience="companies"), kdv_included=False)
    session.commit()

    for price in (archived, hidden, company):
        assert client.get(checkout_url(price)).status_code == 404, price.id
        assert pay(client, price).status_code == 404, price.id
    assert client.get("/plans/999999999/checkout").status_code == 404
    assert subscriptions_of(session, signed_in) == []


def test_with_a_current_subscription_checkout_leads_to_the_change_preview(
    client, session, make, signed_in, subscribed
):
    yearly = make.price(subscribed.plan, billing_cycle="yearly", amount="1200.00")
    session.commit()

    shown = client.get(checkout_url(yearly))
    posted = pay(client, yearly)

    assert shown.status_code == 303
    assert shown.headers["Location"] == f"/subscription/change/{yearly.id}"
    # A card form posted anyway (another tab) is refused on the subscription page.
    assert posted.status_code == 303
    assert posted.headers["Location"] == PAGE
    assert len(payments_of(session, signed_in)) == 1


def test_subscribing_to_a_trial_charges_nothing_and_shows_when_the_trial_ends(
    client, session, make, signed_in, english
):
    price = make.price(make.plan(), amount="60.00", trial_days=7)
    session.commit()
    ends = istanbul_today() + timedelta(days=7)

    response = pay(client, price)

    assert response.status_code == 303
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "trial" and subscription.trial_end_date == ends
    assert payments_of(session, signed_in) == []
    shown = text(page(client))
    assert f"Free trial ends {long_date(ends)}" in shown
    assert f"Next payment {long_date(ends)}" in shown
    assert "No payments yet." in shown
