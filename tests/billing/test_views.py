"""The subscription UI: checkout with a card, the subscriber's page and its actions (plain form
and htmx), cancelling now, changing plan, receipts, company billing by role, and the favorites
limit pointing to the plans.

Amounts are checked in the default Turkish locale; words and dates are checked in English,
since the Turkish catalogue gets these strings later.
"""

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import html5lib
import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from portal.billing.periods import period_end
from portal.clock import istanbul_today
from portal.models import (
    CustomerCreditCard,
    Payment,
    UserLog,
    UserPaymentCard,
    UserSubscription,
)
from tests.helpers import HTMX, csrf_token, post
from tests.test_html import assert_valid_html

TL = "\u00a0₺"  # the money filter puts a no-break space before the lira sign
PAGE = "/account/subscription"
COMPANY_PAGE = "/customer/subscription"
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"  # refused when saved: card_declined
EXPIRED_AT_GATEWAY = "4000 0000 0000 0069"  # refused when saved: expired_card
POOR_CARD = "4000 0000 0000 9995"  # saved, every charge fails: insufficient_funds
CVC = "918"


def checkout_url(price) -> str:
    return f"/plans/{price.id}/checkout"


def card_fields(client, **values) -> dict:
    """The checkout form as a browser fills it in; a value of None leaves the field out."""
    fields = {
        "holder_name": "Elif Şahin",
        "number": GOOD_CARD,
        "exp_month": "12",
        "exp_year": str(istanbul_today().year + 2),
        "cvc": CVC,
        "idempotency_key": uuid.uuid4().hex,
        "csrf_token": csrf_token(client),
    }
    fields.update(values)
    return {name: value for name, value in fields.items() if value is not None}


def pay(client, price, headers=None, **values):
    return client.post(checkout_url(price), data=card_fields(client, **values), headers=headers)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def subscriptions_of(session, user=None, customer=None) -> list[UserSubscription]:
    session.expire_all()
    owner = (
        UserSubscription.user_id == user.id
        if user is not None
        else UserSubscription.customer_id == customer.id
    )
    return list(session.scalars(select(UserSubscription).where(owner)))


def payments_of(session, user=None, customer=None) -> list[Payment]:
    session.expire_all()
    owner = Payment.user_id == user.id if user is not None else Payment.customer_id == customer.id
    return list(session.scalars(select(Payment).where(owner)))


def text(html: str) -> str:
    """What a reader sees: the text of the page with runs of white space collapsed (the
    no-break space before ₺ kept)."""
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)
    return re.sub(r"[ \t\r\n]+", " ", "".join(tree.itertext())).strip()


def fragment_text(html: str) -> str:
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parseFragment(html)
    return re.sub(r"[ \t\r\n]+", " ", "".join(tree.itertext())).strip()


def assert_valid_fragment(html: str) -> None:
    assert "<html" not in html and "<body" not in html
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parseFragment(html)


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


def long_date(day: date) -> str:
    """A business date as the English pages write it: December 1, 2026."""
    return f"{day:%B} {day.day}, {day.year}"


def page(client, url=PAGE, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


@pytest.fixture
def english(client):
    """The visitor switched the site to English (the choice survives signing in)."""
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})


@pytest.fixture
def monthly(make, session):
    """A parents' plan at 120,00 ₺ a month, KDV included (100,00 ₺ + 20,00 ₺ KDV)."""
    price = make.price(named_plan(make, "Aile Plus"), amount="120.00", kdv_included=True)
    session.commit()
    return price


@pytest.fixture
def subscribed(client, session, signed_in, monthly):
    """The signed-in parent paid for `monthly` through checkout today."""
    response = pay(client, monthly)
    assert response.status_code == 303, response.get_data(as_text=True)
    (subscription,) = subscriptions_of(session, signed_in)
    return subscription


def named_plan(make, name, **values):
    """A plan with a name to look for on the pages (the factory numbers its plans)."""
    plan = make.plan(**values)
    plan.name = name
    return plan


