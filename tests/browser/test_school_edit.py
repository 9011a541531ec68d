"""A company admin edits a school's own page and a campus's fees in a real browser, and the
public school page shows them; a member granted only one campus sees and edits only that
campus. With JavaScript on (htmx saves a campus in place) and off (plain forms)."""

import re
from decimal import Decimal
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.access.permissions import Role
from portal.clock import istanbul_today
from portal.models import Campus, School, SchoolFee
from portal.schools.fees import school_year_of
from tests.browser.conftest import PHONE, live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

# The demo's company admin, granted the whole of Bilge Koleji.
ADMIN = "ayse.yilmaz@bilge-egitim.example.com"
DEMO_PASSWORD = "okul-demo-2026"
SLUG = "bilge-koleji"


@pytest.fixture
def kept_as_it_was(live_app):
    """Bilge Koleji's description and fees put back after the test: other browser tests
    search the demo schools by their fees."""
    with live_data(live_app) as session:
        school = session.scalar(select(School).where(School.slug == SLUG))
        description = school.description
        fees = {
            fee.id: (fee.campus_id, fee.level, fee.school_year, fee.yearly_fee)
            for fee in session.scalars(select(SchoolFee).where(SchoolFee.school_id == school.id))
        }
        school_id = school.id
    yield
    with live_data(live_app) as session:
        school = session.get(School, school_id)
        school.description = description
        for fee in session.scalars(select(SchoolFee).where(SchoolFee.school_id == school_id)):
            if fee.id in fees:
                fee.yearly_fee = fees[fee.id][3]
            else:
                session.delete(fee)
        session.commit()


def campus_id(app, name: str) -> int:
    with live_data(app) as session:
        return session.scalar(
            select(Campus.id)
            .join(School, School.id == Campus.school_id)
            .where(School.slug == SLUG, Campus.name == name)
        )


def stored_fee(app, campus: int, level: str) -> Decimal | None:
    with live_data(app) as session:
        return session.scalar(
            select(SchoolFee.yearly_fee).where(
                SchoolFee.campus_id == campus,
                SchoolFee.level == level,
                SchoolFee.school_year == school_year_of(istanbul_today()),
            )
        )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_admin_edits_a_schools_fees_and_the_public_page_shows_them(
    new_page, javascript, live_app, kept_as_it_was, assert_accessible
):
    page: Page = new_page(javascript=javascript)
    moda = campus_id(live_app, "Moda Kampüsü")
    amount = "287.654" if javascript else "276.543"
    description = f"Bahçeli kampüsler, güçlü yabancı dil ({uuid4().hex[:6]})."
    sign_in(page, live_app, ADMIN, DEMO_PASSWORD)

    page.locator('nav a[href="/customer/schools"]').click()
    expect(page).to_have_url(re.compile(r"/customer/schools$"))
    page.locator(f'#school-pages a[href="/customer/schools/{SLUG}"]').click()
    expect(page).to_have_url(re.compile(rf"/customer/schools/{SLUG}$"))
    if javascript:
        settle(page)
        assert_accessible(page)

    details = page.locator("#school-details-form")
    details.locator("textarea[name=description]").fill(description)
    details.locator("button[type=submit]").click()
    # The saved page comes back through a navigation (HX-Redirect with htmx, 303 without): wait
    # for its message, or the fee typed below goes into the page that is about to be replaced.
    expect(page.locator("main .flashes .flash-success")).to_be_visible()
    expect(page.locator("#school-details-form textarea[name=description]")).to_have_value(
        description
    )

    campus = page.locator(f"#campus-{moda}")
    campus.locator("input[name=primary_this]").fill(amount)
    campus.locator("button[type=submit]").click()
    # With htmx the campus is saved in place; without, the page comes back at the campus.
    expect(page.locator(f"#campus-{moda} input[name=primary_this]")).to_have_value(
        amount.replace(".", "")
    )
    if javascript:
        expect(page.locator(f"#campus-{moda} [role=status]")).to_be_visible()
        settle(page)
        assert_accessible(page)
    assert stored_fee(live_app, moda, "primary") == Decimal(amount.replace(".", ""))

    page.goto(f"/schools/{SLUG}")
    expect(page.locator("article")).to_contain_text(description)
    card = page.locator("li.card", has=page.locator("h3", has_text="Moda Kampüsü"))
    expect(card.locator(".fee-table")).to_contain_text(f"{amount},00")


