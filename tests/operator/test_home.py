"""The operators' home: every customer with its latest scores, and a user search by name."""

import re
from datetime import date

import pytest

from portal.models import CustomerScore
from tests.helpers import HTMX, counted_statements
from tests.test_html import assert_valid_html


@pytest.fixture
def operator(make, session, auth):
    user = make.user("operator")
    session.commit()
    auth.login(user.email)
    return user


def score(customer, scored_on, total):
    return CustomerScore(
        customer_id=customer.id,
        scored_on=scored_on,
        demand=10,
        communication=20,
        responsiveness=30,
        payment=40,
        total=total,
    )


def rows(html):
    """The customers table as the operator reads it: one list of cell texts per row."""
    table = html[html.index('id="customers-title"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [
        [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_each_customer_shows_its_latest_scores_or_a_dash(client, session, make, operator):
    scored = make.customer(name="Bilge Eğitim", city="İstanbul")
    make.customer(name="Çınar Okulları", city="Ankara")
    session.add_all(
        [score(scored, date(2026, 11, 20), 100), score(scored, date(2026, 11, 21), 200)]
    )
    session.commit()

    html = client.get("/operator/").get_data(as_text=True)

    assert rows(html) == [
        ["Bilge Eğitim", "İstanbul", "10", "20", "30", "40", "200"],
        ["Çınar Okulları", "Ankara", "—"],
    ]


def test_a_deleted_customer_is_not_listed(client, session, make, operator):
    make.customer(name="Kalan Firma")
    make.customer(name="Silinen Firma").soft_delete()
    session.commit()

    html = client.get("/operator/").get_data(as_text=True)

    assert [row[0] for row in rows(html)] == ["Kalan Firma"]


def test_the_search_answers_htmx_with_the_results_fragment_only(client, session, make, operator):
    make.user(name="Elif Şahin", email="elif@example.com")
    make.user(name="Mehmet Demir")
    session.commit()  # MariaDB's FULLTEXT index sees committed rows only

    response = client.get("/operator/?q=elif", headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="user-results"')
    assert "Elif Şahin" in html and "elif@example.com" in html
    assert "Mehmet Demir" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_without_a_query_no_user_is_listed(client, session, make, operator):
    make.user(name="Elif Şahin")
    session.commit()

    html = client.get("/operator/").get_data(as_text=True)

    assert "Elif Şahin" not in html


@pytest.fixture
def reader(make, session, auth):
    """An operator reading the back office in English, signed in."""
    user = make.user("operator", locale="en")
    session.commit()
    auth.login(user.email)
    return user


def add_customers(session, make, count: int, start: int = 0) -> None:
    """`count` customers named "Firma 000"... in order, each with two days of scores (the
    latest total is the customer's number)."""
    for n in range(start, start + count):
        customer = make.customer(name=f"Firma {n:03d}", city="İzmir")
        session.add_all(
            [score(customer, date(2026, 11, 1), 1), score(customer, date(2026, 11, 2), n)]
        )
    session.flush()


def customer_total(html: str) -> str:
    return re.search(r"(\d+) customers?\b", html).group(1)


def test_the_page_runs_as_many_statements_for_45_customers_as_for_3(
    app, client, session, make, reader
):
    add_customers(session, make, 3)
    session.commit()
    client.get("/operator/")  # anything done once per process is done now

    with counted_statements(app) as few:
        small = client.get("/operator/")
    add_customers(session, make, 42, start=3)
    session.commit()
    with counted_statements(app) as many:
        large = client.get("/operator/")
    with counted_statements(app) as searched:
        client.get("/operator/?q=elif&page=2")

    assert small.status_code == large.status_code == 200
    assert len(rows(small.get_data(as_text=True))) == 3
    assert len(rows(large.get_data(as_text=True))) == 20
    assert len(many) == len(few), many
    assert len(searched) == len(few) + 1  # and the search's own query


def test_customers_come_20_a_page_with_the_total(client, session, make, reader):
    add_customers(session, make, 45)
    session.commit()

    first = client.get("/operator/").get_data(as_text=True)
    second = client.get("/operator/?page=2").get_data(as_text=True)  # a plain link, no htmx
    third = client.get("/operator/?page=3").get_data(as_text=True)

    assert customer_total(first) == customer_total(second) == "45"
    assert [row[0] for row in rows(first)] == [f"Firma {n:03d}" for n in range(20)]
    assert rows(second)[0] == ["Firma 020", "İzmir", "10", "20", "30", "40", "20"]
    assert [row[0] for row in rows(second)] == [f"Firma {n:03d}" for n in range(20, 40)]
    assert [row[0] for row in rows(third)] == [f"Firma {n:03d}" for n in range(40, 45)]
    assert 'href="/operator/?page=3" rel="next"' in second
    assert 'href="/operator/?page=1" rel="prev"' in second
    assert len(first.encode()) < 100_000
    assert_valid_html(second, "/operator/?page=2")


def test_the_pager_swaps_the_customers_list_alone_and_keeps_the_search(
    client, session, make, reader
):
    add_customers(session, make, 25)
    make.user(name="Elif Şahin")
    session.commit()

    page = client.get("/operator/?q=elif").get_data(as_text=True)
    response = client.get(
        "/operator/?q=elif&page=2", headers={**HTMX, "HX-Target": "div#customers"}
    )

    html = response.get_data(as_text=True)
    assert 'href="/operator/?q=elif&amp;page=2"' in page and 'hx-target="#customers"' in page
    assert html.lstrip().startswith('<div id="customers">')
    assert "Elif Şahin" not in html  # the search results stay where they are
    assert [row[0] for row in rows('id="customers-title"' + html)] == [
        f"Firma {n:03d}" for n in range(20, 25)
    ]
    assert {"HX-Request", "HX-Target"} <= set(response.headers["Vary"].split(", "))


@pytest.mark.parametrize("page", ["0", "-1", "two", "", "999", "2.0", "9" * 40])
def test_junk_page_numbers_show_a_page_of_customers(client, session, make, reader, page):
    add_customers(session, make, 25)
    session.commit()

    for headers in (None, {**HTMX, "HX-Target": "div#customers"}):
        response = client.get(f"/operator/?page={page}", headers=headers)
        assert response.status_code == 200
        assert len(rows('id="customers-title"' + response.get_data(as_text=True))) in (20, 5)


def test_the_search_says_how_many_it_found_and_when_only_the_first_50_are_shown(
    client, session, make, reader
):
    for n in range(51):
        make.user(name=f"Deniz Arslan {n:02d}")
    make.user(name="Elif Şahin")
    session.commit()  # MariaDB's FULLTEXT index sees committed rows only

    many = client.get("/operator/?q=deniz", headers=HTMX).get_data(as_text=True)
    one = client.get("/operator/?q=elif", headers=HTMX).get_data(as_text=True)

    assert "<caption>50 users found</caption>" in many and many.count("Deniz Arslan") == 50
    assert "Only the first 50 are shown" in many
    assert "<caption>1 user found</caption>" in one and "Only the first" not in one