def staff_signed_in(make, session, auth, role, customer=None):
    staff = make.customer_user(customer=customer, role=role)
    session.commit()
    auth.login(staff.user.email)
    return staff


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


def test_the_receipt_shows_the_amounts_and_only_the_brand_and_last_four_of_the_card(
    client, session, signed_in, subscribed
):
    (payment,) = payments_of(session, signed_in)

    response = client.get(f"/payments/{payment.id}/receipt")

    html = response.get_data(as_text=True)
    shown = text(html)
    assert response.status_code == 200
    assert f"100,00{TL}" in shown and f"20,00{TL}" in shown and f"120,00{TL}" in shown
    assert "Visa •••• 4242" in shown
    assert "4242424242424242" not in html and GOOD_CARD not in html and CVC not in shown
    assert payment.gateway_reference in shown
    assert signed_in.email in shown
    assert "Aile Plus" in shown
    assert_valid_html(html, "receipt")


def test_a_receipt_is_404_for_another_parents_payment_and_for_a_failed_payment(
    client, session, make, auth, monthly
):
    owner, other = make.user("parent"), make.user("parent")
    session.commit()
    auth.login(owner.email)
    pay(client, monthly)
    (paid,) = payments_of(session, owner)
    failed = Payment(
        user_subscription_id=paid.user_subscription_id,
        user_id=owner.id,
        purpose="renewal",
        plan_price_id=monthly.id,
        net_amount=Decimal("100.00"),
        kdv_amount=Decimal("20.00"),
        gross_amount=Decimal("120.00"),
        status="failed",
        failure_code="insufficient_funds",
        gateway="sandbox",
        idempotency_key=uuid.uuid4().hex,
        card_brand="visa",
        card_last4="4242",
    )
    session.add(failed)
    session.commit()

    assert client.get(f"/payments/{paid.id}/receipt").status_code == 200
    assert client.get(f"/payments/{failed.id}/receipt").status_code == 404
    assert client.get("/payments/999999999/receipt").status_code == 404
    auth.logout()
    auth.login(other.email)
    assert client.get(f"/payments/{paid.id}/receipt").status_code == 404


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


# The subscription page and its actions


def test_without_a_subscription_the_page_points_to_the_plans(client, signed_in, english):
    html = page(client)

    assert "You are on the free plan." in text(html)
    assert 'href="/plans"' in html
    assert_valid_html(html, "subscription page without a subscription")


def test_cancel_at_period_end_then_undo_with_plain_forms(
    client, session, signed_in, english, subscribed
):
    ends = subscribed.end_date

    cancelled = post(client, "/subscription/cancel-at-period-end")
    after_cancel = page(client)
    undone = post(client, "/subscription/undo-cancel")
    after_undo = page(client)

    assert cancelled.status_code == 303 and cancelled.headers["Location"] == PAGE
    assert f"Your subscription will end on {long_date(ends)}." in text(after_cancel)
    assert f"Ends on {long_date(ends)}" in text(after_cancel)
    assert 'action="/subscription/undo-cancel"' in after_cancel
    assert 'action="/subscription/cancel-at-period-end"' not in after_cancel
    assert_valid_html(after_cancel, "subscription page, cancelled at period end")
    assert undone.status_code == 303 and undone.headers["Location"] == PAGE
    assert "Your subscription will renew as before." in text(after_undo)
    assert f"Next payment {long_date(ends)}" in text(after_undo)
    assert 'action="/subscription/cancel-at-period-end"' in after_undo
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active"
    assert not subscription.cancel_at_period_end and subscription.auto_renew


def test_htmx_actions_answer_with_the_panel_saying_what_happened(
    client, session, signed_in, english, subscribed
):
    ends = subscribed.end_date

    cancelled = post(client, "/subscription/cancel-at-period-end", headers=HTMX)
    undone = post(client, "/subscription/undo-cancel", headers=HTMX)

    html = cancelled.get_data(as_text=True)
    assert cancelled.status_code == 200
    assert html.lstrip().startswith('<div id="subscription-panel">')
    assert f"Your subscription will end on {long_date(ends)}." in fragment_text(html)
    assert 'role="status"' in html
    assert 'action="/subscription/undo-cancel"' in html
    assert "HX-Request" in cancelled.headers["Vary"]
    assert_valid_fragment(html)
    assert undone.status_code == 200
    assert "Your subscription will renew as before." in fragment_text(undone.get_data(as_text=True))
    # The message travelled in the panel, so it is not flashed again on the next page.
    assert "will renew as before" not in text(page(client))
    assert not subscriptions_of(session, signed_in)[0].cancel_at_period_end