def test_a_refused_fee_says_why_next_to_the_field(page, live_app, kept_as_it_was):
    moda = campus_id(live_app, "Moda Kampüsü")
    before = stored_fee(live_app, moda, "primary")
    sign_in(page, live_app, ADMIN, DEMO_PASSWORD)
    page.goto(f"/customer/schools/{SLUG}")

    campus = page.locator(f"#campus-{moda}")
    campus.locator("input[name=primary_this]").fill("-100")
    campus.locator("button[type=submit]").click()

    expect(page.locator(f"#campus-{moda}-primary_this-error")).to_be_visible()
    expect(page.locator(f"#campus-{moda}-primary_this")).to_have_attribute("aria-invalid", "true")
    assert stored_fee(live_app, moda, "primary") == before


@pytest.fixture
def campus_member(live_app) -> str:
    """A new school manager of Bilge Eğitim granted only Bilge Koleji's Ataşehir campus; their
    e-mail."""
    with live_data(live_app) as session:
        make = Factories(session)
        school = session.scalar(select(School).where(School.slug == SLUG))
        campus = session.scalar(
            select(Campus).where(Campus.school_id == school.id, Campus.name == "Ataşehir Kampüsü")
        )
        staff = make.customer_user(
            customer=school.customer,
            role=Role.MANAGER,
            email=f"mudur.{uuid4().hex[:8]}@bilge-egitim.example.com",
        )
        make.grant(staff, school, campus)
        session.commit()
        return staff.user.email


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_campus_only_member_sees_and_edits_only_that_campus(
    new_page, javascript, live_app, campus_member, kept_as_it_was
):
    page: Page = new_page(javascript=javascript)
    atasehir = campus_id(live_app, "Ataşehir Kampüsü")
    moda = campus_id(live_app, "Moda Kampüsü")
    sign_in(page, live_app, campus_member)

    page.locator('nav a[href="/customer/schools"]').click()
    expect(page.locator("#school-pages li.card")).to_have_count(1)
    page.locator(f'#school-pages a[href="/customer/schools/{SLUG}"]').click()

    expect(page.locator("section.card")).to_have_count(1)
    expect(page.locator(f"#campus-{atasehir}")).to_be_visible()
    expect(page.locator(f"#campus-{moda}")).to_have_count(0)
    expect(page.locator("#school-details-form textarea")).to_have_count(0)
    expect(page.locator("#listing")).to_have_count(0)

    campus = page.locator(f"#campus-{atasehir}")
    campus.locator("input[name=middle_next]").fill("401.000")
    campus.locator("button[type=submit]").click()
    expect(page.locator(f"#campus-{atasehir} input[name=middle_next]")).to_have_value("401000")
    if javascript:
        settle(page)
    with live_data(live_app) as session:
        assert session.scalar(
            select(SchoolFee.yearly_fee).where(
                SchoolFee.campus_id == atasehir,
                SchoolFee.level == "middle",
                SchoolFee.school_year == school_year_of(istanbul_today()) + 1,
            )
        ) == Decimal("401000.00")

    # Another school of the company, not granted: the same answer as no school at all.
    response = page.goto("/customer/schools/bilge-fen-lisesi")
    assert response.status == 404


def test_the_school_pages_fit_a_phone(new_page, live_app):
    page: Page = new_page(viewport=PHONE)
    sign_in(page, live_app, ADMIN, DEMO_PASSWORD)

    for url in ("/customer/schools", f"/customer/schools/{SLUG}"):
        page.goto(url)
        for width in (PHONE["width"], 360):
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {width}px"
