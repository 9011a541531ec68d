"""A school's own page."""

from flask import abort

from portal import htmx
from portal.access import ANONYMOUS, allow
from portal.extensions import db
from portal.schools import bp, catalogue
from portal.schools.views.catalogue import favorite_keys_of_page


@bp.route("/schools/<slug>")
@allow(ANONYMOUS)
def detail(slug: str):
    """A school's page with its campuses.

    :raise 404: when there is no published school with that slug.
    """
    school = catalogue.published_school(db.session, slug)
    if school is None:
        abort(404)
    keys = favorite_keys_of_page(schools=[school.id], campuses=[c.id for c in school.campuses])
    return htmx.render("schools/detail.html", "content", school=school, favorite_keys=keys)
