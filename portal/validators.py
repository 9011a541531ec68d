"""Validators for Turkish identifiers: TC Kimlik No (citizen ID) and VKN (tax ID)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

TCKN_LENGTH = 11
VKN_LENGTH = 10


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit() also accepts things like "²" or Arabic-Indic digits, which
    # int() would then mangle or reject; only plain 0-9 are valid here.
    return value.isascii() and value.isdigit()


def normalize_tc_kimlik_no(value: str) -> str:
    """Return the TC Kimlik No with surrounding whitespace removed."""
    return value.strip()


def normalize_vkn(value: str) -> str:
    """Return the VKN with surrounding whitespace removed."""
    return value.strip()


def _tckn_check_digits(first9: str) -> str:
    # Shared by validation and generation so both always follow the same rule.
    d = [int(c) for c in first9]
    # Python's % keeps the result in 0..9 even when the difference is negative,
    # which is what the official algorithm expects.
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = (sum(d) + d10) % 10
    return f"{d10}{d11}"


def _vkn_check_digit(first9: str) -> str:
    # Same reasoning as above: one implementation for validating and generating.
    total = 0
    for i, ch in enumerate(first9, start=1):
        t = (int(ch) + 10 - i) % 10
        # t == 0 contributes 0, but a non-zero t whose product is a multiple
        # of 9 must count as 9, hence the "or 9".
        total += 0 if t == 0 else (t * 2 ** (10 - i)) % 9 or 9
    return str((10 - total % 10) % 10)


def tc_kimlik_no_error(value: str) -> str | None:
    """Return None for a valid TC Kimlik No, else a message saying what is wrong."""
    value = normalize_tc_kimlik_no(value)
    # Checked before length so "12345abcde1" reports the real problem; empty
    # input falls through to the length message, which is the real problem there.
    if value and not _is_ascii_digits(value):
        return _l("A TC Kimlik No must contain digits only.")
    if len(value) != TCKN_LENGTH:
        return _l("A TC Kimlik No must be exactly 11 digits.")
    if value[0] == "0":
        return _l("A TC Kimlik No cannot start with 0.")
    expected = _tckn_check_digits(value[:9])
    if value[9] != expected[0]:
        return _l("The 10th digit of the TC Kimlik No does not match the checksum.")
    if value[10] != expected[1]:
        return _l("The 11th digit of the TC Kimlik No does not match the checksum.")
    return None


def vkn_error(value: str) -> str | None:
    """Return None for a valid VKN, else a message saying what is wrong."""
    value = normalize_vkn(value)
    # Same ordering as tc_kimlik_no_error, for the same reason.
    if value and not _is_ascii_digits(value):
        return _l("A VKN must contain digits only.")
    if len(value) != VKN_LENGTH:
        return _l("A VKN must be exactly 10 digits.")
    if value[9] != _vkn_check_digit(value[:9]):
        return _l("The last digit of the VKN does not match the checksum.")
    return None


def _require_nine_digits(first9: str) -> None:
    # Generators are for tests/demo data; failing loudly beats producing junk.
    if len(first9) != 9 or not _is_ascii_digits(first9):
        raise ValueError("first9 must be exactly 9 ASCII digits")


def make_tc_kimlik_no(first9: str) -> str:
    """Return a valid TC Kimlik No built from 9 leading digits (first not 0)."""
    _require_nine_digits(first9)
    if first9[0] == "0":
        raise ValueError("a TC Kimlik No cannot start with 0")
    return first9 + _tckn_check_digits(first9)


def make_vkn(first9: str) -> str:
    """Return a valid VKN built from 9 leading digits."""
    _require_nine_digits(first9)
    return first9 + _vkn_check_digit(first9)


class _IdentifierValidator:
    # Base for the WTForms validators; subclasses set ``error_func``.
    error_func: Callable[[str], str | None]

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        data = field.data
        # Empty input is left to Optional/DataRequired so the validators compose.
        if data is None or not str(data).strip():
            return
        error = type(self).error_func(str(data))
        if error is not None:
            raise ValidationError(self.message if self.message is not None else error)


class TcKimlikNo(_IdentifierValidator):
    """WTForms validator that rejects invalid TC Kimlik Nos."""

    error_func = staticmethod(tc_kimlik_no_error)


class Vkn(_IdentifierValidator):
    """WTForms validator that rejects invalid VKNs."""

    error_func = staticmethod(vkn_error)
