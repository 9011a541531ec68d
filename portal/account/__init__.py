"""The parent's area (D2C account)."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from portal.account import (  # noqa: E402,F401
    activity,
    contacts,
    deletion,
    email_change,
    privacy,
    profile,
    views,
)