def test_an_action_not_allowed_now_says_so_and_changes_nothing(
    client, session, signed_in, english, subscribed
):
    plain = post(client, "/subscription/undo-cancel")
    shown = text(page(client))
    htmx = post(client, "/subscription/cancel-change", headers=HTMX)

    assert plain.status_code == 303
    assert "That cannot be done in the subscription's current state." in shown
    assert htmx.status_code == 200
    assert "cannot be done" in fragment_text(htmx.get_data(as_text=True))
    assert subscriptions_of(session, signed_in)[0].status == "active"


def test_unknown_actions_and_actions_without_a_subscription_are_not_found(
    client, session, signed_in
):
    assert post(client, "/subscription/refund-everything").status_code == 404
    for action in ("cancel-at-period-end", "undo-cancel", "pause", "cancel-change", "resume"):
        assert post(client, f"/subscription/{action}").status_code == 404, action
    assert client.get("/subscription/cancel").status_code == 404


def test_actions_need_the_csrf_token(client, session, signed_in, subscribed):
    response = client.post("/subscription/cancel-at-period-end")

    assert response.status_code == 400
    assert not subscriptions_of(session, signed_in)[0].cancel_at_period_end


def test_pause_then_resume_within_the_paid_period_charges_nothing(
    client, session, signed_in, english, subscribed
):
    paid_until = subscribed.end_date

    paused = post(client, "/subscription/pause")
    while_paused = page(client)
    resumed = post(client, "/subscription/resume", headers=HTMX)

    assert paused.status_code == 303
    shown = text(while_paused)
    assert "Your subscription is paused. It will not renew." in shown
    assert f"Paid until {long_date(paid_until)}" in shown
    assert f"Resuming before {long_date(paid_until)} charges nothing." in shown
    assert 'action="/subscription/resume"' in while_paused
    assert_valid_html(while_paused, "paused subscription page")
    assert resumed.status_code == 200
    assert "Your subscription is active again." in fragment_text(resumed.get_data(as_text=True))
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active"
    assert subscription.next_billing_date == paid_until and subscription.end_date == paid_until
    assert len(payments_of(session, signed_in)) == 1  # only the first charge


def test_resume_after_the_paid_period_charges_a_new_period_now(
    client, session, make, signed_in, english, monthly
):
    today = istanbul_today()
    card = UserPaymentCard(
        user_id=signed_in.id,
        gateway="sandbox",
        token="sbx_ok_0123456789abcdef01234567",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=today.year + 2,
    )
    session.add(card)
    session.flush()
    make.subscription(
        monthly,
        user=signed_in,
        status="paused",
        anchor_date=today - timedelta(days=45),
        end_date=today - timedelta(days=14),
        user_payment_card_id=card.id,
    )
    session.commit()

    shown = text(page(client))
    response = post(client, "/subscription/resume")

    assert f"Resuming charges 120.00{TL} today" in shown
    assert response.status_code == 303
    (payment,) = payments_of(session, signed_in)
    assert payment.status == "succeeded" and payment.charged_period == today
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active"
    assert subscription.end_date == period_end(today, "monthly", 0)


