"""The one answer to "what is this subscriber's limit for feature X".

From the plan of the live subscription (trial or active) of the parent, or of the company
the staff member works for; without one, the free default. None means unlimited, 0 means
the feature is not included. Limits are enforced where the feature is used (favorites now;
team size and schools listed later), never only displayed.

Pages ask for limits on every request, so the statements are built once (`functools.cache`,
with bound parameters) rather than on each call: building one cost about as much as running
it (decisions.md, "Statements built once").
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from sqlalchemy import Date, Label, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from portal.billing.subscribers import Subscriber
from portal.clock import istanbul_today
from portal.i18n import in_reader_language
from portal.models import PlanFeature, SubscriptionPlan, SubscriptionPlanFeature, UserSubscription
from portal.models.billing import SubscriptionStatus

LIVE_STATUSES = (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE)


def _newest_in_force(query: Select, owner: str) -> Select:
    """`query` (which reads user_subscriptions) narrowed to the subscriber's subscription whose
    plan is in force: trial or active, or paused within the period already paid for (the
    newest, should there ever be two). Parameters: `owner_id` (a user or customer id, as
    `owner` says) and `today`, the Istanbul business date."""
    owner_column = UserSubscription.user_id if owner == "user" else UserSubscription.customer_id
    in_force = or_(
        UserSubscription.status.in_(LIVE_STATUSES),
        and_(
            UserSubscription.status == SubscriptionStatus.PAUSED,
            UserSubscription.end_date > bindparam("today", type_=Date),
        ),
    )
    return (
        query.where(owner_column == bindparam("owner_id"), in_force)
        .order_by(UserSubscription.id.desc())
        .limit(1)
    )


def _owner(user_id: int | None, customer_id: int | None) -> tuple[str, int]:
    """Which of the statement's owner columns to read, and its value."""
    subscriber = Subscriber(user_id=user_id, customer_id=customer_id)  # exactly one of them
    if subscriber.user_id is not None:
        return "user", subscriber.user_id
    return "customer", subscriber.customer_id


@cache
def _limit_statement(owner: str) -> Select:
    """The live subscription with its plan's row for the feature `feature_code` outer-joined
    (no row: not included)."""
    feature_id = select(PlanFeature.id).where(PlanFeature.code == bindparam("feature_code"))
    return _newest_in_force(
        select(
            UserSubscription.id.label("subscription_id"),
            SubscriptionPlanFeature.included,
            SubscriptionPlanFeature.limit_value,
        ).outerjoin(
            SubscriptionPlanFeature,
            and_(
                SubscriptionPlanFeature.subscription_plan_id
                == UserSubscription.subscription_plan_id,
                SubscriptionPlanFeature.plan_feature_id == feature_id.scalar_subquery(),
            ),
        ),
        owner,
    )


def limit_for(
    session: Session,
    feature_code: str,
    free_limits: Mapping[str, int | None],
    *,
    user_id: int | None = None,
    customer_id: int | None = None,
) -> int | None:
    """The limit for `feature_code` of a parent (user_id) or a company (customer_id).

    One statement, as pages that enforce a limit ask on every request.
    """
    owner, owner_id = _owner(user_id, customer_id)
    row = session.execute(
        _limit_statement(owner),
        {"owner_id": owner_id, "today": istanbul_today(), "feature_code": feature_code},
    ).first()
    return limit_of(row, feature_code, free_limits)


def limit_columns(owner: str) -> tuple[Label, Label, Label]:
    """limit_for()'s question as three columns for another statement that asks more beside
    it (`subscription_id`, `included`, `limit_value`; read them with limit_of()). Bound
    parameters: `owner_id` (a user id for owner "user", a customer id for "customer"),
    `today` (istanbul_today()) and `feature_code`."""
    row = _limit_statement(owner).subquery("in_force")
    return tuple(  # type: ignore[return-value]
        select(column).scalar_subquery().label(name)
        for name, column in (
            ("subscription_id", row.c.subscription_id),
            ("included", row.c.included),
            ("limit_value", row.c.limit_value),
        )
    )


