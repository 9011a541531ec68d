"""The staff's inbox as a domain: which leads a member's grants cover, listed, counted and
looked up one by one, and whom a lead may be given to."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.access.permissions import Role
from portal.audit import NO_ORIGIN
from portal.clock import utcnow
from portal.customer import dashboard
from portal.leads import inbox
from portal.leads.leads import assign, end_lead
from portal.models import Campus, CustomerUser, Lead, School, User, UserConsent, UserDetail
from tests.helpers import counted_statements


@dataclass
class Desk:
    """Company A: Bilge Koleji (campuses Kadıköy and Ataşehir) and Deniz Koleji; company B:
    Bora Koleji. Staff of A: an agent granted Kadıköy only, one granted Ataşehir only, one
    granted the whole of Bilge, an admin granted nothing, a finance member granted Bilge; a
    whole-school admin of B. One parent's lead to each place."""

    school: School
    campus: Campus
    other_campus: Campus
    other_school: School
    other_company_school: School
    campus_agent: CustomerUser
    other_campus_agent: CustomerUser
    whole_school_agent: CustomerUser
    ungranted_admin: CustomerUser
    finance: CustomerUser
    other_company_admin: CustomerUser
    parent: User
    campus_lead: Lead
    other_campus_lead: Lead
    whole_school_lead: Lead
    other_school_lead: Lead
    other_company_lead: Lead


@pytest.fixture
def desk(session, make) -> Desk:
    company = make.customer(name="Ata Eğitim")
    other_company = make.customer(name="Bora Eğitim")
    school = make.school(customer=company, name="Bilge Koleji", campuses=("Kadıköy", "Ataşehir"))
    campus, other_campus = school.campuses
    other_school = make.school(customer=company, name="Deniz Koleji")
    other_company_school = make.school(customer=other_company, name="Bora Koleji")

    campus_agent = make.customer_user(company, role=Role.AGENT, email="kadikoy@ata.example.com")
    make.grant(campus_agent, school, campus)
    other_campus_agent = make.customer_user(
        company, role=Role.AGENT, email="atasehir@ata.example.com"
    )
    make.grant(other_campus_agent, school, other_campus)
    whole = make.customer_user(company, role=Role.MANAGER, email="bilge@ata.example.com")
    make.grant(whole, school)
    ungranted_admin = make.customer_user(company, role=Role.ADMIN, email="admin@ata.example.com")
    finance = make.customer_user(company, role=Role.FINANCE, email="finance@ata.example.com")
    make.grant(finance, school)
    other_admin = make.customer_user(other_company, role=Role.ADMIN, email="admin@bora.example.com")
    make.grant(other_admin, other_company_school)
    # A grant on company A's school held by company B's admin counts for nothing.
    make.grant(other_admin, school)

    # The pages are read in English, so the tests can name what they show.
    for member in (campus_agent, other_campus_agent, whole, ungranted_admin, finance, other_admin):
        member.user.locale = "en"
    parent = make.user("parent", email="veli@example.com", name="Ayşe Yılmaz")
    session.add(UserDetail(user_id=parent.id, phone="+905321234567"))
    consent = make.consent(parent)
    leads = [
        make.lead(parent, school, campus, consent=consent),
        make.lead(parent, school, other_campus, consent=consent),
        make.lead(parent, school, None, consent=consent),
        make.lead(parent, other_school, consent=consent),
        make.lead(parent, other_company_school, consent=consent),
    ]
    # Distinct times, oldest first, so "newest first" is a fact of the data.
    start = utcnow() - timedelta(hours=10)
    for hours, lead in enumerate(leads):
        lead.created_at = start + timedelta(hours=hours)
    session.commit()
    return Desk(
        school,
        campus,
        other_campus,
        other_school,
        other_company_school,
        campus_agent,
        other_campus_agent,
        whole,
        ungranted_admin,
        finance,
        other_admin,
        parent,
        *leads,
    )


def listed(session, customer_user, **filters) -> list[int]:
    return [row.lead.id for row in inbox.inbox_page(session, customer_user, **filters).items]


def test_a_campus_grant_lists_only_that_campus(session, desk):
    page = inbox.inbox_page(session, desk.campus_agent)

    assert [row.lead.id for row in page.items] == [desk.campus_lead.id]
    assert page.total == 1
    row = page.items[0]
    assert (row.school_name, row.campus_name, row.parent_name) == (
        "Bilge Koleji",
        "Kadıköy",
        "Ayşe Yılmaz",
    )


def test_a_whole_school_grant_lists_every_campus_and_the_school_lead_newest_first(session, desk):
    assert listed(session, desk.whole_school_agent) == [
        desk.whole_school_lead.id,
        desk.other_campus_lead.id,
        desk.campus_lead.id,
    ]


def test_no_grant_or_another_companys_grant_lists_nothing(session, desk):
    assert listed(session, desk.ungranted_admin) == []
    # Company B's admin has a grant row on A's school: it counts for nothing.
    assert listed(session, desk.other_company_admin) == [desk.other_company_lead.id]


def test_a_deactivated_member_lists_and_finds_nothing(session, desk):
    desk.whole_school_agent.is_active = False
    session.commit()

    assert listed(session, desk.whole_school_agent, state="all") == []
    assert inbox.lead_for_staff(session, desk.whole_school_agent, desk.campus_lead.id) is None
    assert inbox.open_lead_counts(session, desk.whole_school_agent) == inbox.LeadCounts(0, 0)