def test_cancel_now_asks_first_then_ends_the_subscription_today(
    client, session, signed_in, english, subscribed
):
    confirm = client.get("/subscription/cancel")
    html = confirm.get_data(as_text=True)
    still = subscriptions_of(session, signed_in)[0].status

    response = post(client, "/subscription/cancel")
    after = page(client)

    assert confirm.status_code == 200
    assert "End the subscription now?" in text(html)
    assert 'action="/subscription/cancel"' in html and 'href="/account/subscription"' in html
    assert_valid_html(html, "cancel confirmation")
    assert still == "active"  # showing the question changes nothing
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "cancelled"
    assert subscription.end_date == istanbul_today() and subscription.next_billing_date is None
    shown = text(after)
    assert "Your subscription has ended." in shown
    assert "You are on the free plan." in shown
    assert "Earlier subscriptions" in shown and "Cancelled" in shown
    assert len(payments_of(session, signed_in)) == 1  # nothing refunded, nothing charged
    assert_valid_html(after, "subscription page after cancelling")


def test_cancel_now_without_the_csrf_token_ends_nothing(client, session, signed_in, subscribed):
    response = client.post("/subscription/cancel")

    assert response.status_code == 400
    assert subscriptions_of(session, signed_in)[0].status == "active"


def test_a_change_is_previewed_confirmed_shown_and_can_be_dropped(
    client, session, make, signed_in, english, subscribed
):
    premium = named_plan(make, "Aile Premium")
    yearly = make.price(premium, billing_cycle="yearly", amount="1440.00", kdv_included=True)
    session.commit()
    takes_effect = subscribed.end_date
    renews = period_end(takes_effect, "yearly", 0)

    preview = client.get(f"/subscription/change/{yearly.id}")
    html = preview.get_data(as_text=True)
    scheduled_by_preview = subscriptions_of(session, signed_in)[0].scheduled_plan_price_id
    confirmed = post(client, f"/subscription/change/{yearly.id}")
    after = page(client)

    assert preview.status_code == 200
    shown = text(html)
    assert "Change to Aile Premium, billed Yearly" in shown
    assert f"You stay on Aile Plus (Monthly) until {long_date(takes_effect)}." in shown
    assert (
        f"On {long_date(takes_effect)} the new plan starts and 1,440.00{TL} is charged "
        f"(1,200.00{TL} + 240.00{TL} KDV)."
    ) in shown
    assert f"It then renews on {long_date(renews)}" in shown
    assert "Nothing is charged today." in shown
    assert_valid_html(html, "change preview")
    assert scheduled_by_preview is None  # showing the preview changes nothing
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == PAGE
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.scheduled_plan_price_id == yearly.id
    assert subscription.plan_price_id == subscribed.plan_price_id  # not yet
    assert len(payments_of(session, signed_in)) == 1  # nothing charged now
    shown = text(after)
    assert f"Done. From {long_date(takes_effect)} you will be on Aile Premium" in shown
    assert (
        f"On {long_date(takes_effect)} you move to Aile Premium, billed Yearly, for 1,440.00{TL}."
        in shown
    )
    assert 'action="/subscription/cancel-change"' in after
    assert_valid_html(after, "subscription page with a planned change")

    dropped = post(client, "/subscription/cancel-change", headers=HTMX)

    assert dropped.status_code == 200
    panel = fragment_text(dropped.get_data(as_text=True))
    assert "The planned change is dropped." in panel and "you move to" not in panel
    assert subscriptions_of(session, signed_in)[0].scheduled_plan_price_id is None


def test_confirming_a_change_takes_back_a_cancellation_at_period_end(
    client, session, make, signed_in, subscribed
):
    yearly = make.price(subscribed.plan, billing_cycle="yearly", amount="1200.00")
    session.commit()
    post(client, "/subscription/cancel-at-period-end")

    post(client, f"/subscription/change/{yearly.id}")

    (subscription,) = subscriptions_of(session, signed_in)
    assert not subscription.cancel_at_period_end
    assert subscription.scheduled_plan_price_id == yearly.id


