"""Checkout: the order with its KDV, the button to the provider's hosted payment page, the
way back with the saved card (or the refusal, which creates nothing), idempotency, the signed
answer that cannot be forged, altered or carried to another account, and the CSRF token.

Amounts are checked in the default Turkish locale; words and dates are checked in English,
since the Turkish catalogue gets these strings later.
"""

import re
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.billing.gateway import CardDetails, HostedCheckout, SandboxGateway
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
    card_fields,
    checkout_url,
    count,
    hosted_page_url,
    long_date,
    page,
    pay,
    payments_of,
    staff_signed_in,
    start_checkout,
    subscriptions_of,
    text,
    type_card,
)
from tests.helpers import HTMX, post
from tests.test_html import assert_valid_html


def input_value(html: str, name: str) -> str | None:
    """The value attribute of the input named `name` (None when it has none)."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html).group(0)
    value = re.search(r'\bvalue="([^"]*)"', tag)
    return value.group(1) if value else None


def answer_url(client, price, **values) -> str:
    """The portal's return address with the hosted page's signed answer, as the browser is
    sent to it after typing the card (`values`: card fields, or the checkout's key)."""
    hosted = hosted_page_url(start_checkout(client, price, **values))
    typed = type_card(client, hosted, **values)
    assert typed.status_code == 303, typed.get_data(as_text=True)
    return typed.headers["Location"]


def audited_failures(session, user) -> list[str]:
    logs = session.scalars(
        select(UserLog).where(UserLog.user_id == user.id, UserLog.event == "payment_failed")
    ).all()
    return [log.data["failure_code"] for log in logs]


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
    # The portal asks for no card: that is the hosted payment page's job.
    assert 'name="number"' not in html and 'name="cvc"' not in html
    assert re.fullmatch(r"[0-9a-f]{32}", input_value(html, "idempotency_key"))
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


# To the hosted payment page


def test_the_checkout_button_leads_to_the_hosted_page_and_creates_nothing(
    client, session, signed_in, english, monthly
):
    response = start_checkout(client, monthly)

    assert response.status_code == 303
    hosted = hosted_page_url(response)
    assert hosted is not None and hosted.startswith("/sandbox-pay/checkout?checkout=")
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    shown = client.get(hosted)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "Aile Plus" in text(html) and f"Pay 120.00{TL}" in text(html)
    assert 'type="password"' in re.search(r'<input[^>]*name="cvc"[^>]*>', html).group(0)
    assert f'href="{checkout_url(monthly)}"' in html  # "cancel" leads back to the checkout
    assert_valid_html(html, "hosted payment page")


def test_the_card_expiry_starts_on_no_date_and_must_be_chosen(
    client, session, signed_in, english, monthly
):
    hosted = hosted_page_url(start_checkout(client, monthly))
    html = client.get(hosted).get_data(as_text=True)

    for name in ("exp_month", "exp_year"):
        select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
        # Nothing preselected: the browser shows the first option, the empty one.
        assert "selected" not in select
        assert re.findall(r"<option[^>]*>", select)[0] == '<option value="">'

    response = pay(client, monthly, exp_month="", exp_year="")

    assert response.status_code == 422
    refused = text(response.get_data(as_text=True))
    assert "Choose the month printed on the card." in refused
    assert "Choose the year printed on the card." in refused
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []


def test_the_portals_checkout_signs_a_page_for_its_own_return_address(
    client, session, app, signed_in, monthly
):
    url = hosted_page_url(start_checkout(client, monthly))
    signed = parse_qs(urlsplit(url).query)["checkout"][0]

    checkout = SandboxGateway(app.secret_key).open_checkout(signed)

    assert checkout.return_url == f"/plans/{monthly.id}/checkout/return"
    assert checkout.cancel_url == f"/plans/{monthly.id}/checkout"
    assert checkout.amount == Decimal("120.00") and checkout.currency == monthly.currency
    assert checkout.reference.startswith(f"user-{signed_in.id}:price-{monthly.id}:")


def test_htmx_checkout_button_sends_the_whole_window_to_the_hosted_page(
    client, session, signed_in, monthly
):
    response = start_checkout(client, monthly, headers=HTMX)

    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/sandbox-pay/checkout?checkout=")
    assert subscriptions_of(session, signed_in) == []


def test_a_trial_is_saved_on_the_hosted_page_without_an_amount(
    client, session, make, signed_in, english
):
    price = make.price(make.plan(), amount="60.00", trial_days=14)
    session.commit()

    html = client.get(hosted_page_url(start_checkout(client, price))).get_data(as_text=True)

    assert "Save card" in text(html) and "Nothing is charged now" in text(html)
    assert re.search(r"<button[^>]*>\s*Pay ", html) is None


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


def test_the_same_answer_brought_back_twice_charges_once(
    client, session, signed_in, english, monthly
):
    back = answer_url(client, monthly)

    first = client.get(back)
    second = client.get(back)  # a reload, or the back button

    assert first.status_code == 303 and second.status_code == 303
    # The second answer is the first one's: the parent reads that it started, not a refusal.
    assert second.headers["Location"] == PAGE
    shown = text(page(client))
    assert "Your subscription has started" in shown
    assert "already have a subscription" not in shown
    assert len(subscriptions_of(session, signed_in)) == 1
    assert len(payments_of(session, signed_in)) == 1
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 1


def test_the_same_checkout_form_sent_twice_charges_once(client, session, signed_in, monthly):
    # A double click (or two tabs of one form): two hosted pages, two cards typed, one key.
    key = "0123456789abcdef0123456789abcdef"
    first = answer_url(client, monthly, idempotency_key=key)
    second = answer_url(client, monthly, idempotency_key=key)

    answers = [client.get(first), client.get(second)]

    assert [a.status_code for a in answers] == [303, 303]
    assert [a.headers["Location"] for a in answers] == [PAGE, PAGE]
    assert len(subscriptions_of(session, signed_in)) == 1
    (payment,) = payments_of(session, signed_in)
    assert payment.idempotency_key == key
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 1


def test_a_trial_answer_brought_back_twice_gives_the_first_result(
    client, session, make, signed_in, english
):
    price = make.price(make.plan(), amount="60.00", trial_days=7)
    session.commit()
    back = answer_url(client, price)

    first, second = client.get(back), client.get(back)

    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["Location"] == PAGE
    assert "already have a subscription" not in text(page(client))
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "trial"
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 1


def test_the_same_trial_checkout_form_sent_twice_gives_one_trial_and_the_first_answer(
    client, session, make, signed_in, english
):
    # A double click on a trial's checkout: two hosted pages, two cards saved (two tokens),
    # one key. A trial has no payment row; the subscription holds the key itself.
    price = make.price(make.plan(), amount="60.00", trial_days=7)
    session.commit()
    key = "0123456789abcdef0123456789abcdef"
    first = answer_url(client, price, idempotency_key=key)
    second = answer_url(client, price, idempotency_key=key)

    answers = [client.get(first), client.get(second)]

    assert [a.status_code for a in answers] == [303, 303]
    assert [a.headers["Location"] for a in answers] == [PAGE, PAGE]
    shown = text(page(client))
    assert "Your subscription has started" in shown
    assert "already have a subscription" not in shown
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "trial" and subscription.checkout_key == key
    assert payments_of(session, signed_in) == []
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 1


@pytest.mark.parametrize("trial_days", [7, 0])
def test_a_checkout_form_sent_again_after_it_worked_answers_as_the_first_time(
    client, session, make, signed_in, english, trial_days
):
    price = make.price(make.plan(), amount="60.00", trial_days=trial_days)
    session.commit()
    key = "0123456789abcdef0123456789abcdef"
    assert pay(client, price, idempotency_key=key).status_code == 303
    page(client)  # the first answer's message is read

    again = start_checkout(client, price, idempotency_key=key)

    assert again.status_code == 303 and again.headers["Location"] == PAGE
    shown = text(page(client))
    assert "Your subscription has started" in shown
    assert "already have a subscription" not in shown
    assert len(subscriptions_of(session, signed_in)) == 1
    assert len(payments_of(session, signed_in)) == (0 if trial_days else 1)


def test_another_checkout_form_after_a_trial_started_is_still_refused(
    client, session, make, signed_in, english
):
    price = make.price(make.plan(), amount="60.00", trial_days=7)
    session.commit()
    assert pay(client, price).status_code == 303
    page(client)

    other = start_checkout(client, price)  # a new key: another tab's form

    assert other.status_code == 303 and other.headers["Location"] == PAGE
    assert "already have a subscription" in text(page(client))
    assert len(subscriptions_of(session, signed_in)) == 1


def test_a_declined_card_is_refused_next_to_the_form_and_nothing_is_created(
    client, session, signed_in, english, monthly
):
    key = "0123456789abcdef0123456789abcdef"

    response = pay(client, monthly, number=DECLINED_CARD, idempotency_key=key)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your card was declined. Nothing was charged" in text(html)
    assert 'id="payment-error"' in html
    assert html.index('id="checkout-form"') < html.index('id="payment-error"')
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 0
    new_key = input_value(html, "idempotency_key")
    assert re.fullmatch(r"[0-9a-f]{32}", new_key) and new_key != key
    assert 'name="number"' not in html and 'name="cvc"' not in html
    assert "4000000000000002" not in html and DECLINED_CARD not in html
    assert_valid_html(html, "checkout refused by the gateway")
    assert audited_failures(session, signed_in) == ["card_declined"]


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
    ("number", "message", "failure_code"),
    [
        (EXPIRED_AT_GATEWAY, "This card has expired. Nothing was charged", "expired_card"),
        (POOR_CARD, "The card has insufficient funds. Nothing was charged", "insufficient_funds"),
    ],
)
def test_other_gateway_refusals_say_why_and_create_nothing(
    client, session, signed_in, english, monthly, number, message, failure_code
):
    response = pay(client, monthly, number=number)

    assert response.status_code == 422
    assert message in text(response.get_data(as_text=True))
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == signed_in.id) == 0
    assert audited_failures(session, signed_in) == [failure_code]


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
def test_invalid_card_details_are_refused_on_the_hosted_page_and_nothing_is_created(
    client, session, signed_in, monthly, values, field
):
    response = pay(client, monthly, **values)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html
    assert 'aria-invalid="true"' in re.search(rf'<[^>]*\bname="{field}"[^>]*>', html).group(0)
    assert 'value="' + CVC not in html  # the CVC is never sent back
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    assert_valid_html(html, f"hosted page with a bad {field}")


