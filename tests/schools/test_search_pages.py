"""The search page (/): its form and filters in the address, the saved budget, messages for
bad filters, the empty state, paging with the filters kept, htmx fragments and the statements
a page sends."""

import html
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import html5lib
import pytest

from portal.clock import istanbul_today
from portal.models import Campus, School, SchoolFee, SchoolLevel, UserDetail
from portal.schools.fees import school_year_of
from tests.helpers import HTMX, counted_statements, post
from tests.test_html import assert_valid_html

THIS_YEAR = school_year_of(istanbul_today())


def listed(page_html: str) -> list[str]:
    """The names of the schools on the page, in order."""
    return re.findall(r'<h3><a href="/schools/[^"]+">([^<]+)</a></h3>', page_html)


def count_line(page_html: str) -> str:
    return re.search(r'<p class="muted">(\d+ okul)</p>', page_html).group(1)


def link(page_html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page_html)
    return html.unescape(found.group(1)) if found else None


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def input_value(page_html: str, name: str) -> str:
    return html.unescape(re.search(rf'<input [^>]*name="{name}"[^>]*value="([^"]*)"', page_html)[1])


def field_error(page_html: str, name: str) -> str:
    """The message in a field's slot ('' when none)."""
    slot = re.search(rf'<div id="{name}-error" class="field-error"[^>]*>(.*?)</div>', page_html)
    return re.sub(r"<[^>]+>", "", slot.group(1))


def many_schools(session, make, count, start=0, **values):
    """`count` published schools "Okul 0000", ... in İstanbul/Kadıköy, each with one campus
    teaching primary school for 200,000 ₺ this year: rows added in two flushes, not one
    factory call each (500 of those would take most of a minute on MariaDB)."""
    customer = make.customer()
    values = {"city": "İstanbul", "district": "Kadıköy", **values}
    schools = []
    for n in range(start, start + count):
        school = School(
            customer_id=customer.id, name=f"Okul {n:04d}", slug=f"okul-{n:04d}", **values
        )
        school.level_rows = [SchoolLevel(level="primary")]
        school.campuses = [Campus(name="Merkez", city=values["city"], district=values["district"])]
        schools.append(school)
    session.add_all(schools)
    session.flush()
    session.add_all(
        SchoolFee(
            school_id=school.id,
            campus_id=school.campuses[0].id,
            level="primary",
            school_year=THIS_YEAR,
            yearly_fee=Decimal(200000),
        )
        for school in schools
    )
    session.commit()
    return schools


def give_budget(session, user, low, high):
    session.add(UserDetail(user_id=user.id, budget_min=low, budget_max=high))
    session.commit()


# --- Filters in the address -------------------------------------------------------------------


def test_the_form_sends_every_filter_and_the_results_follow_them(client, session, make):
    make.school(
        name="Kadıköy Işık İlkokulu",
        city="İstanbul",
        district="Kadıköy",
        levels=("primary",),
        fees={"primary": 220000},
    )
    make.school(name="Beşiktaş Işık İlkokulu", city="İstanbul", district="Beşiktaş")
    make.school(name="Ankara Işık Koleji", city="Ankara", district="Çankaya")
    session.commit()

    response = client.get(
        "/?q=ISIK&city=İstanbul&district=Kadıköy&level=primary"
        f"&school_year={THIS_YEAR}&fee_min=150.000&fee_max=300.000&sort=fee_asc"
    )
    page_html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert listed(page_html) == ["Kadıköy Işık İlkokulu"] and count_line(page_html) == "1 okul"
    assert "220.000,00\u00a0₺" in page_html  # the card's fee: the one row that matched
    # The form shows what was asked, as it was typed.
    assert input_value(page_html, "q") == "ISIK"
    assert input_value(page_html, "fee_min") == "150.000"
    for name, value in (("city", "İstanbul"), ("district", "Kadıköy"), ("sort", "fee_asc")):
        assert re.search(
            rf'name="{name}"[^>]*>.*?<option selected value="{value}"', page_html, re.S
        )
    assert_valid_html(page_html, "/ with every filter")


