"""The sandbox gateway: its documented test cards, idempotent charges, tokens that carry no card
number, and the Luhn check."""

from datetime import date
from decimal import Decimal

import pytest

from portal.billing.gateway import (
    SANDBOX_CARDS,
    CardDetails,
    CardRefused,
    SandboxGateway,
    gateway_named,
    luhn_valid,
)

TODAY = date(2026, 11, 10)
AMOUNT = Decimal("49.90")


def card(number, exp_month=12, exp_year=2030, cvc="123"):
    return CardDetails(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)


def saved_token(number):
    return SandboxGateway().save_card(card(number), TODAY).token


@pytest.mark.parametrize(
    ("number", "failure_code"),
    [
        ("4000 0000 0000 0002", "card_declined"),
        ("4000 0000 0000 0069", "expired_card"),
        # A real-looking number (valid check digit) is not a test card: the sandbox refuses it.
        ("4111 1111 1111 1111", "card_declined"),
    ],
)
def test_cards_the_sandbox_refuses_to_save_name_the_documented_code(number, failure_code):
    with pytest.raises(CardRefused) as refused:
        SandboxGateway().save_card(card(number), TODAY)

    assert refused.value.failure_code == failure_code


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242 4242 4242 4242", "visa"),
        ("5555555555554444", "mastercard"),
        ("4000 0000 0000 9995", "visa"),
        ("4000 0000 0000 0341", "visa"),
        ("4000 0000 0000 0119", "visa"),
    ],
)
def test_cards_the_sandbox_saves_keep_brand_last4_and_expiry(number, brand):
    saved = SandboxGateway().save_card(card(number, exp_month=3, exp_year=2029), TODAY)

    assert saved.gateway == "sandbox"
    assert saved.brand == brand
    assert saved.last4 == number[-4:]
    assert (saved.exp_month, saved.exp_year) == (3, 2029)


@pytest.mark.parametrize(
    ("number", "succeeded", "failure_code"),
    [
        ("4242424242424242", True, None),
        ("5555555555554444", True, None),
        ("4000000000009995", False, "insufficient_funds"),
        ("4000000000000341", False, "card_declined"),
        ("4000000000000119", False, "processing_error"),
    ],
)
def test_each_saved_test_card_charges_as_documented(number, succeeded, failure_code):
    token = saved_token(number)

    result = SandboxGateway().charge(token, AMOUNT, "TRY", "key-1")

    assert result.succeeded is succeeded
    assert result.failure_code == failure_code
    assert result.reference.startswith("sbx_ch_")


def test_a_charge_answers_the_same_on_every_try_of_a_failing_card():
    token = saved_token("4000000000009995")

    answers = {
        SandboxGateway().charge(token, AMOUNT, "TRY", f"key-{n}").succeeded for n in range(5)
    }

    assert answers == {False}


def test_a_card_expired_last_month_is_refused_and_one_expiring_this_month_is_saved():
    gateway = SandboxGateway()

    with pytest.raises(CardRefused) as refused:
        gateway.save_card(card("4242424242424242", exp_month=10, exp_year=2026), TODAY)
    assert refused.value.failure_code == "expired_card"
    with pytest.raises(CardRefused):
        gateway.save_card(card("4242424242424242", exp_month=12, exp_year=2025), TODAY)

    saved = gateway.save_card(card("4242424242424242", exp_month=11, exp_year=2026), TODAY)
    assert saved.exp_month == 11


def test_the_same_idempotency_key_gives_the_same_reference_and_another_key_another():
    token = saved_token("4242424242424242")
    gateway = SandboxGateway()

    first = gateway.charge(token, AMOUNT, "TRY", "checkout-42")
    again = SandboxGateway().charge(token, AMOUNT, "TRY", "checkout-42")
    other = gateway.charge(token, AMOUNT, "TRY", "checkout-43")

    assert first == again
    assert other.reference != first.reference


SAVABLE = [number for number, (_, refused_with, _) in SANDBOX_CARDS.items() if not refused_with]


@pytest.mark.parametrize("number", SAVABLE)
def test_a_token_never_contains_the_card_number(number):
    first, second = saved_token(number), saved_token(number)

    assert number not in first
    assert number[:6] not in first  # not even the issuer prefix
    assert first != second  # random, so not derived from the number either


def test_card_details_repr_and_str_do_not_show_the_number_or_cvc():
    details = CardDetails("4242424242424242", 12, 2030, "918", "Elif Şahin")

    for shown in (repr(details), str(details), f"{details!r}", f"{[details]}"):
        assert "4242424242424242" not in shown
        assert "cvc" not in shown and "'918'" not in shown


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-1.00"), 49.9, 50])
def test_a_charge_needs_a_positive_decimal_amount(amount):
    token = saved_token("4242424242424242")

    with pytest.raises(ValueError):
        SandboxGateway().charge(token, amount, "TRY", "key-1")


def test_a_token_from_elsewhere_is_declined():
    result = SandboxGateway().charge("tok_from_another_gateway", AMOUNT, "TRY", "key-1")

    assert result.succeeded is False
    assert result.failure_code == "card_declined"


def test_gateway_named_knows_the_sandbox_and_refuses_an_unknown_name():
    assert isinstance(gateway_named("sandbox"), SandboxGateway)
    with pytest.raises(ValueError, match="iyzico"):
        gateway_named("iyzico")


@pytest.mark.parametrize("number", list(SANDBOX_CARDS))
def test_every_documented_test_card_passes_the_luhn_check(number):
    assert luhn_valid(number)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("4242424242424241", False),  # last digit mistyped
        ("4242424242424224", False),  # two digits swapped
        ("424242424242", True),  # 12 digits, the shortest accepted
        ("79927398713", False),  # a right check sum, but 11 digits: too short
        ("4000000000000000006", True),  # 19 digits, the longest accepted
        ("4000000000000000004", False),  # 19 digits, wrong check digit
        ("0" * 20, False),  # a right check sum, but 20 digits: too long
        ("4242 4242 4242 4242", False),  # the caller strips spaces first
        ("4242-4242-4242-4242", False),
        ("", False),
        ("424242424242424x", False),
    ],
)
def test_luhn_valid_checks_the_digit_and_the_length(number, valid):
    assert luhn_valid(number) is valid
