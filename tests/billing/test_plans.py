"""The public plans page: prices per billing cycle (plain GET and htmx), KDV the way Turkish
users read it, savings and trials, the comparison table built from the feature pivot.

Amounts are checked in the default Turkish locale; words are checked in English, since the
Turkish catalogue gets these strings later.
"""

import re

import html5lib
import pytest

from portal.access.permissions import Role
from portal.billing import catalogue
from portal.extensions import db
from tests.helpers import HTMX, counted_statements, csrf_token
from tests.test_html import assert_valid_html

PLANS_URL = "/plans"
TL = "\u00a0₺"  # the money filter puts a no-break space before the lira sign


def to_english(client):
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})


@pytest.fixture
def english(client):
    """The visitor switched the site to English."""
    to_english(client)


def page(client, url=PLANS_URL, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _text(element) -> str:
    # What a screen reader reads: all text, visually hidden included, with runs of spaces and
    # newlines collapsed (but the no-break space before ₺ kept).
    return re.sub(r"[ \t\r\n]+", " ", "".join(element.itertext())).strip()


def _tree(html: str):
    return html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)


def cards(html: str) -> dict[str, str]:
    """The text of each plan card, by the plan's name (its heading)."""
    return {_text(a.find("h3")): _text(a) for a in _tree(html).iter("article")}


def card_links(html: str) -> dict[str, list[str]]:
    """The links in each plan card, by the plan's name."""
    return {
        _text(a.find("h3")): [link.get("href") for link in a.iter("a")]
        for a in _tree(html).iter("article")
    }


def comparison(html: str) -> dict[str, list[str]]:
    """The comparison table: each feature row's header text -> its cells' text."""
    table = _tree(html).find(".//table")
    rows = {}
    for tr in table.iter("tr"):
        header = tr.find("th[@scope='row']")
        if header is not None:
            rows[_text(header)] = [_text(td) for td in tr.findall("td")]
    return rows


def checked_cycle(html: str) -> str:
    return re.search(r'name="cycle" value="([a-z_]+)" checked', html).group(1)


def test_prices_are_written_the_turkish_way(client, session, make):
    plan = make.plan()
    make.price(plan, amount="1234.56")
    session.commit()

    assert f"1.234,56{TL}" in cards(page(client))[plan.name]


def test_monthly_is_the_default_cycle_and_a_plain_get_switches_to_another(client, session, make):
    plan = make.plan()
    make.price(plan, billing_cycle="monthly", amount="100.00")
    make.price(plan, billing_cycle="yearly", amount="1000.00")
    session.commit()

    monthly = page(client)
    yearly = page(client, f"{PLANS_URL}?cycle=yearly")

    assert checked_cycle(monthly) == "monthly"
    assert f"100,00{TL}" in cards(monthly)[plan.name]
    assert f"1.000,00{TL}" not in cards(monthly)[plan.name]
    assert checked_cycle(yearly) == "yearly"
    assert f"1.000,00{TL}" in cards(yearly)[plan.name]
    assert f"100,00{TL}" not in cards(yearly)[plan.name]


def test_without_monthly_the_first_cycle_offered_is_the_default(client, session, make):
    plan = make.plan()
    make.price(plan, billing_cycle="yearly", amount="900.00")
    make.price(plan, billing_cycle="weekly", amount="20.00")
    session.commit()

    html = page(client)

    assert checked_cycle(html) == "weekly"
    assert re.findall(r'name="cycle" value="([a-z_]+)"', html) == ["weekly", "yearly"]


def test_the_cycle_form_works_without_javascript_and_with_htmx(client, session, make):
    make.price(make.plan(), billing_cycle="monthly")
    session.commit()

    html = page(client, f"{PLANS_URL}?audience=parents")
    form = re.search(r'<form method="get" action="/plans"[^>]*>', html).group(0)

    assert 'hx-get="/plans"' in form and 'hx-target="#plan-prices"' in form
    assert "change" in re.search(r'hx-trigger="([^"]*)"', form).group(1)
    assert 'hx-push-url="true"' in form
    assert '<input type="hidden" name="audience" value="parents">' in html
    assert re.search(r"<noscript><button type=\"submit\">", html)
    assert '<section id="plan-cards"' in html