def test_the_district_is_offered_only_for_the_chosen_city(client, session, make):
    make.school(city="İstanbul", district="Kadıköy")
    make.school(city="İstanbul", district="Ataşehir")
    make.school(city="Ankara", district="Çankaya")
    session.commit()

    bare = client.get("/").get_data(as_text=True)
    istanbul = client.get("/?city=İstanbul").get_data(as_text=True)
    fragment = client.get("/?city=Ankara", headers=HTMX).get_data(as_text=True)

    assert 'name="district"' not in bare
    districts = re.search(r'<select [^>]*name="district">(.*?)</select>', istanbul, re.S)[1]
    assert re.findall(r'value="([^"]*)"', districts) == ["", "Ataşehir", "Kadıköy"]
    # htmx: changing the city brings the city's districts, out of band, with the results.
    oob = re.search(
        r'<div id="district-field"[^>]*hx-swap-oob="true">(.*?)</div>\s*$', fragment, re.S
    )
    assert oob and 'value="Çankaya"' in oob[1] and "Kadıköy" not in oob[1]


def test_an_unknown_city_or_district_is_ignored(client, session, make):
    make.school(name="Ankara Koleji", city="Ankara", district="Çankaya")
    make.school(name="İzmir Koleji", city="İzmir", district="Bornova")
    session.commit()

    unknown_city = client.get("/?city=Atlantis").get_data(as_text=True)
    unknown_district = client.get("/?city=Ankara&district=Bornova").get_data(as_text=True)

    assert listed(unknown_city) == ["Ankara Koleji", "İzmir Koleji"]
    assert listed(unknown_district) == ["Ankara Koleji"]


def test_a_place_that_loses_its_last_school_is_ignored_on_the_same_address(client, session, make):
    # The view remembers how it read an address; the district is checked on every request.
    make.school(name="Kadıköy Koleji", city="İstanbul", district="Kadıköy")
    atasehir = make.school(name="Ataşehir Koleji", city="İstanbul", district="Ataşehir")
    izmir = make.school(name="İzmir Koleji", city="İzmir", district="Bornova")
    session.commit()
    in_district, in_city = "/?city=İstanbul&district=Ataşehir", "/?city=İzmir"
    assert listed(client.get(in_district).get_data(as_text=True)) == ["Ataşehir Koleji"]
    assert listed(client.get(in_city).get_data(as_text=True)) == ["İzmir Koleji"]

    atasehir.is_published = False
    izmir.is_published = False
    session.commit()
    again = client.get(in_district).get_data(as_text=True)
    city_again = client.get(in_city).get_data(as_text=True)

    assert listed(again) == ["Kadıköy Koleji"]
    assert 'value="Ataşehir"' not in again
    assert listed(city_again) == ["Kadıköy Koleji"]


# --- The saved budget -------------------------------------------------------------------------


def test_a_parents_budget_fills_the_fee_range_of_a_bare_visit(client, session, make, signed_in):
    make.school(name="Bütçede", fees={"primary": 200000})
    make.school(name="Pahalı", fees={"primary": 500000})
    session.commit()
    give_budget(session, signed_in, Decimal(150000), Decimal(300000))

    bare = client.get("/").get_data(as_text=True)
    sent = client.get("/?q=&fee_min=&fee_max=").get_data(as_text=True)
    own = client.get("/?fee_min=400000").get_data(as_text=True)

    assert listed(bare) == ["Bütçede"]
    assert input_value(bare, "fee_min") == "150000" and input_value(bare, "fee_max") == "300000"
    assert re.search(r'<p class="budget-note">[^<]+<a href="/account/profile">', bare)
    # Once the form is sent, the address rules: emptied fields stay empty.
    assert listed(sent) == ["Bütçede", "Pahalı"] and 'href="/account/profile"' not in sent
    assert input_value(sent, "fee_min") == ""
    assert listed(own) == ["Pahalı"]
    assert_valid_html(bare, "/ with the saved budget")


def test_no_budget_no_prefill_and_visitors_get_none(client, session, make, auth):
    make.school(name="Okul", fees={"primary": 500000})
    parent = make.user("parent")
    session.commit()

    anonymous = client.get("/").get_data(as_text=True)
    auth.login(parent.email)
    without_budget = client.get("/").get_data(as_text=True)

    for page_html in (anonymous, without_budget):
        assert listed(page_html) == ["Okul"]
        assert (
            input_value(page_html, "fee_min") == "" and 'href="/account/profile"' not in page_html
        )


