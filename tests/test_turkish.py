"""Tests for portal.turkish: TC Kimlik No, VKN, phone numbers and amounts as people type them."""

from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import Babel

from portal.turkish import (
    format_amount,
    make_tc_kimlik_no,
    make_vkn,
    normalize_phone,
    normalize_tc_kimlik_no,
    normalize_vkn,
    parse_try_amount,
    phone_error,
    tc_kimlik_no_error,
    vkn_error,
)

TCKN_LENGTH_MSG = "A TC Kimlik No must be exactly 11 digits."
TCKN_DIGITS_MSG = "A TC Kimlik No must contain digits only."
TCKN_ZERO_MSG = "A TC Kimlik No cannot start with 0."
TCKN_D10_MSG = "The 10th digit of the TC Kimlik No does not match the checksum."
TCKN_D11_MSG = "The 11th digit of the TC Kimlik No does not match the checksum."
VKN_LENGTH_MSG = "A VKN must be exactly 10 digits."
VKN_DIGITS_MSG = "A VKN must contain digits only."
VKN_CHECK_MSG = "The last digit of the VKN does not match the checksum."


@pytest.fixture
def app_ctx():
    # Lazy strings need an app with flask_babel to be rendered with str().
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield app


def _replace(value: str, index: int, digit: str) -> str:
    return value[:index] + digit + value[index + 1 :]


# Literals were checked by hand against the official rules, so they catch a
# bug shared by the validator and the make_* helpers.
@pytest.mark.parametrize(
    "value",
    [
        "10000000146",  # widely cited test number
        "12345678950",  # widely cited test number
        "19090909018",  # (7 - 36) % 10 == 1: needs Python's wrapping modulo
    ],
)
def test_known_valid_tc_kimlik_no_is_accepted(value):
    assert tc_kimlik_no_error(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "1234567890",  # every t is 0, so the check digit is 0
        "0000000001",  # first digit gives t=9 -> p=0 -> must count as 9
    ],
)
def test_known_valid_vkn_is_accepted(value):
    assert vkn_error(value) is None


@pytest.mark.parametrize("first9", ["100000001", "123456789", "987654321", "555555555"])
def test_generated_tc_kimlik_no_is_accepted(first9):
    value = make_tc_kimlik_no(first9)
    assert value.startswith(first9) and len(value) == 11
    assert tc_kimlik_no_error(value) is None


@pytest.mark.parametrize("first9", ["000000000", "123456789", "987654321", "999999999"])
def test_generated_vkn_is_accepted(first9):
    value = make_vkn(first9)
    assert value.startswith(first9) and len(value) == 10
    assert vkn_error(value) is None


def test_make_tc_kimlik_no_appends_known_check_digits():
    assert make_tc_kimlik_no("100000001") == "10000000146"
    assert make_tc_kimlik_no("190909090") == "19090909018"


def test_make_vkn_appends_known_check_digit():
    assert make_vkn("123456789") == "1234567890"
    assert make_vkn("000000000") == "0000000001"


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12a456789", "012345678"])
def test_make_tc_kimlik_no_rejects_unusable_prefix(bad):
    with pytest.raises(ValueError):
        make_tc_kimlik_no(bad)


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12a456789"])
def test_make_vkn_rejects_unusable_prefix(bad):
    with pytest.raises(ValueError):
        make_vkn(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", TCKN_LENGTH_MSG),
        ("1000000014", TCKN_LENGTH_MSG),
        ("100000001460", TCKN_LENGTH_MSG),
        ("1000000014a", TCKN_DIGITS_MSG),
        ("10000_000146", TCKN_DIGITS_MSG),
        ("+1000000146", TCKN_DIGITS_MSG),
        ("10000/000146", TCKN_DIGITS_MSG),
        ("1000000014²", TCKN_DIGITS_MSG),
        ("01000000146", TCKN_ZERO_MSG),
        ("10000000156", TCKN_D10_MSG),
        ("10000000147", TCKN_D11_MSG),
    ],
)
def test_invalid_tc_kimlik_no_reports_specific_problem(app_ctx, value, expected):
    assert str(tc_kimlik_no_error(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", VKN_LENGTH_MSG),
        ("123456789", VKN_LENGTH_MSG),
        ("12345678901", VKN_LENGTH_MSG),
        ("123456789O", VKN_DIGITS_MSG),
        ("12345_67890", VKN_DIGITS_MSG),
        ("12345/67890", VKN_DIGITS_MSG),
        ("12345 6789", VKN_LENGTH_MSG),
        ("1234567891", VKN_CHECK_MSG),
        ("0000000000", VKN_CHECK_MSG),  # what you get if p=0 is not turned into 9
    ],
)
def test_invalid_vkn_reports_specific_problem(app_ctx, value, expected):
    assert str(vkn_error(value)) == expected


@pytest.mark.parametrize("valid", ["10000000146", "12345678950", "19090909018"])
def test_every_wrong_tenth_digit_is_rejected(app_ctx, valid):
    for digit in "0123456789":
        if digit != valid[9]:
            assert str(tc_kimlik_no_error(_replace(valid, 9, digit))) == TCKN_D10_MSG


@pytest.mark.parametrize("valid", ["10000000146", "12345678950", "19090909018"])
def test_every_wrong_eleventh_digit_is_rejected(app_ctx, valid):
    for digit in "0123456789":
        if digit != valid[10]:
            assert str(tc_kimlik_no_error(_replace(valid, 10, digit))) == TCKN_D11_MSG