def test_htmx_cycle_change_answers_with_only_the_price_cards(client, session, make):
    plan = make.plan()
    make.price(plan, billing_cycle="monthly", amount="100.00")
    make.price(plan, billing_cycle="yearly", amount="1000.00")
    session.commit()

    response = client.get(f"{PLANS_URL}?audience=parents&cycle=yearly", headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="plan-cards"') and "<html" not in html
    assert "<form" not in html and "<table" not in html
    assert f"1.000,00{TL}" in cards(html)[plan.name]
    assert {"HX-Request", "HX-Request-Type", "HX-History-Restore-Request"} <= set(
        h.strip() for h in response.headers["Vary"].split(",")
    )
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parseFragment(html)


def test_a_history_restore_gets_the_whole_page(client, session, make):
    make.price(make.plan(features={"favorites": 10}))
    session.commit()

    html = page(client, headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert "<html" in html and "<form" in html and "<table" in html


def test_an_archived_price_is_never_shown_its_active_replacement_is(client, session, make):
    plan = make.plan()
    old = make.price(plan, amount="80.00", status="archived")
    new = make.price(plan, amount="90.00")
    session.commit()

    html = page(client)

    assert f"90,00{TL}" in cards(html)[plan.name]
    assert f"80,00{TL}" not in html
    assert card_links(html)[plan.name] == [f"/plans/{new.id}/checkout"]
    assert f"/plans/{old.id}/checkout" not in html


def test_a_cycle_with_only_archived_prices_is_not_offered(client, session, make):
    plan = make.plan()
    make.price(plan, billing_cycle="monthly")
    make.price(plan, billing_cycle="yearly", status="archived")
    session.commit()

    html = page(client, f"{PLANS_URL}?cycle=yearly")

    assert re.findall(r'name="cycle" value="([a-z_]+)"', html) == ["monthly"]
    assert checked_cycle(html) == "monthly"


# KDV


def test_parents_see_prices_with_kdv_included(client, session, make, english):
    plan = make.plan(audience="parents")
    make.price(plan, amount="120.00", kdv_included=True)
    session.commit()

    card = cards(page(client))[plan.name]

    assert "120.00" in card and "per month" in card
    assert "incl. KDV" in card and "+ KDV" not in card
    assert "100.00" not in card  # the net amount is not what a consumer is quoted


def test_company_prices_show_net_plus_kdv_and_the_kdv_inclusive_total(client, session, make):
    plan = make.plan(audience="companies")
    make.price(plan, amount="1490.00", kdv_included=False)
    session.commit()

    url = f"{PLANS_URL}?audience=companies"

    html = page(client, url)
    turkish = cards(html)[plan.name]
    to_english(client)
    english = cards(page(client, url))[plan.name]

    assert f'<strong class="plan-amount">1.490,00{TL}</strong>' in html  # the headline is net
    assert f"1.788,00{TL}" in turkish  # net + 20 % KDV, beside it
    assert "1,490.00" in english and "+ KDV" in english
    assert re.search(r"1,788\.00\W*(₺|TRY) incl\. KDV", english)


# Savings, per month, trials, lifetime


def test_a_longer_cycle_shows_its_saving_against_monthly_and_its_price_per_month(
    client, session, make, english
):
    plan = make.plan()
    make.price(plan, billing_cycle="monthly", amount="100.00")
    make.price(plan, billing_cycle="yearly", amount="960.00")
    session.commit()

    yearly = cards(page(client, f"{PLANS_URL}?cycle=yearly"))[plan.name]
    monthly = cards(page(client, f"{PLANS_URL}?cycle=monthly"))[plan.name]

    assert "Save 20%" in yearly
    assert "per year" in yearly and "80.00" in yearly and "per month" in yearly
    assert "Save" not in monthly


def test_no_saving_is_claimed_when_the_longer_cycle_costs_more(client, session, make, english):
    plan = make.plan()
    make.price(plan, billing_cycle="monthly", amount="100.00")
    make.price(plan, billing_cycle="quarterly", amount="330.00")
    session.commit()

    assert "Save" not in cards(page(client, f"{PLANS_URL}?cycle=quarterly"))[plan.name]


def test_trial_days_and_lifetime_one_payment_are_shown(client, session, make, english):
    plan = make.plan()
    make.price(plan, billing_cycle="monthly", amount="50.00", trial_days=7)
    make.price(plan, billing_cycle="lifetime", amount="2499.00")
    session.commit()

    monthly = cards(page(client))[plan.name]
    lifetime = cards(page(client, f"{PLANS_URL}?cycle=lifetime"))[plan.name]

    assert "7-day free trial" in monthly
    assert "one payment" in lifetime and "trial" not in lifetime and "Save" not in lifetime


def test_a_plan_without_the_cycle_says_so_and_offers_no_link(client, session, make, english):
    both = make.plan(sort_order=1)
    monthly_only = make.plan(sort_order=2)
    yearly = make.price(both, billing_cycle="yearly", amount="900.00")
    make.price(both, billing_cycle="monthly")
    make.price(monthly_only, billing_cycle="monthly")
    session.commit()

    html = page(client, f"{PLANS_URL}?cycle=yearly")

    assert "Not offered for this cycle" in cards(html)[monthly_only.name]
    assert card_links(html) == {both.name: [f"/plans/{yearly.id}/checkout"], monthly_only.name: []}


# Which plans


def test_only_active_plans_of_the_audience_are_shown_in_their_order(client, session, make):
    second = make.plan(sort_order=2)
    first = make.plan(sort_order=1)
    hidden = make.plan(is_active=False)
    company = make.plan(audience="companies")
    for plan in (first, second, hidden, company):
        make.price(plan)
    session.commit()

    html = page(client, f"{PLANS_URL}?audience=parents")

    assert list(cards(html)) == [first.name, second.name]
    assert hidden.name not in html and company.name not in html


def test_staff_see_company_plans_by_default(client, session, make, auth):
    parents = make.plan(audience="parents")
    companies = make.plan(audience="companies")
    make.price(parents)
    make.price(companies, kdv_included=False)
    staff = make.customer_user(role=Role.ADMIN)
    session.commit()

    assert list(cards(page(client))) == [parents.name]  # anonymous: parents' plans
    auth.login(staff.user.email)
    assert list(cards(page(client))) == [companies.name]
    assert list(cards(page(client, f"{PLANS_URL}?audience=parents"))) == [parents.name]


def test_staff_who_may_not_buy_are_told_whom_to_ask_instead_of_a_choose_button(
    client, session, make, auth, english
):
    plan = make.plan(audience="companies")
    make.price(plan, billing_cycle="monthly", kdv_included=False)
    make.price(plan, billing_cycle="yearly", kdv_included=False)
    agent = make.customer_user(role=Role.AGENT)
    for role, name in ((Role.FINANCE, "Zeynep Kaya"), (Role.ADMIN, "Ayşe Yıldız")):
        make.customer_user(customer=agent.customer, role=role).user.name = name
    make.customer_user(role=Role.ADMIN).user.name = "Başka Firma"  # another company's admin
    session.commit()
    auth.login(agent.user.email)

    html = page(client)
    fragment = page(client, f"{PLANS_URL}?audience=companies&cycle=yearly", headers=HTMX)

    assert card_links(html) == {plan.name: []}
    assert "/checkout" not in html and "/checkout" not in fragment
    notice = _text(_tree(html).find(".//*[@id='plan-buyers']"))
    assert notice == (
        "Plans for your company are bought by: Ayşe Yıldız, Zeynep Kaya. Ask them to choose one."
    )
    assert_valid_html(html, "plans page for staff who may not buy")


def test_staff_whose_company_has_no_buyer_are_told_so(client, session, make, auth, english):
    make.price(make.plan(audience="companies"), kdv_included=False)
    manager = make.customer_user(role=Role.MANAGER)
    session.commit()
    auth.login(manager.user.email)

    html = page(client)

    assert "Nobody in your company can buy a plan at the moment." in _text(_tree(html))
    assert "/checkout" not in html


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE])
def test_staff_who_may_buy_get_the_choose_buttons_and_no_notice(client, session, make, auth, role):
    plan = make.plan(audience="companies")
    price = make.price(plan, kdv_included=False)
    staff = make.customer_user(role=role)
    session.commit()
    auth.login(staff.user.email)

    html = page(client)

    assert card_links(html) == {plan.name: [f"/plans/{price.id}/checkout"]}
    assert 'id="plan-buyers"' not in html