# --- Bad filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("fee_min=300.000&fee_max=100.000", "fee_max", "En yüksek tutar"),
        ("fee_min=çok", "fee_min", "Tutarı lira olarak girin"),
        ("fee_max=-5", "fee_max", "eksi"),
        ("fee_max=" + "9" * 40, "fee_max", "büyük"),
        ("level=university", "level", None),
        ("school_year=1990", "school_year", None),
        ("sort=random", "sort", None),
        ("q=" + "a" * 101, "q", None),
    ],
)
def test_a_bad_filter_is_explained_next_to_its_field(client, session, make, query, field, message):
    make.school(name="Okul")
    session.commit()

    fragment = client.get(f"/?{query}", headers=HTMX)
    page = client.get(f"/?{query}")

    assert fragment.status_code == 422 and page.status_code == 422
    fragment_html, page_html = fragment.get_data(as_text=True), page.get_data(as_text=True)
    for answer in (fragment_html, page_html):
        error = field_error(answer, field)
        assert error and (message is None or message in error), error
        assert listed(answer) == []  # no results for a search that was not understood
    # htmx: the results' element first, the field's message out of band into the form.
    assert fragment_html.lstrip().startswith('<section id="school-list"')
    assert re.search(
        rf'<div id="{field}-error" class="field-error" hx-swap-oob="true"><p', fragment_html
    )
    assert f'aria-describedby="{field}-error" aria-invalid="true"' in page_html or field == "q"
    html5lib.HTMLParser(strict=True).parseFragment(fragment_html)
    assert_valid_html(page_html, f"/?{query}")


def test_a_corrected_filter_clears_its_message(client, session, make):
    make.school(name="Okul")
    session.commit()

    fragment = client.get("/?fee_min=100000", headers=HTMX).get_data(as_text=True)

    assert re.search(
        r'<div id="fee_min-error" class="field-error" hx-swap-oob="true"></div>', fragment
    )
    assert listed(fragment) == ["Okul"]


@pytest.mark.parametrize("page", ["", "abc", "-3", "0", "1.5", " 2", "\u0662", "9" * 5000])
def test_junk_page_numbers_show_the_first_or_last_page(client, session, make, page):
    many_schools(session, make, 25)

    response = client.get(f"/?level=primary&page={page}")

    assert response.status_code == 200
    shown = listed(response.get_data(as_text=True))
    assert shown[0] in ("Okul 0000", "Okul 0020")


# --- Empty state, paging, sorting -------------------------------------------------------------


def test_an_empty_result_says_which_filters_to_loosen(client, session, make):
    make.school(name="Deniz Koleji", city="Ankara", district="Çankaya", levels=("primary",))
    session.commit()

    page_html = client.get(
        "/?q=Işık&city=Ankara&district=Çankaya&level=primary&fee_max=50000"
    ).get_data(as_text=True)

    assert listed(page_html) == [] and count_line(page_html) == "0 okul"
    # One link per filter in use, each the same search without it (an empty name keeps a
    # query string, so a saved budget does not come back in place of a removed fee range).
    empty_state = re.search(r'<div class="empty-state">.*?</div>', page_html, re.S)[0]
    hrefs = [html.unescape(h) for h in re.findall(r'<li><a href="([^"]+)">', empty_state)]
    loosen = [query_of(href) for href in hrefs]
    rest = {"q": ["Işık"], "city": ["Ankara"], "district": ["Çankaya"], "level": ["primary"]}
    rest["fee_max"] = ["50000"]
    assert loosen == [
        {k: v for k, v in rest.items() if k != "q"},
        {k: v for k, v in rest.items() if k != "district"},
        {k: v for k, v in rest.items() if k not in ("city", "district")},
        {k: v for k, v in rest.items() if k != "level"},
        {k: v for k, v in rest.items() if k != "fee_max"},
    ]
    assert listed(client.get(hrefs[-1]).get_data(as_text=True)) == []  # still no Işık
    assert 'href="/?q="' in page_html  # clear every filter, budget included
    assert listed(client.get("/?q=").get_data(as_text=True)) == ["Deniz Koleji"]
    assert_valid_html(page_html, "/ empty")


def test_the_pager_keeps_every_filter(client, session, make):
    many_schools(session, make, 25)
    many_schools(session, make, 5, start=100, city="Ankara", district="Çankaya")
    query = (
        "/?q=okul&city=İstanbul&district=Kadıköy&level=primary"
        "&fee_min=100.000&fee_max=300000&sort=fee_desc"
    )

    first = client.get(query).get_data(as_text=True)
    second_url = link(first, "next")
    second = client.get(second_url).get_data(as_text=True)

    assert count_line(first) == "25 okul" and count_line(second) == "25 okul"
    assert query_of(second_url) == {
        "q": ["okul"],
        "city": ["İstanbul"],
        "district": ["Kadıköy"],
        "level": ["primary"],
        "fee_min": ["100000"],
        "fee_max": ["300000"],
        "sort": ["fee_desc"],
        "page": ["2"],
    }
    assert listed(first) == [f"Okul {n:04d}" for n in range(20)]
    assert listed(second) == [f"Okul {n:04d}" for n in range(20, 25)]
    assert query_of(link(second, "prev"))["page"] == ["1"]
    # The filter form itself never sends a page: a new search starts at page one.
    form = re.search(r'<form id="school-search".*?</form>', second, re.S)[0]
    assert 'name="page"' not in form