def test_filters_state_assignee_and_school(session, desk):
    agent = desk.whole_school_agent
    assign(session, desk.campus_lead, agent, actor_user_id=None, origin=NO_ORIGIN)
    end_lead(session, desk.other_campus_lead, "lost", actor_user_id=None, origin=NO_ORIGIN)
    session.commit()

    assert listed(session, agent, state="lost") == [desk.other_campus_lead.id]
    assert set(listed(session, agent, state="all")) == {
        desk.campus_lead.id,
        desk.other_campus_lead.id,
        desk.whole_school_lead.id,
    }
    assert listed(session, agent, assigned="me") == [desk.campus_lead.id]
    assert listed(session, agent, assigned="unassigned") == [desk.whole_school_lead.id]
    assert listed(session, agent, school_id=desk.school.id, state="all") != []
    # A school outside the grants narrows to nothing rather than widening anything.
    assert listed(session, agent, school_id=desk.other_company_school.id, state="all") == []
    with pytest.raises(ValueError):
        inbox.inbox_page(session, agent, state="deleted")


def test_pages_hold_per_page_rows_and_the_total(session, make, desk):
    for _ in range(4):
        make.lead(desk.parent, desk.school, desk.campus)
    session.commit()

    first = inbox.inbox_page(session, desk.campus_agent, number=1, per_page=2)
    last = inbox.inbox_page(session, desk.campus_agent, number=99, per_page=2)

    assert (first.total, first.pages, len(first.items)) == (5, 3, 2)
    assert (last.number, len(last.items)) == (3, 1)


def test_the_inbox_page_is_one_statement_however_many_leads(app, make, session, desk):
    def statements_for_a_page() -> int:
        with counted_statements(app) as statements:
            from portal.extensions import db

            member = db.session.get(CustomerUser, desk.whole_school_agent.id)
            page = inbox.inbox_page(db.session, member, state="all")
            # Everything the template reads: plain columns, nothing left to load.
            _ = [(r.lead.state, r.lead.level, r.school_name, r.assignee_name) for r in page.items]
            before = len(statements)
            inbox.inbox_page(db.session, member, state="all")
            return len(statements) - before

    few = statements_for_a_page()
    for _ in range(15):
        make.lead(desk.parent, desk.school, desk.other_campus)
    session.commit()

    # The page chosen, its rows with their names, and the count, together.
    assert few == statements_for_a_page() == 1


def test_lead_for_staff_finds_covered_leads_and_nothing_else(session, desk):
    agent = desk.campus_agent
    assert inbox.lead_for_staff(session, agent, desk.campus_lead.id).id == desk.campus_lead.id
    for lead in (
        desk.other_campus_lead,
        desk.whole_school_lead,
        desk.other_school_lead,
        desk.other_company_lead,
    ):
        assert inbox.lead_for_staff(session, agent, lead.id) is None
    assert inbox.lead_for_staff(session, agent, 10**30) is None
    assert inbox.lead_for_staff(session, agent, 0) is None


def test_open_lead_counts(session, desk):
    assign(session, desk.campus_lead, desk.whole_school_agent, actor_user_id=None, origin=NO_ORIGIN)
    session.commit()

    assert inbox.open_lead_counts(session, desk.whole_school_agent) == inbox.LeadCounts(3, 2)
    assert inbox.open_lead_counts(session, desk.campus_agent) == inbox.LeadCounts(1, 0)
    assert inbox.open_lead_counts(session, desk.ungranted_admin) == inbox.LeadCounts(0, 0)


def test_the_staff_home_counts_the_same_open_leads_beside_the_plan(app, session, desk):
    assign(session, desk.campus_lead, desk.whole_school_agent, actor_user_id=None, origin=NO_ORIGIN)
    session.commit()
    now = utcnow()

    for member in (desk.whole_school_agent, desk.campus_agent, desk.ungranted_admin):
        member.role  # noqa: B018  (loaded with the member on every request)
        with counted_statements(app) as statements:
            home = dashboard.for_member(session, member, now)
        assert home.lead_counts == inbox.open_lead_counts(session, member)
        assert len(statements) == 1  # the counts with the leads, the plan and its limits
    # A member who may not answer leads is shown none, and they are not counted.
    assert dashboard.for_member(session, desk.finance, now).lead_counts is None


def test_assignable_members_are_active_covering_and_may_answer_leads(session, make, desk):
    gone = make.customer_user(desk.campus_agent.customer, role=Role.AGENT, is_active=False)
    make.grant(gone, desk.school)
    session.commit()

    campus_lead = [m.id for m in inbox.assignable_members(session, desk.campus_lead)]
    school_lead = [m.id for m in inbox.assignable_members(session, desk.whole_school_lead)]

    # Not the finance member (may not answer), the deactivated one, the other campus's agent,
    # the ungranted admin, nor company B's admin with a grant row on A's school.
    assert sorted(campus_lead) == sorted([desk.campus_agent.id, desk.whole_school_agent.id])
    assert school_lead == [desk.whole_school_agent.id]


def test_parent_contact_follows_preference_and_consent(session, desk):
    lead = inbox.lead_for_staff(session, desk.campus_agent, desk.campus_lead.id)
    assert inbox.parent_contact(lead) == inbox.ParentContact("veli@example.com", None)

    lead.contact_preference = "either"
    assert inbox.parent_contact(lead).phone == "+905321234567"

    consent = session.scalar(select(UserConsent).where(UserConsent.id == lead.user_consent_id))
    consent.withdrawn_at = utcnow()
    session.flush()
    assert inbox.parent_contact(lead) is None