def test_a_parent_sees_parent_plans_by_default(client, session, make, signed_in):
    parents = make.plan(audience="parents")
    make.price(parents)
    make.price(make.plan(audience="companies"))
    session.commit()

    assert list(cards(page(client))) == [parents.name]


def test_the_audience_links_mark_the_current_one_and_leave_the_cycle_to_its_default(
    client, session, make
):
    # The other audience may not offer the cycle shown here, and the links sit outside the
    # part htmx swaps, so they carry no cycle that could go stale.
    plan = make.plan()
    make.price(plan, billing_cycle="yearly")
    session.commit()

    html = page(client, f"{PLANS_URL}?cycle=yearly")

    assert 'href="/plans?audience=parents" aria-current="page"' in html
    assert 'href="/plans?audience=companies">' in html


@pytest.mark.parametrize(
    ("query", "audience"),
    [
        ("?cycle=fortnightly", "parents"),
        ("?cycle=", "parents"),
        ("?cycle=%3Cscript%3E", "parents"),
        ("?audience=martians", "parents"),
        ("?audience=&cycle=yearly", "parents"),
        ("?audience[]=companies", "parents"),
        ("?audience=companies&cycle=lifetime", "companies"),
    ],
)
def test_unknown_query_values_fall_back_to_the_defaults(client, session, make, query, audience):
    plans = {"parents": make.plan(), "companies": make.plan(audience="companies")}
    for plan in plans.values():
        make.price(plan, billing_cycle="monthly", amount="49.90")
    session.commit()

    html = page(client, PLANS_URL + query)

    assert list(cards(html)) == [plans[audience].name]
    assert f"49,90{TL}" in html
    assert checked_cycle(html) == "monthly"
    assert "<script>" not in html


