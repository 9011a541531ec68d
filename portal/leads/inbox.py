"""The staff's inbox: the leads a member's grants cover, a page at a time, and one lead.

Every question here goes through `access.grants.covers`, the one grant rule as SQL: a lead to
a whole school needs a whole-school grant, a campus lead a whole-school grant or a grant
naming that campus. A lead outside it is, to this module, a lead that does not exist (None),
so a list, a count, a page and a form all refuse the same leads.

Plain module: the caller passes the session and the member.
"""

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, Subquery, bindparam, select
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.access.grants import covers_bound, members_covering
from portal.access.permissions import Permission, can
from portal.leads import lead_counts
from portal.leads.leads import LISTED_LEAD_COLUMNS, ListedLead
from portal.models import (
    Campus,
    CustomerUser,
    School,
    User,
    UserConsent,
    UserDetail,
)
from portal.models.base import MAX_ID
from portal.models.leads import LEAD_STATES, Lead, LeadEvent, SchoolOffer
from portal.paging import PAST_THE_END, PER_PAGE, Page, count_statement, counted, last_page

# The inbox's filters: a state (or all of them) and whose leads.
INBOX_STATES = (*LEAD_STATES, "all")
ASSIGNED_FILTERS = ("anyone", "me", "unassigned")


@dataclass(frozen=True)
class InboxRow:
    """A lead as the inbox lists it: the lead's own columns and the names shown beside it."""

    lead: ListedLead
    school_name: str
    campus_name: str | None
    parent_name: str | None
    assignee_name: str | None


@dataclass(frozen=True)
class LeadCounts:
    """What the staff dashboard shows: the open leads the member may work on."""

    open: int
    unassigned: int


