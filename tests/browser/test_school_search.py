"""The school search in a real browser: results follow what a parent types without a reload,
the address follows the results (back shows the previous ones), and the same search works
through the plain form with JavaScript off."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from portal.models import Campus, Customer, School, SchoolFee, SchoolLevel, User
from tests.browser.conftest import live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

CITY = "Aramakent"  # a city of its own, so the demo schools stay as the other tests see them


@pytest.fixture
def searchable(live_app):
    """Three schools in CITY, two of them "Zümrüt ..."; and a parent without a budget. Removed
    afterwards."""
    with live_data(live_app) as session:
        make = Factories(session)
        customer = make.customer(name="Arama Eğitim")
        for name in ("Zümrüt Işık Koleji", "Zümrüt Deniz Koleji", "Başka Okul"):
            make.school(customer, name=name, city=CITY, district="Merkez")
        parent = make.user("parent")
        session.commit()
        customer_id, parent_id, email = customer.id, parent.id, parent.email
    yield email
    with live_data(live_app) as session:
        school_ids = select(School.id).where(School.customer_id == customer_id)
        session.execute(delete(SchoolFee).where(SchoolFee.school_id.in_(school_ids)))
        session.execute(delete(SchoolLevel).where(SchoolLevel.school_id.in_(school_ids)))
        session.execute(delete(Campus).where(Campus.school_id.in_(school_ids)))
        session.execute(delete(School).where(School.customer_id == customer_id))
        session.execute(delete(Customer).where(Customer.id == customer_id))
        session.get(User, parent_id).soft_delete()
        session.commit()


def names(page: Page) -> list[str]:
    return page.locator("#school-list li.card h3").all_inner_texts()


def test_results_follow_the_typed_name_and_back_restores_them(
    page: Page, live_app, searchable, assert_accessible
):
    sign_in(page, live_app, searchable)
    page.goto(f"/?city={CITY}")
    expect(page.locator("#school-list li.card")).to_have_count(3)
    page.evaluate("window.stillTheSamePage = true")  # gone if the browser loads a new page

    # Typed the way a phone keyboard without Turkish letters would: folded on both sides.
    page.locator("#q").press_sequentially("zumrut", delay=40)
    expect(page.locator("#school-list li.card")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"[?&]q=zumrut(&|$)"))
    settle(page)
    page.locator("#q").press_sequentially(" ISIK", delay=40)
    expect(page.locator("#school-list li.card")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"[?&]q=zumrut\+ISIK(&|$)"))
    settle(page)

    assert names(page) == ["Zümrüt Işık Koleji"]
    assert page.evaluate("window.stillTheSamePage") is True  # htmx swapped the results only
    assert page.locator("#q").input_value() == "zumrut ISIK"  # nothing typed was lost
    assert_accessible(page)

    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]q=zumrut(&|$)"))
    expect(page.locator("#school-list li.card")).to_have_count(2)
    page.reload()
    expect(page.locator("#school-list li.card")).to_have_count(2)
    assert page.locator("#q").input_value() == "zumrut"


def test_a_bad_fee_is_explained_next_to_the_field_and_the_city_brings_its_districts(
    page: Page, searchable, assert_accessible
):
    page.goto("/")
    expect(page.locator("#district")).to_have_count(0)

    page.locator("#city").select_option(CITY)
    expect(page.locator("#district")).to_be_visible()
    expect(page.locator("#school-list li.card")).to_have_count(3)
    settle(page)
    page.locator("#fee_min").fill("çok")
    page.locator("#fee_min").press("Enter")

    expect(page.locator("#fee_min-error .error")).to_be_visible()
    expect(page.locator("#school-list li.card")).to_have_count(0)
    settle(page)
    assert_accessible(page)
    page.locator("#fee_min").fill("50.000")
    page.locator("#fee_min").press("Enter")
    expect(page.locator("#fee_min-error .error")).to_have_count(0)
    expect(page.locator("#school-list li.card")).to_have_count(3)


def test_the_same_search_works_with_javascript_off(nojs_page: Page, searchable):
    nojs_page.goto("/")
    nojs_page.locator("#city").select_option(CITY)
    nojs_page.locator("#q").fill("ZÜMRÜT ışık")
    nojs_page.locator("#school-search button[type=submit]").click()

    nojs_page.wait_for_url(re.compile(r"[?&]q=Z%C3%9CMR%C3%9CT"))
    assert names(nojs_page) == ["Zümrüt Işık Koleji"]
    assert nojs_page.locator("#q").input_value() == "ZÜMRÜT ışık"
    # The district is offered once the city is sent.
    expect(nojs_page.locator("#district")).to_be_visible()
