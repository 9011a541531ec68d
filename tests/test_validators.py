"""Tests for portal.validators (TC Kimlik No and VKN)."""

import pytest
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField
from wtforms.validators import Optional, ValidationError

from portal.validators import (
    TcKimlikNo,
    Vkn,
    make_tc_kimlik_no,
    make_vkn,
    normalize_tc_kimlik_no,
    normalize_vkn,
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
        ("10000 000146", TCKN_DIGITS_MSG),
        ("-1000000146", TCKN_DIGITS_MSG),
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
        ("12345 67890", VKN_DIGITS_MSG),
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


class _IdForm(Form):
    tckn = StringField(validators=[Optional(), TcKimlikNo()])
    vkn = StringField(validators=[Optional(), Vkn()])


class _Field:
    # Minimal stand-in: the validators only look at field.data.
    def __init__(self, data):
        self.data = data


@pytest.mark.parametrize(
    ("validator", "value", "expected"),
    [
        (TcKimlikNo(), "10000000147", TCKN_D11_MSG),
        (TcKimlikNo(), "0100000014", TCKN_LENGTH_MSG),
        (Vkn(), "1234567891", VKN_CHECK_MSG),
        (Vkn(), "12345abcde", VKN_DIGITS_MSG),
    ],
)
def test_wtforms_validator_raises_with_specific_message(app_ctx, validator, value, expected):
    with pytest.raises(ValidationError) as exc_info:
        validator(None, _Field(value))
    assert str(exc_info.value.args[0]) == expected


@pytest.mark.parametrize("validator", [TcKimlikNo(), Vkn()])
def test_wtforms_validator_custom_message_overrides_default(validator):
    validator.message = "custom"
    with pytest.raises(ValidationError, match="^custom$"):
        validator(None, _Field("999"))


@pytest.mark.parametrize("validator", [TcKimlikNo(), Vkn()])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_wtforms_validator_ignores_empty_input(validator, empty):
    validator(None, _Field(empty))  # must not raise


@pytest.mark.parametrize("validator", [TcKimlikNo(), Vkn()])
def test_wtforms_validator_accepts_valid_input(validator):
    value = "10000000146" if isinstance(validator, TcKimlikNo) else "1234567890"
    validator(None, _Field(value))  # must not raise


def test_form_collects_messages_for_invalid_fields(app_ctx):
    # formdata (not data=) because Optional() only looks at the submitted raw data.
    form = _IdForm(MultiDict({"tckn": "01000000146", "vkn": "1234567891"}))
    assert not form.validate()
    assert [str(m) for m in form.tckn.errors] == [TCKN_ZERO_MSG]
    assert [str(m) for m in form.vkn.errors] == [VKN_CHECK_MSG]


def test_form_accepts_valid_and_blank_fields(app_ctx):
    assert _IdForm(MultiDict({"tckn": " 10000000146 ", "vkn": ""})).validate()
    assert _IdForm(MultiDict({"tckn": "", "vkn": "1234567890"})).validate()
