"""A parent asks a campus for information in a real browser, giving the KVKK consent on the
way, and finds the request among their own; with JavaScript on (htmx swaps the refused form,
then follows HX-Redirect) and off (plain posts). The ask page (also with its errors) and
the lead page pass axe (checked with JavaScript on: axe runs in the page).

Labels are being translated while this is written, so fields are found by their id and
buttons and links by their address or a name in either language.
"""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from portal.models import Campus, Lead, LeadEvent, School, UserConsent, UserDetail
from tests.browser.conftest import live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

MESSAGE = "Oğlum için ilkokul kaydı ve burs imkânları hakkında bilgi almak istiyoruz."


@pytest.fixture
def new_parent(live_app):
    """A parent with no consent yet (so the form asks for it); their leads removed after, so
    the demo school's inbox is as it was for the other tests."""
    with live_data(live_app) as session:
        parent = Factories(session).user(
            email=f"soran.{uuid4().hex[:8]}@example.com", name="Soran Veli"
        )
        session.add(UserDetail(user_id=parent.id))
        session.commit()
        email, parent_id = parent.email, parent.id
    yield email, parent_id
    with live_data(live_app) as session:
        leads = select(Lead.id).where(Lead.user_id == parent_id)
        session.execute(delete(LeadEvent).where(LeadEvent.lead_id.in_(leads)))
        session.execute(delete(Lead).where(Lead.user_id == parent_id))
        session.commit()


def moda_campus(app) -> tuple[str, int]:
    with live_data(app) as session:
        school = session.scalar(select(School).where(School.slug == "bilge-koleji"))
        campus = session.scalar(
            select(Campus).where(Campus.school_id == school.id, Campus.name == "Moda Kampüsü")
        )
        return school.slug, campus.id


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_parent_asks_a_campus_giving_consent_on_the_way(
    new_page, javascript, live_app, new_parent, assert_accessible
):
    email, parent_id = new_parent
    slug, campus_id = moda_campus(live_app)
    page = new_page(javascript=javascript)
    sign_in(page, live_app, email)

    page.goto(f"/schools/{slug}")
    page.locator(f'a[href="/schools/{slug}/ask?campus={campus_id}"]').click()
    expect(page).to_have_url(re.compile(rf"/schools/{slug}/ask\?campus={campus_id}$"))
    expect(page.locator("h1")).to_contain_text("Bilge Koleji")
    expect(page.locator("#ask-form .legal-text")).to_be_visible()  # the consent text
    if javascript:  # axe runs as JavaScript in the page
        assert_accessible(page)

    form = page.locator("#ask-form")
    form.locator("#message").fill(MESSAGE)
    form.locator("button[type=submit]").click()
    if javascript:
        settle(page)
    # Refused: the consent box is required, and says so next to itself.
    expect(page.locator("#consent-error")).to_be_visible()
    expect(page.locator("#message")).to_have_value(MESSAGE)
    if javascript:  # axe runs as JavaScript in the page
        assert_accessible(page)

    page.locator("#consent").check()
    page.locator("#ask-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/account/leads/\d+$"))
    expect(page.locator("main")).to_contain_text(MESSAGE)
    expect(page.locator("main")).to_contain_text("Moda Kampüsü")
    expect(page.locator("#lead-state")).to_be_visible()
    if javascript:  # axe runs as JavaScript in the page
        assert_accessible(page)
    with live_data(live_app) as session:
        lead = session.scalar(select(Lead).where(Lead.user_id == parent_id))
        consent = session.get(UserConsent, lead.user_consent_id)
        assert (lead.campus_id, lead.state, consent.method) == (campus_id, "open", "lead_form")
        assert session.get(UserDetail, parent_id).lead_open_count == 1

    page.goto("/account/leads")
    expect(page.locator("#lead-list li.card")).to_have_count(1)
    expect(page.locator("#lead-list")).to_contain_text("Moda Kampüsü")
