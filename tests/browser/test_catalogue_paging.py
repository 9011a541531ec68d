"""Paging the catalogue in a real browser: htmx swaps the list and keeps the address, back
and reload show the same page, and the plain links work with JavaScript off."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from portal.models import Campus, Customer, School, SchoolFee, SchoolLevel
from tests.browser.conftest import live_data
from tests.factories import Factories

pytestmark = pytest.mark.browser

CITY = "Sayfakent"  # a city of its own, so the demo schools stay as the other tests see them
NEXT = re.compile(r"^\s*(Sonraki|Next)\s*$")
PREVIOUS = re.compile(r"^\s*(Önceki|Previous)\s*$")


@pytest.fixture
def many_schools(live_app):
    """25 published schools in CITY (20 on page 1, 5 on page 2); removed afterwards."""
    with live_data(live_app) as session:
        make = Factories(session)
        customer = make.customer(name="Sayfa Eğitim")
        for n in range(25):
            make.school(customer, name=f"Sayfa Okulu {n:02d}", city=CITY, is_published=True)
        session.commit()
        customer_id = customer.id
    yield
    with live_data(live_app) as session:
        school_ids = select(School.id).where(School.customer_id == customer_id)
        session.execute(delete(SchoolFee).where(SchoolFee.school_id.in_(school_ids)))
        session.execute(delete(SchoolLevel).where(SchoolLevel.school_id.in_(school_ids)))
        session.execute(delete(Campus).where(Campus.school_id.in_(school_ids)))
        session.execute(delete(School).where(School.customer_id == customer_id))
        session.execute(delete(Customer).where(Customer.id == customer_id))
        session.commit()


def cards(page: Page):
    return page.locator("#school-list li.card")


def test_next_swaps_the_list_in_place_and_back_returns_to_page_one(page: Page, many_schools):
    page.goto(f"/?city={CITY}")
    expect(cards(page)).to_have_count(20)
    expect(page.locator("#school-list")).to_contain_text("25")
    page.evaluate("window.stillTheSamePage = true")  # gone if the browser loads a new page

    page.get_by_role("link", name=NEXT).click()

    expect(cards(page)).to_have_count(5)
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(cards(page).first).to_contain_text("Sayfa Okulu 20")
    assert page.evaluate("window.stillTheSamePage") is True  # htmx swapped the list only

    page.go_back()
    expect(cards(page)).to_have_count(20)
    expect(cards(page).first).to_contain_text("Sayfa Okulu 00")

    page.go_forward()
    page.reload()
    expect(cards(page)).to_have_count(5)  # the address alone shows the same page


def test_the_pager_works_as_plain_links_with_javascript_off(nojs_page: Page, many_schools):
    nojs_page.goto(f"/?city={CITY}")

    nojs_page.get_by_role("link", name=NEXT).click()

    expect(cards(nojs_page)).to_have_count(5)
    expect(nojs_page).to_have_url(re.compile(rf"city={CITY}.*page=2|page=2.*city={CITY}"))
    nojs_page.get_by_role("link", name=PREVIOUS).click()
    expect(cards(nojs_page)).to_have_count(20)
