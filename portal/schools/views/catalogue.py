"""The home page (the school list, filterable by city) and a school's page."""

from flask import abort, request
from flask_login import current_user

from portal import htmx
from portal.access import ANONYMOUS, PARENT, allow, audience_of_user
from portal.account.favorites import favorite_keys
from portal.extensions import db
from portal.schools import bp, catalogue


@bp.route("/")
@allow(ANONYMOUS)
def index():
    """The school list; the city filter is a GET form that htmx applies in place."""
    city = request.args.get("city", "").strip()
    all_cities = catalogue.cities(db.session)
    if city not in all_cities:
        city = ""
    schools = catalogue.published_schools(db.session, city or None)
    return htmx.render(
        "schools/index.html",
        "school_list",
        schools=schools,
        cities=all_cities,
        city=city,
        favorite_keys=_favorite_keys(),
    )


@bp.route("/schools/<slug>")
@allow(ANONYMOUS)
def detail(slug: str):
    """A school's page with its campuses.

    :raise 404: when there is no published school with that slug.
    """
    school = catalogue.published_school(db.session, slug)
    if school is None:
        abort(404)
    return htmx.render(
        "schools/detail.html", "content", school=school, favorite_keys=_favorite_keys()
    )


def _favorite_keys() -> set[tuple[str, int]]:
    """What the signed-in parent keeps, to mark the toggles: one query for the whole page."""
    if audience_of_user(current_user) != PARENT:
        return set()
    return favorite_keys(db.session, current_user.id)