def test_a_card_that_expired_last_month_is_refused_by_the_hosted_page(
    client, session, signed_in, english, monthly, monkeypatch
):
    # The form's own today, so that "last month" is in a year the form offers whatever
    # month the test runs in.
    monkeypatch.setattr("portal.sandbox_provider.forms.istanbul_today", lambda: date(2026, 6, 15))

    response = pay(client, monthly, exp_month="05", exp_year="2026")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="exp_year-error"' in html and "This card has expired." in text(html)
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []
    assert_valid_html(html, "hosted page with an expired card")


def test_a_card_that_expires_this_month_still_pays(client, session, signed_in, monthly):
    today = istanbul_today()

    response = pay(client, monthly, exp_month=f"{today.month:02d}", exp_year=str(today.year))

    assert response.status_code == 303
    assert len(subscriptions_of(session, signed_in)) == 1


@pytest.mark.parametrize("key", ["not-a-key", "A" * 32, "0" * 31])
def test_a_tampered_idempotency_key_is_refused(client, session, signed_in, monthly, key):
    response = pay(client, monthly, idempotency_key=key)

    assert response.status_code == 422
    assert 'id="checkout-form"' in response.get_data(as_text=True)
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
    started = pay(client, monthly, csrf_token=None)
    hosted = hosted_page_url(start_checkout(client, monthly))
    typed = client.post(hosted, data=card_fields(client, csrf_token=None))

    assert started.status_code == 400 and typed.status_code == 400
    assert subscriptions_of(session, signed_in) == [] and payments_of(session, signed_in) == []