def test_a_page_without_plans_still_answers(client, english):
    html = page(client, f"{PLANS_URL}?audience=companies")

    assert "No plans are on offer here yet." in html
    assert "<table" not in html and 'name="cycle"' not in html
    assert_valid_html(html, "plans page without plans")


# The comparison table


def test_the_comparison_table_is_built_from_the_feature_pivot(client, session, make, english):
    plus = make.plan(sort_order=1, features={"favorites": 100, "support": False, "compare": None})
    premium = make.plan(sort_order=2, features={"favorites": None, "support": None})
    make.price(plus)
    make.price(premium)
    session.commit()

    html = page(client)
    table = comparison(html)

    assert re.search(r'<th scope="col">[^<]*</th>\s*<th scope="col">' + plus.name, html), (
        "one column per plan, in plan order"
    )
    assert table == {
        "compare": ["Unlimited", "Not included"],
        "favorites": ["100", "Unlimited"],
        "support": ["Not included", "Unlimited"],
    }
    assert "<caption" in html
    assert '<i class="fa-solid fa-check" aria-hidden="true"></i> favorites' in html


def test_features_are_ordered_by_category_then_sort_order(session, make):
    for code, category, order in (("b2", "b", 2), ("a9", "a", 9), ("b1", "b", 1)):
        make.feature(code, category=category, sort_order=order)
    make.plan(features={"b2": 1, "a9": 1, "b1": 1})

    table = catalogue.plans_table(session, "parents")

    assert [row.feature.code for row in table.features] == ["a9", "b1", "b2"]


# The catalogue itself


def test_plans_table_reports_cycles_in_calendar_order_and_the_numbers_per_plan(session, make):
    plan = make.plan()
    make.price(plan, billing_cycle="yearly", amount="960.00", trial_days=0)
    make.price(plan, billing_cycle="monthly", amount="100.00", trial_days=14)
    make.price(plan, billing_cycle="daily", amount="5.00")
    session.flush()

    yearly = catalogue.plans_table(session, "parents", "yearly")
    monthly = catalogue.plans_table(session, "parents", "nonsense")

    assert yearly.cycles == ("daily", "monthly", "yearly")
    assert yearly.cycle == "yearly" and monthly.cycle == "monthly"
    [offer] = yearly.offers
    assert (offer.charge.net, offer.charge.kdv, offer.charge.gross) == (
        offer.charge.gross - offer.charge.kdv,
        offer.charge.kdv,
        offer.price.amount,
    )
    assert str(offer.monthly_equivalent) == "80.00"
    assert str(offer.saving_percent) == "20"
    assert offer.trial_days == 0
    [monthly_offer] = monthly.offers
    assert monthly_offer.trial_days == 14
    assert monthly_offer.monthly_equivalent is None and monthly_offer.saving_percent is None