def test_a_change_to_the_same_price_or_one_not_for_sale_goes_back_with_a_message(
    client, session, make, signed_in, english, subscribed, monthly
):
    archived = make.price(subscribed.plan, billing_cycle="yearly", status="archived")
    company = make.price(make.plan(audience="companies"), kdv_included=False)
    session.commit()

    same = client.get(f"/subscription/change/{monthly.id}")
    shown_same = text(page(client))
    for price in (archived, company):
        response = post(client, f"/subscription/change/{price.id}")
        assert response.status_code == 303 and response.headers["Location"] == PAGE
        assert "no longer offered" in text(page(client))

    assert same.status_code == 303 and same.headers["Location"] == PAGE
    assert "You are already on this plan and billing cycle." in shown_same
    assert subscriptions_of(session, signed_in)[0].scheduled_plan_price_id is None


def test_a_change_without_a_subscription_leads_to_checkout(client, signed_in, monthly):
    response = client.get(f"/subscription/change/{monthly.id}")

    assert response.status_code == 303
    assert response.headers["Location"] == checkout_url(monthly)


def test_after_ending_it_the_parent_can_subscribe_again_and_sees_the_old_one_in_history(
    client, session, signed_in, english, subscribed, monthly
):
    post(client, "/subscription/cancel")

    response = pay(client, monthly)

    assert response.status_code == 303
    statuses = sorted(s.status for s in subscriptions_of(session, signed_in))
    assert statuses == ["active", "cancelled"]
    assert len(payments_of(session, signed_in)) == 2
    shown = text(page(client))
    assert "Earlier subscriptions" in shown and "Aile Plus · Monthly · Cancelled" in shown
    assert "Next payment" in shown


def test_an_old_checkout_form_sent_again_after_ending_never_claims_a_start_it_did_not_make(
    client, session, signed_in, english, monthly
):
    # The parent pays, ends the subscription, goes back to the checkout page (the browser
    # keeps the form with its hidden key) and pays again.
    fields = card_fields(client)
    client.post(checkout_url(monthly), data=fields)
    post(client, "/subscription/cancel")
    page(client)  # the "ended" message is read

    again = client.post(checkout_url(monthly), data={**fields, "csrf_token": csrf_token(client)})

    assert again.status_code == 303
    shown = text(page(client))
    started = [s for s in subscriptions_of(session, signed_in) if s.status == "active"]
    assert started or "Your subscription has started." not in shown


def test_a_lifetime_price_is_paid_once_and_offers_no_renewal_actions(
    client, session, make, signed_in, english
):
    price = make.price(named_plan(make, "Aile Ömür"), billing_cycle="lifetime", amount="2499.00")
    session.commit()

    checkout = text(page(client, checkout_url(price)))
    pay(client, price)
    html = page(client)
    (payment,) = payments_of(session, signed_in)
    receipt = text(page(client, f"/payments/{payment.id}/receipt"))

    assert "One payment, today. It never renews." in checkout
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active" and subscription.next_billing_date is None
    assert "Renewal None: paid once, for good." in text(html)
    for action in ("cancel-at-period-end", "pause"):
        assert f'action="/subscription/{action}"' not in html
        assert post(client, f"/subscription/{action}").status_code == 303
    assert subscriptions_of(session, signed_in)[0].status == "active"
    assert f"From {long_date(istanbul_today())}, for good" in receipt


def test_in_turkish_the_page_writes_dates_and_amounts_the_turkish_way(
    client, session, signed_in, subscribed
):
    ends = format_date(subscribed.end_date, "long", locale="tr")

    cancelled = post(client, "/subscription/cancel-at-period-end", headers=HTMX)
    html = page(client)

    assert cancelled.status_code == 200
    assert ends in fragment_text(cancelled.get_data(as_text=True))
    assert ends in text(html) and f"120,00{TL}" in text(html)
    assert_valid_html(html, "subscription page in Turkish")


