"""One function answers "what is this subscriber's limit for feature X"; favorites obey it,
and reaching the limit points to the plans."""

import re

import pytest

from portal.billing.limits import limit_for, limits_for
from portal.extensions import db
from tests.billing.helpers import assert_valid_fragment, fragment_text, page, pay
from tests.helpers import HTMX, counted_statements, csrf_token, post
from tests.test_html import assert_valid_html

FREE = {"favorites": 2}


def test_without_a_plan_the_free_default_applies(session, make):
    parent = make.user()

    assert limit_for(session, "favorites", FREE, user_id=parent.id) == 2
    assert limit_for(session, "team_members", FREE, user_id=parent.id) == 0


@pytest.mark.parametrize(("limit", "expected"), [(100, 100), (None, None), (False, 0), (0, 0)])
def test_a_live_plan_sets_the_limit(session, make, limit, expected):
    parent = make.user()
    price = make.price(make.plan(features={"favorites": limit}))
    make.subscription(price, user=parent, status="trial")

    assert limit_for(session, "favorites", FREE, user_id=parent.id) == expected


def test_a_paused_or_expired_plan_falls_back_to_the_free_default(session, make):
    parent = make.user()
    price = make.price(make.plan(features={"favorites": 100}))
    make.subscription(price, user=parent, status="paused")
    make.subscription(price, user=parent, status="expired")

    assert limit_for(session, "favorites", FREE, user_id=parent.id) == 2


def test_a_company_limit_comes_from_the_company_plan(session, make):
    customer = make.customer()
    price = make.price(make.plan(audience="companies", features={"team_members": 5}))
    make.subscription(price, customer=customer)

    assert limit_for(session, "team_members", {}, customer_id=customer.id) == 5


def test_a_feature_the_live_plan_does_not_list_is_not_included(session, make):
    parent = make.user()
    make.feature("school_comparison")  # a feature of other plans, not of this one
    price = make.price(make.plan(features={"favorites": 100}))
    make.subscription(price, user=parent, status="active")

    assert limit_for(session, "school_comparison", {"school_comparison": 3}, user_id=parent.id) == 0
    assert limit_for(session, "no_such_feature", {"no_such_feature": 3}, user_id=parent.id) == 0


def test_the_newest_live_subscription_sets_the_limit_in_one_statement(app, session, make):
    customer = make.customer()
    older = make.price(make.plan(audience="companies", features={"team_members": 5}))
    newer = make.price(make.plan(audience="companies", features={"team_members": 20}))
    make.subscription(older, customer=customer)
    make.subscription(newer, customer=customer)
    session.commit()
    customer_id, newer_plan_id = customer.id, newer.subscription_plan_id

    with counted_statements(app) as statements:
        limit = limit_for(db.session, "team_members", {}, customer_id=customer_id)
        plan = limits_for(db.session, {"team_members": 1}, customer_id=customer_id)

    assert limit == 20
    assert (plan.plan.id, plan.limits) == (newer_plan_id, {"team_members": 20})
    assert len(statements) == 2  # one each: limits_for reads the plan with its features


def test_limits_for_answers_every_feature_asked_as_limit_for_does(session, make):
    customer = make.customer()
    make.feature("lead_alerts")  # a feature of other plans, not of this one
    plan = make.plan(audience="companies", features={"team_members": 5, "schools_listed": False})
    make.subscription(make.price(plan), customer=customer)
    free = {"team_members": 1, "schools_listed": 1, "lead_alerts": 1, "no_such_feature": 1}

    limits = limits_for(session, free, customer_id=customer.id)

    assert limits.plan.id == plan.id
    assert limits.limits == {
        "team_members": 5,
        "schools_listed": 0,
        "lead_alerts": 0,
        "no_such_feature": 0,
    }
    assert limits.limits == {
        code: limit_for(session, code, free, customer_id=customer.id) for code in free
    }


def test_limits_for_without_a_plan_in_force_gives_the_free_defaults(session, make):
    customer = make.customer()
    plan = make.plan(audience="companies", features={"team_members": 5})
    make.subscription(make.price(plan), customer=customer, status="expired")

    limits = limits_for(
        session, {"team_members": 1, "schools_listed": None}, customer_id=customer.id
    )

    assert (limits.plan, limits.limits) == (None, {"team_members": 1, "schools_listed": None})


def test_exactly_one_subscriber_is_named(session, make):
    with pytest.raises(ValueError):
        limit_for(session, "favorites", FREE)


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=1)
def test_favorites_follow_the_parents_plan(client, session, make, parent, auth):
    price = make.price(make.plan(features={"favorites": 2}))
    make.subscription(price, user=parent)
    first, second, third = (make.school() for _ in range(3))
    session.commit()
    auth.login(parent.email)

    def add(school):
        return client.post(
            "/account/favorites",
            data={"kind": "school", "target_id": school.id, "csrf_token": csrf_token(client)},
        )

    assert add(first).status_code == 303
    assert add(second).status_code == 303  # over the free default, within the plan
    assert add(third).status_code == 303  # refused: a flash, and nothing kept
    html = client.get("/account/favorites").get_data(as_text=True)
    assert first.name in html and second.name in html and third.name not in html


# The favorites limit leads to the plans


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=1)
def test_at_the_favorites_limit_the_refusal_links_to_the_plans(
    client, session, make, signed_in, english
):
    first, second = make.school(), make.school()
    session.commit()
    assert post(client, "/account/favorites", kind="school", target_id=first.id).status_code == 303

    htmx = post(client, "/account/favorites", headers=HTMX, kind="school", target_id=second.id)
    plain = post(client, "/account/favorites", kind="school", target_id=second.id, next="/")
    shown_after = page(client, plain.headers["Location"])

    html = htmx.get_data(as_text=True)
    assert htmx.status_code == 422
    assert "You can keep up to 1 favorites." in fragment_text(html)
    assert 'href="/plans"' in html and 'role="alert"' in html
    assert_valid_fragment(html)
    assert plain.status_code == 303 and plain.headers["Location"] == "/"
    flashes = re.search(r'<div class="flashes".*?</div>', shown_after, re.S).group(0)
    assert "You can keep up to 1 favorites." in flashes and 'href="/plans"' in flashes
    assert_valid_html(shown_after, "page with the upgrade message")


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=1)
def test_a_plan_with_a_higher_favorites_limit_lets_the_parent_keep_more(
    client, session, make, signed_in, english
):
    price = make.price(make.plan(features={"favorites": 3}), amount="50.00")
    schools = [make.school() for _ in range(4)]
    session.commit()

    assert pay(client, price).status_code == 303
    added = [
        post(client, "/account/favorites", kind="school", target_id=school.id).status_code
        for school in schools[:3]
    ]
    fourth = post(
        client, "/account/favorites", headers=HTMX, kind="school", target_id=schools[3].id
    )

    assert added == [303, 303, 303]
    assert fourth.status_code == 422
    assert "up to 3 favorites" in fragment_text(fourth.get_data(as_text=True))
