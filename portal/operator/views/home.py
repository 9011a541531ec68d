"""The operators' home: customers with their latest scores, and a user search by name."""

from flask import request

from portal import htmx
from portal.access import OPERATOR, allow
from portal.database import users_named
from portal.extensions import db
from portal.operator import bp
from portal.operator.customers import customers_with_latest_score
from portal.paging import page_number

# How many users a search shows at most.
USER_RESULTS = 50

# The customers list's element id: its pager swaps it, and htmx names it in HX-Target.
CUSTOMERS_ID = "customers"


@bp.route("/")
@allow(OPERATOR)
def index():
    """Customers a page at a time (`?page=N`) with their latest scores; `q` searches users
    by name (full-text, the first 50).

    htmx gets the customers list alone when it targets that list (its pager), the search
    results otherwise; only what is rendered is queried.
    """
    q = request.args.get("q", "").strip()[:100]
    customers_only = htmx.wants_fragment() and request.headers.get("HX-Target", "").endswith(
        "#" + CUSTOMERS_ID
    )
    users_only = htmx.wants_fragment() and not customers_only
    response = htmx.render(
        "operator/index.html",
        "customers" if customers_only else "user_results",
        customers=None
        if users_only
        else customers_with_latest_score(db.session, page_number(request.args.get("page", 1))),
        q=q,
        users=users_named(db.session, q, limit=USER_RESULTS) if q and not customers_only else [],
        user_limit=USER_RESULTS,
    )
    # Which block answers depends on the target too, so no cache may mix the two.
    response.vary.add("HX-Target")
    return response
