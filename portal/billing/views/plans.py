"""The plans page."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import htmx
from portal.access import ANONYMOUS, CUSTOMER_USER, PARENT, allow, audience_of_user
from portal.billing import bp, catalogue
from portal.billing.views.common import billing_managers, current_subscriber
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
    table = catalogue.plans_table(db.session, audience, request.args.get("cycle"))
    may_choose, managers = _who_may_choose(audience)
    return htmx.render(
        "billing/plans.html",
        "plan_cards",
        table=table,
        cycle_periods=CYCLE_PERIODS,
        may_choose=may_choose,
        billing_managers=managers,
    )


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
