"""The school catalogue: the public list and each school's page."""

from flask import Blueprint

bp = Blueprint("schools", __name__)

from portal.schools import views  # noqa: E402,F401
