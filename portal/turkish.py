"""Turkish input as people type it, checked and turned into the one form the portal stores.

- TC Kimlik No (citizen ID, 11 digits) and VKN (tax ID, 10 digits), with their check digits;
  typed with spaces, dashes or dots between groups of digits, stored as the digits alone.
- Phone numbers, stored `+90XXXXXXXXXX`. People write the same number many ways:
  `0532 123 45 67`, `+90 (532) 123-45-67`, `0090 212 555 01 01`, `5321234567`. After the
  country code a Turkish number has ten digits: mobiles start with 5, landlines with a 2, 3 or
  4 area code, and 850 numbers reach a company anywhere in the country.
- Amounts in lira, written the Turkish way: `150.000` (dots group thousands), `150000,50` (a
  comma before the kuruş).

Each kind has `<kind>_error(text)` (None, or a message saying what is wrong) and a function that
returns the stored form and raises ValueError with that message. Plain module, no web code: a
form (portal.forms), a domain module, demo data and tests all use the same rules.
"""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l

TCKN_LENGTH = 11
VKN_LENGTH = 10
COUNTRY_CODE = "90"
NATIONAL_LENGTH = 10

# Spaces (also the non-breaking ones a copy from a PDF brings), dashes and dots only group the
# digits of an identifier; anything else (a letter, a slash) is refused rather than guessed at.
_IDENTIFIER_SEPARATORS = re.compile(r"[\s\-.]")
# A phone number may also wear brackets round its area code and slashes between groups.
_PHONE_SEPARATORS = re.compile(r"[\s\-./()]")

# user_details.budget_* are NUMERIC(12, 2): ten digits before the comma.
_AMOUNT_LIMIT = Decimal("10000000000")
# re.ASCII: \d alone would also take other scripts' digits, which Decimal() then reads.
_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+", re.ASCII)  # 150.000, 1.250.000: dots group
_COMMA_DECIMAL = re.compile(r"(\d{1,3}(\.\d{3})+|\d+),\d{1,2}", re.ASCII)  # 150.000,50
_POINT_DECIMAL = re.compile(r"\d+(\.\d{1,2})?", re.ASCII)  # 150000.50, as a browser sends

# (the stored form, None) or (None, what is wrong)
Checked = tuple[str, None] | tuple[None, str]


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit() also accepts things like "²" or Arabic-Indic digits, which
    # int() would then mangle or reject; only plain 0-9 are valid here.
    return value.isascii() and value.isdigit()


def _stored_or_raise(checked: Checked) -> str:
    stored, error = checked
    if stored is None:
        raise ValueError(error)
    return stored


# --- TC Kimlik No and VKN -----------------------------------------------------------------


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


def _tc_kimlik_no(value: str) -> Checked:
    value = _IDENTIFIER_SEPARATORS.sub("", value)
    # Checked before length so "12345abcde1" reports the real problem; empty
    # input falls through to the length message, which is the real problem there.
    if value and not _is_ascii_digits(value):
        return None, _l("A TC Kimlik No must contain digits only.")
    if len(value) != TCKN_LENGTH:
        return None, _l("A TC Kimlik No must be exactly 11 digits.")
    if value[0] == "0":
        return None, _l("A TC Kimlik No cannot start with 0.")
    expected = _tckn_check_digits(value[:9])
    if value[9] != expected[0]:
        return None, _l("The 10th digit of the TC Kimlik No does not match the checksum.")
    if value[10] != expected[1]:
        return None, _l("The 11th digit of the TC Kimlik No does not match the checksum.")
    return value, None


def _vkn(value: str) -> Checked:
    value = _IDENTIFIER_SEPARATORS.sub("", value)
    # Same ordering as _tc_kimlik_no, for the same reason.
    if value and not _is_ascii_digits(value):
        return None, _l("A VKN must contain digits only.")
    if len(value) != VKN_LENGTH:
        return None, _l("A VKN must be exactly 10 digits.")
    if value[9] != _vkn_check_digit(value[:9]):
        return None, _l("The last digit of the VKN does not match the checksum.")
    return value, None


def tc_kimlik_no_error(value: str) -> str | None:
    """Return None for a valid TC Kimlik No, else a message saying what is wrong."""
    return _tc_kimlik_no(value)[1]


def normalize_tc_kimlik_no(value: str) -> str:
    """The stored form of a TC Kimlik No: its 11 digits, without separators.

    :raise ValueError: with tc_kimlik_no_error()'s message when it is not valid.
    """
    return _stored_or_raise(_tc_kimlik_no(value))


