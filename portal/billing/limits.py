"""The one answer to "what is this subscriber's limit for feature X".

From the plan of the live subscription (trial or active) of the parent, or of the company
the staff member works for; without one, the free default. None means unlimited, 0 means
the feature is not included. Limits are enforced where the feature is used (favorites now;
team size and schools listed later), never only displayed.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from portal.billing.subscriptions import Subscriber
from portal.clock import istanbul_today
from portal.models import PlanFeature, SubscriptionPlan, SubscriptionPlanFeature, UserSubscription
from portal.models.billing import SubscriptionStatus

LIVE_STATUSES = (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE)


def _newest_in_force(query: Select, user_id: int | None, customer_id: int | None) -> Select:
    """`query` (which reads user_subscriptions) narrowed to the subscriber's subscription whose
    plan is in force: trial or active, or paused within the period already paid for (the
    newest, should there ever be two)."""
    owner = Subscriber(user_id=user_id, customer_id=customer_id).owner_clause(UserSubscription)
    in_force = or_(
        UserSubscription.status.in_(LIVE_STATUSES),
        and_(
            UserSubscription.status == SubscriptionStatus.PAUSED,
            UserSubscription.end_date > istanbul_today(),
        ),
    )
    return query.where(owner, in_force).order_by(UserSubscription.id.desc()).limit(1)


def limit_for(
    session: Session,
    feature_code: str,
    free_limits: Mapping[str, int | None],
    *,
    user_id: int | None = None,
    customer_id: int | None = None,
) -> int | None:
    """The limit for `feature_code` of a parent (user_id) or a company (customer_id).

    One statement, as pages that enforce a limit ask on every request: the live
    subscription with its plan's row for the feature outer-joined (no row: not included).
    """
    feature_id = select(PlanFeature.id).where(PlanFeature.code == feature_code)
    subscription_with_feature = select(
        UserSubscription.id, SubscriptionPlanFeature.included, SubscriptionPlanFeature.limit_value
    ).outerjoin(
        SubscriptionPlanFeature,
        and_(
            SubscriptionPlanFeature.subscription_plan_id == UserSubscription.subscription_plan_id,
            SubscriptionPlanFeature.plan_feature_id == feature_id.scalar_subquery(),
        ),
    )
    row = session.execute(_newest_in_force(subscription_with_feature, user_id, customer_id)).first()
    if row is None:
        return free_limits.get(feature_code, 0)
    if not row.included:
        return 0
    return row.limit_value


@dataclass(frozen=True)
class PlanLimits:
    """The plan in force (None: the free defaults) and the limit of each feature asked."""

    plan: SubscriptionPlan | None
    limits: dict[str, int | None]


def limits_for(
    session: Session,
    free_limits: Mapping[str, int | None],
    *,
    user_id: int | None = None,
    customer_id: int | None = None,
) -> PlanLimits:
    """limit_for() of every feature code in `free_limits` at once, with the plan: a page that
    shows several limits ("team members 4 / 5", "listed schools 1 / 1") pays two statements
    rather than one per limit."""
    # The plan in force, read through its subscription in the same statement.
    plan = session.scalar(
        _newest_in_force(
            select(SubscriptionPlan).join(
                UserSubscription, UserSubscription.subscription_plan_id == SubscriptionPlan.id
            ),
            user_id,
            customer_id,
        )
    )
    if plan is None:
        return PlanLimits(None, dict(free_limits))
    rows = session.execute(
        select(
            PlanFeature.code, SubscriptionPlanFeature.included, SubscriptionPlanFeature.limit_value
        )
        .join(PlanFeature, PlanFeature.id == SubscriptionPlanFeature.plan_feature_id)
        .where(
            SubscriptionPlanFeature.subscription_plan_id == plan.id,
            PlanFeature.code.in_(list(free_limits)),
        )
    ).all()
    limits = {code: (limit if included else 0) for code, included, limit in rows}
    return PlanLimits(plan, {code: limits.get(code, 0) for code in free_limits})
