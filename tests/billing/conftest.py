"""Fixtures of the billing page tests: an English-speaking visitor, a parents' monthly price,
and a parent who paid for it."""

import pytest

from tests.billing.helpers import named_plan, pay, subscriptions_of
from tests.helpers import csrf_token


@pytest.fixture
def english(client):
    """The visitor switched the site to English (the choice survives signing in)."""
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})


@pytest.fixture
def monthly(make, session):
    """A parents' plan at 120,00 ₺ a month, KDV included (100,00 ₺ + 20,00 ₺ KDV)."""
    price = make.price(named_plan(make, "Aile Plus"), amount="120.00", kdv_included=True)
    session.commit()
    return price


@pytest.fixture
def subscribed(client, session, signed_in, monthly):
    """The signed-in parent paid for `monthly` through checkout today."""
    response = pay(client, monthly)
    assert response.status_code == 303, response.get_data(as_text=True)
    (subscription,) = subscriptions_of(session, signed_in)
    return subscription
