"""Turkish phone numbers: what people type, checked and stored in one form, +90XXXXXXXXXX.

People write the same number many ways: `0532 123 45 67`, `+90 (532) 123-45-67`,
`0090 212 555 01 01`, `5321234567`. After the country code a Turkish number has ten digits:
mobiles start with 5, landlines with a 2, 3 or 4 area code, and 850 numbers reach a company
anywhere in the country.
"""

import re

from flask_babel import lazy_gettext as _l

COUNTRY_CODE = "90"
NATIONAL_LENGTH = 10
# Spaces, dashes, dots, slashes and brackets only group the digits.
_SEPARATORS = re.compile(r"[\s\-./()]")


def _national_digits(value: str) -> tuple[str | None, str | None]:
    """(the ten national digits, None) or (None, what is wrong)."""
    compact = _SEPARATORS.sub("", value.strip())
    if compact.startswith("+"):
        if not compact.startswith("+" + COUNTRY_CODE):
            return None, _l("Enter a Turkish number (+90); other countries are not accepted.")
        compact = compact[1 + len(COUNTRY_CODE) :]
    elif compact.startswith("00"):
        if not compact.startswith("00" + COUNTRY_CODE):
            return None, _l("Enter a Turkish number (+90); other countries are not accepted.")
        compact = compact[2 + len(COUNTRY_CODE) :]
    elif compact.startswith(COUNTRY_CODE) and len(compact) == len(COUNTRY_CODE) + NATIONAL_LENGTH:
        compact = compact[len(COUNTRY_CODE) :]
    # `isdigit()` also takes "²" and other scripts' digits; only 0-9 make a phone number.
    if not (compact.isascii() and compact.isdigit()):
        return None, _l(
            "A phone number may contain only digits, spaces, dashes, brackets and a leading +."
        )
    if compact.startswith("0"):
        compact = compact[1:]  # the trunk prefix: 0532... is 532...
    if len(compact) != NATIONAL_LENGTH:
        return None, _l(
            "A Turkish phone number has 10 digits after the leading 0, for example 0532 123 45 67."
        )
    if compact[0] not in "2345" and not compact.startswith("850"):
        return None, _l(
            "A Turkish number starts with 5 (mobile) or an area code such as 212 or 312 (landline)."
        )
    return compact, None


def phone_error(value: str) -> str | None:
    """None for a Turkish mobile or landline number, else a message saying what is wrong."""
    return _national_digits(value)[1]


def normalize_phone(value: str) -> str:
    """The stored form, +90 and the ten national digits.

    :raise ValueError: when `value` is not a Turkish number (check phone_error() first).
    """
    digits, error = _national_digits(value)
    if digits is None:
        raise ValueError(str(error))
    return f"+{COUNTRY_CODE}{digits}"
