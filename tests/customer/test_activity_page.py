"""The team's activity page: the last 30 Istanbul days of each member as a chart and a table,
for the members who manage the team, ten members a page, in as many statements for a team of
fifty as for a team of one, with nothing of another company."""

import re
from datetime import timedelta

import pytest

from portal.access.permissions import Role
from portal.clock import istanbul_today
from portal.models import CustomerUserDailyActivityLog
from tests.helpers import HTMX, counted_statements
from tests.test_html import assert_valid_html

PAGE = "/customer/activity"


@pytest.fixture
def admin(make, session, auth):
    """A company admin (who manages the team), named to come first, signed in, in English."""
    member = make.customer_user(role=Role.ADMIN)
    member.user.name = "Aaa Yönetici"
    member.user.locale = "en"
    session.commit()
    auth.login(member.user.email)
    return member


def add_day(session, member, days_ago, **counts):
    session.add(
        CustomerUserDailyActivityLog(
            customer_user_id=member.id,
            activity_date=istanbul_today() - timedelta(days=days_ago),
            sign_in_count=counts.get("sign_ins", 0),
            lead_view_count=counts.get("views", 0),
            lead_reply_count=counts.get("replies", 0),
            offer_count=counts.get("offers", 0),
            agreement_sign_count=counts.get("signed", 0),
        )
    )


def add_members(make, session, customer, count, start=0):
    for n in range(start, start + count):
        member = make.customer_user(customer=customer, role=Role.AGENT)
        member.user.name = f"Üye {n:03d}"
        add_day(session, member, n % 30, views=n % 7 + 1, offers=1)
    session.commit()


def sections(html: str) -> list[str]:
    return re.findall(r'<h2 id="member-\d+">([^<]*)', html)


def table_rows(html: str, member) -> list[list[str]]:
    table = re.search(
        rf'<table class="stacked" id="activity-table-{member.id}">.*?</table>', html, re.S
    )
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S).group(1)
    return [
        re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_each_member_gets_a_chart_and_a_table_with_the_same_figures(client, session, make, admin):
    # Signing in made today's row (one sign-in).
    add_day(session, admin, 1, sign_ins=2, views=5, replies=1)
    add_day(session, admin, 3, offers=4, signed=1)
    add_day(session, admin, 30, views=9)  # the 31st day back: not shown
    session.commit()

    html = client.get(PAGE).get_data(as_text=True)

    assert_valid_html(html, PAGE)
    assert sections(html) == ["Aaa Yönetici"]
    rows = table_rows(html, admin)
    assert [r[1:] for r in rows] == [
        ["1", "0", "0", "0", "0"],
        ["2", "5", "1", "0", "0"],
        ["0", "0", "0", "4", "1"],
    ]
    chart = re.search(r'<svg role="img".*?</svg>', html, re.S).group(0)
    assert "3 sign-ins, 5 requests viewed, 1 replies, 4 offers sent, 1 agreements signed" in chart
    # A rectangle per kind and day with activity (today 1; sign-ins, views, replies; offers,
    # the agreement signed).
    assert len(re.findall(r"M[\d.]+ [\d.]+h[\d.]+v[\d.]+h-[\d.]+z", chart)) == 6
    assert "<title" in chart and "<desc" in chart


def test_a_member_kept_rendered_is_shown_afresh_when_their_days_or_name_change(
    client, session, make, admin
):
    # A member's chart and table are kept rendered (portal/caching.py) under what they show.
    colleague = make.customer_user(customer=admin.customer, role=Role.AGENT)
    colleague.user.name = "Bbb Üye"
    add_day(session, colleague, 2, views=3)
    session.commit()
    first = client.get(PAGE).get_data(as_text=True)
    assert [row[1:] for row in table_rows(first, colleague)] == [["0", "3", "0", "0", "0"]]

    add_day(session, colleague, 1, offers=2)
    session.commit()
    html = client.get(PAGE).get_data(as_text=True)
    assert [row[1:] for row in table_rows(html, colleague)] == [
        ["0", "0", "0", "2", "0"],
        ["0", "3", "0", "0", "0"],
    ]

    colleague.user.name = "Bbb Üye Yeni"
    session.commit()
    assert sections(client.get(PAGE).get_data(as_text=True)) == ["Aaa Yönetici", "Bbb Üye Yeni"]


def test_a_member_without_activity_is_listed_with_an_empty_chart(client, session, make, admin):
    idle = make.customer_user(customer=admin.customer, role=Role.AGENT)
    idle.user.name = "Boş Üye"
    session.commit()

    html = client.get(PAGE).get_data(as_text=True)

    assert sections(html) == ["Aaa Yönetici", "Boş Üye"]
    assert table_rows(html, idle) == [["No activity in the last 30 days."]]
    charts = re.findall(r'<svg role="img".*?</svg>', html, re.S)
    assert "<path " in charts[0] and "<path " not in charts[1]


def test_the_page_runs_as_many_statements_for_fifty_members_as_for_one(
    app, client, session, make, admin
):
    client.get(PAGE)
    with counted_statements(app) as one:
        single = client.get(PAGE)
    add_members(make, session, admin.customer, 49)
    with counted_statements(app) as many:
        page = client.get(PAGE)
    with counted_statements(app) as later:
        last = client.get(PAGE + "?page=10")
    with counted_statements(app) as fragment:
        part = client.get(PAGE + "?page=2", headers=HTMX)

    assert single.status_code == page.status_code == last.status_code == part.status_code == 200
    assert len(sections(page.get_data(as_text=True))) == 5
    assert sections(last.get_data(as_text=True)) == [f"Üye {n:03d}" for n in range(44, 49)]
    assert part.get_data(as_text=True).lstrip().startswith('<div id="team-activity">')
    assert len(one) == len(many) == len(later) == len(fragment), many
    assert len(page.get_data()) < 100_000


def test_no_other_companys_member_or_activity_is_shown(client, session, make, admin):
    stranger = make.customer_user(role=Role.AGENT)
    stranger.user.name = "Başka Şirketten"
    add_day(session, stranger, 0, views=77)
    session.commit()

    html = client.get(PAGE).get_data(as_text=True)

    assert "Başka" not in html and ">77<" not in html
    assert sections(html) == ["Aaa Yönetici"]


def test_a_deactivated_colleague_is_shown_as_such(client, session, make, admin):
    gone = make.customer_user(customer=admin.customer, role=Role.AGENT, is_active=False)
    gone.user.name = "Zzz Ayrılan"
    session.commit()

    html = client.get(PAGE).get_data(as_text=True)

    assert sections(html) == ["Aaa Yönetici", "Zzz Ayrılan "]
    assert "deactivated" in html


@pytest.mark.parametrize(
    ("role", "active", "status"),
    [
        (Role.AGENT, True, 403),
        (Role.MANAGER, True, 403),
        (Role.FINANCE, True, 403),
        (Role.ADMIN, False, 403),
    ],
)
def test_members_who_do_not_manage_the_team_are_refused(
    make, session, client, auth, role, active, status
):
    member = make.customer_user(role=role, is_active=active)
    session.commit()
    auth.login(member.user.email)

    assert client.get(PAGE).status_code == status
