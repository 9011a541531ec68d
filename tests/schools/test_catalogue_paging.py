"""The school list a page at a time: the total, the pager with and without JavaScript, and the
statements and bytes that must not grow with the number of schools."""

import html
import re

import html5lib
import pytest

from portal.clock import istanbul_today
from portal.models import School
from portal.schools.fees import school_year_of
from portal.schools.search import SchoolSearch, search_schools
from tests.helpers import HTMX, counted_statements, post
from tests.test_html import assert_valid_html

FAVORITES_URL = "/account/favorites"


def add_schools(make, session, count, start=0, city="İstanbul"):
    """`count` published schools named "Okul 000", "Okul 001", ... (the list's order), each
    with three campuses and three levels."""
    customer = make.customer()
    schools = [
        make.school(
            customer=customer,
            name=f"Okul {n:03d}",
            city=city,
            campuses=("Kuzey", "Güney", "Doğu"),
            levels=("preschool", "primary", "middle"),
        )
        for n in range(start, start + count)
    ]
    session.commit()
    return schools


def listed(page_html: str) -> list[str]:
    """The names of the schools on the page, in order."""
    return re.findall(r'<h3><a href="/schools/[^"]+">([^<]+)</a></h3>', page_html)


def names(first: int, last: int) -> list[str]:
    return [f"Okul {n:03d}" for n in range(first, last + 1)]


def link(page_html: str, rel: str) -> str | None:
    """Where the pager's previous or next link goes (None when there is none)."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page_html)
    return html.unescape(found.group(1)) if found else None


def school_count(page_html: str) -> str:
    """The list's count line ("25 okul")."""
    return re.search(r'<p class="muted">(\d+ okul)</p>', page_html).group(1)


def test_the_list_shows_twenty_schools_and_how_many_there_are_in_all(client, session, make):
    add_schools(make, session, 25)

    first = client.get("/").get_data(as_text=True)

    assert listed(first) == names(0, 19)
    assert school_count(first) == "25 okul"
    assert link(first, "prev") is None and link(first, "next") == "/?page=2"
    assert first.count("3 kampüs") == 20
    assert_valid_html(first, "/ page 1")


def test_the_pager_links_work_without_javascript(client, session, make):
    add_schools(make, session, 25)

    second = client.get(link(client.get("/").get_data(as_text=True), "next"))
    html_2 = second.get_data(as_text=True)
    back = client.get(link(html_2, "prev")).get_data(as_text=True)

    assert second.status_code == 200
    assert listed(html_2) == names(20, 24)
    assert school_count(html_2) == "25 okul"  # the total, not the page's 5
    assert link(html_2, "next") is None
    assert listed(back) == names(0, 19)
    assert_valid_html(html_2, "/?page=2")


def test_the_pager_keeps_the_city_and_a_new_city_starts_at_page_one(client, session, make):
    add_schools(make, session, 25, city="Ankara")
    add_schools(make, session, 3, start=100, city="İzmir")

    ankara = client.get("/?city=Ankara").get_data(as_text=True)
    ankara_2 = client.get(link(ankara, "next")).get_data(as_text=True)
    # The filter form sends the city alone: choosing one from page 2 lands on its first page.
    filter_form = re.search(r'<form id="school-search".*?</form>', ankara_2, re.S).group(0)
    izmir = client.get("/?city=İzmir").get_data(as_text=True)

    assert link(ankara, "next") == "/?city=Ankara&page=2"
    assert school_count(ankara) == "25 okul"
    assert listed(ankara_2) == names(20, 24) and link(ankara_2, "prev") == "/?city=Ankara&page=1"
    assert 'name="page"' not in filter_form
    assert listed(izmir) == names(100, 102) and link(izmir, "next") is None


@pytest.mark.parametrize("page", ["", "abc", "-3", "0", "1.5", "2abc", " 2", "\u0662"])
def test_a_page_number_that_is_not_one_shows_the_first_page(client, session, make, page):
    add_schools(make, session, 25)

    response = client.get(f"/?page={page}")

    assert response.status_code == 200
    assert listed(response.get_data(as_text=True)) == names(0, 19)


