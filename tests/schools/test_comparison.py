"""A parent's comparison: the toggles (plain form and htmx), the page side by side, the limit
from the plan, and whose rows are whose.

Assertions are on state (rows, where a toggle posts, status codes, URLs, amounts), not on
translated text.
"""

import re
from decimal import Decimal

import html5lib
import pytest
from sqlalchemy import select

from portal.clock import istanbul_today, utcnow
from portal.models import School, SchoolFee, User, UserComparison
from portal.schools import comparison
from portal.schools.fees import school_year_of
from tests import dbutil
from tests.helpers import HTMX, counted_statements, in_parallel, post
from tests.schools.test_school_page import compare_actions
from tests.test_html import assert_valid_html

COMPARE_URL = "/compare"
REMOVE_URL = "/compare/remove"
THIS_YEAR = school_year_of(istanbul_today())
NBSP = "\u00a0"


def compared(session, user):
    """The user's comparison as (kind, id) pairs, read from the database as it is now (a new
    transaction: MariaDB's REPEATABLE READ would keep showing an older snapshot)."""
    session.commit()
    rows = session.scalars(select(UserComparison).where(UserComparison.user_id == user.id))
    return {
        ("campus", row.campus_id) if row.campus_id else ("school", row.school_id) for row in rows
    }


