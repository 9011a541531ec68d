"""The B2B customer portal: a school company's staff at work."""

from flask import Blueprint

bp = Blueprint("customer", __name__, url_prefix="/customer")

from portal.customer import views  # noqa: E402,F401