# Companies: billing roles manage, other staff read


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_billing_staff_subscribe_the_company_to_a_kdv_excluded_quarterly_price(
    client, session, make, auth, english, role
):
    plan = named_plan(make, "Okul Pro", audience="companies")
    quarterly = make.price(plan, billing_cycle="quarterly", amount="2500.00", kdv_included=False)
    staff = staff_signed_in(make, session, auth, role)
    customer = staff.customer
    today = istanbul_today()

    checkout = text(page(client, checkout_url(quarterly)))
    response = pay(client, quarterly, holder_name="Bilge Eğitim A.Ş.")

    assert f"2,500.00{TL}" in checkout and f"500.00{TL}" in checkout
    assert f"3,000.00{TL}" in checkout  # net × 1.2
    assert response.status_code == 303 and response.headers["Location"] == COMPANY_PAGE
    (subscription,) = subscriptions_of(session, customer=customer)
    assert subscription.user_id is None and subscription.status == "active"
    assert subscription.end_date == period_end(today, "quarterly", 0)
    (payment,) = payments_of(session, customer=customer)
    assert (payment.net_amount, payment.kdv_amount, payment.gross_amount) == (
        Decimal("2500.00"),
        Decimal("500.00"),
        Decimal("3000.00"),
    )
    cards = session.scalars(
        select(CustomerCreditCard).where(CustomerCreditCard.customer_id == customer.id)
    ).all()
    assert [(c.holder_name, c.brand, c.last4) for c in cards] == [
        ("Bilge Eğitim A.Ş.", "visa", "4242")
    ]
    assert subscription.customer_credit_card_id == cards[0].id
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == staff.user_id) == 0
    html = page(client, COMPANY_PAGE)
    shown = text(html)
    assert f"{customer.name}: subscription" in shown
    assert "Okul Pro · Quarterly" in shown
    assert f"2,500.00{TL} + KDV" in shown
    assert f"Next payment {long_date(subscription.end_date)}" in shown
    assert f'href="/payments/{payment.id}/receipt"' in html
    assert 'action="/subscription/cancel-at-period-end"' in html
    assert_valid_html(html, "company subscription page")
    receipt = text(page(client, f"/payments/{payment.id}/receipt"))
    assert customer.tax_number in receipt and f"3,000.00{TL}" in receipt


def test_other_staff_read_the_company_subscription_but_cannot_change_it(
    client, session, make, auth, english
):
    plan = make.plan(audience="companies")
    price = make.price(plan, amount="1000.00", kdv_included=False)
    other = make.price(plan, billing_cycle="yearly", amount="10000.00", kdv_included=False)
    customer = make.customer()
    admin = make.customer_user(customer=customer, role="admin")
    session.commit()
    auth.login(admin.user.email)
    pay(client, price)
    (payment,) = payments_of(session, customer=customer)
    auth.logout()
    staff_signed_in(make, session, auth, "agent", customer=customer)

    html = page(client, COMPANY_PAGE)

    shown = text(html)
    assert plan.name in shown
    assert "Only the company's admins and finance staff can choose, change or cancel" in shown
    panel = re.search(r'<div id="subscription-panel">.*', html, re.S).group(0)
    assert "<form" not in panel and "<button" not in panel  # no actions at all
    assert 'href="/subscription/cancel"' not in panel and 'href="/plans"' not in panel
    assert_valid_html(html, "company subscription page, read only")
    assert client.get(f"/payments/{payment.id}/receipt").status_code == 200
    assert client.get(checkout_url(price)).status_code == 403
    assert pay(client, price).status_code == 403
    for action in ("cancel-at-period-end", "undo-cancel", "pause", "cancel-change", "resume"):
        assert post(client, f"/subscription/{action}").status_code == 403, action
        assert post(client, f"/subscription/{action}", headers=HTMX).status_code == 403, action
    assert client.get("/subscription/cancel").status_code == 403
    assert post(client, "/subscription/cancel").status_code == 403
    assert client.get(f"/subscription/change/{other.id}").status_code == 403
    assert post(client, f"/subscription/change/{other.id}").status_code == 403
    (subscription,) = subscriptions_of(session, customer=customer)
    assert subscription.status == "active" and not subscription.cancel_at_period_end
    assert subscription.scheduled_plan_price_id is None
    assert len(payments_of(session, customer=customer)) == 1


