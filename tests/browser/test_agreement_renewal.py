"""An agreement renewed with inflation, in a real browser (issue 13 item 5): an operator finds a
signed agreement near its end on the renewals list, types the inflation rate the Turkish way
("47,09"), sees the new prices, and renews; the next term is a draft with the documented
amounts (1.234,56 ₺ × 1,4709 = 1.815,914304 → 1.815,91 ₺). With JavaScript on and off; the
pages are Turkish."""

import re
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.access.permissions import Role
from portal.clock import istanbul_today
from portal.models import CustomerAgreement
from portal.models.customers import CustomerAgreementsRenewLog
from tests.browser.conftest import live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser


@pytest.fixture
def ending(live_app) -> dict:
    """An operator, and a company's signed agreement with the inflation clause ending in 10
    days: 1.234,56 ₺ × 2."""
    tag = uuid4().hex[:8]
    with live_data(live_app) as session:
        make = Factories(session)
        operator = make.user("operator", email=f"yenileme.{tag}@example.com")
        customer = make.customer(name=f"Yenileme Eğitim {tag}", is_inflation_auto_updated=True)
        ends_on = istanbul_today() + timedelta(days=10)
        agreement = make.agreement(
            customer,
            status="signed",
            agreement_no=f"YEN-{tag}",
            starts_on=ends_on - timedelta(days=364),
            ends_on=ends_on,
            products=[
                {"name": "Listeleme", "quantity": 2, "unit_price": "1234.56", "period": "yearly"}
            ],
            total_amount=Decimal("2469.12"),
            is_inflation_auto_updated=True,
            required_roles=(Role.ADMIN,),
        )
        session.commit()
        return {"operator": operator.email, "agreement": agreement.id}


def open_renewal(page: Page, agreement_id: int) -> None:
    page.goto("/operator/agreements")
    page.locator("#renewals-link").click()
    page.wait_for_url(re.compile(r"/operator/agreements/renewals$"))
    # The list is the soonest end first, a page at a time: follow the link when it is shown,
    # else open the renewal the way its link would.
    link = page.locator(f"tr[data-agreement-id='{agreement_id}'] a")
    if link.count():
        link.click()
    else:
        page.goto(f"/operator/agreements/{agreement_id}/renewal")
    page.wait_for_url(re.compile(rf"/operator/agreements/{agreement_id}/renewal$"))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_operator_renews_with_inflation(new_page, live_app, ending, javascript):
    page = new_page(javascript=javascript)
    sign_in(page, live_app, ending["operator"])
    open_renewal(page, ending["agreement"])
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator("#agreement-status")).to_have_text("İmzalandı")

    form = page.locator("#renew-form")
    form.locator("[name=rate]").fill("47,09x")
    form.locator("#renew-preview").click()
    if javascript:
        settle(page)
    expect(page.locator("#rate-error")).to_be_visible()

    form = page.locator("#renew-form")
    form.locator("[name=rate]").fill("47,09")
    form.locator("#renew-preview").click()
    if javascript:
        settle(page)
    preview = page.locator("#renewal-preview")
    expect(preview.locator(".new-price")).to_have_text("1.815,91 ₺")
    expect(page.locator("#renewal-preview-total")).to_contain_text("3.631,82 ₺")

    page.locator("#renew-form").locator("[name=rate]").fill("47,09")
    page.locator("#renew-confirm").click()
    page.wait_for_url(re.compile(r"/operator/agreements/\d+$"))
    expect(page.locator("#agreement-status")).to_have_attribute("data-status", "draft")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator("#agreement-status")).to_have_text("Taslak")

    new_id = int(page.url.rsplit("/", 1)[1])
    with live_data(live_app) as session:
        log = session.scalars(
            select(CustomerAgreementsRenewLog).where(
                CustomerAgreementsRenewLog.customer_agreement_id == ending["agreement"]
            )
        ).one()
        assert log.renewed_agreement_id == new_id
        assert (log.inflation_rate, log.new_amount) == (Decimal("47.09"), Decimal("3631.82"))
        following = session.get(CustomerAgreement, new_id)
        assert following.products[0]["unit_price"] == "1815.91"
