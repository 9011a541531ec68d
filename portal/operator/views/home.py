"""The operators' home: customers with their latest scores, and a user search by name."""

from flask import request
from sqlalchemy import func, select

from portal import htmx
from portal.access import OPERATOR, allow
from portal.database import users_named
from portal.extensions import db
from portal.models import Customer, CustomerScore
from portal.operator import bp


@bp.route("/")
@allow(OPERATOR)
def index():
    """Customers and their latest scores; `q` searches users by name (full-text)."""
    q = request.args.get("q", "").strip()[:100]
    users = users_named(db.session, q) if q else []
    return htmx.render(
        "operator/index.html",
        "user_results",
        customers=_customers_with_latest_score(),
        q=q,
        users=users,
    )


def _customers_with_latest_score() -> list[tuple[Customer, CustomerScore | None]]:
    latest = (
        select(CustomerScore.customer_id, func.max(CustomerScore.scored_on).label("scored_on"))
        .group_by(CustomerScore.customer_id)
        .subquery()
    )
    query = (
        select(Customer, CustomerScore)
        .outerjoin(latest, latest.c.customer_id == Customer.id)
        .outerjoin(
            CustomerScore,
            (CustomerScore.customer_id == Customer.id)
            & (CustomerScore.scored_on == latest.c.scored_on),
        )
        .order_by(Customer.name)
    )
    return [tuple(row) for row in db.session.execute(query)]