def columns(html: str) -> list[str]:
    """The column headings of the comparison table (school, and campus when one), in order."""
    heads = re.findall(r'<th scope="col">(.*?)</th>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", head)).strip() for head in heads]


def row(html: str, header: str) -> list[str]:
    """The cells of the table row led by `header`, as text."""
    match = re.search(rf'<th scope="row">{re.escape(header)}</th>(.*?)</tr>', html, re.S)
    assert match, header
    cells = re.findall(r"<td>(.*?)</td>", match.group(1), re.S)
    # Only ASCII white space is squeezed: the amounts keep their no-break space.
    return [re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in cells]


def fee_header(html: str, level_name: str) -> str:
    """The row header of a level's fees (its words are translated; the level's name is data)."""
    return next(h for h in re.findall(r'<th scope="row">([^<]+)</th>', html) if level_name in h)


def subscribe(make, user, **features):
    plan = make.plan(audience="parents", features=features)
    make.subscription(make.price(plan), user=user)


# Adding and removing


def test_parent_adds_a_school_and_a_campus_and_sees_them_side_by_side(
    client, session, make, signed_in
):
    bilge = make.school(name="Bilge Koleji", levels=("primary",), fees={"primary": 180000})
    deniz = make.school(
        name="Deniz Koleji",
        campuses=("Moda", "Kuzey"),
        levels=("preschool", "primary"),
        fees={"preschool": 90000, "primary": 210000},
    )
    session.commit()
    moda = next(c for c in deniz.campuses if c.name == "Moda")
    moda.address_line = "Moda Cad. 10"
    session.commit()

    first = post(client, COMPARE_URL, kind="school", target_id=bilge.id, next="/?q=x")
    second = post(client, COMPARE_URL, kind="campus", target_id=moda.id)

    assert first.status_code == 303 and first.headers["Location"] == "/?q=x"
    assert second.status_code == 303 and second.headers["Location"] == COMPARE_URL
    assert compared(session, signed_in) == {("school", bilge.id), ("campus", moda.id)}
    rows = session.scalars(select(UserComparison).order_by(UserComparison.id)).all()
    assert [(r.school_id, r.campus_id, r.target_key) for r in rows] == [
        (bilge.id, None, f"school:{bilge.id}"),
        (deniz.id, moda.id, f"campus:{moda.id}"),
    ]
    page = client.get(COMPARE_URL)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert columns(html)[0] == "Bilge Koleji" and columns(html)[1].startswith("Deniz Koleji")
    assert "Moda" in columns(html)[1]
    assert f'href="/schools/{bilge.slug}"' in html and f'href="/schools/{deniz.slug}"' in html
    assert "Moda Cad. 10" in html
    primary = row(html, fee_header(html, "İlkokul"))
    assert primary == [f"180.000,00{NBSP}₺", f"210.000,00{NBSP}₺"]
    assert_valid_html(html, COMPARE_URL)


def test_htmx_add_answers_with_the_toggle_in_its_new_state(client, session, make, signed_in):
    school = make.school(name="Bilge Koleji")
    session.commit()

    response = post(client, COMPARE_URL, headers=HTMX, kind="school", target_id=school.id, next="/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    assert html.lstrip().startswith('<form method="post" action="/compare/remove"')
    assert f'id="compare-school-{school.id}"' in html and 'name="next" value="/"' in html
    assert "Bilge Koleji" in html  # the button's accessible name
    assert "HX-Request" in response.headers["Vary"]
    html5lib.HTMLParser(strict=True).parseFragment(html)
    assert compared(session, signed_in) == {("school", school.id)}


def test_adding_twice_leaves_one_row(client, session, make, signed_in):
    school = make.school()
    session.commit()

    for _ in range(2):
        assert post(client, COMPARE_URL, kind="school", target_id=school.id).status_code == 303

    session.expire_all()
    assert len(session.scalars(select(UserComparison)).all()) == 1


def test_htmx_remove_answers_with_the_toggle_ready_to_add_again(client, session, make, signed_in):
    school = make.school(campuses=("Kuzey",))
    session.commit()
    campus = school.campuses[0]
    post(client, COMPARE_URL, kind="campus", target_id=campus.id)

    response = post(client, REMOVE_URL, headers=HTMX, kind="campus", target_id=campus.id)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form method="post" action="/compare"')
    assert f'id="compare-campus-{campus.id}"' in html
    assert compared(session, signed_in) == set()


def test_removing_on_the_page_redraws_the_table_and_then_the_empty_state(
    client, session, make, signed_in
):
    gone, stays = make.school(name="Gidecek Koleji"), make.school(name="Kalacak Koleji")
    session.commit()
    for school in (gone, stays):
        post(client, COMPARE_URL, kind="school", target_id=school.id)

    fields = {"next": COMPARE_URL, "fragment": "compare_table"}
    first = post(client, REMOVE_URL, headers=HTMX, kind="school", target_id=gone.id, **fields)
    plain = post(client, REMOVE_URL, kind="school", target_id=stays.id, next=COMPARE_URL)

    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert html.lstrip().startswith('<section id="compare-table"') and "<html" not in html
    assert columns(html) == ["Kalacak Koleji"]
    html5lib.HTMLParser(strict=True).parseFragment(html)
    assert plain.status_code == 303 and plain.headers["Location"] == COMPARE_URL
    empty = client.get(COMPARE_URL).get_data(as_text=True)
    assert "<table" not in empty and 'href="/"' in empty  # the empty state sends to the search
    assert compared(session, signed_in) == set()


def test_a_form_that_names_no_kind_or_id_is_a_bad_request(client, session, make, signed_in):
    school = make.school()
    session.commit()

    for fields in (
        {"target_id": school.id},
        {"kind": "school"},
        {"kind": "lead", "target_id": school.id},
        {"kind": "school", "target_id": "abc"},
        {"kind": "school", "target_id": 0},
    ):
        assert post(client, COMPARE_URL, **fields).status_code == 400, fields
        assert post(client, REMOVE_URL, **fields).status_code == 400, fields
    assert compared(session, signed_in) == set()


def test_only_public_schools_and_live_campuses_can_be_added(client, session, make, signed_in):
    unpublished = make.school(is_published=False)
    deleted = make.school()
    deleted.deleted_at = utcnow()
    closed_campus = make.school(campuses=("Açık", "Kapalı")).campuses[1]
    closed_campus.deleted_at = utcnow()
    hidden_school_campus = make.school(is_published=False).campuses[0]
    session.commit()

    for kind, target_id in (
        ("school", unpublished.id),
        ("school", deleted.id),
        ("school", 10**12),
        ("campus", closed_campus.id),
        ("campus", hidden_school_campus.id),
    ):
        assert post(client, COMPARE_URL, kind=kind, target_id=target_id).status_code == 404
        htmx = post(client, COMPARE_URL, headers=HTMX, kind=kind, target_id=target_id)
        assert htmx.status_code == 404
    assert compared(session, signed_in) == set()


# The limit


@pytest.mark.config(COMPARISON_LIMIT_DEFAULT=2)
def test_beyond_the_free_limit_the_add_is_refused_with_the_upgrade_link(
    client, session, make, signed_in
):
    first, second, third = (make.school() for _ in range(3))
    session.commit()
    for school in (first, second):
        assert post(client, COMPARE_URL, kind="school", target_id=school.id).status_code == 303

    htmx = post(client, COMPARE_URL, headers=HTMX, kind="school", target_id=third.id, next="/")
    plain = post(client, COMPARE_URL, kind="school", target_id=third.id, next="/")
    shown_after = client.get(plain.headers["Location"]).get_data(as_text=True)
    again = post(client, COMPARE_URL, headers=HTMX, kind="school", target_id=first.id)

    html = htmx.get_data(as_text=True)
    assert htmx.status_code == 422
    assert html.lstrip().startswith('<form method="post" action="/compare"')  # still "add"
    assert 'role="alert"' in html and 'href="/plans"' in html
    assert f'aria-describedby="compare-school-{third.id}-error"' in html
    html5lib.HTMLParser(strict=True).parseFragment(html)
    assert plain.status_code == 303 and plain.headers["Location"] == "/"
    assert 'class="flash flash-error"' in shown_after and 'href="/plans"' in shown_after
    assert again.status_code == 200  # one already compared is harmless at the limit too
    assert compared(session, signed_in) == {("school", first.id), ("school", second.id)}
    page = client.get(COMPARE_URL).get_data(as_text=True)
    assert 'href="/plans"' in page  # at the limit, the page offers a bigger plan too


@pytest.mark.skipif(dbutil.dialect() == "sqlite", reason="SQLite has no row locks")
@pytest.mark.config(COMPARISON_LIMIT_DEFAULT=2)
def test_ten_adds_at_once_never_pass_the_limit(app, session, make):
    parent = make.user("parent")
    school_ids = [make.school().id for _ in range(10)]
    session.commit()
    parent_id, queue = parent.id, list(school_ids)

    def work():
        from portal.extensions import db

        user = db.session.get(User, parent_id)
        try:
            return comparison.add_to_comparison(db.session, user, "school", queue.pop())
        except comparison.ComparisonLimitReached:
            db.session.rollback()
            return "refused"

    results = in_parallel(app, work, times=10)

    assert sorted(map(str, results)) == ["True", "True"] + ["refused"] * 8, results
    assert len(compared(session, parent)) == 2


@pytest.mark.config(COMPARISON_LIMIT_DEFAULT=2)
def test_a_plan_that_includes_the_comparison_lifts_the_limit(client, session, make, signed_in):
    subscribe(make, signed_in, school_comparison=None)
    schools = [make.school() for _ in range(4)]
    session.commit()

    for school in schools:
        assert post(client, COMPARE_URL, kind="school", target_id=school.id).status_code == 303
    assert len(compared(session, signed_in)) == 4


def test_a_plan_without_the_comparison_allows_none(client, session, make, signed_in):
    subscribe(make, signed_in, favorites=None)
    school = make.school()
    session.commit()

    response = post(client, COMPARE_URL, headers=HTMX, kind="school", target_id=school.id)

    assert response.status_code == 422 and 'href="/plans"' in response.get_data(as_text=True)
    assert compared(session, signed_in) == set()


@pytest.mark.config(COMPARISON_LIMIT_DEFAULT=1)
def test_a_withdrawn_school_is_not_shown_and_does_not_use_up_a_place(
    client, session, make, signed_in
):
    withdrawn, other = make.school(name="Kapanan Koleji"), make.school()
    session.commit()
    post(client, COMPARE_URL, kind="school", target_id=withdrawn.id)
    session.get(School, withdrawn.id).is_published = False
    session.commit()

    response = post(client, COMPARE_URL, kind="school", target_id=other.id)

    assert response.status_code == 303
    assert ("school", other.id) in compared(session, signed_in)
    assert "Kapanan Koleji" not in client.get(COMPARE_URL).get_data(as_text=True)


# Whose comparison


def test_another_parents_comparison_is_never_shown_or_removed(client, session, make, signed_in):
    mine, theirs = make.school(name="Benim Okulum"), make.school(name="Onların Okulu")
    other = make.user("parent")
    make.comparison(other, theirs)
    session.commit()
    post(client, COMPARE_URL, kind="school", target_id=mine.id)

    html = client.get(COMPARE_URL).get_data(as_text=True)
    removed = post(client, REMOVE_URL, kind="school", target_id=theirs.id, user_id=other.id)

    assert columns(html) == ["Benim Okulum"]
    assert removed.status_code == 303
    assert compared(session, other) == {("school", theirs.id)}
    assert compared(session, signed_in) == {("school", mine.id)}


def test_anonymous_visitors_are_sent_to_sign_in(client, session, make):
    school = make.school()
    session.commit()

    page = client.get(COMPARE_URL)
    add = post(client, COMPARE_URL, kind="school", target_id=school.id)

    assert page.status_code in (302, 303) and add.status_code in (302, 303)
    assert page.headers["Location"].startswith("/auth/login?next=/compare")
    assert add.headers["Location"].startswith("/auth/login")
    assert session.scalars(select(UserComparison)).all() == []


def test_school_staff_may_not_compare(client, session, make, auth):
    school = make.school()
    staff = make.customer_user()
    session.commit()
    auth.login(staff.user.email)

    assert client.get(COMPARE_URL).status_code == 403
    assert post(client, COMPARE_URL, kind="school", target_id=school.id).status_code == 403
    session.expire_all()
    assert session.scalars(select(UserComparison)).all() == []


# The page


def test_the_page_shows_the_fees_of_the_chosen_school_year(client, session, make, signed_in):
    school = make.school(campuses=("A", "B"), levels=("primary",), fees={"primary": 100000})
    a, b = sorted(school.campuses, key=lambda c: c.name)
    make.fee(a, "primary", 120000, THIS_YEAR + 1)
    make.fee(b, "primary", 150000, THIS_YEAR + 1)
    session.commit()
    post(client, COMPARE_URL, kind="school", target_id=school.id)
    post(client, COMPARE_URL, kind="campus", target_id=b.id)

    now = client.get(COMPARE_URL).get_data(as_text=True)
    later = client.get(f"{COMPARE_URL}?year={THIS_YEAR + 1}").get_data(as_text=True)
    junk = client.get(f"{COMPARE_URL}?year=1900").get_data(as_text=True)

    fee_row = fee_header(now, "İlkokul")
    assert row(now, fee_row) == [f"100.000,00{NBSP}₺", f"100.000,00{NBSP}₺"]
    # A school spans its campuses' fees; a campus has its own.
    assert row(later, fee_row) == [
        f"120.000,00{NBSP}₺ – 150.000,00{NBSP}₺",
        f"150.000,00{NBSP}₺",
    ]
    assert row(junk, fee_row) == row(now, fee_row)
    assert f'<option value="{THIS_YEAR + 1}" selected>' in later
    fragment = client.get(f"{COMPARE_URL}?year={THIS_YEAR + 1}", headers=HTMX)
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="compare-table"') and "<html" not in html
    assert row(html, fee_row) == row(later, fee_row)


def test_each_column_links_to_asking_its_school_or_campus(app, client, session, make, signed_in):
    school = make.school(campuses=("A", "B"))
    session.commit()
    campus = school.campuses[1]
    post(client, COMPARE_URL, kind="school", target_id=school.id)
    post(client, COMPARE_URL, kind="campus", target_id=campus.id)

    html = client.get(COMPARE_URL).get_data(as_text=True)

    if "leads.ask" in app.view_functions:
        assert f'href="/schools/{school.slug}/ask"' in html
        assert f'href="/schools/{school.slug}/ask?campus={campus.id}"' in html
    else:
        assert "/ask" not in html


def test_the_page_runs_as_many_statements_for_one_as_for_many(
    app, client, session, make, signed_in
):
    subscribe(make, signed_in, school_comparison=None)
    schools = [make.school(campuses=("A", "B", "C"), levels=("primary", "high")) for _ in range(6)]
    session.commit()
    post(client, COMPARE_URL, kind="school", target_id=schools[0].id)

    with counted_statements(app) as one:
        assert client.get(COMPARE_URL).status_code == 200
    for school in schools[1:]:
        post(client, COMPARE_URL, kind="school", target_id=school.id)
        post(client, COMPARE_URL, kind="campus", target_id=school.campuses[0].id)
    with counted_statements(app) as many:
        html = client.get(COMPARE_URL).get_data(as_text=True)

    assert len(columns(html)) == 11
    assert len(many) == len(one)


def test_the_account_pages_link_to_the_comparison(client, signed_in):
    html = client.get("/account/").get_data(as_text=True)

    assert 'href="/compare"' in html


# The favorites page


def test_favorites_show_each_schools_fee_range_and_a_compare_toggle(
    client, session, make, signed_in
):
    school = make.school(name="Bilge Koleji", campuses=("A", "B"), fees={"primary": 100000})
    a, b = sorted(school.campuses, key=lambda c: c.name)
    session.execute(
        SchoolFee.__table__.update()
        .where(SchoolFee.campus_id == b.id)
        .values(yearly_fee=Decimal("150000"))
    )
    session.commit()
    post(client, "/account/favorites", kind="school", target_id=school.id)
    post(client, "/account/favorites", kind="campus", target_id=a.id)
    post(client, COMPARE_URL, kind="campus", target_id=a.id)

    html = client.get("/account/favorites").get_data(as_text=True)

    assert html.count(f"100.000,00{NBSP}₺ – 150.000,00{NBSP}₺") == 2  # on both cards
    assert compare_actions(html) == {
        f"compare-school-{school.id}": COMPARE_URL,
        f"compare-campus-{a.id}": REMOVE_URL,
    }
    assert_valid_html(html, "/account/favorites")
