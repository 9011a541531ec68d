"""The operators' back office."""

from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/operator")

from portal.operator import views  # noqa: E402,F401