# The answer from the hosted page


def forged_answer(price, reference: str, secret="not-the-portal-secret") -> str:
    """An answer signed with a key other than the one the portal shares with the provider."""
    checkout = HostedCheckout(
        reference=reference,
        description="x",
        amount=Decimal("1.00"),
        currency="TRY",
        return_url=f"/plans/{price.id}/checkout/return",
        cancel_url=checkout_url(price),
    )
    card = CardDetails("4242424242424242", 12, istanbul_today().year + 2, "918")
    return SandboxGateway(secret).answer_url(checkout, card, istanbul_today())


def assert_answer_refused(response, session, *users) -> None:
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "answer could not be checked. Nothing was charged" in text(html)
    assert 'id="checkout-form"' in html
    assert_valid_html(html, "checkout with a refused answer")
    for user in users:
        assert subscriptions_of(session, user) == [] and payments_of(session, user) == []


@pytest.mark.parametrize("answer", [None, "", "garbage", "a.b.c"])
def test_a_missing_or_unreadable_answer_is_refused(
    client, session, signed_in, english, monthly, answer
):
    query = {} if answer is None else {"answer": answer}

    response = client.get(f"/plans/{monthly.id}/checkout/return", query_string=query)

    assert_answer_refused(response, session, signed_in)


def test_a_forged_answer_is_refused(client, session, signed_in, english, monthly):
    reference = f"user-{signed_in.id}:price-{monthly.id}:{'0' * 32}"

    response = client.get(forged_answer(monthly, reference))

    assert_answer_refused(response, session, signed_in)


