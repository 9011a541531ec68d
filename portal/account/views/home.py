"""The parent's home page."""

from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp, favorites
from portal.extensions import db


@bp.route("/")
@allow(PARENT)
def index():
    """The parent's own page."""
    return htmx.render(
        "account/index.html",
        "content",
        details=current_user.details,
        favorites=favorites.favorites_of(db.session, current_user.id),
    )
