"""What the staff member's home shows besides their schools: the company's plan and its
limits in use ("team members 4 / 5", "listed schools 1 / 1"), and the open leads the member
may work on, in one statement whatever the company's size.

Plain module: the caller passes the session and the time.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from portal.access.permissions import Permission, can
from portal.billing.limits import PlanName, plan_limit_columns, plan_limits_of
from portal.clock import istanbul_today
from portal.customer import school_pages, team
from portal.leads import inbox
from portal.models import CustomerUser
from portal.models.base import UTCDateTime


@dataclass(frozen=True)
class LimitInUse:
    """How much of one of the plan's limits the company uses."""

    used: int
    limit: int | None  # None: the plan sets no limit

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit


@dataclass(frozen=True)
class PlanInUse:
    """The company's plan in force (None: the free defaults) and its limits in use."""

    plan: PlanName | None
    team_members: LimitInUse
    schools_listed: LimitInUse


@dataclass(frozen=True)
class Dashboard:
    """What the staff member's home shows besides their schools: the plan in use, and the
    open leads they may work on (None for a member who may not answer leads)."""

    plan: PlanInUse
    lead_counts: inbox.LeadCounts | None


# The limits the home shows, with the free defaults: the order of plan_limit_columns().
FREE_LIMITS = {
    team.TEAM_MEMBERS: team.FREE_LIMITS[team.TEAM_MEMBERS],
    school_pages.SCHOOLS_LISTED: school_pages.FREE_LIMITS[school_pages.SCHOOLS_LISTED],
}


@cache
def _counts_statement(with_leads: bool) -> Select:
    """Members, pending invitations and listed schools of the company `customer_id` at `now`,
    the plan in force and its limits (limits.plan_limit_columns), and with `with_leads` the
    open leads member `customer_user_id` may work on; built once: every staff member's home
    asks (decisions.md, "Statements built once")."""
    customer_id = bindparam("customer_id")
    counts = select(
        *team.places_taken(customer_id, bindparam("now", type_=UTCDateTime())),
        school_pages.listed_count(customer_id).scalar_subquery().label("listed"),
        *plan_limit_columns("customer", tuple(FREE_LIMITS)),
    )
    if not with_leads:
        return counts
    # The lead counts as a one-row derived table: the statement stays one row.
    leads = inbox.open_counts_subquery()
    return counts.add_columns(leads.c.open, leads.c.unassigned).select_from(leads)


def for_member(session: Session, customer_user: CustomerUser, now: datetime) -> Dashboard:
    """The plan and its limits in use, and the member's open leads, in one statement.

    A team's places are its active members and the invitations that may still be accepted,
    as the team page counts them (portal.customer.team); listed schools are the company's
    public ones (portal.customer.school_pages); the open leads those the member's grants
    cover (portal.leads.inbox).
    """
    with_leads = can(customer_user, Permission.ANSWER_LEADS) and customer_user.is_active
    counts = session.execute(
        _counts_statement(with_leads),
        {
            "customer_id": customer_user.customer_id,
            "customer_user_id": customer_user.id,
            "now": now,
            # The plan's parameters (limits.plan_limit_columns): the company's plan today.
            "owner_id": customer_user.customer_id,
            "today": istanbul_today(now),
        },
    ).one()
    plan = plan_limits_of(counts, FREE_LIMITS)
    in_use = PlanInUse(
        plan=plan.plan,
        team_members=LimitInUse(counts.members + counts.pending, plan.limits[team.TEAM_MEMBERS]),
        schools_listed=LimitInUse(counts.listed, plan.limits[school_pages.SCHOOLS_LISTED]),
    )
    if with_leads:
        return Dashboard(
            in_use, inbox.LeadCounts(open=int(counts.open), unassigned=int(counts.unassigned))
        )
    return Dashboard(in_use, None)
