"""The demo plan catalogue: features, plans for parents and for companies, and their prices in
all seven billing cycles.

Plans and prices are managed by operators in a later issue; until domain functions make them,
the rows are built here directly. A feature is found by code and a plan by code; a plan that
exists is left as it is (prices are never edited: a new price would be a new row), except
that one made before migration 0019 gets its English name.
"""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    PlanFeature,
    PlanFeatureCategory,
    PlanPrice,
    SubscriptionPlan,
    SubscriptionPlanFeature,
)
from portal.models.billing import Audience, BillingCycle

# code: (Turkish name, English name), in the order the comparison shows them
CATEGORIES = {
    "parent": ("Veli", "For parents"),
    "school": ("Firma", "For schools"),
    "support": ("Destek", "Support"),
}

# code: ((Turkish name, English name), icon, category code)
FEATURES = {
    "favorites": (("Favori okul", "Favourite schools"), "fa-solid fa-heart", "parent"),
    "school_comparison": (
        ("Okul karşılaştırma", "School comparison"),
        "fa-solid fa-scale-balanced",
        "parent",
    ),
    "priority_support": (
        ("Öncelikli destek", "Priority support"),
        "fa-solid fa-headset",
        "support",
    ),
    "team_members": (("Ekip üyesi", "Team members"), "fa-solid fa-users", "school"),
    "schools_listed": (("Listelenen okul", "Schools listed"), "fa-solid fa-school", "school"),
    "lead_alerts": (("Anında aday bildirimi", "Instant lead alerts"), "fa-solid fa-bell", "school"),
}

# code: ((Turkish name, English name), audience, KDV included,
#        {feature: limit, None unlimited, False not included}, {cycle: (amount, trial days)})
PLANS = {
    "veli-plus": (
        ("Veli Plus", "Parent Plus"),
        Audience.PARENTS,
        True,
        {"favorites": 100, "school_comparison": None, "priority_support": False},
        {
            BillingCycle.DAILY: ("2.90", 0),
            BillingCycle.WEEKLY: ("14.90", 0),
            BillingCycle.MONTHLY: ("49.90", 7),
            BillingCycle.QUARTERLY: ("134.90", 0),
            BillingCycle.SEMI_ANNUAL: ("254.90", 0),
            BillingCycle.YEARLY: ("479.00", 0),
        },
    ),
    "veli-premium": (
        ("Veli Premium", "Parent Premium"),
        Audience.PARENTS,
        True,
        {"favorites": None, "school_comparison": None, "priority_support": None},
        {
            BillingCycle.MONTHLY: ("89.90", 0),
            BillingCycle.YEARLY: ("899.00", 0),
            BillingCycle.LIFETIME: ("2499.00", 0),
        },
    ),
    "okul-temel": (
        ("Okul Temel", "School Basic"),
        Audience.COMPANIES,
        False,
        {"team_members": 5, "schools_listed": 1, "lead_alerts": None},
        {
            BillingCycle.MONTHLY: ("1490.00", 14),
            BillingCycle.QUARTERLY: ("4290.00", 0),
            BillingCycle.SEMI_ANNUAL: ("8190.00", 0),
            BillingCycle.YEARLY: ("15900.00", 0),
        },
    ),
    "okul-pro": (
        ("Okul Pro", "School Pro"),
        Audience.COMPANIES,
        False,
        {"team_members": None, "schools_listed": 10, "lead_alerts": None},
        {
            BillingCycle.MONTHLY: ("3990.00", 14),
            BillingCycle.QUARTERLY: ("11490.00", 0),
            BillingCycle.YEARLY: ("42900.00", 0),
        },
    ),
}


def make_catalogue(session: Session) -> None:
    """The categories, features, plans and prices above, whatever of them is missing
    (flushed)."""
    for order, (code, (name, name_en)) in enumerate(CATEGORIES.items()):
        if session.scalar(select(PlanFeatureCategory).where(PlanFeatureCategory.code == code)):
            continue
        session.add(PlanFeatureCategory(code=code, name=name, name_en=name_en, sort_order=order))
    session.flush()
    features = {}
    for order, (code, ((name, name_en), icon, category)) in enumerate(FEATURES.items()):
        feature = session.scalar(select(PlanFeature).where(PlanFeature.code == code))
        if feature is None:
            feature = PlanFeature(
                code=code,
                name=name,
                name_en=name_en,
                icon=icon,
                category=category,
                sort_order=order,
            )
            session.add(feature)
        elif feature.name_en == feature.name:  # made before 0019, which copied the Turkish
            feature.name_en = name_en
        features[code] = feature
    session.flush()
    for order, (code, (names, audience, kdv_included, limits, prices)) in enumerate(PLANS.items()):
        name, name_en = names
        plan = session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.code == code))
        if plan is not None:
            if plan.name_en == plan.name:  # made before 0019, which copied the Turkish
                plan.name_en = name_en
            continue
        plan = SubscriptionPlan(
            code=code, name=name, name_en=name_en, audience=audience, sort_order=order
        )
        session.add(plan)
        session.flush()
        for feature_code, limit in limits.items():
            session.add(
                SubscriptionPlanFeature(
                    subscription_plan_id=plan.id,
                    plan_feature_id=features[feature_code].id,
                    included=limit is not False,
                    limit_value=None if limit is None or limit is False else limit,
                )
            )
        for cycle, (amount, trial_days) in prices.items():
            session.add(
                PlanPrice(
                    subscription_plan_id=plan.id,
                    billing_cycle=cycle,
                    amount=Decimal(amount),
                    kdv_included=kdv_included,
                    trial_days=trial_days,
                )
            )
    session.flush()
