"""Deleting an account with a running paid subscription, in a real browser (JavaScript on and
off): the page says what happens to the subscription before it is confirmed, and the deletion
does exactly that (issue 14, item 4).

With JavaScript, the parent bought Veli Plus yearly three days ago: within the withdrawal
period, so the page says the 479,00 ₺ go back to the card, and a refund row records it.
Without, the parent bought it 120 days ago: the page says what was paid is not refunded, and
no refund is made. In both the subscription ends that day and is never renewed. Read in
English, as the other billing journeys are.
"""

import re
from datetime import timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import update

from portal.clock import istanbul_today
from portal.models import Payment
from tests.billing.helpers import at
from tests.browser.conftest import live_data, settle
from tests.browser.test_billing_journey import lira, sign_in_in_english
from tests.browser.test_upgrade_and_pause import (
    parent_on_plus_yearly,
    payments_of,
    subscription_of,
)
from tests.factories import Factories

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("javascript", "bought_days_ago"), [(True, 3), (False, 120)], ids=["js", "nojs"]
)
def test_parent_is_told_what_happens_to_the_subscription_then_deletes_the_account(
    new_page, javascript, bought_days_ago, live_app, assert_accessible
):
    today = istanbul_today()
    bought_on = today - timedelta(days=bought_days_ago)
    user_id, email = parent_on_plus_yearly(live_app, bought_on)
    with live_data(live_app) as session:  # the charge was made on the day it was bought
        session.execute(
            update(Payment).where(Payment.user_id == user_id).values(created_at=at(bought_on))
        )
        session.commit()
    paid_until = subscription_of(live_app, user_id).end_date
    page = new_page(javascript=javascript)
    sign_in_in_english(page, live_app, email)

    # 1. Before anything is confirmed, the page says the subscription ends today, and what
    #    is refunded.
    page.goto("/account/delete")
    fate = page.locator("#delete-subscription")
    expect(fate).to_contain_text("Your subscription ends with the account.")
    expect(fate).to_contain_text(
        f"ends on {format_date(today, 'long', locale='en')}, when the account is deleted"
    )
    if bought_days_ago <= 14:
        expect(fate).to_contain_text(
            f"{lira('479.00')}, what you paid in the last 14 days (the withdrawal period), "
            "is refunded to the card it was paid with."
        )
    else:
        expect(fate).to_contain_text(
            "What you paid for the period until "
            f"{format_date(paid_until, 'long', locale='en')} is not refunded."
        )
    if javascript:
        settle(page)
        assert_accessible(page)

    # 2. Confirm with the password: signed out, the subscription ended today, refunded as
    #    the page said.
    form = page.locator("#delete-form")
    form.locator("input[name=password]").fill(Factories.PASSWORD)
    form.locator("input[name=understood]").check()
    form.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("main .flashes .flash-info")).to_contain_text("Your account is deleted.")

    ended = subscription_of(live_app, user_id)
    assert (ended.status, ended.end_date, ended.next_billing_date) == ("cancelled", today, None)
    refunds = [p for p in payments_of(live_app, user_id) if p.purpose == "refund"]
    if bought_days_ago <= 14:
        assert [(r.status, str(r.gross_amount)) for r in refunds] == [("succeeded", "479.00")]
    else:
        assert refunds == []
