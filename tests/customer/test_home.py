"""The staff member's home: the schools they may work on, a page at a time, with the total, in
as many statements for a company of 40 schools as for a company of one."""

import re

import pytest

from tests.helpers import HTMX, counted_statements
from tests.test_html import assert_valid_html

HOME = "/customer/"


@pytest.fixture
def staff(make, session, auth):
    """An admin of a company with no school yet, signed in, reading the portal in English."""
    member = make.customer_user()
    member.user.locale = "en"
    session.commit()
    auth.login(member.user.email)
    return member


def add_schools(make, staff, count: int, start: int = 0) -> None:
    """`count` schools of three campuses, granted alternately whole and by two campuses."""
    for n in range(start, start + count):
        school = make.school(
            customer=staff.customer, name=f"Okul {n:03d}", campuses=("Kuzey", "Merkez", "Güney")
        )
        if n % 2 == 0:
            make.grant(staff, school)
        else:
            for campus in school.campuses[:2]:
                make.grant(staff, school, campus)


def cards(html: str) -> list[tuple[str, list[str]]]:
    """The schools as listed: each card's name and its campuses."""
    return [
        (name, re.findall(r"<li>([^<(]+) \(", campuses))
        for name, campuses in re.findall(
            r'<li class="card">\s*<h3>(?:<a [^>]*>)?([^<]*)(?:</a>)?</h3>.*?<ul>(.*?)</ul>',
            html,
            re.S,
        )
    ]


def total(html: str) -> str:
    return re.search(r"You may work on (\d+) schools?\.", html).group(1)


def test_the_dashboard_runs_as_many_statements_for_40_schools_as_for_one(
    app, client, session, make, staff
):
    add_schools(make, staff, 1)
    session.commit()
    client.get(HOME)  # anything done once per process is done now

    with counted_statements(app) as one:
        single = client.get(HOME)
    add_schools(make, staff, 39, start=1)
    session.commit()
    with counted_statements(app) as many:
        page = client.get(HOME)
    with counted_statements(app) as last:
        second = client.get(HOME + "?page=2")

    assert single.status_code == page.status_code == second.status_code == 200
    assert total(page.get_data(as_text=True)) == "40"
    assert len(cards(page.get_data(as_text=True))) == 20
    assert len(many) == len(one) == len(last), many


def test_a_long_list_pages_and_says_how_many_schools_in_all(client, session, make, staff):
    add_schools(make, staff, 45)
    session.commit()

    first = client.get(HOME).get_data(as_text=True)
    third = client.get(HOME + "?page=3").get_data(as_text=True)

    assert total(first) == total(third) == "45"
    assert [name for name, _ in cards(first)] == [f"Okul {n:03d}" for n in range(20)]
    assert cards(third) == [
        ("Okul 040", ["Güney", "Kuzey", "Merkez"]),
        ("Okul 041", ["Kuzey", "Merkez"]),
        ("Okul 042", ["Güney", "Kuzey", "Merkez"]),
        ("Okul 043", ["Kuzey", "Merkez"]),
        ("Okul 044", ["Güney", "Kuzey", "Merkez"]),
    ]
    assert 'href="/customer/?page=2" rel="prev"' in third
    assert 'rel="next"' not in third
    assert len(first.encode()) < 100_000
    assert_valid_html(first, HOME)


def test_the_pager_swaps_the_list_alone_for_htmx(client, session, make, staff):
    add_schools(make, staff, 25)
    session.commit()

    html = client.get(HOME + "?page=2", headers=HTMX).get_data(as_text=True)

    assert html.lstrip().startswith('<div id="granted-schools">')
    assert [name for name, _ in cards(html)] == [f"Okul {n:03d}" for n in range(20, 25)]
    assert 'hx-target="#granted-schools"' in html and 'href="/customer/?page=1"' in html


