"""The home page (the school list, filterable by city) and a school's page."""

from flask import abort, request

from portal import htmx
from portal.access import ANONYMOUS, allow
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
        "schools/index.html", "school_list", schools=schools, cities=all_cities, city=city
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
    return htmx.render("schools/detail.html", "content", school=school)