def test_an_altered_answer_is_refused(client, session, signed_in, english, monthly):
    back = answer_url(client, monthly)
    path, answer = back.split("?answer=")
    middle = len(answer) // 2  # inside the ciphertext, past the version and time
    altered = answer[:middle] + ("A" if answer[middle] != "A" else "B") + answer[middle + 1 :]

    response = client.get(f"{path}?answer={altered}")

    assert_answer_refused(response, session, signed_in)


def test_an_expired_answer_is_refused(client, session, signed_in, english, monthly, monkeypatch):
    back = answer_url(client, monthly)
    monkeypatch.setattr("portal.billing.gateway.CHECKOUT_MAX_AGE", timedelta(seconds=-1))

    response = client.get(back)

    assert_answer_refused(response, session, signed_in)


def test_an_answer_carried_to_another_account_is_refused(
    client, session, make, auth, signed_in, english, monthly
):
    back = answer_url(client, monthly)
    auth.logout()
    other = make.user("parent")
    session.commit()
    auth.login(other.email)

    response = client.get(back)

    assert_answer_refused(response, session, signed_in, other)


def test_an_answer_carried_to_another_price_is_refused(
    client, session, make, signed_in, english, monthly
):
    yearly = make.price(monthly.plan, billing_cycle="yearly", amount="1200.00")
    session.commit()
    back = answer_url(client, monthly)

    response = client.get(back.replace(f"/plans/{monthly.id}/", f"/plans/{yearly.id}/"))

    assert_answer_refused(response, session, signed_in)


def test_an_answer_brought_back_after_its_subscription_ended_starts_nothing(
    client, session, signed_in, english, monthly
):
    back = answer_url(client, monthly)
    client.get(back)
    post(client, "/subscription/cancel")
    page(client)  # the "ended" message is read

    again = client.get(back)

    assert again.status_code == 303 and again.headers["Location"] == PAGE
    shown = text(page(client))
    assert "That payment form was already used." in shown
    assert "Your subscription has started." not in shown
    assert [s.status for s in subscriptions_of(session, signed_in)] == ["cancelled"]
    # One charge (cancelling within the withdrawal period refunded it: a row of its own).
    assert [p.purpose for p in payments_of(session, signed_in)].count("first_charge") == 1
    assert [p.purpose for p in payments_of(session, signed_in) if p.purpose != "refund"] == [
        "first_charge"
    ]


# Who may check out


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, session, monthly):
    url = checkout_url(monthly)
    back = f"/plans/{monthly.id}/checkout/return"

    shown = client.get(url)
    posted = pay(client, monthly)
    htmx = client.get(url, headers=HTMX)
    returned = client.get(back)
    subscription_page = client.get(PAGE)

    assert shown.status_code == 303 and login_next(shown.headers["Location"]) == url
    assert posted.status_code == 303 and login_next(posted.headers["Location"]) == url
    assert htmx.status_code == 200 and login_next(htmx.headers["HX-Redirect"]) == url
    assert returned.status_code == 303 and login_next(returned.headers["Location"]) == back
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
        assert client.get(f"/plans/{price.id}/checkout/return").status_code == 404, price.id
    assert client.get("/plans/999999999/checkout").status_code == 404
    assert subscriptions_of(session, signed_in) == []


def test_with_a_current_subscription_checkout_leads_to_the_change_preview(
    client, session, make, signed_in, english, subscribed
):
    yearly = make.price(subscribed.plan, billing_cycle="yearly", amount="1200.00")
    session.commit()

    shown = client.get(checkout_url(yearly))
    posted = pay(client, yearly)

    assert shown.status_code == 303
    assert shown.headers["Location"] == f"/subscription/change/{yearly.id}"
    # A checkout form sent anyway (another tab) is refused on the subscription page: no card
    # is asked for.
    assert posted.status_code == 303
    assert posted.headers["Location"] == PAGE
    assert "already have a subscription" in text(page(client))
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
