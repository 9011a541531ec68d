"""The staff member's home in the customer portal."""

from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.access.grants import granted_schools
from portal.customer import bp
from portal.extensions import db


@bp.route("/")
@allow(CUSTOMER_USER)
def index():
    """The staff member's home: their company, role and the schools they may work on."""
    customer_user = current_user.customer_user
    return htmx.render(
        "customer/index.html",
        "content",
        customer_user=customer_user,
        customer=customer_user.customer,
        grants=granted_schools(db.session, customer_user),
    )
