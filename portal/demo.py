"""The demo data set: idempotent, so loading it twice leaves one copy.

Everything is found by a natural key (e-mail, slug, code, VKN) and created only when missing;
rows a demo user has since changed are left as they are.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from hashlib import sha256

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.passwords import hash_password
from portal.clock import ISTANBUL, utcnow
from portal.models import (
    AgreementText,
    Campus,
    Customer,
    CustomerAgreement,
    CustomerScore,
    CustomerUser,
    CustomerUserDailyActivityLog,
    CustomerUserRole,
    CustomerUserSchool,
    CustomerUserTitle,
    PlanFeature,
    PlanPrice,
    School,
    SchoolLevel,
    SubscriptionPlan,
    SubscriptionPlanFeature,
    User,
    UserContact,
    UserDetail,
    UserFavorite,
    UserLog,
    UserType,
)
from portal.validators import make_tc_kimlik_no, make_vkn

DEMO_PASSWORD = "okul-demo-2026"

CUSTOMERS = [
    {
        "erp_code": "DEMO-BILGE",
        "name": "Bilge Eğitim",
        "legal_name": "Bilge Eğitim Kurumları A.Ş.",
        "customer_type": "company",
        "tax_office": "Kadıköy",
        "tax_number": make_vkn("123456789"),
        "mersis_no": "0123456789000015",
        "email": "muhasebe@bilge-egitim.example.com",
        "phone": "+902165550101",
        "address_line": "Caferağa Mah. Moda Cad. No: 12",
        "district": "Kadıköy",
        "city": "İstanbul",
        "postal_code": "34710",
        "contact_name": "Ayşe Yılmaz",
        "is_inflation_auto_updated": True,
    },
    {
        "erp_code": "DEMO-DENIZ",
        "name": "Deniz Anaokulları",
        "legal_name": "Deniz Kaya",
        "customer_type": "sole_proprietor",
        "tax_office": "Karşıyaka",
        "tc_no": make_tc_kimlik_no("284619375"),
        "email": "iletisim@deniz-anaokulu.example.com",
        "phone": "+902325550202",
        "address_line": "Bostanlı Mah. Cemal Gürsel Cad. No: 40",
        "district": "Karşıyaka",
        "city": "İzmir",
        "postal_code": "35590",
        "contact_name": "Deniz Kaya",
    },
]

# (customer erp_code, slug, name, city, district, levels, fee min, fee max, campuses)
SCHOOLS = [
    (
        "DEMO-BILGE",
        "bilge-koleji",
        "Bilge Koleji",
        "İstanbul",
        "Kadıköy",
        ("preschool", "primary", "middle", "high"),
        "285000.00",
        "460000.00",
        [("Moda Kampüsü", "İstanbul", "Kadıköy"), ("Ataşehir Kampüsü", "İstanbul", "Ataşehir")],
    ),
    (
        "DEMO-BILGE",
        "bilge-fen-lisesi",
        "Bilge Fen Lisesi",
        "Ankara",
        "Çankaya",
        ("high",),
        "340000.00",
        "395000.00",
        [("Çankaya Kampüsü", "Ankara", "Çankaya")],
    ),
    (
        "DEMO-BILGE",
        "bilge-ortaokulu-bursa",
        "Bilge Ortaokulu Bursa",
        "Bursa",
        "Nilüfer",
        ("primary", "middle"),
        "190000.00",
        "240000.00",
        [("Nilüfer Kampüsü", "Bursa", "Nilüfer")],
    ),
    (
        "DEMO-DENIZ",
        "deniz-anaokulu",
        "Deniz Anaokulu",
        "İzmir",
        "Karşıyaka",
        ("preschool",),
        "120000.00",
        "165000.00",
        [("Bostanlı Kampüsü", "İzmir", "Karşıyaka"), ("Bornova Kampüsü", "İzmir", "Bornova")],
    ),
]

# (e-mail, name, customer erp_code, role, title, grants: [(school slug, campus name | None)])
STAFF = [
    (
        "ayse.yilmaz@bilge-egitim.example.com",
        "Ayşe Yılmaz",
        "DEMO-BILGE",
        "admin",
        "founder",
        [("bilge-koleji", None), ("bilge-fen-lisesi", None), ("bilge-ortaokulu-bursa", None)],
    ),
    (
        "mehmet.demir@bilge-egitim.example.com",
        "Mehmet Demir",
        "DEMO-BILGE",
        "manager",
        "principal",
        [("bilge-koleji", None)],
    ),
    (
        "zeynep.kara@bilge-egitim.example.com",
        "Zeynep Kara",
        "DEMO-BILGE",
        "agent",
        "registrar",
        [("bilge-koleji", "Ataşehir Kampüsü")],
    ),
    (
        "deniz.kaya@deniz-anaokulu.example.com",
        "Deniz Kaya",
        "DEMO-DENIZ",
        "admin",
        "founder",
        [("deniz-anaokulu", None)],
    ),
]

PARENT_EMAIL = "elif.sahin@example.com"
OPERATOR_EMAIL = "operator@okul-portal.example.com"


def load(session: Session) -> list[tuple[str, str, str]]:
    """Create whatever of the demo set is missing; return the logins as (e-mail, password, who)."""
    types = {t.code: t for t in session.scalars(select(UserType))}
    roles = {r.code: r for r in session.scalars(select(CustomerUserRole))}
    titles = {t.code: t for t in session.scalars(select(CustomerUserTitle))}

    customers = {c["erp_code"]: _customer(session, c) for c in CUSTOMERS}
    schools = {row[1]: _school(session, customers[row[0]], *row[1:]) for row in SCHOOLS}
    session.flush()

    logins = []
    for email, name, erp_code, role, title, grants in STAFF:
        customer = customers[erp_code]
        user = _user(session, email, name, types["customer_staff"], customer_id=customer.id)
        staff = _customer_user(session, user, customer, roles[role], titles[title])
        for slug, campus_name in grants:
            _grant(session, staff, schools[slug], campus_name)
        _activity(session, staff)
        logins.append((email, DEMO_PASSWORD, f"{customer.name}: {role}"))

    parent = _user(session, PARENT_EMAIL, "Elif Şahin", types["parent"])
    _parent_details(session, parent, schools)
    logins.insert(0, (PARENT_EMAIL, DEMO_PASSWORD, "parent"))

    _user(session, OPERATOR_EMAIL, "Okul Operatör", types["operator"])
    logins.append((OPERATOR_EMAIL, DEMO_PASSWORD, "operator"))

    for customer in customers.values():
        _scores(session, customer)
    _agreement(session, customers["DEMO-BILGE"])
    _plans(session)
    return logins


def _customer(session: Session, values: dict) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.erp_code == values["erp_code"]))
    if customer is None:
        customer = Customer(**values)
        session.add(customer)
    return customer


def _school(session, customer, slug, name, city, district, levels, fee_min, fee_max, campuses):
    school = session.scalar(select(School).where(School.slug == slug))
    if school is None:
        school = School(
            customer=customer,
            slug=slug,
            name=name,
            city=city,
            district=district,
            yearly_fee_min=Decimal(fee_min),
            yearly_fee_max=Decimal(fee_max),
            description=f"{name}: {city}, {district}.",
        )
        school.level_rows = [SchoolLevel(level=level) for level in levels]
        session.add(school)
    existing = {c.name for c in school.campuses}
    for campus_name, campus_city, campus_district in campuses:
        if campus_name not in existing:
            school.campuses.append(
                Campus(name=campus_name, city=campus_city, district=campus_district)
            )
    return school


def _user(session, email, name, user_type, customer_id=None) -> User:
    user = session.scalar(
        select(User).where(User.email == email).execution_options(include_deleted=True)
    )
    if user is None:
        user = User(
            email=email,
            name=name,
            user_type=user_type,
            customer_id=customer_id,
            password_hash=hash_password(DEMO_PASSWORD),
            email_verified_at=utcnow(),
        )
        session.add(user)
        session.flush()
    return user


def _customer_user(session, user, customer, role, title) -> CustomerUser:
    staff = session.scalar(select(CustomerUser).where(CustomerUser.user_id == user.id))
    if staff is None:
        staff = CustomerUser(user=user, customer=customer, role=role, title=title)
        session.add(staff)
        session.flush()
    return staff


def _grant(session, staff, school, campus_name) -> None:
    campus = next(c for c in school.campuses if c.name == campus_name) if campus_name else None
    campus_id = campus.id if campus else None
    exists = session.scalar(
        select(CustomerUserSchool.id).where(
            CustomerUserSchool.customer_user_id == staff.id,
            CustomerUserSchool.school_id == school.id,
            CustomerUserSchool.campus_id.is_(None)
            if campus_id is None
            else CustomerUserSchool.campus_id == campus_id,
        )
    )
    if exists is None:
        session.add(
            CustomerUserSchool(customer_user_id=staff.id, school_id=school.id, campus_id=campus_id)
        )


def _activity(session, staff) -> None:
    today = datetime.now(ISTANBUL).date()
    for days_ago, sign_ins, views, replies in ((2, 1, 8, 3), (1, 2, 12, 5), (0, 1, 4, 1)):
        day = today - timedelta(days=days_ago)
        exists = session.scalar(
            select(CustomerUserDailyActivityLog.id).where(
                CustomerUserDailyActivityLog.customer_user_id == staff.id,
                CustomerUserDailyActivityLog.activity_date == day,
            )
        )
        if exists is None:
            session.add(
                CustomerUserDailyActivityLog(
                    customer_user_id=staff.id,
                    activity_date=day,
                    sign_in_count=sign_ins,
                    lead_view_count=views,
                    lead_reply_count=replies,
                    last_activity_at=utcnow(),
                )
            )


def _parent_details(session, parent, schools) -> None:
    if parent.details is None:
        session.add(
            UserDetail(
                user_id=parent.id,
                phone="+905325550303",
                budget_min=Decimal("150000.00"),
                budget_max=Decimal("320000.00"),
                kvkk_accepted_at=utcnow(),
            )
        )
    if session.scalar(select(UserContact.id).where(UserContact.user_id == parent.id)) is None:
        session.add(
            UserContact(user_id=parent.id, contact_type="phone", label="İş", value="+902125550404")
        )
    campus = next(c for c in schools["bilge-koleji"].campuses if c.name == "Moda Kampüsü")
    for kind, target_id in (("school", schools["deniz-anaokulu"].id), ("campus", campus.id)):
        exists = session.scalar(
            select(UserFavorite.id).where(
                UserFavorite.user_id == parent.id,
                UserFavorite.favoritable_type == kind,
                UserFavorite.favoritable_id == target_id,
            )
        )
        if exists is None:
            session.add(
                UserFavorite(user_id=parent.id, favoritable_type=kind, favoritable_id=target_id)
            )
    if session.scalar(select(UserLog.id).where(UserLog.user_id == parent.id)) is None:
        session.add_all(
            UserLog(
                user_id=parent.id,
                event=event,
                ip_address="127.0.0.1",
                user_agent="demo-data",
                data=data,
            )
            for event, data in (
                ("consent_given", {"text": "kvkk-consent", "version": 1}),
                ("sign_in", None),
                ("profile_changed", {"fields": ["phone", "budget"]}),
            )
        )


def _scores(session, customer) -> None:
    today = datetime.now(ISTANBUL).date()
    for days_ago, base in ((30, 150), (0, 180)):
        day = today - timedelta(days=days_ago)
        exists = session.scalar(
            select(CustomerScore.id).where(
                CustomerScore.customer_id == customer.id, CustomerScore.scored_on == day
            )
        )
        if exists is None:
            session.add(
                CustomerScore(
                    customer_id=customer.id,
                    scored_on=day,
                    demand=base + 20,
                    communication=base,
                    responsiveness=base - 10,
                    payment=min(base + 60, 255),
                    total=base + 10,
                )
            )


AGREEMENT_BODY = (
    "Okul Portal Hizmet Sözleşmesi\n\n"
    "Bu sözleşme, Okul Portal ile okul firması arasında okul listeleme ve aday yönetimi "
    "hizmetlerinin koşullarını belirler."
)


def _agreement(session, customer) -> None:
    text = session.scalar(
        select(AgreementText).where(AgreementText.code == "b2b-service", AgreementText.version == 1)
    )
    if text is None:
        text = AgreementText(
            code="b2b-service",
            version=1,
            title="Okul Portal Hizmet Sözleşmesi",
            body=AGREEMENT_BODY,
            body_sha256=sha256(AGREEMENT_BODY.encode()).hexdigest(),
            started_at=datetime(2026, 1, 1, tzinfo=ISTANBUL),
        )
        session.add(text)
        session.flush()
    number = f"DEMO-{customer.erp_code}-2026"
    if (
        session.scalar(select(CustomerAgreement.id).where(CustomerAgreement.agreement_no == number))
        is None
    ):
        session.add(
            CustomerAgreement(
                customer_id=customer.id,
                agreement_text_id=text.id,
                agreement_no=number,
                status="active",
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                products=[{"code": "listing", "schools": 3, "amount": "180000.00"}],
                total_amount=Decimal("180000.00"),
                is_inflation_auto_updated=customer.is_inflation_auto_updated,
            )
        )


# code: (name, icon, category)
FEATURES = {
    "favorites": ("Favori okul", "fa-solid fa-heart", "Veli"),
    "school_comparison": ("Okul karşılaştırma", "fa-solid fa-scale-balanced", "Veli"),
    "priority_support": ("Öncelikli destek", "fa-solid fa-headset", "Destek"),
    "team_members": ("Ekip üyesi", "fa-solid fa-users", "Firma"),
    "schools_listed": ("Listelenen okul", "fa-solid fa-school", "Firma"),
    "lead_alerts": ("Anında aday bildirimi", "fa-solid fa-bell", "Firma"),
}

# code: (name, audience, KDV included, {feature: limit, None unlimited, False not included},
#        {cycle: (amount, trial days)})
PLANS = {
    "veli-plus": (
        "Veli Plus",
        "parents",
        True,
        {"favorites": 100, "school_comparison": None, "priority_support": False},
        {
            "daily": ("2.90", 0),
            "weekly": ("14.90", 0),
            "monthly": ("49.90", 7),
            "quarterly": ("134.90", 0),
            "semi_annual": ("254.90", 0),
            "yearly": ("479.00", 0),
        },
    ),
    "veli-premium": (
        "Veli Premium",
        "parents",
        True,
        {"favorites": None, "school_comparison": None, "priority_support": None},
        {"monthly": ("89.90", 0), "yearly": ("899.00", 0), "lifetime": ("2499.00", 0)},
    ),
    "okul-temel": (
        "Okul Temel",
        "companies",
        False,
        {"team_members": 5, "schools_listed": 1, "lead_alerts": None},
        {
            "monthly": ("1490.00", 14),
            "quarterly": ("4290.00", 0),
            "semi_annual": ("8190.00", 0),
            "yearly": ("15900.00", 0),
        },
    ),
    "okul-pro": (
        "Okul Pro",
        "companies",
        False,
        {"team_members": None, "schools_listed": 10, "lead_alerts": None},
        {"monthly": ("3990.00", 14), "quarterly": ("11490.00", 0), "yearly": ("42900.00", 0)},
    ),
}


def _plans(session) -> None:
    features = {}
    for order, (code, (name, icon, category)) in enumerate(FEATURES.items()):
        feature = session.scalar(select(PlanFeature).where(PlanFeature.code == code))
        if feature is None:
            feature = PlanFeature(
                code=code, name=name, icon=icon, category=category, sort_order=order
            )
            session.add(feature)
        features[code] = feature
    session.flush()
    for order, (code, (name, audience, kdv_included, limits, prices)) in enumerate(PLANS.items()):
        plan = session.scalar(select(SubscriptionPlan).where(SubscriptionPlan.code == code))
        if plan is not None:
            continue
        plan = SubscriptionPlan(code=code, name=name, audience=audience, sort_order=order)
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
