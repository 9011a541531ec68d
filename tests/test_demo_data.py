"""`flask demo-data` loads a usable demo set, and loading it again changes nothing."""

from sqlalchemy import func, select

from portal.extensions import db

COUNTED = (
    "users",
    "user_details",
    "user_favorites",
    "user_contacts",
    "user_logs",
    "customers",
    "customer_users",
    "customer_user_schools",
    "schools",
    "campuses",
    "school_levels",
    "customer_scores",
    "customer_user_daily_activity_logs",
    "agreement_texts",
    "customer_agreements",
    "subscription_plans",
    "plan_prices",
    "plan_features",
    "subscription_plan_features",
)


def counts(session):
    return {
        name: session.scalar(select(func.count()).select_from(db.metadata.tables[name]))
        for name in COUNTED
    }


def test_demo_data_prints_logins_that_work(runner, client, session, auth):
    result = runner.invoke(args=["demo-data"])

    assert result.exit_code == 0, result.output
    assert "elif.sahin@example.com" in result.output
    assert "okul-demo-2026" in result.output
    assert auth.login("elif.sahin@example.com", "okul-demo-2026").headers["Location"] == "/account/"
    account = client.get("/account/").get_data(as_text=True)
    assert "Deniz Anaokulu" in account and "Moda Kampüsü" in account  # the favorites
    auth.logout()
    assert (
        auth.login("zeynep.kara@bilge-egitim.example.com", "okul-demo-2026").headers["Location"]
        == "/customer/"
    )
    staff_home = client.get("/customer/").get_data(as_text=True)
    assert "Ataşehir Kampüsü" in staff_home and "Bilge Fen Lisesi" not in staff_home


def test_demo_data_is_idempotent(runner, session):
    runner.invoke(args=["demo-data"])
    first = counts(session)
    result = runner.invoke(args=["demo-data"])

    assert result.exit_code == 0, result.output
    session.expire_all()
    assert counts(session) == first
    assert all(first[name] > 0 for name in COUNTED), first


def test_demo_data_spans_several_cities_and_roles(runner, session):
    runner.invoke(args=["demo-data"])
    schools = db.metadata.tables["schools"]
    roles = db.metadata.tables["customer_user_roles"]
    staff = db.metadata.tables["customer_users"]

    assert session.scalar(select(func.count(schools.c.city.distinct()))) >= 3
    used_roles = session.scalars(
        select(roles.c.code).join(staff, staff.c.role_id == roles.c.id).distinct()
    ).all()
    assert {"admin", "manager", "agent"} <= set(used_roles)


def test_demo_plans_offer_all_seven_billing_cycles_to_both_audiences(runner, session):
    runner.invoke(args=["demo-data"])
    plans = db.metadata.tables["subscription_plans"]
    prices = db.metadata.tables["plan_prices"]

    cycles = set(session.scalars(select(prices.c.billing_cycle).distinct()))
    audiences = set(session.scalars(select(plans.c.audience).distinct()))
    assert cycles == {
        "daily",
        "weekly",
        "monthly",
        "quarterly",
        "semi_annual",
        "yearly",
        "lifetime",
    }
    assert audiences == {"parents", "companies"}
