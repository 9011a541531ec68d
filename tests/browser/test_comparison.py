"""A parent compares two campuses in a real browser: adds both from the school's page, opens the
comparison, sees them side by side with their fees, removes one; with JavaScript on (htmx
swaps the toggles and the table in place) and off (plain forms and redirects). Both pages pass
axe-core, and on a phone the comparison scrolls inside its own box, never the page."""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from portal.clock import istanbul_today
from portal.models import Campus, Customer, School, SchoolFee, SchoolLevel, User, UserComparison
from portal.schools.fees import school_year_of
from tests.browser.conftest import PHONE, live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

SCHOOL = "Karşılaştırma Koleji"


@pytest.fixture
def school_and_parent(live_app):
    """A school with two campuses whose primary school fees differ, and a new parent on the
    free limit (two at once); removed afterwards, so the other tests see the demo data."""
    tag = uuid4().hex[:8]
    with live_data(live_app) as session:
        make = Factories(session)
        parent = make.user(email=f"karsilastir.{tag}@example.com", name="Kıyas Veli")
        customer = make.customer(name=f"Kıyas Eğitim {tag}")
        school = make.school(
            customer,
            name=SCHOOL,
            campuses=("Moda Kampüsü", "Kuzey Kampüsü"),
            levels=("primary",),
            fees={"primary": 180000},
            district="Kadıköy",
        )
        kuzey = next(c for c in school.campuses if c.name == "Kuzey Kampüsü")
        session.execute(
            SchoolFee.__table__.update()
            .where(SchoolFee.campus_id == kuzey.id)
            .values(yearly_fee=245000)
        )
        session.commit()
        ids = {
            "email": parent.email,
            "parent": parent.id,
            "customer": customer.id,
            "slug": school.slug,
            **{c.name: c.id for c in school.campuses},
        }
    yield ids
    with live_data(live_app) as session:
        school_ids = select(School.id).where(School.customer_id == ids["customer"])
        session.execute(delete(UserComparison).where(UserComparison.user_id == ids["parent"]))
        session.execute(delete(SchoolFee).where(SchoolFee.school_id.in_(school_ids)))
        session.execute(delete(SchoolLevel).where(SchoolLevel.school_id.in_(school_ids)))
        session.execute(delete(Campus).where(Campus.school_id.in_(school_ids)))
        session.execute(delete(School).where(School.customer_id == ids["customer"]))
        session.execute(delete(Customer).where(Customer.id == ids["customer"]))
        session.execute(
            delete(User).where(User.id == ids["parent"]).execution_options(include_deleted=True)
        )
        session.commit()


def toggle_form(page: Page, campus_id: int):
    return page.locator(f"form.compare-toggle:has(#compare-campus-{campus_id})")


def columns(page: Page):
    return page.locator("#compare-table table.compare thead th[scope=col]")


def compared(live_app, parent_id: int) -> set[int]:
    with live_data(live_app) as session:
        rows = session.scalars(select(UserComparison).where(UserComparison.user_id == parent_id))
        return {row.campus_id for row in rows}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_parent_compares_two_campuses_side_by_side_and_removes_one(
    new_page, javascript, live_app, school_and_parent, assert_accessible
):
    ids = school_and_parent
    moda, kuzey = ids["Moda Kampüsü"], ids["Kuzey Kampüsü"]
    page = new_page(javascript=javascript)

    def check_accessible() -> None:
        if javascript:  # axe runs as JavaScript in the page
            settle(page)
            assert_accessible(page)

    sign_in(page, live_app, ids["email"])
    page.goto(f"/schools/{ids['slug']}")
    check_accessible()

    for campus_id in (moda, kuzey):
        page.locator(f"#compare-campus-{campus_id}").click()
        # In its new state the toggle takes the campus out again (htmx: swapped in place;
        # without JavaScript: the page came back after the redirect).
        expect(toggle_form(page, campus_id)).to_have_attribute("action", "/compare/remove")
        if javascript:
            settle(page)
    expect(page).to_have_url(re.compile(rf"/schools/{ids['slug']}$"))
    assert compared(live_app, ids["parent"]) == {moda, kuzey}

    page.locator('main a[href="/compare"]').first.click()
    expect(page).to_have_url(re.compile(r"/compare$"))
    expect(columns(page)).to_have_count(2)
    expect(columns(page).nth(0)).to_contain_text("Moda Kampüsü")
    expect(columns(page).nth(1)).to_contain_text("Kuzey Kampüsü")
    table = page.locator("#compare-table table.compare")
    expect(table).to_contain_text("180.000,00\u00a0₺")
    expect(table).to_contain_text("245.000,00\u00a0₺")
    check_accessible()

    # The remove button of Moda's column: its name ends with the school and campus.
    page.get_by_role("button", name=re.compile(r"Moda Kampüsü$")).click()

    expect(columns(page)).to_have_count(1)
    expect(columns(page).first).to_contain_text("Kuzey Kampüsü")
    expect(page.locator("#compare-table")).not_to_contain_text("180.000,00")
    assert compared(live_app, ids["parent"]) == {kuzey}
    check_accessible()


def test_on_a_phone_the_comparison_scrolls_in_its_box_not_the_page(
    new_page, live_app, school_and_parent, assert_accessible
):
    ids = school_and_parent
    page = new_page(viewport=PHONE)
    sign_in(page, live_app, ids["email"])
    for name in ("Moda Kampüsü", "Kuzey Kampüsü"):
        page.goto(f"/schools/{ids['slug']}")
        page.locator(f"#compare-campus-{ids[name]}").click()
        expect(toggle_form(page, ids[name])).to_have_attribute("action", "/compare/remove")
        settle(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    year = school_year_of(istanbul_today())

    page.goto(f"/compare?year={year}")

    expect(columns(page)).to_have_count(2)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator(".table-scroll")
    # The table is wider than the phone, so its box scrolls: by keyboard too (it takes focus).
    assert box.evaluate("(el) => el.scrollWidth > el.clientWidth")
    box.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.table-scroll').scrollLeft > 0")
    assert_accessible(page)
