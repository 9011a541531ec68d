"""The parent's home page."""

from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp, favorites
from portal.clock import istanbul_today
from portal.extensions import db
from portal.schools.fees import school_year_of

# The home page shows the newest few favorites; the favorites page has them all, paged.
LATEST_FAVORITES = 5


@bp.route("/")
@allow(PARENT)
def index():
    """The parent's own page: their details and their latest favorites with how many in all."""
    return htmx.render(
        "account/index.html",
        "content",
        details=current_user.details,
        favorites=favorites.favorites_page(
            db.session,
            current_user.id,
            school_year_of(istanbul_today()),
            per_page=LATEST_FAVORITES,
        ),
    )
