"""A school with two campuses, staff granted each, and a parent with a live consent."""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.access.permissions import Role
from portal.models import Campus, CustomerUser, MailOutbox, School, User, UserDetail


@dataclass
class World:
    school: School
    campus: Campus
    other_campus: Campus
    whole_school_staff: CustomerUser
    campus_staff: CustomerUser
    other_campus_staff: CustomerUser
    finance: CustomerUser
    parent: User


@pytest.fixture
def world(session, make):
    customer = make.customer()
    school = make.school(
        customer=customer,
        name="Bilge Koleji",
        campuses=("Kadıköy Kampüsü", "Ataşehir Kampüsü"),
        levels=("primary", "middle"),
    )
    campus, other_campus = sorted(school.campuses, key=lambda c: c.name, reverse=True)
    whole = make.customer_user(customer, role=Role.AGENT, email="whole@bilge.example.com")
    make.grant(whole, school)
    only_campus = make.customer_user(customer, role=Role.AGENT, email="campus@bilge.example.com")
    make.grant(only_campus, school, campus)
    other = make.customer_user(customer, role=Role.AGENT, email="other@bilge.example.com")
    make.grant(other, school, other_campus)
    # Covered by a grant, but may not answer leads: never mailed.
    finance = make.customer_user(customer, role=Role.FINANCE, email="finance@bilge.example.com")
    make.grant(finance, school)
    parent = make.user("parent", email="veli@example.com", name="Ayşe Yılmaz")
    session.add(UserDetail(user_id=parent.id, phone="05321234567"))
    make.consent(parent)
    session.commit()
    return World(school, campus, other_campus, whole, only_campus, other, finance, parent)


def counters(session, user) -> dict[str, int]:
    """The parent's four counters as the database has them."""
    session.expire_all()
    row = session.scalar(select(UserDetail).where(UserDetail.user_id == user.id))
    return {
        "open": row.lead_open_count,
        "won": row.lead_won_count,
        "lost": row.lead_lost_count,
        "closed": row.lead_closed_count,
    }


def mails_to(app, *addresses):
    """The mails delivered so far (the tests' memory backend) to these addresses, in order."""
    return [mail for mail in app.extensions.get("mail_outbox", []) if mail.to in addresses]


def recipients(app) -> list[str]:
    """Every address mailed so far, in order."""
    return [mail.to for mail in app.extensions.get("mail_outbox", [])]


def queued(session) -> int:
    """How many outbox rows exist (delivered or not)."""
    session.expire_all()
    return len(session.scalars(select(MailOutbox.id)).all())
