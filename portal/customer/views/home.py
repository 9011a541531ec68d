"""The staff member's home in the customer portal."""

from flask import request
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.access.grants import granted_schools_page
from portal.agreements.company import waiting_for
from portal.clock import utcnow
from portal.customer import bp, dashboard
from portal.extensions import db
from portal.paging import page_number


@bp.route("/")
@allow(CUSTOMER_USER)
def index():
    """The staff member's home: their company and role, the schools and campuses they may work
    on (with links to their requests, their public page and, for editors, their edit page),
    their open and unassigned requests, and the company's plan with its limits in use.

    The schools come a page at a time (`?page=N`; a number past the end shows the last page,
    anything else the first); htmx asks for the list alone when paging, which reads nothing
    else.
    """
    customer_user = current_user.customer_user
    context = {
        "customer_user": customer_user,
        "customer": customer_user.customer,
        "grants": granted_schools_page(
            db.session, customer_user, page_number(request.args.get("page", 1))
        ),
    }
    if not htmx.wants_fragment():
        home = dashboard.for_member(db.session, customer_user, utcnow())
        context["lead_counts"], context["plan"] = home.lead_counts, home.plan
        # Agreements awaiting this member's signature (issue 13): one statement, none for a
        # member who may not sign.
        context["awaiting_signature"] = waiting_for(db.session, customer_user)
    return htmx.render("customer/index.html", "granted_schools", **context)
