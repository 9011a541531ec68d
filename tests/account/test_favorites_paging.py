"""The favorites page a page at a time: the total, the pager, removing on a later page, and
the statements and bytes that must not grow with the number of favorites."""

import html
import re
from decimal import Decimal

import html5lib
import pytest

from portal.account import favorites
from portal.clock import istanbul_today
from portal.models import School, UserFavorite
from portal.schools.fees import FeeRange, school_year_of
from tests.helpers import HTMX, counted_statements, post
from tests.test_html import assert_valid_html

FAVORITES_URL = "/account/favorites"
REMOVE_URL = "/account/favorites/remove"


def keep_schools(client, make, session, count, start=0):
    """`count` schools named "Okul 000", ... kept one after the other (the last is newest)."""
    customer = make.customer()
    schools = [
        make.school(customer=customer, name=f"Okul {n:03d}", campuses=("A", "B", "C"))
        for n in range(start, start + count)
    ]
    session.commit()
    for school in schools:
        assert post(client, FAVORITES_URL, kind="school", target_id=school.id).status_code == 303
    return schools


def listed(page_html: str) -> list[str]:
    return re.findall(r'<h3><a href="/schools/[^"]+">([^<]+)</a></h3>', page_html)


def newest_first(first: int, last: int) -> list[str]:
    return [f"Okul {n:03d}" for n in range(last, first - 1, -1)]


def link(page_html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page_html)
    return html.unescape(found.group(1)) if found else None


def kept_count(page_html: str) -> tuple[int, int]:
    """The "Favorites kept: X of Y" line's numbers."""
    line = re.search(r'<p class="muted">([^<]*)', page_html).group(1)
    count, limit = re.findall(r"\d+", line)
    return int(count), int(limit)


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=100)
def test_the_page_shows_the_newest_twenty_and_counts_them_all(client, session, make, signed_in):
    keep_schools(client, make, session, 25)

    first = client.get(FAVORITES_URL).get_data(as_text=True)
    second = client.get(link(first, "next")).get_data(as_text=True)  # a plain link, no htmx

    assert listed(first) == newest_first(5, 24) and kept_count(first) == (25, 100)
    assert link(first, "next") == f"{FAVORITES_URL}?page=2"
    assert listed(second) == newest_first(0, 4) and kept_count(second) == (25, 100)
    assert link(second, "prev") == f"{FAVORITES_URL}?page=1" and link(second, "next") is None
    assert 'hx-target="#favorite-list"' in second
    assert_valid_html(second, "favorites page 2")


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=100)
def test_the_page_counts_against_the_plans_limit(client, session, make, signed_in):
    """A parent with a plan sees its limit for favorites, not the free default."""
    make.subscription(make.price(make.plan(features={"favorites": 30})), user=signed_in)
    session.commit()
    keep_schools(client, make, session, 3)

    page_html = client.get(FAVORITES_URL).get_data(as_text=True)

    assert kept_count(page_html) == (3, 30)


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=None)
def test_without_a_limit_the_page_still_says_how_many_there_are(client, session, make, signed_in):
    keep_schools(client, make, session, 21)

    page_html = client.get(FAVORITES_URL).get_data(as_text=True)

    assert re.search(r'<p class="muted">21 ', page_html) and len(listed(page_html)) == 20


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=100)
@pytest.mark.parametrize("page", ["", "abc", "-3", "0"])
def test_a_junk_page_number_shows_the_first_page(client, session, make, signed_in, page):
    keep_schools(client, make, session, 21)

    response = client.get(f"{FAVORITES_URL}?page={page}")

    assert response.status_code == 200
    assert listed(response.get_data(as_text=True)) == newest_first(1, 20)


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=100)
def test_a_page_past_the_end_shows_the_last_page(client, session, make, signed_in):
    keep_schools(client, make, session, 21)

    response = client.get(f"{FAVORITES_URL}?page=7")

    assert response.status_code == 200 and listed(response.get_data(as_text=True)) == ["Okul 000"]


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=100)
def test_htmx_remove_on_page_two_answers_with_page_two_recounted(client, session, make, signed_in):
    schools = keep_schools(client, make, session, 23)
    page_2 = client.get(f"{FAVORITES_URL}?page=2").get_data(as_text=True)
    assert 'name="page" value="2"' in page_2 and f'value="{FAVORITES_URL}?page=2"' in page_2

    response = post(
        client,
        REMOVE_URL,
        headers=HTMX,
        kind="school",
        target_id=schools[1].id,
        next=f"{FAVORITES_URL}?page=2",
        fragment="favorite_list",
        page="2",
    )

    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<section id="favorite-list"')
    assert listed(fragment) == ["Okul 002", "Okul 000"] and kept_count(fragment) == (22, 100)
    html5lib.HTMLParser(strict=True).parseFragment(fragment)


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=100)
def test_removing_the_last_one_of_the_last_page_shows_the_page_before(
    client, session, make, signed_in
):
    schools = keep_schools(client, make, session, 21)
    where = f"{FAVORITES_URL}?page=2"

    htmx = post(
        client,
        REMOVE_URL,
        headers=HTMX,
        kind="school",
        target_id=schools[0].id,
        next=where,
        fragment="favorite_list",
        page="2",
    )
    plain = post(client, REMOVE_URL, kind="school", target_id=schools[1].id, next=where)
    after_plain = client.get(plain.headers["Location"]).get_data(as_text=True)

    assert listed(htmx.get_data(as_text=True)) == newest_first(1, 20)
    assert plain.status_code == 303 and plain.headers["Location"] == where
    assert listed(after_plain) == newest_first(2, 20) and link(after_plain, "next") is None


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=100)
def test_the_count_leaves_out_favorites_of_withdrawn_schools(client, session, make, signed_in):
    schools = keep_schools(client, make, session, 22)
    schools[21].is_published = False
    schools[20].soft_delete()
    session.commit()

    page_html = client.get(FAVORITES_URL).get_data(as_text=True)

    assert kept_count(page_html) == (20, 100) and listed(page_html) == newest_first(0, 19)
    assert 'class="pager"' not in page_html


