"""A parent's favorites, paged, in a real browser: the next page, and removing the only
favorite of the last page lands on the page before, with JavaScript on (htmx swaps the list)
and off (the form posts and the page comes back)."""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from portal.models import Campus, Customer, School, SchoolFee, SchoolLevel, User, UserFavorite
from tests.browser.conftest import live_data, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

NEXT = re.compile(r"^\s*(Sonraki|Next)\s*$")
REMOVE = re.compile(r"(Kaldır|Remove)")


@pytest.fixture
def parent_with_21_favorites(live_app):
    """A new parent keeping 21 schools (20 on page 1, the oldest alone on page 2); removed
    afterwards with the schools, so the other tests see the demo data as it was."""
    with live_data(live_app) as session:
        make = Factories(session)
        parent = make.user(email=f"sayfa.{uuid4().hex[:8]}@example.com", name="Sayfa Veli")
        customer = make.customer(name="Sayfa Favori Eğitim")
        for n in range(21):
            school = make.school(customer, name=f"Favori Okulu {n:02d}", is_published=True)
            session.add(
                UserFavorite(user_id=parent.id, favoritable_type="school", favoritable_id=school.id)
            )
            session.flush()  # created_at in the order kept: 00 is the oldest
        session.commit()
        email, parent_id, customer_id = parent.email, parent.id, customer.id
    yield email
    with live_data(live_app) as session:
        school_ids = select(School.id).where(School.customer_id == customer_id)
        session.execute(delete(UserFavorite).where(UserFavorite.user_id == parent_id))
        session.execute(delete(SchoolFee).where(SchoolFee.school_id.in_(school_ids)))
        session.execute(delete(SchoolLevel).where(SchoolLevel.school_id.in_(school_ids)))
        session.execute(delete(Campus).where(Campus.school_id.in_(school_ids)))
        session.execute(delete(School).where(School.customer_id == customer_id))
        session.execute(delete(Customer).where(Customer.id == customer_id))
        session.execute(
            delete(User).where(User.id == parent_id).execution_options(include_deleted=True)
        )
        session.commit()


def cards(page: Page):
    return page.locator("#favorite-list li.card")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_removing_the_only_favorite_of_the_last_page_shows_the_page_before(
    new_page, javascript, live_app, parent_with_21_favorites
):
    page = new_page(javascript=javascript)
    sign_in(page, live_app, parent_with_21_favorites)
    page.goto("/account/favorites")
    expect(cards(page)).to_have_count(20)

    page.get_by_role("link", name=NEXT).click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("Favori Okulu 00")

    cards(page).first.get_by_role("button", name=REMOVE).click()

    expect(cards(page)).to_have_count(20)
    expect(page.locator("#favorite-list")).not_to_contain_text("Favori Okulu 00")
    expect(page.get_by_role("link", name=NEXT)).to_have_count(0)  # one page is left
