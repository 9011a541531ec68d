"""The plans page."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from portal import htmx
from portal.access import ANONYMOUS, CUSTOMER_USER, PARENT, allow, audience_of_user
from portal.billing import bp, catalogue
from portal.billing.periods import BILLING_CYCLES
from portal.billing.views.common import billing_managers, current_subscriber
from portal.caching import keeps_lookups, short_lived
from portal.extensions import db
from portal.models.billing import BillingCycle

# What one payment on each billing cycle covers (the cycles' names are i18n.BILLING_CYCLE_NAMES).
CYCLE_PERIODS = {
    BillingCycle.DAILY: _l("per day"),
    BillingCycle.WEEKLY: _l("per week"),
    BillingCycle.MONTHLY: _l("per month"),
    BillingCycle.QUARTERLY: _l("per 3 months"),
    BillingCycle.SEMI_ANNUAL: _l("per 6 months"),
    BillingCycle.YEARLY: _l("per year"),
    BillingCycle.LIFETIME: _l("one payment"),
}


@bp.route("/plans")
@allow(ANONYMOUS)
def plans():
    """Plans for parents or for school companies, priced on one billing cycle.

    `audience` and `cycle` come from the query string; anything unknown falls back to the
    default (school staff see company plans first), so a bad link never fails. Staff who may
    not buy for their company get no "Choose" links, but the names of those who may.
    """
    audience = request.args.get("audience", "")
    if audience not in catalogue.AUDIENCES:
        audience = _default_audience()
    table = _plans_table(audience, request.args.get("cycle"))
    may_choose, managers = _who_may_choose(audience)
    return htmx.render(
        "billing/plans.html",
        "plan_cards",
        table=table,
        cycle_periods=CYCLE_PERIODS,
        may_choose=may_choose,
        billing_managers=managers,
    )


def _plans_table(audience: str, cycle: str | None) -> catalogue.PlansTable:
    """The plans table, kept SEARCH_CACHE_SECONDS (portal/caching.py): the same for every
    reader of an audience and cycle, and three statements on every view and every switch of
    the cycle. An operator's new plan or price shows within that time; checkout reads the
    price chosen afresh (an archived one is refused there), so what is charged is never old.

    Kept, it is read in a session of its own that is closed before it is kept: its plans,
    prices and features are then detached with every column the page shows loaded (their
    categories come joined), and no request's session expires or lazy-loads them later.
    """
    if cycle not in BILLING_CYCLES:
        cycle = None  # any other string is the default cycle, and one key

    def read_apart() -> catalogue.PlansTable:
        with Session(db.engine, expire_on_commit=False) as own:
            return catalogue.plans_table(own, audience, cycle)

    if not keeps_lookups():  # development and tests: the request's own session, afresh
        return catalogue.plans_table(db.session, audience, cycle)
    return short_lived("plans-table", (audience, cycle), read_apart)


def _who_may_choose(audience: str) -> tuple[bool, list]:
    """Whether the reader gets "Choose" links for `audience`'s plans, and, for staff who may
    not buy for their company, whom to ask.

    A visitor may choose anything (signing in comes first); a parent only parents' plans;
    staff only company plans, and only with Permission.MANAGE_BILLING; an operator nothing.
    """
    reader = audience_of_user(current_user)
    if reader is None:
        return True, []
    if reader == PARENT:
        return audience == catalogue.PARENTS, []
    if reader == CUSTOMER_USER and audience == catalogue.COMPANIES:
        access = current_subscriber()
        return access.may_manage, billing_managers(access)
    return False, []


def _default_audience() -> str:
    if audience_of_user(current_user) == CUSTOMER_USER:
        return catalogue.COMPANIES
    return catalogue.PARENTS