@pytest.mark.parametrize("page", ["0", "-3", "abc", "", "99999", "1.5", "9" * 40, "２"])
def test_junk_page_numbers_show_a_page(client, session, make, staff, page):
    add_schools(make, staff, 25)
    session.commit()

    response = client.get(f"{HOME}?page={page}")

    assert response.status_code == 200
    assert len(cards(response.get_data(as_text=True))) in (20, 5)


def test_company_role_and_grants_are_shown_as_before(client, session, make, staff):
    staff.user.name = "Ayşe Yılmaz"
    add_schools(make, staff, 2)
    session.commit()

    html = client.get(HOME).get_data(as_text=True)

    assert "<h1>Test Eğitim</h1>" in html and "Ayşe Yılmaz · Company admin" in html
    assert "The whole school" in html and "Only these campuses" in html
    assert "Kuzey (Merkez)" in html  # a campus and its district
    assert total(html) == "2" and "Page 1 of" not in html


def test_a_member_without_grants_is_told_whom_to_ask(client, staff):
    html = client.get(HOME).get_data(as_text=True)

    assert "No school has been granted to you yet." in html
    assert "You may work on" not in html


def panel(html: str, panel_id: str) -> str:
    found = re.search(rf'<section class="panel" id="{panel_id}".*?</section>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""


def test_the_plan_and_its_limits_in_use_are_shown_with_the_upgrade_link_at_a_limit(
    client, session, make, staff
):
    plan = make.plan(audience="companies", features={"team_members": 2, "schools_listed": None})
    plan.name = plan.name_en = "Okul Temel"
    make.subscription(make.price(plan), customer=staff.customer)
    make.customer_user(customer=staff.customer)  # a colleague: 2 of 2 places
    make.school(customer=staff.customer)  # listed: the factory publishes it
    session.commit()

    html = client.get(HOME).get_data(as_text=True)

    shown = panel(html, "plan-in-use")
    assert "Okul Temel" in shown
    assert "Team members 2 / 2" in shown and "Listed schools 1 (no limit)" in shown
    assert (
        'href="/customer/subscription"' in html.split('id="plan-in-use"')[1].split("</section>")[0]
    )
    assert_valid_html(html, "staff dashboard")


def test_without_a_plan_the_free_limits_are_shown_and_nothing_is_full(client, session, make, staff):
    html = client.get(HOME).get_data(as_text=True)

    shown = panel(html, "plan-in-use")
    assert "No plan: the free limits apply." in shown
    assert "Team members 1 / 3" in shown and "Listed schools 0 / 1" in shown
    assert "A larger plan gives more room" not in shown


def test_each_school_links_to_its_requests_its_public_page_and_its_editor(
    client, session, make, staff
):
    school = make.school(customer=staff.customer, name="Işık Koleji")
    make.grant(staff, school)
    make.lead(make.user("parent"), school)
    session.commit()

    html = client.get(HOME).get_data(as_text=True)

    assert f'href="/schools/{school.slug}"' in html
    assert f'href="/customer/leads?school={school.id}"' in html
    assert f'href="/customer/schools/{school.slug}"' in html
    assert "1 open" in panel(html, "lead-inbox-link") and "1 unassigned" in panel(
        html, "lead-inbox-link"
    )


@pytest.mark.parametrize(
    ("role", "requests", "editor"),
    [("agent", True, False), ("manager", True, True), ("finance", False, False)],
)
def test_each_role_gets_the_links_its_permissions_allow(
    client, session, make, auth, role, requests, editor
):
    from portal.access.permissions import Role

    company = make.customer()
    school = make.school(customer=company)
    member = make.customer_user(customer=company, role=Role(role))
    member.user.locale = "en"
    make.grant(member, school)
    session.commit()
    auth.login(member.user.email)

    html = client.get(HOME).get_data(as_text=True)

    assert (f'href="/customer/leads?school={school.id}"' in html) is requests
    assert ('id="lead-inbox-link"' in html) is requests
    assert (f'href="/customer/schools/{school.slug}"' in html) is editor
    assert 'id="plan-in-use"' in html