@pytest.mark.parametrize("page", ["3", "99", str(10**30), "9" * 5000])
def test_a_page_past_the_end_shows_the_last_page(client, session, make, page):
    add_schools(make, session, 25)

    response = client.get(f"/?page={page}")
    page_html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert listed(page_html) == names(20, 24)
    assert link(page_html, "prev") == "/?page=1" and link(page_html, "next") is None


def test_htmx_pager_gets_the_list_fragment_with_its_count_and_pager(client, session, make):
    add_schools(make, session, 25)

    response = client.get("/?page=2", headers=HTMX)
    fragment = response.get_data(as_text=True)

    assert fragment.lstrip().startswith('<section id="school-list"') and "<html" not in fragment
    assert listed(fragment) == names(20, 24) and school_count(fragment) == "25 okul"
    assert 'hx-get="/?page=1"' in fragment and 'hx-target="#school-list"' in fragment
    assert "HX-Request" in response.headers["Vary"]
    html5lib.HTMLParser(strict=True).parseFragment(fragment)


def test_an_empty_catalogue_says_so_without_a_pager(client, session, make):
    make.school(is_published=False)
    session.commit()

    page_html = client.get("/?page=4").get_data(as_text=True)

    assert school_count(page_html) == "0 okul" and listed(page_html) == []
    assert 'class="pager"' not in page_html


def test_the_list_query_counts_campuses_and_refuses_lazy_loads(session, make):
    school = make.school(name="Okul", campuses=("A", "B", "Silinecek"), levels=("high",))
    school.campuses[2].soft_delete()
    session.commit()
    session.expunge_all()  # nothing loaded beforehand: only what the query loads

    page = search_schools(session, SchoolSearch(school_year=school_year_of(istanbul_today())))

    (only,) = page.items
    assert (only.school.name, only.campus_count, only.levels) == ("Okul", 2, ["high"])
    # The card's school is its columns, not a School: nothing on it can load one by one.
    assert not isinstance(only.school, School)
    with pytest.raises(AttributeError):
        len(only.school.level_rows)  # the levels come with the row, not one by one
    with pytest.raises(AttributeError):
        len(only.school.campuses)  # an N+1 fails here rather than running a query per school


@pytest.mark.parametrize("audience", ["signed out", "parent"])
def test_the_list_runs_as_many_statements_for_60_schools_as_for_10(
    app, client, session, make, auth, audience
):
    schools = add_schools(make, session, 10)
    if audience == "parent":
        parent = make.user("parent")
        session.commit()
        auth.login(parent.email)
        post(client, FAVORITES_URL, kind="school", target_id=schools[0].id)
    client.get("/")  # anything done once per process is done now

    # With a query string, as the pager's links have one: a parent's bare "/" also reads the
    # saved budget (one statement more, whatever the number of schools: tests/schools/
    # test_search_pages.py counts that one).
    with counted_statements(app) as few:
        few_page = client.get("/?page=1").get_data(as_text=True)
        client.get("/?page=1", headers=HTMX)
    more = add_schools(make, session, 50, start=10)
    if audience == "parent":
        post(client, FAVORITES_URL, kind="school", target_id=more[0].id)
    with counted_statements(app) as many:
        many_page = client.get("/?page=1").get_data(as_text=True)
        client.get("/?page=1", headers=HTMX)
    with counted_statements(app) as last:
        last_page = client.get("/?page=3").get_data(as_text=True)
        client.get("/?page=3", headers=HTMX)

    assert len(listed(few_page)) == 10 and school_count(few_page) == "10 okul"
    assert len(listed(many_page)) == 20 and school_count(many_page) == "60 okul"
    assert listed(last_page) == names(40, 59)
    assert len(many) == len(few) == len(last), many


def test_a_page_of_60_schools_signed_in_stays_under_100_kb(client, session, make, signed_in):
    schools = add_schools(make, session, 60)
    for school in schools[:20]:
        post(client, FAVORITES_URL, kind="school", target_id=school.id)

    page = client.get("/").get_data()
    fragment = client.get("/", headers=HTMX).get_data()

    pressed = re.findall(rb'id="favorite-school-\d+" aria-pressed="(true|false)"', page)
    assert pressed == [b"true"] * 20
    assert len(page) < 100_000 and len(fragment) < len(page)
    assert_valid_html(page.decode(), "/ signed in, 60 schools")
