"""Buying a plan in a real browser: a parent (JavaScript on and off) and a company admin.

The parent picks a billing cycle on the plans page, goes from the checkout to the sandbox
provider's hosted payment page, pays there with the success card and comes back to the
portal, reads the receipt, cancels at the end of the period and takes it back; a declined card
shows an error back at the checkout and creates nothing; a company admin buys a quarterly
company plan the same way. The plans and prices are the demo catalogue (portal/demo/plans.py
PLANS) that live_app loads; every test signs in its own new user, so no test finds another's
subscription.

The billing pages are not translated yet, so the parent tests switch to English first and
read the page by its English labels. The company admin stays in Turkish, the default, and
finds things by structure (ids, names) instead, which also checks the Turkish money format.
"""

import re
from datetime import date
from uuid import uuid4

import pytest
from babel.dates import format_date
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.access.permissions import Role
from portal.models import (
    Payment,
    UserPaymentCard,
    UserSubscription,
)
from tests.browser.conftest import live_data, price_id, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

NBSP = "\u00a0"
SUCCESS_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
# A card valid for a while yet, whatever today is.
EXPIRY_YEAR = str(date.today().year + 2)

# Veli Plus (parents, KDV included): 49,90 ₺ a month, 479,00 ₺ a year; KDV is 20 %.
# Okul Temel (companies, + KDV): 1.490,00 ₺ a month, 4.290,00 ₺ a quarter.
VELI_PLUS = "Parent Plus"  # its English name (issue 14 item 8): the journey reads in English
OKUL_TEMEL = "Okul Temel"


def lira(amount: str) -> str:
    """An amount as the portal writes it: the sign last, after a no-break space."""
    return f"{amount}{NBSP}₺"


def new_parent(app) -> tuple[int, str]:
    """A verified parent without any subscription: (id, e-mail)."""
    with live_data(app) as session:
        user = Factories(session).user("parent", email=f"billing-{uuid4().hex[:8]}@example.com")
        session.commit()
        return user.id, user.email


def new_company_admin(app) -> tuple[int, str]:
    """The admin of a new company without any subscription: (customer id, e-mail)."""
    with live_data(app) as session:
        staff = Factories(session).customer_user(
            role=Role.ADMIN, email=f"billing-admin-{uuid4().hex[:8]}@example.com"
        )
        session.commit()
        return staff.customer_id, staff.user.email


def subscriptions_of(app, *, user_id=None, customer_id=None) -> list[UserSubscription]:
    with live_data(app) as session:
        model = UserSubscription
        owner = model.user_id == user_id if user_id else model.customer_id == customer_id
        rows = list(session.scalars(select(model).where(owner)))
        session.expunge_all()
        return rows


def switch_to_english(page: Page) -> None:
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_load_state("load")


def sign_in_in_english(page: Page, app, email: str) -> None:
    """The language chosen before signing in is kept by the signed-in session."""
    page.goto("/auth/login")
    switch_to_english(page)
    sign_in(page, app, email)
    expect(page.locator("html")).to_have_attribute("lang", "en")


def plan_card(page: Page, name: str):
    return page.locator("#plan-cards article.plan-card").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def fill_card(form, number: str, holder: str = "Ayşe Yılmaz") -> None:
    """The hosted page's card form, by the fields' names (their labels may be translated)."""
    form.locator("input[name=holder_name]").fill(holder)
    form.locator("input[name=number]").fill(number)
    form.locator("select[name=exp_month]").select_option("12")
    form.locator("select[name=exp_year]").select_option(EXPIRY_YEAR)
    form.locator("input[name=cvc]").fill("123")


def to_hosted_page(page: Page) -> None:
    """Press the checkout's button: the provider's hosted page opens, with no card field on
    the portal's own page before it."""
    form = page.locator("#checkout-form")
    expect(form.locator("input[name=number], input[name=cvc]")).to_have_count(0)
    box = form.locator("#accept_documents")  # a parent confirms the sale's documents first
    if box.count():
        form.locator("#invoice_address").fill("Bağdat Cad. No: 5, Kadıköy / İstanbul")
        box.check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/sandbox-pay/checkout\?checkout="))


def summary_row(page: Page, header: str):
    return page.locator("table.summary tr").filter(
        has=page.get_by_role("rowheader", name=header, exact=True)
    )


