"""The demo parent's requests for information, and a school's answer to one of them.

Made through the product's own domain functions, like the parent: one lead to a campus that
the demo registrar (granted only that campus) has answered with an offer, and one lead to a
school as a whole that is still waiting. Made only when the parent has no lead yet.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import mail
from portal.audit import Origin
from portal.demo.accounts import existing_user
from portal.demo.schools import campus_named
from portal.leads.leads import live_consent, open_lead
from portal.leads.offers import make_offer
from portal.models import CustomerUser, Lead, School, User
from portal.schools.fees import school_year_of

ORIGIN = Origin(user_agent="flask demo-data")
REGISTRAR_EMAIL = "zeynep.kara@bilge-egitim.example.com"

# (school slug, campus name or None, level, message)
LEADS = [
    (
        "bilge-koleji",
        "Ataşehir Kampüsü",
        "primary",
        "Kızım önümüzdeki yıl ilkokula başlayacak. Servis ve yemek ücrete dahil mi?",
    ),
    (
        "bilge-koleji",
        None,
        "middle",
        "Oğlum için ortaokul bursu ve kardeş indirimi hakkında bilgi alabilir miyim?",
    ),
]


def make_leads(
    session: Session, schools: dict[str, School], parent_email: str, today: date, now: datetime
) -> None:
    """The parent's two leads and the registrar's offer on the first, when she has none."""
    parent = existing_user(session, parent_email)
    if parent is None or parent.deleted_at is not None or _has_leads(session, parent):
        return
    consent = live_consent(session, parent.id)
    if consent is None:
        return
    school_year = school_year_of(today) + 1
    # The demo addresses are example.com ones nobody reads: the staff's and the parent's
    # mails about these leads go nowhere, whatever MAIL_BACKEND says.
    with mail.captured():
        leads = [
            _ask(session, parent, consent, schools[slug], campus, level, school_year, message)
            for slug, campus, level, message in LEADS
        ]
        registrar = _registrar(session)
        if registrar is not None:
            make_offer(
                session,
                leads[0],
                registrar,
                yearly_fee=Decimal("395000.00"),
                discount_percent=Decimal("10"),
                valid_until=today + timedelta(days=14),
                note="Servis ve öğle yemeği dahildir. Kardeş indirimi ayrıca uygulanır.",
                origin=ORIGIN,
                now=now,
            )


def _ask(session, parent, consent, school, campus_name, level, school_year, message) -> Lead:
    campus = campus_named(school, campus_name) if campus_name else None
    lead, _created = open_lead(
        session,
        parent,
        school=school,
        campus=campus,
        level=level,
        school_year=school_year,
        message=message,
        contact_preference="email",
        request_key=f"demo-{school.slug}-{campus.id if campus else 'school'}",
        consent=consent,
        origin=ORIGIN,
    )
    return lead


def _has_leads(session: Session, parent: User) -> bool:
    return session.scalar(select(Lead.id).where(Lead.user_id == parent.id).limit(1)) is not None


def _registrar(session: Session) -> CustomerUser | None:
    user = existing_user(session, REGISTRAR_EMAIL)
    return user.customer_user if user is not None else None