def test_a_parent_sorts_by_fee(client, session, make):
    make.school(name="A Pahalı", fees={"primary": 300000})
    make.school(name="B Ucuz", fees={"primary": 100000})
    make.school(name="C Ücretsiz", fees={})
    session.commit()

    assert listed(client.get("/?sort=fee_asc").get_data(as_text=True)) == [
        "B Ucuz",
        "A Pahalı",
        "C Ücretsiz",
    ]
    assert listed(client.get("/?sort=fee_desc").get_data(as_text=True)) == [
        "A Pahalı",
        "B Ucuz",
        "C Ücretsiz",
    ]


# --- htmx -------------------------------------------------------------------------------------


def test_the_form_asks_htmx_to_search_as_the_parent_types_and_to_keep_the_address(client):
    page_html = client.get("/").get_data(as_text=True)
    form = re.search(r'<form id="school-search"[^>]*>', page_html)[0]

    assert 'method="get"' in form and 'action="/"' in form
    assert 'hx-get="/"' in form and 'hx-push-url="true"' in form
    assert 'hx-target="#school-list"' in form
    assert "input changed delay:300ms from:#q" in form and "change" in form and "submit" in form
    # JavaScript off: the button sends it.
    assert '<button type="submit" class="primary">' in page_html


def test_the_fragment_is_the_results_and_varies_on_htmx(client, session, make):
    make.school(name="Okul")
    session.commit()

    response = client.get("/?q=okul", headers=HTMX)
    fragment = response.get_data(as_text=True)
    restore = client.get("/?q=okul", headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert fragment.lstrip().startswith('<section id="school-list"') and "<html" not in fragment
    assert listed(fragment) == ["Okul"]
    assert {"HX-Request", "HX-Request-Type", "HX-History-Restore-Request"} <= set(
        response.headers["Vary"].replace(" ", "").split(",")
    )
    assert "<html" in restore.get_data(as_text=True)


# --- Statements -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",  # a parent's bare visit: the saved budget
        "/?q=okul&city=İstanbul&district=Kadıköy&level=primary&fee_min=100000&fee_max=300000",
        "/?city=İstanbul&sort=fee_asc&page=2",
    ],
)
def test_a_search_sends_as_many_statements_for_500_results_as_for_10(
    app, client, session, make, auth, url
):
    schools = many_schools(session, make, 10)
    parent = make.user("parent")
    session.commit()
    give_budget(session, parent, Decimal(100000), Decimal(300000))
    auth.login(parent.email)
    post(client, "/account/favorites", kind="school", target_id=schools[0].id)
    client.get(url)  # anything done once per process is done now

    with counted_statements(app) as few:
        few_page = client.get(url).get_data(as_text=True)
        client.get(url, headers=HTMX)
    more = many_schools(session, make, 490, start=10)
    post(client, "/account/favorites", kind="school", target_id=more[-1].id)
    with counted_statements(app) as many:
        many_page = client.get(url).get_data(as_text=True)
        client.get(url, headers=HTMX)

    assert count_line(few_page) == "10 okul" and count_line(many_page) == "500 okul"
    assert len(listed(many_page)) == 20
    assert len(many) == len(few), many


def test_a_parent_can_favorite_and_compare_each_result(client, session, make, signed_in):
    school = make.school(name="Okul")
    session.commit()
    post(client, "/compare", kind="school", target_id=school.id)

    page_html = client.get("/?q=okul").get_data(as_text=True)

    assert f'id="favorite-school-{school.id}" aria-pressed="false"' in page_html
    toggle = re.search(r'<form method="post" action="([^"]+)" class="compare-toggle"', page_html)
    # Already in the comparison: the toggle takes it out.
    assert toggle[1] == "/compare/remove" and f'id="compare-school-{school.id}"' in page_html
    assert_valid_html(page_html, "/ parent with a comparison")
