"""A company admin reads the company's scores and the team's activity in a real browser, from
the header's links: the charts are drawn (inline SVG, no script needed), the tables beside
them carry the same figures, and axe finds nothing; with JavaScript on and off."""

from datetime import timedelta
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from portal.access.permissions import Role
from portal.clock import istanbul_today
from portal.models import CustomerScore, CustomerUserDailyActivityLog
from tests.browser.conftest import PHONE, live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser


@pytest.fixture
def company(live_app) -> dict:
    """A new company: an admin (in English) with a colleague, 12 weeks of daily scores and
    some days of work."""
    today = istanbul_today()
    with live_data(live_app) as session:
        make = Factories(session)
        customer = make.customer(name=f"Grafik Eğitim {uuid4().hex[:4]}")
        admin = make.customer_user(customer, Role.ADMIN, f"admin.{uuid4().hex[:8]}@example.com")
        admin.user.locale = "en"
        admin.user.name = "Ayla Grafik"
        agent = make.customer_user(customer, Role.AGENT, f"agent.{uuid4().hex[:8]}@example.com")
        agent.user.name = "Bora Grafik"
        for n in range(84):
            value = 100 + n
            session.add(
                CustomerScore(
                    customer_id=customer.id,
                    scored_on=today - timedelta(days=83 - n),
                    demand=value,
                    communication=value,
                    responsiveness=value,
                    payment=value,
                    total=value,
                )
            )
        for days_ago, views, offers in ((1, 4, 1), (2, 7, 0), (9, 2, 2)):
            session.add(
                CustomerUserDailyActivityLog(
                    customer_user_id=agent.id,
                    activity_date=today - timedelta(days=days_ago),
                    sign_in_count=1,
                    lead_view_count=views,
                    lead_reply_count=0,
                    offer_count=offers,
                )
            )
        session.commit()
        return {"admin": admin.user.email}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_admin_reads_the_scores_and_the_teams_activity(
    new_page, javascript, live_app, company, assert_accessible
):
    page: Page = new_page(javascript=javascript)

    def check_accessible() -> None:
        if javascript:  # axe runs as JavaScript in the page
            settle(page)
            assert_accessible(page)

    sign_in(page, live_app, company["admin"])

    page.get_by_role("link", name="Scores", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Scores")
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(5)
    expect(charts.first.locator("polyline")).to_have_count(1)
    expect(page.get_by_role("heading", name="Total")).to_be_visible()
    # The latest total is 183 of 255: 72 %.
    expect(page.locator("li.card").filter(has_text="Total")).to_contain_text("72 %")
    weeks = page.get_by_role("table", name="The last 12 weeks, each week's latest scores")
    expect(weeks.locator("tbody tr")).to_have_count(12)
    expect(weeks.locator("tbody tr").last).to_contain_text("72 %")
    check_accessible()

    page.get_by_role("link", name="Team activity", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team activity")
    expect(page.get_by_role("heading", level=2)).to_have_text(["Ayla Grafik", "Bora Grafik"])
    bora = page.locator("section").filter(has=page.get_by_role("heading", name="Bora Grafik"))
    chart = bora.get_by_role("img", name="Bora Grafik: activity per day, last 30 days")
    expect(chart).to_be_visible()
    # A path per kind drawn: sign-ins, views and offers; a rectangle per day in each.
    expect(chart.locator("path")).to_have_count(3)
    shapes = " ".join(
        chart.locator("path").evaluate_all("paths => paths.map(p => p.getAttribute('d'))")
    )
    assert shapes.count("z") == 8  # 3 sign-in bars, 3 view bars, 2 offer bars
    table = bora.get_by_role("table", name="Bora Grafik: the days with activity")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tfoot")).to_contain_text("13")  # requests viewed in all
    check_accessible()


def test_both_pages_fit_a_phone_without_javascript(new_page, live_app, company):
    page: Page = new_page(javascript=False, viewport=PHONE)
    sign_in(page, live_app, company["admin"])

    for url in ("/customer/scores", "/customer/activity"):
        page.goto(url)
        expect(page.locator("svg[role=img]").first).to_be_visible()
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{url} scrolls sideways: {width}"
