"""The plans on offer to one audience: prices for a billing cycle and the feature comparison.

Read by the public plans page; a plain module, so a test or a command can ask the same
question. Only active plans and active prices are shown: an archived price still belongs to
the subscribers who bought it, but it is never offered again. Plans, features and categories
are named through their `display_name` (portal.i18n.in_reader_language): the English name for
a reader in English, else the Turkish one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.billing.money import Charge, charge_for, monthly_equivalent, saving_against_monthly
from portal.billing.periods import BILLING_CYCLES, MONTHLY
from portal.models import (
    PlanFeature,
    PlanFeatureCategory,
    PlanPrice,
    SubscriptionPlan,
    SubscriptionPlanFeature,
)
from portal.models.billing import Audience, PriceStatus

PARENTS = Audience.PARENTS
COMPANIES = Audience.COMPANIES
AUDIENCES = tuple(Audience)

# Prices for consumers are quoted with KDV, as Turkish consumer law asks; businesses read
# prices net, "+ KDV", since they deduct it.
QUOTED_WITH_KDV = {PARENTS: True, COMPANIES: False}


@dataclass(frozen=True)
class PlanOffer:
    """One plan and what it costs on the chosen cycle (price None: not offered on it)."""

    plan: SubscriptionPlan
    price: PlanPrice | None
    charge: Charge | None
    # Per month, of the amount as quoted (gross for parents, net for companies); only for
    # cycles longer than a month (quarterly, semi_annual, yearly).
    monthly_equivalent: Decimal | None
    # Whole percent saved against 12 months (or 3, 6) of the plan's active monthly price;
    # None when there is no monthly price or the cycle is not a multiple of months.
    saving_percent: Decimal | None
    trial_days: int

    @property
    def offered(self) -> bool:
        return self.price is not None


@dataclass(frozen=True)
class FeatureCell:
    """A feature in one plan: included or not, and its limit (None: unlimited)."""

    included: bool
    limit: int | None


NOT_INCLUDED = FeatureCell(included=False, limit=None)


@dataclass(frozen=True)
class FeatureRow:
    """One line of the comparison table: a feature and a cell per plan, in plan order."""

    feature: PlanFeature
    cells: tuple[FeatureCell, ...]


@dataclass(frozen=True)
class PlansTable:
    """Everything the plans page shows for one audience and cycle."""

    audience: str
    cycle: str | None  # None only when no plan has an active price
    cycles: tuple[str, ...]  # offered by at least one plan, in BILLING_CYCLES order
    quoted_with_kdv: bool
    offers: tuple[PlanOffer, ...]  # by sort_order
    features: tuple[FeatureRow, ...]  # by category (its sort_order, code), then sort_order

    @property
    def feature_groups(self) -> tuple[tuple[PlanFeatureCategory, tuple[FeatureRow, ...]], ...]:
        """The features under their categories, in order (Jinja's groupby would re-sort them
        by the key, losing the categories' sort_order)."""
        return tuple(
            (rows[0].feature.category_row, rows)
            for rows in (
                tuple(group)
                for _code, group in groupby(self.features, lambda row: row.feature.category)
            )
        )


def default_cycle(cycles: tuple[str, ...] | list[str]) -> str | None:
    """Monthly when it is offered, else the first cycle offered, else None."""
    if MONTHLY in cycles:
        return MONTHLY
    return cycles[0] if cycles else None


def plans_table(session: Session, audience: str, cycle: str | None = None) -> PlansTable:
    """The active plans of `audience` with their prices on `cycle` and their features.

    A cycle that no plan offers (or any other string) falls back to default_cycle(). Three
    queries at most, however many plans there are.

    :raise ValueError: when `audience` is not one of AUDIENCES.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"Unknown audience: {audience!r}")
    plans = list(
        session.scalars(
            select(SubscriptionPlan)
            .where(SubscriptionPlan.audience == audience, SubscriptionPlan.is_active)
            .order_by(SubscriptionPlan.sort_order, SubscriptionPlan.id)
        )
    )
    plan_ids = [plan.id for plan in plans]
    prices = _active_prices(session, plan_ids)
    offered = {price_cycle for plan_prices in prices.values() for price_cycle in plan_prices}
    cycles = tuple(c for c in BILLING_CYCLES if c in offered)
    if cycle not in cycles:
        cycle = default_cycle(cycles)
    quoted_with_kdv = QUOTED_WITH_KDV[audience]
    offers = tuple(_offer(plan, prices.get(plan.id, {}), cycle, quoted_with_kdv) for plan in plans)
    return PlansTable(
        audience=audience,
        cycle=cycle,
        cycles=cycles,
        quoted_with_kdv=quoted_with_kdv,
        offers=offers,
        features=_feature_rows(session, plan_ids),
    )


def _active_prices(session: Session, plan_ids: list[int]) -> dict[int, dict[str, PlanPrice]]:
    # plan id -> cycle -> its active price. Should two active rows ever exist for one cycle,
    # the newest wins (ordered by id, later rows overwrite).
    if not plan_ids:
        return {}
    rows = session.scalars(
        select(PlanPrice)
        .where(PlanPrice.subscription_plan_id.in_(plan_ids), PlanPrice.status == PriceStatus.ACTIVE)
        .order_by(PlanPrice.id)
    )
    prices: dict[int, dict[str, PlanPrice]] = {}
    for price in rows:
        prices.setdefault(price.subscription_plan_id, {})[price.billing_cycle] = price
    return prices


def _offer(
    plan: SubscriptionPlan, prices: dict[str, PlanPrice], cycle: str | None, quoted_with_kdv: bool
) -> PlanOffer:
    price = prices.get(cycle) if cycle else None
    if price is None:
        return PlanOffer(plan, None, None, None, None, 0)
    charge = charge_for(price.amount, price.kdv_included)
    per_month = None
    if cycle != MONTHLY:
        per_month = monthly_equivalent(charge.gross if quoted_with_kdv else charge.net, cycle)
    saving = None
    monthly = prices.get(MONTHLY)
    if monthly is not None:
        # Gross against gross, so a monthly price stored with KDV and a yearly one without
        # still compare like with like.
        monthly_gross = charge_for(monthly.amount, monthly.kdv_included).gross
        saving = saving_against_monthly(charge.gross, cycle, monthly_gross)
    return PlanOffer(plan, price, charge, per_month, saving, price.trial_days)


def _feature_rows(session: Session, plan_ids: list[int]) -> tuple[FeatureRow, ...]:
    # Every feature any of the plans has in the pivot; a plan without a row for it does not
    # include it.
    if not plan_ids:
        return ()
    rows = session.execute(
        select(
            SubscriptionPlanFeature.subscription_plan_id,
            SubscriptionPlanFeature.included,
            SubscriptionPlanFeature.limit_value,
            PlanFeature,
        )
        .join(PlanFeature, PlanFeature.id == SubscriptionPlanFeature.plan_feature_id)
        .join(PlanFeatureCategory, PlanFeatureCategory.code == PlanFeature.category)
        .where(SubscriptionPlanFeature.subscription_plan_id.in_(plan_ids))
        .order_by(
            PlanFeatureCategory.sort_order,
            PlanFeatureCategory.code,
            PlanFeature.sort_order,
            PlanFeature.id,
        )
    )
    features: dict[int, tuple[PlanFeature, dict[int, FeatureCell]]] = {}
    for plan_id, included, limit, feature in rows:
        _feature, cells = features.setdefault(feature.id, (feature, {}))
        cells[plan_id] = FeatureCell(included, limit if included else None)
    return tuple(
        FeatureRow(feature, tuple(cells.get(plan_id, NOT_INCLUDED) for plan_id in plan_ids))
        for feature, cells in features.values()
    )