def test_staff_cannot_buy_a_parents_plan_and_parents_not_a_companys(
    client, session, make, auth, monthly
):
    company_price = make.price(make.plan(audience="companies"), kdv_included=False)
    staff_signed_in(make, session, auth, "admin")

    assert client.get(checkout_url(monthly)).status_code == 404
    assert client.get(PAGE).status_code == 403  # the parent's page is not theirs
    auth.logout()
    parent = make.user("parent")
    session.commit()
    auth.login(parent.email)
    assert client.get(checkout_url(company_price)).status_code == 404
    assert client.get(COMPANY_PAGE).status_code == 403


def test_receipts_are_seen_only_by_the_parent_or_company_that_paid(
    client, session, make, auth, monthly
):
    company_price = make.price(make.plan(audience="companies"), kdv_included=False)
    staff = staff_signed_in(make, session, auth, "admin")
    pay(client, company_price)
    (company_payment,) = payments_of(session, customer=staff.customer)
    auth.logout()
    parent = make.user("parent")
    session.commit()
    auth.login(parent.email)
    pay(client, monthly)
    (parent_payment,) = payments_of(session, parent)

    assert client.get(f"/payments/{company_payment.id}/receipt").status_code == 404
    auth.logout()
    auth.login(staff.user.email)
    assert client.get(f"/payments/{parent_payment.id}/receipt").status_code == 404
    assert client.get(f"/payments/{company_payment.id}/receipt").status_code == 200
    auth.logout()
    staff_signed_in(make, session, auth, "admin")  # of another company
    assert client.get(f"/payments/{company_payment.id}/receipt").status_code == 404


def test_a_planned_change_to_a_kdv_excluded_price_shows_what_will_be_charged(
    client, session, make, auth, english
):
    plan = make.plan(audience="companies")
    price = make.price(plan, amount="1000.00", kdv_included=False)
    yearly = make.price(plan, billing_cycle="yearly", amount="10000.00", kdv_included=False)
    staff_signed_in(make, session, auth, "admin")
    pay(client, price)

    preview = text(page(client, f"/subscription/change/{yearly.id}"))
    post(client, f"/subscription/change/{yearly.id}")
    html = page(client, COMPANY_PAGE)

    assert f"12,000.00{TL} is charged" in preview
    notice = re.search(r'<p class="notice">([^<]*you move to[^<]*)</p>', html).group(1)
    assert f"12,000.00{TL}" in notice or "+ KDV" in notice


# The favorites limit leads to the plans


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=1)
def test_at_the_favorites_limit_the_refusal_links_to_the_plans(
    client, session, make, signed_in, english
):
    first, second = make.school(), make.school()
    session.commit()
    assert post(client, "/account/favorites", kind="school", target_id=first.id).status_code == 303

    htmx = post(client, "/account/favorites", headers=HTMX, kind="school", target_id=second.id)
    plain = post(client, "/account/favorites", kind="school", target_id=second.id, next="/")
    shown_after = page(client, plain.headers["Location"])

    html = htmx.get_data(as_text=True)
    assert htmx.status_code == 422
    assert "You can keep up to 1 favorites." in fragment_text(html)
    assert 'href="/plans"' in html and 'role="alert"' in html
    assert_valid_fragment(html)
    assert plain.status_code == 303 and plain.headers["Location"] == "/"
    flashes = re.search(r'<div class="flashes".*?</div>', shown_after, re.S).group(0)
    assert "You can keep up to 1 favorites." in flashes and 'href="/plans"' in flashes
    assert_valid_html(shown_after, "page with the upgrade message")


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=1)
def test_a_plan_with_a_higher_favorites_limit_lets_the_parent_keep_more(
    client, session, make, signed_in, english
):
    price = make.price(make.plan(features={"favorites": 3}), amount="50.00")
    schools = [make.school() for _ in range(4)]
    session.commit()

    assert pay(client, price).status_code == 303
    added = [
        post(client, "/account/favorites", kind="school", target_id=school.id).status_code
        for school in schools[:3]
    ]
    fourth = post(
        client, "/account/favorites", headers=HTMX, kind="school", target_id=schools[3].id
    )

    assert added == [303, 303, 303]
    assert fourth.status_code == 422
    assert "up to 3 favorites" in fragment_text(fourth.get_data(as_text=True))
