"""Replacing the card renewals charge, in a real browser (JavaScript on and off): a parent adds
a card on the sandbox provider's hosted page, makes it the one renewals charge and removes the
old one."""

import re
from datetime import date, timedelta
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.billing.cards import attach_card
from portal.models import PlanPrice, UserPaymentCard, UserSubscription
from tests.browser.conftest import live_data, price_id, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

EXPIRY_YEAR = str(date.today().year + 2)


def subscribed_parent(app) -> tuple[int, str]:
    """A parent on Veli Plus monthly whose renewals charge a Visa ending in 4242."""
    with live_data(app) as session:
        make = Factories(session)
        user = make.user("parent", email=f"cards-{uuid4().hex[:8]}@example.com")
        price = session.get(PlanPrice, price_id(app, "veli-plus", "monthly"))
        today = date.today()
        subscription = make.subscription(
            price,
            user=user,
            anchor_date=today - timedelta(days=3),
            end_date=today + timedelta(days=27),
            next_billing_date=today + timedelta(days=27),
        )
        card = UserPaymentCard(
            user_id=user.id,
            gateway="sandbox",
            token=f"sbx_ok_{uuid4().hex[:24]}",
            brand="visa",
            last4="4242",
            exp_month=11,
            exp_year=int(EXPIRY_YEAR),
        )
        session.add(card)
        session.flush()
        attach_card(subscription, card)
        session.commit()
        return user.id, user.email


def cards_and_default(app, user_id: int) -> tuple[list[tuple[str, bool]], int]:
    """The parent's cards as (last four, removed) in the order added, and the id of the card
    renewals charge."""
    with live_data(app) as session:
        rows = session.scalars(
            select(UserPaymentCard)
            .where(UserPaymentCard.user_id == user_id)
            .order_by(UserPaymentCard.id)
            .execution_options(include_deleted=True)
        ).all()
        charged = session.scalar(
            select(UserSubscription.user_payment_card_id).where(UserSubscription.user_id == user_id)
        )
        return [(r.last4, r.deleted_at is not None) for r in rows], [r.id for r in rows].index(
            charged
        )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_parent_replaces_the_card_renewals_charge(
    new_page, javascript, live_app, assert_accessible
):
    user_id, email = subscribed_parent(live_app)
    page: Page = new_page(javascript=javascript)

    def check_accessible() -> None:
        if javascript:  # axe runs as JavaScript in the page
            settle(page)
            assert_accessible(page)

    page.goto("/auth/login")
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    sign_in(page, live_app, email)

    # 1. From the account menu to the cards page: the Visa, which renewals charge, cannot be
    #    removed while it is the only card.
    page.goto("/account/")
    # (From 48rem the menu's list is shown open, without its disclosure.)
    page.locator("nav.account-nav").get_by_role("link", name="Payment cards").click()
    page.wait_for_url(re.compile(r"/account/cards$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment cards")
    rows = page.locator("#saved-cards tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Visa")
    expect(rows.first).to_contain_text("4242")
    expect(rows.first).to_contain_text("Renewals charge this card")
    expect(rows.first.get_by_role("button")).to_have_count(0)
    check_accessible()

    # 2. Add a card: the number is typed on the provider's hosted page, never on the portal's.
    add = page.locator("#add-card-form")
    expect(add.locator("input[name=number], input[name=cvc]")).to_have_count(0)
    add.get_by_role("button", name="Add a card").click()
    page.wait_for_url(re.compile(r"/sandbox-pay/checkout\?checkout="))
    form = page.locator("#card-form")
    form.get_by_label("Name on card").fill("Ayşe Yılmaz")
    form.get_by_label("Card number").fill("5555 5555 5555 4444")
    form.get_by_label("Expiry month").select_option("12")
    form.get_by_label("Expiry year").select_option(EXPIRY_YEAR)
    form.get_by_label("Security code (CVC)").fill("123")
    form.get_by_role("button", name="Save card").click()
    page.wait_for_url(re.compile(r"/account/cards$"))
    expect(page.locator(".flash-success")).to_contain_text("Mastercard ending in 4444")
    expect(rows).to_have_count(2)
    assert cards_and_default(live_app, user_id) == ([("4242", False), ("4444", False)], 0)

    # 3. Make the Mastercard the card renewals charge (htmx swaps the panel in place).
    chooser = page.locator("#default-card-form")
    chooser.get_by_label(re.compile(r"Mastercard ending in 4444")).check()
    chooser.get_by_role("button", name="Use this card for renewals").click()
    expect(
        page.locator("#cards-panel, .flashes").get_by_text(
            re.compile(r"Renewals charge Mastercard ending in 4444.* from now on\.")
        )
    ).to_be_visible()
    assert cards_and_default(live_app, user_id)[1] == 1
    mastercard = rows.filter(has_text="4444")
    expect(mastercard).to_contain_text("Renewals charge this card")
    check_accessible()

    # 4. Remove the old Visa: it leaves the list and renewals keep the Mastercard.
    visa = rows.filter(has_text="4242")
    visa.get_by_role("button", name=re.compile(r"^Remove")).click()
    expect(page.get_by_text(re.compile(r"Visa ending in 4242.* is removed\."))).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("4444")
    assert cards_and_default(live_app, user_id) == ([("4242", True), ("4444", False)], 1)
    check_accessible()