def test_the_list_query_refuses_lazy_loads(session, make, parent):
    school = make.school(campuses=("A",))
    session.add(
        UserFavorite(user_id=parent.id, favoritable_type="school", favoritable_id=school.id)
    )
    session.commit()
    parent_id, school_id = parent.id, school.id
    session.expunge_all()  # nothing loaded beforehand: only what the queries load

    page = favorites.favorites_page(session, parent_id, 2026)

    (only,) = page.items
    # The levels come with the page (as one string a row), not as the school's level rows.
    assert page.total == 1 and only.school.id == school_id and only.levels == ["primary"]
    # The card's school is its columns, not a School: nothing on it can load one by one.
    assert not isinstance(only.school, School)
    with pytest.raises(AttributeError):
        len(only.school.campuses)
    with pytest.raises(AttributeError):
        len(only.school.levels)


def make_favorites(session, user_id, count, make):
    """`count` more schools, a campus of each, and a favorite of every other school or campus."""
    customer = make.customer()
    schools = [
        make.school(customer=customer, campuses=("Kuzey", "Güney", "Doğu")) for _ in range(count)
    ]
    for n, school in enumerate(schools):
        kind, target = ("school", school) if n % 2 else ("campus", school.campuses[0])
        session.add(UserFavorite(user_id=user_id, favoritable_type=kind, favoritable_id=target.id))
    session.commit()


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=None)
def test_the_page_runs_as_many_statements_for_50_favorites_as_for_1(
    app, client, session, make, signed_in
):
    make_favorites(session, signed_in.id, 1, make)
    client.get(FAVORITES_URL)  # anything done once per process is done now

    with counted_statements(app) as one:
        one_page = client.get(FAVORITES_URL).get_data(as_text=True)
        client.get(FAVORITES_URL, headers=HTMX)
    make_favorites(session, signed_in.id, 49, make)
    with counted_statements(app) as many:
        many_page = client.get(FAVORITES_URL).get_data()
        client.get(FAVORITES_URL, headers=HTMX)
    with counted_statements(app) as last:
        client.get(f"{FAVORITES_URL}?page=3")
        client.get(f"{FAVORITES_URL}?page=3", headers=HTMX)

    assert len(listed(one_page)) == 1
    assert len(listed(many_page.decode())) == 20 and re.search(rb'<p class="muted">50 ', many_page)
    assert len(many) == len(one) == len(last), many
    assert len(many_page) < 100_000


