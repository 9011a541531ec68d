"""The plans page."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import htmx
from portal.access import ANONYMOUS, CUSTOMER_USER, allow, audience_of_user
from portal.billing import bp, catalogue
from portal.extensions import db

# What one payment on each billing cycle covers (the cycles' names are i18n.BILLING_CYCLE_NAMES).
CYCLE_PERIODS = {
    "daily": _l("per day"),
    "weekly": _l("per week"),
    "monthly": _l("per month"),
    "quarterly": _l("per 3 months"),
    "semi_annual": _l("per 6 months"),
    "yearly": _l("per year"),
    "lifetime": _l("one payment"),
}


@bp.route("/plans")
@allow(ANONYMOUS)
def plans():
    """Plans for parents or for school companies, priced on one billing cycle.

    `audience` and `cycle` come from the query string; anything unknown falls back to the
    default (school staff see company plans first), so a bad link never fails.
    """
    audience = request.args.get("audience", "")
    if audience not in catalogue.AUDIENCES:
        audience = _default_audience()
    table = catalogue.plans_table(db.session, audience, request.args.get("cycle"))
    return htmx.render(
        "billing/plans.html",
        "plan_cards",
        table=table,
        cycle_periods=CYCLE_PERIODS,
    )


def _default_audience() -> str:
    if audience_of_user(current_user) == CUSTOMER_USER:
        return catalogue.COMPANIES
    return catalogue.PARENTS
