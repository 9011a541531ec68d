"""The parent's home page: their details and their newest favorites, however many they keep."""

import re

import pytest

from portal.models import UserFavorite
from tests.helpers import HTMX, counted_statements
from tests.test_html import assert_valid_html

HOME_URL = "/account/"
FAVORITES_URL = "/account/favorites"


def keep(session, make, user_id, count, start=0):
    """`count` more favorite schools named "Okul 000", ..., each newer than the one before."""
    customer = make.customer()
    for n in range(start, start + count):
        school = make.school(customer=customer, name=f"Okul {n:03d}", campuses=("A", "B"))
        session.add(
            UserFavorite(user_id=user_id, favoritable_type="school", favoritable_id=school.id)
        )
        session.flush()
    session.commit()


def favorite_names(page_html: str) -> list[str]:
    section = re.search(r'<section aria-labelledby="favorites-title".*?</section>', page_html, re.S)
    return re.findall(r'<h3><a href="/schools/[^"]+">([^<]+)</a></h3>', section.group(0))


def favorite_count(page_html: str) -> str:
    return re.search(r'<h2 id="favorites-title">[^<]*</h2>\s*<p class="muted">(\d+) ', page_html)[1]


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=None)
def test_home_shows_the_five_newest_favorites_how_many_in_all_and_a_link_to_them(
    client, session, make, signed_in
):
    keep(session, make, signed_in.id, 8)

    page_html = client.get(HOME_URL).get_data(as_text=True)

    assert favorite_names(page_html) == ["Okul 007", "Okul 006", "Okul 005", "Okul 004", "Okul 003"]
    assert favorite_count(page_html) == "8"
    assert f'href="{FAVORITES_URL}"' in page_html
    assert_valid_html(page_html, "account home with 8 favorites")


def test_home_without_favorites_shows_no_card_and_no_count(client, session, signed_in):
    page_html = client.get(HOME_URL).get_data(as_text=True)

    assert favorite_names(page_html) == []
    assert not re.search(r'<h2 id="favorites-title">[^<]*</h2>\s*<p class="muted">', page_html)


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=None)
def test_home_runs_as_many_statements_and_stays_as_small_for_50_favorites_as_for_1(
    app, client, session, make, signed_in
):
    keep(session, make, signed_in.id, 1)
    client.get(HOME_URL)  # anything done once per process is done now

    with counted_statements(app) as one:
        one_page = client.get(HOME_URL).get_data()
        client.get(HOME_URL, headers=HTMX)
    keep(session, make, signed_in.id, 49, start=1)
    with counted_statements(app) as many:
        many_page = client.get(HOME_URL).get_data()
        client.get(HOME_URL, headers=HTMX)

    assert favorite_count(many_page.decode()) == "50"
    assert len(favorite_names(many_page.decode())) == 5
    assert len(many) == len(one), many
    # Four more cards than with one favorite, and nothing else that grows.
    assert len(many_page) - len(one_page) < 4 * 400