def compare_states(page_html: str) -> dict[str, bool]:
    """For every compare toggle of a page, by button id: whether it removes (is compared)."""
    forms = re.findall(
        r'<form method="post" action="([^"]+)" class="compare-toggle".*?id="(compare-[a-z]+-\d+)"',
        page_html,
        re.DOTALL,
    )
    return {button: action.endswith("/compare/remove") for action, button in forms}


def test_each_favorite_shows_its_compare_state_and_fee_range_of_this_year(
    client, session, make, signed_in
):
    school = make.school(campuses=("A", "B"), fees={})
    other = make.school(campuses=("C",), fees={})
    a, b = school.campuses
    make.fee(a, "primary", Decimal("150000"))
    make.fee(b, "primary", Decimal("210000"))
    make.fee(b, "primary", Decimal("999000"), school_year=school_year_of(istanbul_today()) + 1)
    for kind, target in (("school", school), ("campus", b), ("school", other), ("campus", a)):
        session.add(
            UserFavorite(user_id=signed_in.id, favoritable_type=kind, favoritable_id=target.id)
        )
    make.comparison(signed_in, school)
    make.comparison(signed_in, school, a)
    session.commit()
    ids = {"school": school.id, "other": other.id, "a": a.id, "b": b.id}

    html_page = client.get(FAVORITES_URL).get_data(as_text=True)
    page = favorites.favorites_page(session, signed_in.id, school_year_of(istanbul_today()))

    assert compare_states(html_page) == {
        f"compare-school-{ids['school']}": True,
        f"compare-campus-{ids['b']}": False,
        f"compare-school-{ids['other']}": False,
        f"compare-campus-{ids['a']}": True,
    }
    ranges = {
        (("campus", f.campus.id) if f.campus else ("school", f.school.id)): f.fee_range
        for f in page.items
    }
    school_range = FeeRange(Decimal("150000"), Decimal("210000"))
    assert ranges == {
        ("school", ids["school"]): school_range,
        ("campus", ids["b"]): school_range,  # the school's range, as on the school's card
        ("school", ids["other"]): None,  # no fee row this school year
        ("campus", ids["a"]): school_range,
    }


def test_each_favorite_knows_whether_its_school_or_campus_is_public(session, make, parent):
    """user_favorites.is_visible, which the page counts by, follows every change of its target
    made through the session: a school unpublished or deleted, a campus deleted or its school
    withdrawn, a school published again, and a favorite added by hand for a hidden school."""
    school, other, hidden = make.school(campuses=("A", "B")), make.school(), make.school()
    hidden.is_published = False
    session.flush()
    campus_a, campus_b = school.campuses
    rows = {
        name: UserFavorite(user_id=parent.id, favoritable_type=kind, favoritable_id=target.id)
        for name, kind, target in (
            ("school", "school", school),
            ("campus_a", "campus", campus_a),
            ("campus_b", "campus", campus_b),
            ("other", "school", other),
            ("hidden", "school", hidden),
        )
    }
    session.add_all(rows.values())
    session.commit()

    def visible() -> set[str]:
        session.expire_all()
        return {name for name, row in rows.items() if session.get(UserFavorite, row.id).is_visible}

    def shown() -> int:
        return favorites.favorites_page(session, parent.id, school_year_of(istanbul_today())).total

    assert visible() == {"school", "campus_a", "campus_b", "other"} and shown() == 4

    campus_b.soft_delete()
    session.commit()
    assert visible() == {"school", "campus_a", "other"} and shown() == 3

    school.is_published = False  # its campuses go with it
    session.commit()
    assert visible() == {"other"} and shown() == 1

    school.is_published = True
    other.soft_delete()
    session.commit()
    assert visible() == {"school", "campus_a"} and shown() == 2
