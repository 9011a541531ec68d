"""The staff member's home in the customer portal."""

from flask import request
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.access.grants import granted_schools_page
from portal.customer import bp
from portal.extensions import db
from portal.paging import page_number


@bp.route("/")
@allow(CUSTOMER_USER)
def index():
    """The staff member's home: their company, role and the schools they may work on.

    The schools come a page at a time (`?page=N`; a number past the end shows the last page,
    anything else the first); htmx asks for the list alone when paging.
    """
    customer_user = current_user.customer_user
    return htmx.render(
        "customer/index.html",
        "granted_schools",
        customer_user=customer_user,
        customer=customer_user.customer,
        grants=granted_schools_page(
            db.session, customer_user, page_number(request.args.get("page", 1))
        ),
    )
