"""Turkish by default, English on request; money and times the way Turkish users read them."""

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, has_request_context, session
from flask_babel import format_currency, format_date, format_datetime, get_locale
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


def money(amount: Decimal | None) -> str:
    """`1.234,56 ₺` in Turkish (the locale's own pattern in English)."""
    if amount is None:
        return ""
    # CLDR puts ₺ first for Turkish, but invoices and price lists here write it last; the
    # sign is written out, as English CLDR would print "TRY".
    return format_currency(amount, "TRY", format="#,##0.00\u00a0₺")


def local_datetime(value: datetime | None) -> str:
    """A UTC timestamp shown in Istanbul time, with its offset so it is never ambiguous."""
    if value is None:
        return ""
    return format_datetime(value.astimezone(ISTANBUL), "dd.MM.yyyy HH:mm xxx")


def business_date(value: date | None) -> str:
    """A business date (already an Istanbul date), as `1 Aralık 2026` / `December 1, 2026`."""
    if value is None:
        return ""
    return format_date(value, "long")


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


def register_filters(app: Flask) -> None:
    """Expose the formatters and display names to templates."""
    app.add_template_filter(money, "money")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(business_date, "business_date")
    app.add_template_filter(short_user_agent, "short_user_agent")
    app.add_template_global(lambda: str(get_locale()), "current_locale")
    app.add_template_global(LEVEL_NAMES, "level_names")
    app.add_template_global(BILLING_CYCLE_NAMES, "billing_cycle_names")
    app.add_template_global(SUBSCRIPTION_STATUS_NAMES, "subscription_status_names")