def fact(page: Page, term: str):
    """The <dd> after the <dt> that says `term`."""
    return (
        page.locator("dl.facts dt")
        .filter(has_text=re.compile(rf"^{term}$"))
        .locator("xpath=following-sibling::dd[1]")
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_parent_buys_yearly_reads_receipt_cancels_then_keeps_subscription(
    new_page, javascript, live_app, assert_accessible
):
    user_id, email = new_parent(live_app)
    yearly = price_id(live_app, "veli-plus", "yearly")
    page = new_page(javascript=javascript)

    def check_accessible() -> None:
        if javascript:  # axe runs as JavaScript in the page
            settle(page)
            assert_accessible(page)

    sign_in_in_english(page, live_app, email)

    # 1. The plans page, from the header: parents' plans, monthly by default.
    page.locator("header.site-header").get_by_role("link", name="Plans", exact=True).click()
    page.wait_for_url(re.compile(r"/plans$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Plans for parents")
    expect(page.get_by_role("radio", name="Monthly")).to_be_checked()
    expect(plan_card(page, VELI_PLUS).locator(".plan-amount")).to_have_text(lira("49.90"))

    # 2. Switch to yearly: htmx swaps the prices in place; without JavaScript the form's
    #    "Show prices" button reloads the page. Either way the address says the cycle.
    page.evaluate("() => { window.__samePage = true; }")
    page.get_by_role("radio", name="Yearly").check()
    if not javascript:
        page.get_by_role("button", name="Show prices").click()
    expect(page).to_have_url(re.compile(r"/plans\?(.*&)?cycle=yearly(&|$)"))
    card = plan_card(page, VELI_PLUS)
    expect(card.locator(".plan-amount")).to_have_text(lira("479.00"))
    expect(card.locator(".plan-period")).to_have_text("per year")
    expect(page.get_by_role("radio", name="Yearly")).to_be_checked()
    same_page = page.evaluate("() => window.__samePage === true")
    assert same_page is javascript, "htmx must swap the prices in place, a plain form reload"
    check_accessible()  # the page with the prices htmx swapped in

    # 3. Choose Veli Plus yearly: checkout shows net, KDV and total.
    # The name's hidden part is a positioned span, so some engines put a space before ":".
    card.get_by_role("link", name=re.compile(rf"^Choose\s*: {VELI_PLUS}, Yearly$")).click()
    page.wait_for_url(re.compile(rf"/plans/{yearly}/checkout$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Checkout: {VELI_PLUS}")
    expect(summary_row(page, "Billing cycle")).to_contain_text("Yearly")
    expect(summary_row(page, "Price before KDV")).to_contain_text(lira("399.17"))
    expect(summary_row(page, "KDV (20%)")).to_contain_text(lira("79.83"))
    expect(summary_row(page, "Total")).to_contain_text(lira("479.00"))
    check_accessible()

    # 4. On to the provider's hosted page, which shows the total again and takes the card;
    #    paying there brings the parent back to the subscription page, with the plan.
    # The invoice's name is the account's; the address is asked for (the TC Kimlik No is not).
    expect(page.get_by_label("Name on the invoice")).not_to_have_value("")
    page.get_by_label("Invoice address").fill("Bağdat Cad. No: 5, Kadıköy / İstanbul")
    page.locator("#checkout-form").get_by_role("checkbox").check()  # the sale's documents
    page.locator("#checkout-form").get_by_role("button", name=f"Pay {lira('479.00')}").click()
    page.wait_for_url(re.compile(r"/sandbox-pay/checkout\?checkout="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Secure payment")
    check_accessible()
    form = page.locator("#card-form")
    form.get_by_label("Name on card").fill("Ayşe Yılmaz")
    form.get_by_label("Card number").fill(SUCCESS_CARD)
    form.get_by_label("Expiry month").select_option("12")
    form.get_by_label("Expiry year").select_option(EXPIRY_YEAR)
    form.get_by_label("Security code (CVC)").fill("123")
    form.get_by_role("button", name=f"Pay {lira('479.00')}").click()
    page.wait_for_url(re.compile(r"/account/subscription$"))
    expect(page.locator(".flash-success")).to_have_text("Thank you. Your subscription has started.")
    expect(page.locator("#current-title")).to_have_text(f"{VELI_PLUS} · Yearly")
    expect(fact(page, "Status")).to_have_text("Active")
    expect(fact(page, "Card")).to_contain_text("Visa •••• 4242")
    [subscription] = subscriptions_of(live_app, user_id=user_id)
    assert (subscription.plan_price_id, subscription.status) == (yearly, "active")
    ends_on = format_date(subscription.end_date, "long", locale="en")
    expect(fact(page, "Next payment")).to_have_text(ends_on)
    check_accessible()

    # 5. The receipt: net, KDV, total and the card.
    page.get_by_role("link", name=re.compile(r"^Receipt\b")).click()
    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Receipt")
    expect(fact(page, "Plan")).to_have_text(f"{VELI_PLUS} · Yearly")
    expect(fact(page, "Card")).to_have_text("Visa •••• 4242")
    expect(summary_row(page, "Amount before KDV")).to_contain_text(lira("399.17"))
    expect(summary_row(page, "KDV (20%)")).to_contain_text(lira("79.83"))
    expect(summary_row(page, "Total paid")).to_contain_text(lira("479.00"))
    check_accessible()

    # 6. Back; cancel at the end of the period: the panel says when it ends.
    page.get_by_role("link", name="Back to the subscription").click()
    page.wait_for_url(re.compile(r"/account/subscription$"))
    if javascript:
        settle(page)
    page.evaluate("() => { window.__samePage = true; }")
    page.get_by_role("button", name="Cancel at the end of the period").click()
    # htmx says it in the swapped panel; without JavaScript it is flashed after a redirect.
    main = page.get_by_role("main")
    expect(main).to_contain_text(
        f"Your subscription will end on {ends_on}. You can undo this until then."
    )
    expect(fact(page, "Ends on")).to_have_text(ends_on)
    expect(main).to_contain_text(f"Cancelled: it stays in force until {ends_on}")
    expect(page).to_have_url(re.compile(r"/account/subscription$"))
    assert subscriptions_of(live_app, user_id=user_id)[0].cancel_at_period_end

    # 7. Keep it after all: it renews again. (htmx wires up the swapped-in panel's forms only
    #    once it has settled; a click before that would post a plain form.)
    if javascript:
        settle(page)
    page.get_by_role("button", name="Keep my subscription").click()
    expect(main).to_contain_text("Your subscription will renew as before.")
    expect(fact(page, "Next payment")).to_have_text(ends_on)
    expect(main).not_to_contain_text("Cancelled:")
    expect(page.get_by_role("button", name="Cancel at the end of the period")).to_be_visible()
    assert not subscriptions_of(live_app, user_id=user_id)[0].cancel_at_period_end
    same_page = page.evaluate("() => window.__samePage === true")
    assert same_page is javascript, "with htmx the actions swap the panel in place"


def test_declined_card_shows_an_error_and_creates_no_subscription(
    page: Page, live_app, assert_accessible
):
    user_id, email = new_parent(live_app)
    yearly = price_id(live_app, "veli-plus", "yearly")
    sign_in_in_english(page, live_app, email)

    page.goto(f"/plans/{yearly}/checkout")
    to_hosted_page(page)
    form = page.locator("#card-form")
    fill_card(form, DECLINED_CARD)
    form.get_by_role("button", name=re.compile(r"^Pay ")).click()

    # Back at the portal's checkout, the reason next to its button, which leads to the hosted
    # page again; the refused number is nowhere on the page.
    page.wait_for_url(re.compile(rf"/plans/{yearly}/checkout/return\?answer="))
    alert = page.locator("#checkout-form").get_by_role("alert")
    expect(alert).to_have_text("Your card was declined. Nothing was charged; try another card.")
    assert DECLINED_CARD not in page.content()
    assert DECLINED_CARD.replace(" ", "") not in page.content()
    settle(page)
    assert_accessible(page)

    assert subscriptions_of(live_app, user_id=user_id) == []
    with live_data(live_app) as session:
        assert session.scalars(select(Payment).where(Payment.user_id == user_id)).all() == []
        cards = select(UserPaymentCard).where(UserPaymentCard.user_id == user_id)
        assert session.scalars(cards).all() == []
    page.goto("/account/subscription")
    expect(page.get_by_role("heading", name="No subscription")).to_be_visible()
    expect(page.get_by_text("No payments yet.")).to_be_visible()


def test_company_admin_buys_a_quarterly_company_plan(page: Page, live_app, assert_accessible):
    customer_id, email = new_company_admin(live_app)
    quarterly = price_id(live_app, "okul-temel", "quarterly")
    sign_in(page, live_app, email)  # in Turkish, the default

    # Staff see the company plans, net of KDV ("+ KDV").
    page.locator("header.site-header a[href='/plans']").click()
    page.wait_for_url(re.compile(r"/plans$"))
    expect(page.locator(".audience-switch a[aria-current=page]")).to_have_attribute(
        "href", re.compile(r"audience=companies")
    )
    expect(plan_card(page, VELI_PLUS)).to_have_count(0)
    expect(plan_card(page, OKUL_TEMEL).locator(".plan-amount")).to_have_text(lira("1.490,00"))

    quarterly_label = page.locator("label[for=cycle-quarterly]").inner_text().strip()
    page.locator("#cycle-quarterly").check()
    expect(page).to_have_url(re.compile(r"[?&]cycle=quarterly(&|$)"))
    card = plan_card(page, OKUL_TEMEL)
    expect(card.locator(".plan-amount")).to_have_text(lira("4.290,00"))
    settle(page)
    card.locator("a.plan-choose").click()

    page.wait_for_url(re.compile(rf"/plans/{quarterly}/checkout$"))
    expect(page.locator("table.summary tr.total")).to_contain_text(lira("5.148,00"))
    to_hosted_page(page)
    expect(page.locator("main")).to_contain_text(lira("5.148,00"))
    form = page.locator("#card-form")
    fill_card(form, SUCCESS_CARD)
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r"/customer/subscription$"))
    expect(page.locator("#current-title")).to_have_text(f"{OKUL_TEMEL} · {quarterly_label}")
    expect(page.locator("#subscription-panel")).to_contain_text(lira("4.290,00"))
    expect(page.locator("#subscription-panel")).to_contain_text("•••• 4242")
    [subscription] = subscriptions_of(live_app, customer_id=customer_id)
    assert (subscription.plan_price_id, subscription.billing_cycle, subscription.status) == (
        quarterly,
        "quarterly",
        "active",
    )
    with live_data(live_app) as session:
        payment = session.scalars(select(Payment).where(Payment.customer_id == customer_id)).one()
        assert str(payment.gross_amount) == "5148.00"
    settle(page)
    assert_accessible(page)
