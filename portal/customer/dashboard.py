"""What the staff member's home shows besides their schools: the company's plan and its
limits in use ("team members 4 / 5", "listed schools 1 / 1"), in two statements whatever the
company's size.

Plain module: the caller passes the session and the time.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from portal.billing.limits import limits_for
from portal.customer import school_pages, team
from portal.models import School, SubscriptionPlan
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

    plan: SubscriptionPlan | None
    team_members: LimitInUse
    schools_listed: LimitInUse


@cache
def _counts_statement() -> Select:
    """Members, pending invitations and listed schools of the company `customer_id` at `now`,
    built once: every staff member's home asks (decisions.md, "Statements built once")."""
    customer_id = bindparam("customer_id")
    listed = select(func.count(School.id)).where(
        School.customer_id == customer_id, School.is_public
    )
    return select(
        *team.places_taken(customer_id, bindparam("now", type_=UTCDateTime())),
        listed.scalar_subquery().label("listed"),
    )


def plan_in_use(session: Session, customer_id: int, now: datetime) -> PlanInUse:
    """The plan and its limits in use. A team's places are its active members and the
    invitations that may still be accepted, as the team page counts them
    (portal.customer.team); listed schools are the company's public ones
    (portal.customer.school_pages)."""
    counts = session.execute(_counts_statement(), {"customer_id": customer_id, "now": now}).one()
    plan = limits_for(
        session,
        {
            team.TEAM_MEMBERS: team.FREE_LIMITS[team.TEAM_MEMBERS],
            school_pages.SCHOOLS_LISTED: school_pages.FREE_LIMITS[school_pages.SCHOOLS_LISTED],
        },
        customer_id=customer_id,
    )
    return PlanInUse(
        plan=plan.plan,
        team_members=LimitInUse(counts.members + counts.pending, plan.limits[team.TEAM_MEMBERS]),
        schools_listed=LimitInUse(counts.listed, plan.limits[school_pages.SCHOOLS_LISTED]),
    )
