"""A staff member granted one campus works a parent's request in a real browser: from the
dashboard to the inbox, into the request, and an offer made in Turkish figures; with
JavaScript on (htmx swaps the list and the work area) and off (plain forms and links)."""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.clock import istanbul_today
from portal.models import (
    Campus,
    CustomerUser,
    CustomerUserDailyActivityLog,
    School,
    SchoolOffer,
    User,
)
from tests.browser.conftest import PHONE, live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

# The demo's admissions agent, granted only the Ataşehir campus of Bilge Koleji.
AGENT = "zeynep.kara@bilge-egitim.example.com"
DEMO_PASSWORD = "okul-demo-2026"


@pytest.fixture
def campus_lead(live_app) -> int:
    """A new parent's open request to the agent's campus; its id."""
    with live_data(live_app) as session:
        make = Factories(session)
        school = session.scalar(select(School).where(School.slug == "bilge-koleji"))
        campus = session.scalar(
            select(Campus).where(Campus.school_id == school.id, Campus.name == "Ataşehir Kampüsü")
        )
        parent = make.user(
            email=f"veli.{uuid4().hex[:8]}@example.com", name=f"Tarayıcı Veli {uuid4().hex[:4]}"
        )
        lead = make.lead(parent, school, campus, message="İlkokul için bilgi rica ederiz.")
        session.commit()
        return lead.id


def offers_made_today(app) -> int:
    with live_data(app) as session:
        member_id = session.scalar(
            select(CustomerUser.id)
            .join(User, User.id == CustomerUser.user_id)
            .where(User.email == AGENT)
        )
        return (
            session.scalar(
                select(CustomerUserDailyActivityLog.offer_count).where(
                    CustomerUserDailyActivityLog.customer_user_id == member_id,
                    CustomerUserDailyActivityLog.activity_date == istanbul_today(),
                )
            )
            or 0
        )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_campus_agent_answers_a_request_with_an_offer(
    new_page, javascript, live_app, campus_lead, assert_accessible
):
    page: Page = new_page(javascript=javascript)

    def check_accessible() -> None:
        if javascript:  # axe runs as JavaScript in the page
            settle(page)
            assert_accessible(page)

    sign_in(page, live_app, AGENT, DEMO_PASSWORD)
    offers_before = offers_made_today(live_app)

    page.locator("#lead-inbox-link a").first.click()  # "N open": the whole inbox
    expect(page).to_have_url(re.compile(r"/customer/leads$"))
    lead_link = page.locator(f'#lead-list a[href="/customer/leads/{campus_lead}"]')
    expect(lead_link).to_have_count(1)
    if javascript:
        # A filter change swaps the list alone and keeps the address shareable.
        page.locator("#lead-filters select[name=state]").select_option("all")
        expect(page).to_have_url(re.compile(r"state=all"))
        settle(page)
        expect(lead_link).to_have_count(1)
    check_accessible()

    lead_link.click()
    expect(page).to_have_url(re.compile(rf"/customer/leads/{campus_lead}$"))
    expect(page.locator("h1")).to_contain_text("Tarayıcı Veli")
    expect(page.locator(".lead-message")).to_have_text("İlkokul için bilgi rica ederiz.")
    check_accessible()

    form = page.locator("#offer-form")
    form.locator("input[name=yearly_fee]").fill("185.000")
    form.locator("input[name=discount_percent]").fill("7,5")
    form.locator("textarea[name=note]").fill("Erken kayıt indirimi.")
    form.locator("button[type=submit]").click()

    expect(page.locator("#offers tbody tr")).to_have_count(1)
    expect(page.locator("#offers")).to_contain_text(re.compile(r"185[.,]000"))
    expect(page.locator("#offers")).to_contain_text(re.compile(r"171[.,]125"))  # less 7.5 %
    expect(page.locator("#timeline")).to_contain_text("Teklif gönderildi")  # Offer sent
    expect(page).to_have_url(re.compile(rf"/customer/leads/{campus_lead}$"))
    check_accessible()

    with live_data(live_app) as session:
        offer = session.scalar(select(SchoolOffer).where(SchoolOffer.lead_id == campus_lead))
        assert (str(offer.yearly_fee), str(offer.discount_percent)) == ("185000.00", "7.50")
    assert offers_made_today(live_app) == offers_before + 1


def test_a_refused_offer_says_why_next_to_the_field(page, live_app, campus_lead):
    sign_in(page, live_app, AGENT, DEMO_PASSWORD)
    page.goto(f"/customer/leads/{campus_lead}")

    form = page.locator("#offer-form")
    form.locator("input[name=yearly_fee]").fill("çok")
    form.locator("button[type=submit]").click()

    expect(page.locator("#yearly_fee-error")).to_be_visible()
    expect(page.locator("#yearly_fee")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#offers tbody tr")).to_have_count(0)


def test_the_inbox_and_the_lead_fit_a_phone(new_page, live_app, campus_lead, make_offer_row):
    page = new_page(viewport=PHONE)
    sign_in(page, live_app, AGENT, DEMO_PASSWORD)

    for url in ("/customer/leads", f"/customer/leads/{campus_lead}"):
        page.goto(url)
        for width in (PHONE["width"], 360):
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {width}px"


@pytest.fixture
def make_offer_row(live_app, campus_lead):
    """An offer on the lead, so the lead page shows its offers table."""
    with live_data(live_app) as session:
        from portal.models import Lead

        Factories(session).offer(session.get(Lead, campus_lead))
        session.commit()