def limit_of(row, feature_code: str, free_limits: Mapping[str, int | None]) -> int | None:
    """The limit a row of limit_for()'s statement or of limit_columns() gives: no row (or no
    subscription) is the free default, a plan without the feature 0."""
    if row is None or row.subscription_id is None:
        return free_limits.get(feature_code, 0)
    if not row.included:
        return 0
    return row.limit_value


class PlanName(NamedTuple):
    """A plan as a page names it: its id and its names in both languages."""

    id: int
    name: str
    name_en: str

    @property
    def display_name(self) -> str:
        """The name in the reader's language, as SubscriptionPlan.display_name."""
        return in_reader_language(self.name, self.name_en)


@dataclass(frozen=True)
class PlanLimits:
    """The plan in force (None: the free defaults) and the limit of each feature asked."""

    plan: PlanName | None
    limits: dict[str, int | None]


@cache
def plan_limit_columns(owner: str, feature_codes: tuple[str, ...]) -> tuple[Label, ...]:
    """limits_for()'s question as one row's columns, for a statement that asks more beside it
    (the staff home's counts): `plan_id`, `plan_name`, `plan_name_en`, then `included_<n>`
    and `limit_<n>` for the n-th of `feature_codes`; read them with plan_limits_of(). Bound
    parameters: `owner_id` and `today`, as limit_columns(). Each column is an uncorrelated
    subquery (one index lookup for the plan in force, one for a feature's row)."""
    plan_id = _newest_in_force(
        select(UserSubscription.subscription_plan_id), owner
    ).scalar_subquery()

    def of_plan(column):
        return select(column).where(SubscriptionPlan.id == plan_id).scalar_subquery()

    def of_feature(column, code):
        return (
            select(column)
            .join(PlanFeature, PlanFeature.id == SubscriptionPlanFeature.plan_feature_id)
            .where(
                SubscriptionPlanFeature.subscription_plan_id == plan_id, PlanFeature.code == code
            )
            .scalar_subquery()
        )

    columns = [
        of_plan(SubscriptionPlan.id).label("plan_id"),
        of_plan(SubscriptionPlan.name).label("plan_name"),
        of_plan(SubscriptionPlan.name_en).label("plan_name_en"),
    ]
    for n, code in enumerate(feature_codes):
        columns.append(of_feature(SubscriptionPlanFeature.included, code).label(f"included_{n}"))
        columns.append(of_feature(SubscriptionPlanFeature.limit_value, code).label(f"limit_{n}"))
    return tuple(columns)


def plan_limits_of(row, free_limits: Mapping[str, int | None]) -> PlanLimits:
    """The PlanLimits a row of plan_limit_columns(owner, tuple(free_limits)) gives: no plan
    in force, the free defaults; a plan without a feature's row, 0 (not included)."""
    if row.plan_id is None:
        return PlanLimits(None, dict(free_limits))
    values = row._mapping
    limits = {
        code: values[f"limit_{n}"] if values[f"included_{n}"] else 0
        for n, code in enumerate(free_limits)
    }
    return PlanLimits(PlanName(row.plan_id, row.plan_name, row.plan_name_en), limits)


@cache
def _limits_statement(owner: str, feature_codes: tuple[str, ...]) -> Select:
    return select(*plan_limit_columns(owner, feature_codes))


def limits_for(
    session: Session,
    free_limits: Mapping[str, int | None],
    *,
    user_id: int | None = None,
    customer_id: int | None = None,
) -> PlanLimits:
    """limit_for() of every feature code in `free_limits` at once, with the plan: a page that
    shows several limits ("team members 4 / 5", "listed schools 1 / 1") pays one statement
    rather than one per limit (and none of its own beside plan_limit_columns())."""
    owner, owner_id = _owner(user_id, customer_id)
    row = session.execute(
        _limits_statement(owner, tuple(free_limits)),
        {"owner_id": owner_id, "today": istanbul_today()},
    ).one()
    return plan_limits_of(row, free_limits)
