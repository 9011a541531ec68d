"""Card numbers and CVCs never reach the portal's own code, which keeps it out of PCI DSS scope.

Only the sandbox provider's hosted page (portal.sandbox_provider, standing for the provider's
site) takes them; every other view is wrapped here and records any request whose form, query
or JSON holds a card-like number (13 to 19 digits standing alone, spaces or dashes allowed) or
a CVC field, while a parent and a company pay with a good card, a card refused when saved and
a card whose charge fails. Then the database and the log are searched for the numbers.
"""

import functools
import logging
import re

import pytest
from flask import request
from sqlalchemy import text as sql

from portal.extensions import db
from tests.billing.helpers import (
    DECLINED_CARD,
    EXPIRED_AT_GATEWAY,
    GOOD_CARD,
    POOR_CARD,
    pay,
    staff_signed_in,
)

PROVIDER = "sandbox_provider."
# A card number stands alone: no letter or digit right before or after it (so the digits of
# a hex key or a signature are not one).
CARD_LIKE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
CARD_FIELD = re.compile(r"cvc|cvv|csc|card.?number|^number$|^pan$", re.IGNORECASE)
# The refusals first: they create nothing, so the same parent then pays with the good card.
NUMBERS = [DECLINED_CARD, EXPIRED_AT_GATEWAY, POOR_CARD, GOOD_CARD]


def card_data_in(fields) -> list[str]:
    """The names of the fields that hold a card number or are a card field."""
    found = []
    for name, value in fields:
        if CARD_FIELD.search(str(name)) or CARD_LIKE.search(str(value)):
            found.append(str(name))
    return found


def _fields_of_request() -> list[tuple[str, str]]:
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    fields += [(name, "") for name in request.files]
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        fields += [(name, str(value)) for name, value in body.items()]
    elif body is not None:
        fields.append(("json", str(body)))
    return fields


@pytest.fixture
def card_watch(app):
    """Wrap every view: what each request brought, portal's and provider's apart."""
    seen = {"portal": [], "provider": [], "endpoints": set()}

    def watched(endpoint, view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            found = card_data_in(_fields_of_request())
            side = "provider" if endpoint.startswith(PROVIDER) else "portal"
            seen["endpoints"].add(endpoint)
            if found:
                seen[side].append(f"{request.method} {request.path}: {found}")
            return view(*args, **kwargs)

        return wrapper

    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = watched(endpoint, view)
    return seen


def test_the_watch_tells_a_card_number_from_keys_and_signatures():
    assert card_data_in([("x", "4242 4242 4242 4242")]) == ["x"]
    assert card_data_in([("x", "4000-0000-0000-0002")]) == ["x"]
    assert card_data_in([("x", "4242424242424241")]) == ["x"]  # a typo is still a card
    assert card_data_in([("cvc", "")]) == ["cvc"]
    assert card_data_in([("idempotency_key", "a1234567890123456789012345678901")]) == []
    assert card_data_in([("answer", "eyJ0b2tlbiI6IjEyMzQ1Njc4OTAxMjM0NSJ9.ZyX1.abc")]) == []
    assert card_data_in([("phone", "+905321234567")]) == []  # 12 digits: not a card


@pytest.mark.parametrize("number", [GOOD_CARD, DECLINED_CARD, EXPIRED_AT_GATEWAY, POOR_CARD])
def test_a_parents_checkout_never_brings_a_card_number_to_a_portal_view(
    client, session, signed_in, monthly, card_watch, number
):
    response = pay(client, monthly, number=number)

    assert response.status_code in (303, 422)
    assert card_watch["portal"] == []
    # The watch saw the card where it belongs, so it would have seen it anywhere else.
    assert card_watch["provider"] != []
    assert {"billing.checkout", "billing.checkout_return"} <= card_watch["endpoints"]


@pytest.mark.parametrize("number", [GOOD_CARD, DECLINED_CARD, POOR_CARD])
def test_a_companys_checkout_never_brings_a_card_number_to_a_portal_view(
    client, session, make, auth, card_watch, number
):
    price = make.price(make.plan(audience="companies"), amount="1000.00", kdv_included=False)
    staff_signed_in(make, session, auth, "admin")

    response = pay(client, price, number=number, holder_name="Bilge Eğitim A.Ş.")

    assert response.status_code in (303, 422)
    assert card_watch["portal"] == [] and card_watch["provider"] != []
    assert "billing.checkout_return" in card_watch["endpoints"]


def test_a_trial_never_brings_a_card_number_to_a_portal_view(
    client, session, make, signed_in, card_watch
):
    price = make.price(make.plan(), amount="60.00", trial_days=7)
    session.commit()

    assert pay(client, price).status_code == 303
    assert card_watch["portal"] == [] and card_watch["provider"] != []


def test_no_card_number_or_cvc_is_stored_or_logged(
    client, session, make, auth, signed_in, monthly, caplog
):
    caplog.set_level(logging.DEBUG)
    answers = [pay(client, monthly, number=number, cvc="7391").status_code for number in NUMBERS]
    assert answers == [422, 422, 422, 303]
    auth.logout()
    price = make.price(make.plan(audience="companies"), amount="1000.00", kdv_included=False)
    staff_signed_in(make, session, auth, "finance")
    assert pay(client, price, number=GOOD_CARD, cvc="7391").status_code == 303

    digits = [number.replace(" ", "") for number in NUMBERS]
    stored = []
    for table in db.metadata.sorted_tables:
        assert not any(CARD_FIELD.search(column.name) for column in table.columns), table.name
        for row in session.execute(sql(f"SELECT * FROM {table.name}")):  # noqa: S608
            stored += [f"{table.name}: {value}" for value in row if value is not None]
    logged = [record.getMessage() for record in caplog.records]
    for where in (stored, logged):
        assert [line for line in where if any(n in line for n in (*digits, *NUMBERS))] == [], where
    assert not [line for line in logged if "7391" in line or "cvc" in line.lower()]
    # What the portal kept of the two cards that paid: the brand and the last four.
    kept = session.execute(
        sql(
            "SELECT brand, last4 FROM user_payment_cards UNION ALL "
            "SELECT brand, last4 FROM customer_credit_cards"
        )
    ).all()
    assert sorted(tuple(row) for row in kept) == [("visa", "4242"), ("visa", "4242")]
