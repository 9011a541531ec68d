"""The customers as the back office lists them: a page of them with each one's latest scores."""

from dataclasses import replace
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Customer, CustomerScore
from portal.paging import PER_PAGE, Page, paginate


class CustomerLine(NamedTuple):
    """One row of the list: the customer and its latest scores (all None when never scored)."""

    id: int
    name: str
    city: str | None
    demand: int | None
    communication: int | None
    responsiveness: int | None
    payment: int | None
    total: int | None


def customers_with_latest_score(session: Session, number: int, per_page: int = PER_PAGE) -> Page:
    """Page `number` of the customers by name, each with its latest scores, as `CustomerLine`s.

    One statement (the page with the count), each customer's latest score in the same one as
    the customer; only the columns the list shows are read.
    """
    # Correlated, so only the page's customers have their latest day looked up (through the
    # unique (customer_id, scored_on) index), not every customer's scores grouped each time.
    latest_day = (
        select(func.max(CustomerScore.scored_on))
        .where(CustomerScore.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    query = (
        select(
            Customer.id,
            Customer.name,
            Customer.city,
            CustomerScore.demand,
            CustomerScore.communication,
            CustomerScore.responsiveness,
            CustomerScore.payment,
            CustomerScore.total,
        )
        .outerjoin(
            CustomerScore,
            (CustomerScore.customer_id == Customer.id) & (CustomerScore.scored_on == latest_day),
        )
        .order_by(Customer.name, Customer.id)
    )
    # The join adds at most one row of columns per customer: count the customers alone.
    total = select(func.count(Customer.id))
    page = paginate(session, query, number, per_page, scalars=False, total=total)
    return replace(page, items=[CustomerLine(*row) for row in page.items])
