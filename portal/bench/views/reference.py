"""/_bench/hello and /_bench/reference: what every measured page is compared with.

`hello` is the floor of the stack (routing, the before- and after-request hooks, the
security headers) with no template and no query. `reference` is the smallest real page:
one ORM query of 20 schools rendered in the base layout, so it pays everything a page of
the portal pays (the session and its user, CSRF, translations, the layout) once.
"""

from flask import Response, render_template
from sqlalchemy import select

from portal.access import ANONYMOUS, allow
from portal.bench import bp
from portal.extensions import db
from portal.models import School

REFERENCE_SCHOOLS = 20


@bp.route("/hello")
@allow(ANONYMOUS)
def hello() -> Response:
    """The bare answer: plain text, nothing rendered, nothing queried."""
    return Response("hello", mimetype="text/plain")


@bp.route("/reference")
@allow(ANONYMOUS)
def reference() -> str:
    """The reference page: one query of 20 schools, listed by name in the base layout."""
    schools = db.session.scalars(select(School).order_by(School.name).limit(REFERENCE_SCHOOLS))
    return render_template("bench/reference.html", schools=list(schools))
