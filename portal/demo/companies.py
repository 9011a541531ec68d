"""Demo school companies: the customers, their staff with roles and grants, the staff's daily
activity and the companies' scores.

Companies are onboarded by operators, staff are added by a company's admin, and activity and
scores are counted by jobs, all in later issues; until domain functions make them, the rows
are built here directly. Everything is found by a natural key (ERP code, e-mail, day) and made
only when missing, so loading twice leaves one copy.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access.permissions import Role
from portal.demo.accounts import DEMO_PASSWORD, Login, account
from portal.demo.schools import campus_named
from portal.models import (
    Customer,
    CustomerScore,
    CustomerUser,
    CustomerUserDailyActivityLog,
    CustomerUserRole,
    CustomerUserSchool,
    CustomerUserTitle,
    School,
)
from portal.models.users import USER_TYPE_CUSTOMER_STAFF
from portal.turkish import make_tc_kimlik_no, make_vkn

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

# (e-mail, name, customer erp_code, role, title code,
#  grants: [(school slug, campus name, or None for the whole school)])
STAFF = [
    (
        "ayse.yilmaz@bilge-egitim.example.com",
        "Ayşe Yılmaz",
        "DEMO-BILGE",
        Role.ADMIN,
        "founder",
        [("bilge-koleji", None), ("bilge-fen-lisesi", None), ("bilge-ortaokulu-bursa", None)],
    ),
    (
        "mehmet.demir@bilge-egitim.example.com",
        "Mehmet Demir",
        "DEMO-BILGE",
        Role.MANAGER,
        "principal",
        [("bilge-koleji", None)],
    ),
    (
        "zeynep.kara@bilge-egitim.example.com",
        "Zeynep Kara",
        "DEMO-BILGE",
        Role.AGENT,
        "registrar",
        [("bilge-koleji", "Ataşehir Kampüsü")],
    ),
    (
        "deniz.kaya@deniz-anaokulu.example.com",
        "Deniz Kaya",
        "DEMO-DENIZ",
        Role.ADMIN,
        "founder",
        [("deniz-anaokulu", None)],
    ),
]

# (days ago, sign-ins, lead views, lead replies) of each staff member's daily activity
ACTIVITY = ((2, 1, 8, 3), (1, 2, 12, 5), (0, 1, 4, 1))
# (days ago, base score) of each company's scores
SCORES = ((30, 150), (0, 180))


def make_customers(session: Session) -> dict[str, Customer]:
    """The demo companies by ERP code, with whatever was missing made (and flushed)."""
    customers = {values["erp_code"]: _customer(session, values) for values in CUSTOMERS}
    session.flush()
    return customers


def make_staff(
    session: Session,
    customers: dict[str, Customer],
    schools: dict[str, School],
    today: date,
    now: datetime,
) -> list[Login]:
    """The staff accounts with their roles, grants and recent activity; their logins."""
    roles = {r.code: r for r in session.scalars(select(CustomerUserRole))}
    titles = {t.code: t for t in session.scalars(select(CustomerUserTitle))}
    logins = []
    for email, name, erp_code, role, title, grants in STAFF:
        customer = customers[erp_code]
        user = account(session, email, name, USER_TYPE_CUSTOMER_STAFF, now, customer.id)
        staff = _customer_user(session, user, customer, roles[role], titles[title])
        for slug, campus_name in grants:
            _grant(session, staff, schools[slug], campus_name)
        _activity(session, staff, today, now)
        logins.append(Login(email, DEMO_PASSWORD, f"{customer.name}: {role}"))
    return logins


def make_scores(session: Session, customers: dict[str, Customer], today: date) -> None:
    """A score a month ago and one today for each company."""
    for customer in customers.values():
        for days_ago, base in SCORES:
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


def _customer(session: Session, values: dict) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.erp_code == values["erp_code"]))
    if customer is None:
        customer = Customer(**values)
        session.add(customer)
    return customer


def _customer_user(session, user, customer, role, title) -> CustomerUser:
    staff = session.scalar(select(CustomerUser).where(CustomerUser.user_id == user.id))
    if staff is None:
        staff = CustomerUser(user=user, customer=customer, role=role, title=title)
        session.add(staff)
        session.flush()
    return staff


def _grant(session, staff, school, campus_name) -> None:
    campus_id = campus_named(school, campus_name).id if campus_name else None
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


def _activity(session, staff, today, now) -> None:
    for days_ago, sign_ins, views, replies in ACTIVITY:
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
                    last_activity_at=now,
                )
            )
