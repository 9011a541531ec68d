"""Turkish by default, English on request; money and times the way Turkish users read them."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol
from flask import Flask, current_app, g, has_request_context, session
from flask_babel import format_date, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.clock import ISTANBUL
from portal.user_agents import short_user_agent


def select_locale() -> str:
    """The language the visitor chose (session, then account), else Turkish."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a CLI command or a job: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def in_reader_language(turkish: str | None, english: str | None) -> str | None:
    """`english` for a reader in English, else `turkish`; `turkish` too when there is no English.

    For names and texts stored in both languages (plans, features, KVKK texts): the Turkish
    column is the original and never empty, the English one its translation. Outside a request
    (a job, a command) the default language, Turkish.
    """
    locale = get_locale()
    if english and locale is not None and locale.language == "en":
        return english
    return turkish


def _request_locale():
    """get_locale(), read from where Flask-Babel keeps its answer for the request (the one
    force_locale() sets too) when it is there: get_locale() walks `g` three times to find it."""
    try:
        locale = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # not settled yet, or no app context
        locale = None
    return locale if locale is not None else get_locale()


def locale_name() -> str:
    """The visitor's language as text ("tr", "en"), as str(get_locale()) gives it, cheaper.

    A page asks for it with every amount, date, kept fragment and stamp. Flask-Babel's
    get_locale() walks `g` three times before it finds the answer it keeps there, and str() of
    a Babel Locale costs ~6 µs; this reads the kept answer once (the one force_locale() sets
    too), and a locale without a territory, script or variant is named by its language.
    """
    locale = _request_locale()
    if locale is None:  # outside a request: the default
        return str(current_app.config["BABEL_DEFAULT_LOCALE"]) if current_app else "tr"
    if locale.territory or locale.script or locale.variant or locale.modifier:
        return str(locale)
    return locale.language


def money(amount: Decimal | None) -> str:
    """`1.234,56 ₺` in Turkish, `1,234.56 ₺` in English: the locale's separators, two places.

    CLDR puts ₺ first for Turkish, but invoices and price lists here write it last; the sign
    is written out, as English CLDR would print "TRY". The same as Babel's
    format_currency(amount, "TRY", format="#,##0.00\u00a0₺") (a test holds them equal), at a
    tenth of its cost: a list prints two amounts per card.
    """
    if amount is None:
        return ""
    group, decimal, minus = _number_symbols(locale_name())
    rounded = Decimal(amount).quantize(_CENTS, rounding=ROUND_HALF_EVEN)
    digits = f"{abs(rounded):,.2f}".translate({ord(","): group, ord("."): decimal})
    sign = minus if rounded < 0 else ""
    return f"{sign}{digits}\u00a0₺"


_CENTS = Decimal("0.01")


@lru_cache(maxsize=8)
def _number_symbols(locale: str) -> tuple[str, str, str]:
    """The locale's group and decimal separators and minus sign (CLDR, through Babel)."""
    return (
        get_group_symbol(locale),
        get_decimal_symbol(locale),
        get_minus_sign_symbol(locale),
    )


def local_datetime(value: datetime | None) -> str:
    """A UTC timestamp shown in Istanbul time, with its offset so it is never ambiguous:
    `01.12.2026 09:30 +03:00` in every language.

    The pattern is all digits, so it is written here rather than through Babel's pattern
    engine, which cost ~35 µs a call on a table of payments (a test holds the two equal).
    """
    if value is None:
        return ""
    local = value.astimezone(ISTANBUL)
    offset = int(local.utcoffset().total_seconds())
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{local:%d.%m.%Y %H:%M} {sign}{hours:02d}:{minutes:02d}"


def business_date(value: date | None) -> str:
    """A business date (already an Istanbul date), as `1 Aralık 2026` / `December 1, 2026`."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # a timestamp: Flask-Babel moves it to the user's zone
        return format_date(value, "long")
    return _long_date(value, locale_name())


@lru_cache(maxsize=2048)
def _long_date(value: date, locale: str) -> str:
    # The pages show a few hundred distinct dates (recent days, terms' ends); Babel's pattern
    # engine costs ~30 us a call, paid per row of a 30-day activity table.
    return babel_format_date(value, "long", locale=locale)


# Display names of codes kept in the database, in the visitor's language.
LEVEL_NAMES = {
    "preschool": _l("Preschool"),
    "primary": _l("Primary school"),
    "middle": _l("Middle school"),
    "high": _l("High school"),
}
BILLING_CYCLE_NAMES = {
    "daily": _l("Daily"),
    "weekly": _l("Weekly"),
    "monthly": _l("Monthly"),
    "quarterly": _l("Quarterly"),
    "semi_annual": _l("Every 6 months"),
    "yearly": _l("Yearly"),
    "lifetime": _l("Lifetime"),
}
SUBSCRIPTION_STATUS_NAMES = {
    "trial": _l("Free trial"),
    "active": _l("Active"),
    "paused": _l("Paused"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
}


def _translations():
    # Flask-Babel settles the locale once per request, so its catalogue is settled with it:
    # looked up once here, not on each of the hundred-odd messages of a page (~5 µs each).
    # Kept with the locale it is for, so a force_locale() block still gets its own language.
    locale = _request_locale()
    cached = g.get("_portal_translations")
    if cached is None or cached[0] is not locale:
        cached = g._portal_translations = (locale, get_translations())
    return cached[1]


# (id of a names mapping, language) -> (the mapping, its names as plain text). Holding the
# mapping keeps its id from being reused by another object.
_NAMES_IN_LANGUAGE: dict[tuple[int, str], tuple[Mapping, dict[str, str]]] = {}


def in_language(names: Mapping[str, object]) -> dict[str, str]:
    """A module's display names (codes to lazily translated names, as LEVEL_NAMES) as plain
    text in the visitor's language, translated once per process and language.

    A lazy name is translated again wherever it is used, and escaping one in a template asks
    Flask-Babel for the locale and the catalogue each time (~30 calls): a list of twenty rows
    with a status each paid that per row. For module-level mappings only (each one is kept).
    """
    locale = locale_name()
    kept = _NAMES_IN_LANGUAGE.get((id(names), locale))
    if kept is None or kept[0] is not names:
        kept = (names, {code: str(name) for code, name in names.items()})
        _NAMES_IN_LANGUAGE[(id(names), locale)] = kept
    return kept[1]


def register_filters(app: Flask) -> None:
    """Expose the formatters and display names to templates, and give Jinja's `_()` and
    `ngettext()` the catalogue looked up once a request (in place of Flask-Babel's own)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.add_template_filter(money, "money")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(business_date, "business_date")
    app.add_template_filter(short_user_agent, "short_user_agent")
    app.add_template_global(locale_name, "current_locale")
    app.add_template_global(LEVEL_NAMES, "level_names")
    app.add_template_global(BILLING_CYCLE_NAMES, "billing_cycle_names")
    app.add_template_global(SUBSCRIPTION_STATUS_NAMES, "subscription_status_names")