def vkn_error(value: str) -> str | None:
    """Return None for a valid VKN, else a message saying what is wrong."""
    return _vkn(value)[1]


def normalize_vkn(value: str) -> str:
    """The stored form of a VKN: its 10 digits, without separators.

    :raise ValueError: with vkn_error()'s message when it is not valid.
    """
    return _stored_or_raise(_vkn(value))


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


# --- Phone numbers ------------------------------------------------------------------------


def _phone(value: str) -> Checked:
    compact = _PHONE_SEPARATORS.sub("", value.strip())
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
    if not _is_ascii_digits(compact):
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
    return f"+{COUNTRY_CODE}{compact}", None


def phone_error(value: str) -> str | None:
    """None for a Turkish mobile or landline number, else a message saying what is wrong."""
    return _phone(value)[1]


def normalize_phone(value: str) -> str:
    """The stored form, +90 and the ten national digits.

    :raise ValueError: with phone_error()'s message when `value` is not a Turkish number.
    """
    return _stored_or_raise(_phone(value))


# --- Amounts in lira ----------------------------------------------------------------------


def parse_try_amount(text: str | None) -> Decimal | None:
    """An amount in lira as Turkish people write it; None when empty.

    A comma is the decimal separator and dots group thousands (`150.000,50`). Without a comma,
    dots before groups of three digits are thousands (`150.000` is a hundred and fifty
    thousand, never 150), and a point before one or two digits is a decimal point.

    :raise ValueError: with a message saying what is wrong.
    """
    value = (text or "").strip()
    for suffix in ("₺", "TL", "tl"):
        value = value.removesuffix(suffix).strip()
    value = re.sub(r"[\s\u00a0\u202f]", "", value)  # spaces, also non-breaking, group digits
    if not value:
        return None
    if value.startswith("-"):
        raise ValueError(_l("The amount cannot be negative."))
    if _COMMA_DECIMAL.fullmatch(value):
        amount = Decimal(value.replace(".", "").replace(",", "."))
    elif _THOUSANDS.fullmatch(value):
        amount = Decimal(value.replace(".", ""))
    elif _POINT_DECIMAL.fullmatch(value):
        amount = Decimal(value)
    else:
        raise ValueError(_l("Enter an amount in lira, for example 150.000 or 150000,50."))
    if amount >= _AMOUNT_LIMIT:
        raise ValueError(_l("The amount is too large."))
    return amount


def format_amount(amount: Decimal) -> str:
    """An amount as a form shows it again: no thousands dots, a comma before any kuruş."""
    text = f"{amount:.2f}".replace(".", ",")
    return text.removesuffix(",00")


# Türkiye's 81 provinces, in Turkish alphabetical order (ı before i, ç after c, ...): the
# cities an address may name (a company's invoice address chooses from them).
PROVINCES = (
    "Adana", "Adıyaman", "Afyonkarahisar", "Ağrı", "Aksaray", "Amasya", "Ankara", "Antalya",
    "Ardahan", "Artvin", "Aydın", "Balıkesir", "Bartın", "Batman", "Bayburt", "Bilecik",
    "Bingöl", "Bitlis", "Bolu", "Burdur", "Bursa", "Çanakkale", "Çankırı", "Çorum", "Denizli",
    "Diyarbakır", "Düzce", "Edirne", "Elazığ", "Erzincan", "Erzurum", "Eskişehir", "Gaziantep",
    "Giresun", "Gümüşhane", "Hakkari", "Hatay", "Iğdır", "Isparta", "İstanbul", "İzmir",
    "Kahramanmaraş", "Karabük", "Karaman", "Kars", "Kastamonu", "Kayseri", "Kırıkkale",
    "Kırklareli", "Kırşehir", "Kilis", "Kocaeli", "Konya", "Kütahya", "Malatya", "Manisa",
    "Mardin", "Mersin", "Muğla", "Muş", "Nevşehir", "Niğde", "Ordu", "Osmaniye", "Rize",
    "Sakarya", "Samsun", "Siirt", "Sinop", "Sivas", "Şanlıurfa", "Şırnak", "Tekirdağ", "Tokat",
    "Trabzon", "Tunceli", "Uşak", "Van", "Yalova", "Yozgat", "Zonguldak",
)  # fmt: skip


def masked(identifier: str | None, shown: int = 2) -> str:
    """An identifier as a page may show it: every digit hidden but the last `shown`
    ("•••••••••46"), so its owner recognises it and a reader over their shoulder learns
    nothing."""
    if not identifier:
        return ""
    return "•" * max(len(identifier) - shown, 0) + identifier[-shown:]