def test_plans_table_refuses_an_unknown_audience(session):
    with pytest.raises(ValueError):
        catalogue.plans_table(session, "martians")


def test_default_cycle_prefers_monthly_then_the_first_offered():
    assert catalogue.default_cycle(("weekly", "monthly", "yearly")) == "monthly"
    assert catalogue.default_cycle(("quarterly", "yearly")) == "quarterly"
    assert catalogue.default_cycle(()) is None


def test_plans_table_runs_three_queries_however_many_plans(app, session, make):
    def arrange(count):
        for _ in range(count):
            plan = make.plan(features={"favorites": 10, "support": None})
            make.price(plan, billing_cycle="monthly")
            make.price(plan, billing_cycle="yearly", amount="1000.00")
        session.commit()

    arrange(1)
    with counted_statements(app) as one:
        table = catalogue.plans_table(db.session, "parents", "yearly")
        assert len(table.offers) == 1
    arrange(7)
    with counted_statements(app) as eight:
        table = catalogue.plans_table(db.session, "parents", "yearly")
        assert len(table.offers) == 8
        # Reading what the page reads loads nothing more.
        [(o.plan.name, o.price.id) for o in table.offers]
        [(r.feature.name, r.feature.icon) for r in table.features]

    assert len(one) == len(eight) == 3, eight


def test_the_plans_page_runs_as_many_queries_for_eight_plans_as_for_one(app, client, session, make):
    def arrange(count):
        for _ in range(count):
            plan = make.plan(features={"favorites": 10})
            make.price(plan)
        session.commit()

    arrange(1)
    client.get(PLANS_URL)  # anything done once per process is done now
    with counted_statements(app) as one:
        client.get(PLANS_URL)
    arrange(7)
    with counted_statements(app) as eight:
        html = page(client)

    assert len(cards(html)) == 8
    assert len(eight) == len(one)


# Valid HTML


def test_the_plans_pages_are_valid_html(client, runner):
    runner.invoke(args=["demo-data"])
    for url in (
        PLANS_URL,
        f"{PLANS_URL}?cycle=lifetime",
        f"{PLANS_URL}?audience=companies&cycle=yearly",
    ):
        assert_valid_html(page(client, url), url)
    fragment = page(client, f"{PLANS_URL}?cycle=quarterly", headers=HTMX)
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parseFragment(fragment)


def test_a_reader_gets_choose_buttons_only_for_plans_they_may_buy(
    client, session, make, auth, english
):
    parents_price = make.price(make.plan(audience="parents"))
    companies_price = make.price(make.plan(audience="companies"), kdv_included=False)
    parent = make.user()
    admin = make.customer_user(role=Role.ADMIN)
    operator = make.user(type_code="operator")
    session.commit()
    parents_url = f"{PLANS_URL}?audience=parents"
    companies_url = f"{PLANS_URL}?audience=companies"
    parents_checkout = f"/plans/{parents_price.id}/checkout"
    companies_checkout = f"/plans/{companies_price.id}/checkout"

    # A visitor may choose either: signing in comes first.
    assert parents_checkout in page(client, parents_url)
    assert companies_checkout in page(client, companies_url)

    auth.login(parent.email)
    assert parents_checkout in page(client, parents_url)
    html = page(client, companies_url)
    assert "/checkout" not in html
    assert "bought by a school company's staff" in _text(_tree(html))
    auth.logout()

    auth.login(admin.user.email)
    assert companies_checkout in page(client, companies_url)
    html = page(client, parents_url)
    assert "/checkout" not in html
    assert "bought by parents, from their own account" in _text(_tree(html))
    auth.logout()

    auth.login(operator.email)
    assert "/checkout" not in page(client, parents_url) + page(client, companies_url)


def test_a_query_with_a_nul_or_broken_utf8_is_refused_with_a_message(client, english):
    # Since issue 9: unreadable characters in an address are a 400 with a clear message
    # before any view runs, not a value the page quietly ignores.
    response = client.get(f"{PLANS_URL}?cycle=%00%ff%3Cscript%3E")

    assert response.status_code == 400
    assert "The address has characters that cannot be used." in response.get_data(as_text=True)
