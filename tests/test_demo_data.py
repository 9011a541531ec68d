"""`flask demo-data` loads a usable demo set, and loading it again changes nothing."""

from decimal import Decimal

from sqlalchemy import func, select

from portal.access.permissions import Role
from portal.account.favorites import remove_favorite
from portal.audit import NO_ORIGIN
from portal.extensions import db
from portal.models import (
    ConsentText,
    Payment,
    User,
    UserConsent,
    UserFavorite,
    UserLog,
    UserPaymentCard,
    UserSubscription,
    VerificationCode,
)

PARENT_EMAIL = "elif.sahin@example.com"
# The audit trail the product writes as a parent registers with consent, verifies her address,
# fills in her profile, adds a contact and two favorites, subscribes, and asks two schools.
PARENT_EVENTS = [
    "registered",
    "consent_given",
    "email_code_sent",
    "email_verified",
    "profile_changed",
    "profile_changed",
    "favorite_added",
    "favorite_added",
    "subscription_started",
    "lead_opened",
    "lead_opened",
]

COUNTED = (
    "users",
    "user_details",
    "user_favorites",
    "user_contacts",
    "user_logs",
    "user_consents",
    "verification_codes",
    "customers",
    "customer_users",
    "customer_user_schools",
    "schools",
    "campuses",
    "school_levels",
    "school_fees",
    "leads",
    "lead_events",
    "school_offers",
    "customer_scores",
    "customer_user_daily_activity_logs",
    "agreement_texts",
    "customer_agreements",
    "subscription_plans",
    "plan_prices",
    "plan_features",
    "subscription_plan_features",
    "user_subscriptions",
    "payments",
    "user_payment_cards",
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
    assert {Role.ADMIN, Role.MANAGER, Role.AGENT} <= set(used_roles)


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


def the_parent(session) -> User:
    return session.scalar(select(User).where(User.email == PARENT_EMAIL))


def test_demo_parent_registered_with_consent_and_verified_her_address(runner, session):
    runner.invoke(args=["demo-data"])
    parent = the_parent(session)
    consent = session.scalar(select(UserConsent).where(UserConsent.user_id == parent.id))
    shown = session.scalar(
        select(ConsentText)
        .where(ConsentText.kind == "kvkk_consent")
        .order_by(ConsentText.version.desc())
        .limit(1)
    )
    code = session.scalar(select(VerificationCode).where(VerificationCode.user_id == parent.id))

    assert parent.email_verified_at is not None
    assert parent.details.kvkk_accepted_at == consent.given_at
    assert (consent.consent_text_id, consent.text_sha256) == (shown.id, shown.body_sha256)
    assert consent.method == "registration_form" and consent.withdrawn_at is None
    assert code.used_at is not None and len(code.code_hash) == 64  # an HMAC, not the code
    assert parent.details.phone == "+905325550303"  # stored the way the profile page stores it
    events = session.scalars(select(UserLog.event).where(UserLog.user_id == parent.id)).all()
    assert sorted(events) == sorted(PARENT_EVENTS)


def test_demo_parent_subscription_was_paid_with_a_saved_sandbox_card(runner, session):
    runner.invoke(args=["demo-data"])
    parent = the_parent(session)
    subscription = session.scalar(
        select(UserSubscription).where(UserSubscription.user_id == parent.id)
    )
    payment = session.scalar(select(Payment).where(Payment.user_id == parent.id))
    card = session.get(UserPaymentCard, subscription.user_payment_card_id)

    assert (subscription.status, subscription.billing_cycle) == ("active", "yearly")
    assert subscription.plan.code == "veli-plus"
    assert payment.user_subscription_id == subscription.id
    assert (payment.purpose, payment.status, payment.gateway) == (
        "first_charge",
        "succeeded",
        "sandbox",
    )
    assert payment.gross_amount == subscription.amount == Decimal("479.00")
    assert payment.net_amount + payment.kdv_amount == payment.gross_amount
    assert payment.gateway_reference.startswith("sbx_ch_")
    assert card.user_id == parent.id and card.token.startswith("sbx_ok_")
    assert (card.brand, card.last4, payment.card_last4) == ("visa", "4242", "4242")


def test_demo_data_sends_no_mail(app, runner, session):
    app.extensions["mail_outbox"] = []

    result = runner.invoke(args=["demo-data"])

    assert result.exit_code == 0, result.output
    assert app.extensions["mail_outbox"] == []
    assert app.config["MAIL_BACKEND"] == "memory"  # the setting is as it was


def test_demo_parent_sees_her_plan_on_her_subscription_page(runner, client, auth):
    runner.invoke(args=["demo-data"])
    auth.login(PARENT_EMAIL, "okul-demo-2026")

    page = client.get("/account/subscription").get_data(as_text=True)

    assert "Veli Plus" in page and "4242" in page


def test_loading_again_leaves_what_the_parent_changed(runner, session):
    runner.invoke(args=["demo-data"])
    parent = the_parent(session)
    favorite = parent_favorites(session, parent)[0]
    remove_favorite(session, parent, favorite.favoritable_type, favorite.favoritable_id, NO_ORIGIN)
    session.commit()

    runner.invoke(args=["demo-data"])

    session.expire_all()
    assert len(parent_favorites(session, parent)) == 1


def parent_favorites(session, parent) -> list[UserFavorite]:
    return session.scalars(select(UserFavorite).where(UserFavorite.user_id == parent.id)).all()
