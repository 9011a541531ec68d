"""The sandbox provider's hosted payment page: it opens only for a checkout the portal signed,
takes the card, and sends back a sealed answer with the token, brand, last four and expiry,
never the number or the CVC."""

import base64
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.billing.gateway import HostedCheckout, InvalidCheckout, SandboxGateway
from tests.billing.helpers import (
    DECLINED_CARD,
    GOOD_CARD,
    TL,
    card_fields,
    text,
)
from tests.helpers import csrf_token
from tests.test_html import assert_valid_html

CHECKOUT = HostedCheckout(
    reference="user-1:price-1:" + "0" * 32,
    description="Aile Plus",
    amount=Decimal("120.00"),
    currency="TRY",
    return_url="/plans/1/checkout/return",
    cancel_url="/plans/1/checkout",
)


def hosted_url(app, checkout=CHECKOUT, secret=None) -> str:
    with app.test_request_context():
        return SandboxGateway(secret or app.secret_key).hosted_page_url(checkout)


def answer_of(app, location: str):
    """The outcome the portal reads from the address the hosted page sent the buyer to."""
    parts = urlsplit(location)
    (answer,) = parse_qs(parts.query)["answer"]
    return parts.path, SandboxGateway(app.secret_key).checkout_outcome(answer)


def test_the_hosted_page_shows_the_order_and_the_card_form_to_anyone(client, app):
    response = client.get(hosted_url(app))

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Aile Plus" in text(html) and f"120,00{TL}" in text(html)
    for name in ("holder_name", "number", "exp_month", "exp_year", "cvc"):
        assert f'name="{name}"' in html, name
    assert 'href="/plans/1/checkout"' in html  # cancel: back to the shop
    assert "<script" not in html  # the provider's page runs no script
    assert_valid_html(html, "hosted payment page")


def test_a_good_card_goes_back_with_its_token_and_never_its_number(client, app):
    url = hosted_url(app)

    response = client.post(url, data=card_fields(client, holder_name="Bilge Eğitim A.Ş."))

    assert response.status_code == 303
    location = response.headers["Location"]
    assert GOOD_CARD.replace(" ", "") not in location and "918" not in location.split("answer")[0]
    path, outcome = answer_of(app, location)
    assert path == CHECKOUT.return_url
    assert outcome.reference == CHECKOUT.reference and outcome.failure_code is None
    card = outcome.card
    assert card.token.startswith("sbx_ok_")
    assert (card.brand, card.last4, card.exp_month) == ("visa", "4242", 12)
    assert card.holder_name == "Bilge Eğitim A.Ş."


def test_the_answer_in_the_return_address_reads_as_nothing_but_noise(client, app):
    # The buyer's address bar, browser history and the portal's access log all see it.
    response = client.post(
        hosted_url(app), data=card_fields(client, holder_name="Bilge Eğitim A.Ş.")
    )

    (answer,) = parse_qs(urlsplit(response.headers["Location"]).query)["answer"]
    readable = answer + base64.urlsafe_b64decode(answer + "==").decode("latin-1")
    for secret in ("4242", "visa", "Bilge", "sbx_", "token", CHECKOUT.reference):
        assert secret not in readable, secret


def test_an_answer_sealed_under_another_secret_is_refused(client, app):
    response = client.post(hosted_url(app), data=card_fields(client))
    (answer,) = parse_qs(urlsplit(response.headers["Location"]).query)["answer"]

    with pytest.raises(InvalidCheckout):
        SandboxGateway("another merchant's secret").checkout_outcome(answer)


def test_a_declined_card_goes_back_with_only_the_reason(client, app):
    response = client.post(hosted_url(app), data=card_fields(client, number=DECLINED_CARD))

    _path, outcome = answer_of(app, response.headers["Location"])
    assert outcome.card is None and outcome.failure_code == "card_declined"


@pytest.mark.parametrize("query", ["", "?checkout=", "?checkout=garbage", "?checkout=a.b.c"])
def test_a_missing_or_unreadable_checkout_is_refused(client, query):
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})

    response = client.get(f"/sandbox-pay/checkout{query}")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'name="number"' not in html
    assert "Nothing was charged" in text(html)


def test_a_checkout_signed_by_someone_else_or_altered_is_refused(client, app):
    forged = hosted_url(app, secret="not-the-portal-secret")
    genuine = hosted_url(app)
    signed = genuine.split("checkout=")[1]
    payload, rest = signed.split(".", 1)
    tail = "AA" if payload[-2:] != "AA" else "BB"
    altered = f"/sandbox-pay/checkout?checkout={payload[:-2]}{tail}.{rest}"

    for url in (forged, altered):
        assert client.get(url).status_code == 400, url
        assert client.post(url, data=card_fields(client)).status_code == 400, url


def test_an_expired_checkout_is_refused(client, app, monkeypatch):
    url = hosted_url(app)
    monkeypatch.setattr("portal.billing.gateway.CHECKOUT_MAX_AGE", timedelta(seconds=-1))

    assert client.get(url).status_code == 400
