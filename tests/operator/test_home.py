"""The operators' home: every customer with its latest scores, and a user search by name."""

import re
from datetime import date

import pytest

from portal.models import CustomerScore
from tests.helpers import HTMX


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
