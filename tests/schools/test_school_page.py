"""A school's page: description, contact, each live campus with its levels and exact fees for
this school year and the next, and the favorite, compare and ask links by audience."""

import re
from decimal import Decimal
from urllib.parse import unquote

from portal.clock import istanbul_today, utcnow
from portal.schools.fees import school_year_label, school_year_of
from tests.helpers import counted_statements, post
from tests.test_html import assert_valid_html

THIS_YEAR = school_year_of(istanbul_today())
NBSP = "\u00a0"


def money(amount: str) -> str:
    return f"{amount}{NBSP}₺"


def compare_actions(html: str) -> dict[str, str]:
    """Where each compare toggle on a page posts (adds or removes), by button id."""
    forms = re.findall(
        r'<form method="post" action="([^"]+)" class="compare-toggle".*?id="(compare-[a-z]+-\d+)"',
        html,
        re.S,
    )
    return {button: action for action, button in forms}


def campus_card(html: str, campus) -> str:
    """The card of one campus on the page, from its heading to the end of its <li>."""
    start = html.index(f'id="campus-{campus.id}"')
    return html[start : html.index("</li>", start)]


def test_visitor_sees_contact_campuses_and_exact_fees_of_both_school_years(client, session, make):
    school = make.school(
        name="Bilge Koleji",
        campuses=("Moda", "Kuzey"),
        levels=("preschool", "primary"),
        fees={"preschool": 120000, "primary": 180000},
        description="Okul öncesinden ilkokula.",
        address_line="Caferağa Mah. Moda Cad. 1, Kadıköy",
        phone="+90 216 555 00 11",
        email="bilgi@bilge.example",
        website="www.bilge.example",
    )
    moda, kuzey = (next(c for c in school.campuses if c.name == n) for n in ("Moda", "Kuzey"))
    moda.address_line, moda.phone = "Moda Cad. 10", "+90 216 555 00 22"
    make.fee(moda, "primary", "195000.50", THIS_YEAR + 1)
    session.commit()

    response = client.get(f"/schools/{school.slug}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Okul öncesinden ilkokula." in html
    assert "Caferağa Mah. Moda Cad. 1, Kadıköy" in html
    assert 'href="tel:+902165550011"' in html
    assert 'href="mailto:bilgi@bilge.example"' in html
    assert 'href="https://www.bilge.example"' in html
    card = campus_card(html, moda)
    assert "Moda Cad. 10" in card and 'href="tel:+902165550022"' in card
    assert school_year_label(THIS_YEAR) in card and school_year_label(THIS_YEAR + 1) in card
    rows = re.findall(r"<tr>\s*<th scope=\"row\">([^<]+)</th>(.*?)</tr>", card, re.S)
    cells = {level: re.findall(r"<td>(.*?)</td>", rest, re.S) for level, rest in rows}
    assert cells["Anaokulu"][0] == money("120.000,00")
    assert cells["İlkokul"][0] == money("180.000,00")
    assert cells["İlkokul"][1] == money("195.000,50")
    assert "muted" in cells["Anaokulu"][1]  # next year's preschool fee is not published
    other = campus_card(html, kuzey)
    assert money("180.000,00") in other and money("195.000,50") not in other
    assert_valid_html(html, "/schools/<slug>")


def test_visitor_is_offered_sign_in_links_and_no_toggles(app, client, session, make):
    school = make.school(campuses=("Moda",))
    session.commit()

    html = client.get(f"/schools/{school.slug}").get_data(as_text=True)

    assert 'class="compare-toggle"' not in html and 'class="favorite-toggle"' not in html
    assert "/auth/login?next=" in html  # sign in to save (and to ask, once asking exists)
    nexts = {unquote(n) for n in re.findall(r'href="/auth/login\?next=([^"]+)"', html)}
    if "leads.ask" in app.view_functions:
        campus = school.campuses[0]
        assert f"/schools/{school.slug}/ask" in nexts
        assert f"/schools/{school.slug}/ask?campus={campus.id}" in nexts
    assert f"/schools/{school.slug}" in nexts  # sign in to save, back to this page


def test_parent_sees_compare_toggles_marked_by_their_comparison(
    app, client, session, make, signed_in
):
    school = make.school(name="Bilge Koleji", campuses=("Moda", "Kuzey"))
    session.commit()
    moda = next(c for c in school.campuses if c.name == "Moda")
    post(client, "/compare", kind="campus", target_id=moda.id)

    html = client.get(f"/schools/{school.slug}").get_data(as_text=True)

    kuzey = next(c for c in school.campuses if c.name == "Kuzey")
    assert compare_actions(html) == {
        f"compare-school-{school.id}": "/compare",
        f"compare-campus-{moda.id}": "/compare/remove",  # pressing it takes the campus out
        f"compare-campus-{kuzey.id}": "/compare",
    }
    assert "Bilge Koleji – Moda" in html  # the campus toggle's accessible name
    if "leads.ask" in app.view_functions:
        assert f'href="/schools/{school.slug}/ask"' in html
        assert f'href="/schools/{school.slug}/ask?campus={moda.id}"' in html
    else:
        assert "/ask" not in html
    assert_valid_html(html, "/schools/<slug> as a parent")


def test_staff_see_no_toggles_and_no_ask_links(client, session, make, auth):
    school = make.school(campuses=("Moda",))
    staff = make.customer_user()
    session.commit()
    auth.login(staff.user.email)

    html = client.get(f"/schools/{school.slug}").get_data(as_text=True)

    assert school.name in html
    assert 'class="compare-toggle"' not in html and "/ask" not in html
    assert "/auth/login?next=" not in html


def test_a_deleted_campus_and_its_fees_are_not_shown(client, session, make):
    school = make.school(campuses=("Açık", "Kapalı"), fees={"primary": 111000})
    closed = next(c for c in school.campuses if c.name == "Kapalı")
    make.fee(closed, "high", 999000)
    closed.deleted_at = utcnow()
    session.commit()

    html = client.get(f"/schools/{school.slug}").get_data(as_text=True)

    assert "Açık" in html and "Kapalı" not in html
    assert money("111.000,00") in html and money("999.000,00") not in html


def test_a_website_that_is_not_http_never_becomes_a_script_link(client, session, make):
    school = make.school(website="javascript:alert(1)")
    session.commit()

    html = client.get(f"/schools/{school.slug}").get_data(as_text=True)

    assert 'href="javascript:' not in html
    assert 'href="https://javascript:alert(1)"' in html


def test_statements_do_not_grow_with_the_campuses(app, client, session, make, signed_in):
    one = make.school(campuses=("A",), levels=("primary", "middle"))
    many = make.school(campuses=tuple("ABCDEFGH"), levels=("primary", "middle"))
    for campus in many.campuses:
        make.fee(campus, "primary", Decimal("200000"), THIS_YEAR + 1)
    session.commit()

    slugs = (one.slug, many.slug)  # read now: reading them later would count a refresh

    counts = {}
    for slug in slugs:
        with counted_statements(app) as statements:
            assert client.get(f"/schools/{slug}").status_code == 200
        counts[slug] = len(statements)

    # The session, the school with its levels and campuses, both years' fees, the marks.
    assert counts[slugs[0]] == counts[slugs[1]] == 4