@pytest.mark.parametrize("valid", ["1234567890", "0000000001", "9876543217"])
def test_every_wrong_vkn_check_digit_is_rejected(app_ctx, valid):
    for digit in "0123456789":
        if digit != valid[9]:
            assert str(vkn_error(_replace(valid, 9, digit))) == VKN_CHECK_MSG


@pytest.mark.parametrize("padded", [" 10000000146", "10000000146 ", "\t10000000146\n"])
def test_tc_kimlik_no_surrounding_whitespace_is_stripped(padded):
    assert tc_kimlik_no_error(padded) is None
    assert normalize_tc_kimlik_no(padded) == "10000000146"


@pytest.mark.parametrize("padded", [" 1234567890", "1234567890 ", "\t1234567890\n"])
def test_vkn_surrounding_whitespace_is_stripped(padded):
    assert vkn_error(padded) is None
    assert normalize_vkn(padded) == "1234567890"


@pytest.mark.parametrize(
    "typed",
    [
        "100 000 001 46",
        "1000-0000-146",
        "100.000.001.46",
        "100\u00a0000\u00a000146",
        " 10000000146",
    ],
)
def test_tc_kimlik_no_grouped_by_spaces_dashes_or_dots_is_stored_as_digits(typed):
    assert tc_kimlik_no_error(typed) is None
    assert normalize_tc_kimlik_no(typed) == "10000000146"


@pytest.mark.parametrize(
    "typed", ["123 456 7890", "123-456-7890", "123.456.78.90", "123\u202f456\u202f7890"]
)
def test_vkn_grouped_by_spaces_dashes_or_dots_is_stored_as_digits(typed):
    assert vkn_error(typed) is None
    assert normalize_vkn(typed) == "1234567890"


@pytest.mark.parametrize(
    ("normalize", "typed", "expected"),
    [
        (normalize_tc_kimlik_no, "100 000 001 47", TCKN_D11_MSG),
        (normalize_tc_kimlik_no, "1000000014x", TCKN_DIGITS_MSG),
        (normalize_vkn, "123 456 7891", VKN_CHECK_MSG),
        (normalize_vkn, "", VKN_LENGTH_MSG),
    ],
)
def test_normalizing_an_invalid_identifier_raises_the_same_message(
    app_ctx, normalize, typed, expected
):
    with pytest.raises(ValueError) as raised:
        normalize(typed)
    assert str(raised.value) == expected


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("150000", Decimal("150000")),
        ("150.000", Decimal("150000")),
        ("1.250.000", Decimal("1250000")),
        ("150.000,5", Decimal("150000.5")),
        ("150000,50", Decimal("150000.50")),
        ("150000.50", Decimal("150000.50")),
        (" 150 000 ₺ ", Decimal("150000")),
        ("75.000 TL", Decimal("75000")),
        ("0", Decimal("0")),
        ("", None),
    ],
)
def test_amounts_are_read_as_turkish_people_write_them(typed, amount):
    assert parse_try_amount(typed) == amount


@pytest.mark.parametrize("typed", ["-1", "1,2,3", "1.2345", "150.00.0", "abc", "1e5", "١٠٠"])
def test_text_that_is_not_an_amount_is_refused(typed):
    with pytest.raises(ValueError):
        parse_try_amount(typed)


def test_an_amount_is_shown_again_in_a_form_that_reads_back_the_same():
    for amount in (Decimal("150000.00"), Decimal("150000.50"), Decimal("0.05")):
        assert parse_try_amount(format_amount(amount)) == amount


@pytest.mark.parametrize(
    ("typed", "stored_as"),
    [
        ("0532 123 45 67", "+905321234567"),
        ("5321234567", "+905321234567"),
        ("+90 532 123 45 67", "+905321234567"),
        ("0090 532 123 45 67", "+905321234567"),
        ("90 532 123 45 67", "+905321234567"),
        ("(0212) 555 01 01", "+902125550101"),
        ("0312-555-01-01", "+903125550101"),
        ("0850 222 00 00", "+908502220000"),
    ],
)
def test_turkish_numbers_are_stored_in_one_form(typed, stored_as):
    assert phone_error(typed) is None
    assert normalize_phone(typed) == stored_as


@pytest.mark.parametrize(
    "typed", ["0532 123 45", "+1 212 555 0101", "0123 456 78 90", "0532/123/45/6x", "٠٥٣٢١٢٣٤٥٦٧"]
)
def test_other_numbers_are_refused_with_a_reason(typed):
    assert phone_error(typed) is not None
    with pytest.raises(ValueError):
        normalize_phone(typed)


def test_masked_hides_every_digit_but_the_last_two():
    from portal.turkish import masked

    assert masked("28461937546") == "•" * 9 + "46"
    assert masked("12") == "12" and masked(None) == "" and masked("") == ""


def test_the_provinces_are_turkiyes_81_in_turkish_alphabetical_order():
    from portal.schools.search import _city_order
    from portal.turkish import PROVINCES

    assert len(set(PROVINCES)) == 81
    assert list(PROVINCES) == sorted(PROVINCES, key=_city_order)
    assert PROVINCES.index("Iğdır") < PROVINCES.index("İstanbul") < PROVINCES.index("Kahramanmaraş")
