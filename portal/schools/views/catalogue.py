"""The home page: the school search."""

from flask import request
from flask_login import current_user

from portal import htmx
from portal.access import ANONYMOUS, PARENT, allow, audience_of_user
from portal.account.favorites import favorite_keys
from portal.extensions import db
from portal.paging import page_number
from portal.schools import bp, catalogue


@bp.route("/")
@allow(ANONYMOUS)
def index():
    """The school list, a page at a time; the city filter is a GET form that htmx applies in
    place, and the pager's links are plain links that htmx turns into swaps of the list.

    An unknown city shows every city; a page past the end shows the last, junk the first.
    """
    city = request.args.get("city", "").strip()
    all_cities = catalogue.cities(db.session)
    if city not in all_cities:
        city = ""
    page = catalogue.published_schools(
        db.session, city or None, page_number(request.args.get("page"))
    )
    return htmx.render(
        "schools/index.html",
        "school_list",
        page=page,
        cities=all_cities,
        city=city,
        favorite_keys=favorite_keys_of_page(schools=[listed.school.id for listed in page.items]),
    )


def favorite_keys_of_page(schools=(), campuses=()) -> set[tuple[str, int]]:
    """Which of the page's schools and campuses the signed-in parent keeps, to mark the
    toggles: one query for the whole page, whatever the parent keeps elsewhere."""
    if audience_of_user(current_user) != PARENT:
        return set()
    return favorite_keys(db.session, current_user.id, schools, campuses)