def inbox_page(
    session: Session,
    customer_user: CustomerUser,
    *,
    state: str = "open",
    assigned: str | None = None,
    school_id: int | None = None,
    number: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Page `number` of the leads the member's grants cover, newest first; its items are
    `InboxRow`s. One statement (the page with its names and the count) however long the list;
    a page past its end (a stale link) costs two more. Lazy loads raise.

    `state` is one of INBOX_STATES; `assigned` None/"anyone", "me" or "unassigned";
    `school_id` narrows to one school (a school outside the grants simply lists nothing).

    :raise ValueError: for a state or an assigned filter that is not one of the above.
    """
    if state not in INBOX_STATES:
        raise ValueError(f"unknown inbox state {state!r}")
    if assigned not in (None, *ASSIGNED_FILTERS):
        raise ValueError(f"unknown assigned filter {assigned!r}")
    if not customer_user.is_active:  # covered by nothing (covers_bound leaves this to us)
        return Page(items=[], number=1, per_page=per_page, total=0)
    parameters = {
        "customer_id": customer_user.customer_id,
        "customer_user_id": customer_user.id,
        "state": state,
        "school_id": school_id,
    }
    shape = (state == "all", assigned or "anyone", school_id is not None)
    # The open leads of all the member's schools, for anyone or nobody, are counted already
    # (portal.leads.lead_counts); any other list counts its own rows beside the page.
    kept_count = state == "open" and school_id is None
    number = min(max(number, 1), PAST_THE_END)

    def page_rows(number: int) -> list:
        offset = (number - 1) * per_page
        arguments = {**parameters, "page_limit": per_page, "page_offset": offset}
        return session.execute(_page_statement(*shape, kept_count), arguments).all()

    rows = page_rows(number)
    if not rows and number > 1:
        # Past the end (a stale link): the list counted on its own, then its last page.
        count = session.scalar(_count_statement(*shape, kept_count), parameters)
        number = last_page(int(count or 0), per_page)
        rows = page_rows(number)
    if not rows:
        return Page(items=[], number=1, per_page=per_page, total=0)
    n = len(LISTED_LEAD_COLUMNS)  # the lead's columns first, then the names beside it
    items = [InboxRow(ListedLead(*row[:n]), *row[n : n + 4]) for row in rows]
    # int(): a count made by a SUM is a decimal on MariaDB.
    return Page(items=items, number=number, per_page=per_page, total=int(rows[0][-1]))


@cache
def _page_statement(all_states: bool, assigned: str, one_school: bool, kept_count: bool):
    """One page of the list, newest first, with the names shown beside its leads and the
    list's count as a last column: one statement, built once per shape of the filters
    (`page_limit` and `page_offset` bound). The page is chosen on leads alone
    (_ids_statement), and the names are joined to its rows only."""
    chosen = (
        counted(
            _ids_statement(all_states, assigned, one_school),
            _counted_total(assigned) if kept_count else None,
        )
        .add_columns(Lead.created_at)
        .limit(bindparam("page_limit"))
        .offset(bindparam("page_offset"))
        .subquery("page")
    )
    return (
        _names_statement()
        .add_columns(chosen.c.total)
        .join(chosen, chosen.c.id == Lead.id)
        .order_by(chosen.c.created_at.desc(), chosen.c.id.desc())
    )


@cache
def _count_statement(all_states: bool, assigned: str, one_school: bool, kept_count: bool):
    """How many leads the list holds (for a page past its end), from the kept counts where
    _page_statement reads them."""
    ids = _ids_statement(all_states, assigned, one_school)
    return count_statement(ids, _counted_total(assigned) if kept_count else None)


@cache
def _ids_statement(all_states: bool, assigned: str, one_school: bool) -> Select:
    """The page's ids, newest first, for one shape of the filters; built once per shape with
    the member and the filters' values as bound parameters (decisions.md, "Statements built
    once"). The page is chosen on leads alone, and the names beside them are joined to those
    twenty rows only. The company's leads come in date order from ix_leads_company_inbox
    (customer_id, state, created_at, id, school_id, campus_id, assigned_customer_user_id), so
    the page is its first entries that the grants cover: for 200 schools' 11,700 open leads,
    0.1 ms against 9 ms reading and sorting all of them by school (migration 0023)."""
    query = select(Lead.id).where(covers_bound(Lead.school_id, Lead.campus_id, Lead.customer_id))
    if not all_states:
        query = query.where(Lead.state == bindparam("state"))
    if assigned == "me":
        query = query.where(Lead.assigned_customer_user_id == bindparam("customer_user_id"))
    elif assigned == "unassigned":
        query = query.where(Lead.assigned_customer_user_id.is_(None))
    if one_school:
        query = query.where(Lead.school_id == bindparam("school_id"))
    return query.order_by(Lead.created_at.desc(), Lead.id.desc())


@cache
def _counted_total(assigned: str) -> Select | None:
    """The open leads' count from the kept counts, for the open list of all the member's
    schools: for anyone, for nobody, or None (the member's own are counted from the rows)."""
    counts = lead_counts.of_member_subquery()
    if assigned == "anyone":
        return select(counts.c.open)
    if assigned == "unassigned":
        return select(counts.c.unassigned)
    return None


def _names_statement() -> Select:
    """Leads with the names shown beside them: their school's and campus's, the parent's and
    the assignee's."""
    assignee = aliased(CustomerUser)
    assignee_user = aliased(User)
    return (
        select(
            *LISTED_LEAD_COLUMNS,
            School.name,
            Campus.name,
            User.name,
            assignee_user.name,
        )
        .join(School, School.id == Lead.school_id)
        .outerjoin(Campus, Campus.id == Lead.campus_id)
        # Outer: a parent who deleted their account leaves the lead, without a name.
        .outerjoin(User, User.id == Lead.user_id)
        .outerjoin(assignee, assignee.id == Lead.assigned_customer_user_id)
        .outerjoin(assignee_user, assignee_user.id == assignee.user_id)
    )


def open_lead_counts(session: Session, customer_user: CustomerUser) -> LeadCounts:
    """How many open leads the member may work on, and how many of them nobody follows
    (one statement, none for an inactive member)."""
    if not customer_user.is_active:
        return LeadCounts(open=0, unassigned=0)
    row = session.execute(
        _open_counts_statement(),
        {"customer_id": customer_user.customer_id, "customer_user_id": customer_user.id},
    ).one()
    return LeadCounts(open=int(row[0]), unassigned=int(row[1]))


@cache
def _open_counts_statement() -> Select:
    """Built once: every staff member's home asks (decisions.md, "Statements built once")."""
    counts = open_counts_subquery()
    return select(counts.c.open, counts.c.unassigned)


def open_counts_subquery() -> Subquery:
    """One row: the open leads the member (bound parameters `customer_id` and
    `customer_user_id`, an active member) may work on, and how many nobody follows; for a
    statement that asks for more beside them (the staff home). Read from the counts kept
    per school and campus (portal.leads.lead_counts), not from the leads."""
    return lead_counts.of_member_subquery()


def lead_for_staff(session: Session, customer_user: CustomerUser, lead_id: int) -> Lead | None:
    """The lead with its school, campus, parent (and their details), timeline (with who did
    each step) and offers, when the member's grants cover it; None otherwise, the same answer
    as for an id that names no lead."""
    if not 0 < lead_id <= MAX_ID or not customer_user.is_active:
        return None  # an inactive member is covered by nothing (access.grants.covers)
    lead = session.scalar(
        _lead_statement(),
        {
            "lead_id": lead_id,
            "customer_id": customer_user.customer_id,
            "customer_user_id": customer_user.id,
        },
    )
    if lead is None:
        return None
    # The timeline and the offers by statements of their own, built once, set as the loaded
    # collections: selectinload() builds its statement, and its cache key, on every load
    # (a third of this function's time).
    by_lead = {"lead_id": lead.id}
    set_committed_value(lead, "events", list(session.scalars(_events_statement(), by_lead)))
    set_committed_value(lead, "offers", list(session.scalars(_offers_statement(), by_lead)))
    return lead


@cache
def _lead_statement() -> Select:
    """One lead, `lead_id`, if the member's grants cover it; built once: every step on a lead
    asks (decisions.md, "Statements built once")."""
    return (
        select(Lead)
        .where(Lead.id == bindparam("lead_id"), covers_bound(Lead.school_id, Lead.campus_id))
        # The related rows with the columns the page shows (their school and company
        # besides, which the steps on a lead read): a school's and a user's full rows were
        # most of what the statement carried. Another column is loaded when first read.
        .options(
            joinedload(Lead.school).load_only(School.name, School.slug, School.customer_id),
            joinedload(Lead.campus).load_only(Campus.name, Campus.school_id),
            joinedload(Lead.user)
            .load_only(User.name, User.email)
            .joinedload(User.details)
            .load_only(UserDetail.phone),
            joinedload(Lead.assignee).joinedload(CustomerUser.user).load_only(User.name),
            joinedload(Lead.user_consent).load_only(UserConsent.withdrawn_at),
        )
        # FOR UPDATE is not asked: the domain's steps guard themselves (a conditional UPDATE
        # ends a lead once), and a page view must not wait on another member's step.
    )


@cache
def _events_statement() -> Select:
    """The timeline of lead `lead_id`, oldest first, with who did each step."""
    return (
        select(LeadEvent)
        .where(LeadEvent.lead_id == bindparam("lead_id"))
        .options(joinedload(LeadEvent.actor).load_only(User.name))
        .order_by(LeadEvent.created_at, LeadEvent.id)
    )


@cache
def _offers_statement() -> Select:
    """The offers of lead `lead_id`, oldest first (the relationship's order)."""
    return (
        select(SchoolOffer)
        .where(SchoolOffer.lead_id == bindparam("lead_id"))
        .order_by(SchoolOffer.created_at, SchoolOffer.id)
    )


def assignable_members(session: Session, lead: Lead) -> list[CustomerUser]:
    """The colleagues a lead may be given to: active members of the school's company whose
    grants cover the lead and who may answer leads, by name."""
    members = [
        member
        for member in members_covering(session, lead.school_id, lead.campus_id)
        if can(member, Permission.ANSWER_LEADS)
    ]
    return sorted(members, key=lambda member: (member.user.name.casefold(), member.id))


def offers_of(lead: Lead) -> list[SchoolOffer]:
    """The lead's offers, newest first."""
    return sorted(lead.offers, key=lambda offer: (offer.created_at, offer.id), reverse=True)


@dataclass(frozen=True)
class ParentContact:
    """How the school may reach the parent of a lead."""

    email: str
    phone: str | None


def parent_contact(lead: Lead) -> ParentContact | None:
    """The parent's contact details as the lead's consent and contact preference allow: None
    once the KVKK consent the lead was sent under is withdrawn (or the account is gone); the
    e-mail address otherwise, and the phone of the parent's profile only when they asked to
    be called (preference "phone" or "either")."""
    consent = lead.user_consent
    if consent is None or consent.withdrawn_at is not None or lead.user is None:
        return None
    phone = None
    if lead.contact_preference in ("phone", "either") and lead.user.details is not None:
        phone = lead.user.details.phone
    return ParentContact(email=lead.user.email, phone=phone)
