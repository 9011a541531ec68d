"""A parent's lead: opening it, its timeline, assigning it, ending it, and its counters.

    open ──┬─→ won     (the parent accepted an offer: portal.leads.offers.accept_offer)
           ├─→ lost    (the staff ended it without a sale)
           └─→ closed  (withdrawn by the parent, or ended without an outcome)

An ended lead never opens again. The four counters of user_details (lead_open_count,
lead_won_count, lead_lost_count, lead_closed_count) move in the same transaction as the state,
by UPDATE ... SET x = x + 1 (never read, add, write back), so two requests at once cannot lose
a step; `portal.leads.counters.repair` recounts them from the leads table if they ever drift.
The staff's counts of open and unassigned leads per school and campus move the same way
(portal.leads.lead_counts).

Plain module: the caller passes the session and the request's Origin, and commits.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, raiseload

from portal.audit import Origin, log_event
from portal.auth import registration
from portal.clock import utcnow
from portal.database import update_if, update_or_insert
from portal.leads import lead_counts, notifications
from portal.models import (
    Campus,
    ConsentText,
    CustomerUser,
    School,
    User,
    UserConsent,
    UserContact,
    UserDetail,
)
from portal.models.leads import (
    CONTACT_PREFERENCES,
    LEAD_END_STATES,
    LEAD_EVENT_KINDS,
    Lead,
    LeadEvent,
    SchoolOffer,
)
from portal.models.schools import SCHOOL_LEVELS
from portal.paging import PER_PAGE, Page, paginate

# The user_details counter of each lead state.
COUNTER_OF_STATE = {
    "open": "lead_open_count",
    "won": "lead_won_count",
    "lost": "lead_lost_count",
    "closed": "lead_closed_count",
}
REQUEST_KEY_LENGTH = Lead.__table__.c.request_key.type.length
# user_consents.method of a consent given on the form asking a school.
LEAD_FORM_CONSENT = "lead_form"


class LeadError(Exception):
    """A refused step on a lead; the message is for a person to read."""


def open_lead(
    session: Session,
    user: User,
    *,
    school: School,
    campus: Campus | None,
    level: str,
    school_year: int,
    message: str,
    contact_preference: str,
    request_key: str,
    consent: UserConsent | None,
    origin: Origin,
    accepted_text: ConsentText | None = None,
) -> tuple[Lead, bool]:
    """Open a lead from `user` to `school` (or one `campus` of it): (the lead, True), or
    (the lead this parent already opened with `request_key`, False), so that a form sent
    twice (a double click, two requests racing) is one lead.

    Moves lead_open_count up, adds the "opened" event, queues the staff's new-lead mail
    (portal.leads.notifications) and the audit row, all in the caller's transaction.

    `consent` is the parent's live KVKK consent; a parent without one gives it on the form:
    `accepted_text` is then the consent text the form showed them and they ticked, recorded
    as their consent (method "lead_form") in the same transaction, before a new lead only.

    :raise LeadError: the school is not public, the campus is not a live campus of it, the
        level, contact preference or key is not valid, or there is neither a live consent of
        this user nor an accepted text.
    """
    existing = _lead_with_key(session, user.id, request_key)
    if existing is not None:
        return existing, False
    if consent is None and accepted_text is not None:
        consent = registration.give_consent(
            session, user, accepted_text.id, origin, LEAD_FORM_CONSENT, utcnow()
        )
        session.flush()
    _check_new_lead(user, school, campus, level, contact_preference, request_key, consent)
    lead = Lead(
        user_id=user.id,
        school_id=school.id,
        customer_id=school.customer_id,
        campus_id=campus.id if campus is not None else None,
        level=level,
        school_year=school_year,
        message=message.strip(),
        contact_preference=contact_preference,
        request_key=request_key,
        user_consent_id=consent.id,
        state="open",
    )
    try:
        # The unique (user_id, request_key) decides a race: the loser's insert is refused
        # and it answers with the winner's lead, in a savepoint so its transaction lives on.
        with session.begin_nested():
            session.add(lead)
            session.flush()
    except IntegrityError:
        # A locking read sees the row the winner committed, even under MariaDB's
        # repeatable read whose plain snapshot predates it.
        winner = _lead_with_key(session, user.id, request_key, locking=True)
        if winner is None:  # refused for another reason than the key: not ours to hide
            raise
        return winner, False
    _move_counters(session, user.id, up="open")
    lead_counts.move(session, lead.school_id, lead.campus_id, open_by=1, unassigned_by=1)
    add_event(session, lead, "opened", actor_user_id=user.id)
    log_event(
        session,
        "lead_opened",
        user.id,
        origin,
        lead_id=lead.id,
        school_id=school.id,
        campus_id=lead.campus_id,
    )
    notifications.lead_opened(session, lead)
    return lead, True


def _lead_with_key(
    session: Session, user_id: int, request_key: str, locking: bool = False
) -> Lead | None:
    query = select(Lead).where(Lead.user_id == user_id, Lead.request_key == request_key)
    if locking:
        query = query.with_for_update(read=True)
    return session.scalar(query)


def _check_new_lead(
    user: User,
    school: School,
    campus: Campus | None,
    level: str,
    contact_preference: str,
    request_key: str,
    consent: UserConsent,
) -> None:
    if not school.is_public:
        raise LeadError(_("This school is not open to requests."))
    if campus is not None and (campus.school_id != school.id or campus.deleted_at is not None):
        raise LeadError(_("This campus is not a campus of the school."))
    if level not in SCHOOL_LEVELS:
        raise LeadError(_("Choose a level of schooling."))
    if contact_preference not in CONTACT_PREFERENCES:
        raise LeadError(_("Choose how the school should contact you."))
    if not request_key or len(request_key) > REQUEST_KEY_LENGTH:
        raise LeadError(_("The form has expired; please send it again."))
    if consent is None or consent.user_id != user.id or consent.withdrawn_at is not None:
        raise LeadError(_("Your explicit consent is needed to share your details with a school."))


def end_lead(
    session: Session,
    lead: Lead,
    state: str,
    *,
    actor_user_id: int | None,
    origin: Origin,
    body: str | None = None,
) -> None:
    """End an open lead as won, lost or closed: ended_at, the counters (open −1, `state` +1)
    and the event, in the caller's transaction.

    The state changes by a conditional UPDATE (WHERE state = 'open'), so of two requests
    ending the same lead at once only one moves the counters.

    :raise LeadError: `state` is not an end state, or the lead is not open.
    """
    if state not in LEAD_END_STATES:
        raise LeadError(_("A lead ends as won, lost or closed."))
    now = utcnow()
    ended = update_if(
        session, lead, Lead.state == "open", state=state, ended_at=now, updated_at=now
    )
    if not ended:
        raise LeadError(_("This request is no longer open."))
    _move_counters(session, lead.user_id, up=state, down="open")
    # Whoever follows it now: our UPDATE holds the row, so an assignment made meanwhile by
    # another request is committed and seen here, never lost from the counts.
    followed = session.scalar(select(Lead.assigned_customer_user_id).where(Lead.id == lead.id))
    lead_counts.move(
        session,
        lead.school_id,
        lead.campus_id,
        open_by=-1,
        unassigned_by=-1 if followed is None else 0,
    )
    add_event(session, lead, state, actor_user_id=actor_user_id, body=body)
    log_event(session, "lead_ended", actor_user_id, origin, lead_id=lead.id, state=state)


def add_event(
    session: Session,
    lead: Lead,
    kind: str,
    *,
    actor_user_id: int | None,
    body: str | None = None,
    internal: bool = False,
) -> LeadEvent:
    """Add an event to the lead's timeline; `internal` ones the parent never sees.

    :raise ValueError: `kind` is not one of LEAD_EVENT_KINDS (a programming error).
    """
    if kind not in LEAD_EVENT_KINDS:
        raise ValueError(f"unknown lead event {kind!r}")
    event = LeadEvent(
        lead_id=lead.id,
        kind=kind,
        actor_user_id=actor_user_id,
        body=body,
        is_internal=internal,
        created_at=utcnow(),
    )
    session.add(event)
    return event


def assign(
    session: Session,
    lead: Lead,
    assignee: CustomerUser | None,
    *,
    actor_user_id: int | None,
    origin: Origin,
) -> LeadEvent:
    """Record who on the staff follows the lead (None: nobody), with an internal "assigned"
    event naming them. Whether `assignee` may work on the lead is the caller's check
    (access.grants); this only records it. Raises nothing.

    The lead's row is locked and read first, so the staff's unassigned count moves by what
    the lead really was, whoever assigned it a moment before."""
    state, was = session.execute(
        select(Lead.state, Lead.assigned_customer_user_id)
        .where(Lead.id == lead.id)
        .with_for_update()
    ).one()
    lead.assigned_customer_user_id = assignee.id if assignee is not None else None
    if state == "open" and (was is None) != (assignee is None):
        unassigned_by = 1 if assignee is None else -1
        lead_counts.move(session, lead.school_id, lead.campus_id, unassigned_by=unassigned_by)
    body = assignee.user.name if assignee is not None else None
    event = add_event(
        session, lead, "assigned", actor_user_id=actor_user_id, body=body, internal=True
    )
    log_event(
        session,
        "lead_assigned",
        actor_user_id,
        origin,
        lead_id=lead.id,
        customer_user_id=lead.assigned_customer_user_id,
    )
    return event


def _move_counters(session: Session, user_id: int, *, up: str, down: str | None = None) -> None:
    """One counter up (and one down) in one UPDATE; the row is made if the parent has none."""
    up_column = getattr(UserDetail, COUNTER_OF_STATE[up])
    values = {up_column: up_column + 1}
    if down is not None:
        down_column = getattr(UserDetail, COUNTER_OF_STATE[down])
        # Never below zero (the table's check): a drifted counter waits for the repair
        # command instead of failing the parent's request.
        values[down_column] = case((down_column > 0, down_column - 1), else_=0)
    statement = (
        update(UserDetail)
        .where(UserDetail.user_id == user_id)
        .values(values)
        .execution_options(synchronize_session="fetch")
    )

    def make_row() -> None:
        session.add(UserDetail(user_id=user_id, **{COUNTER_OF_STATE[up]: 1}))
        session.flush()

    update_or_insert(session, statement, make_row)


# --- What the parent reads -------------------------------------------------------------------


def live_consent(session: Session, user_id: int) -> UserConsent | None:
    """The parent's newest explicit consent that is not withdrawn, or None."""
    return session.scalar(
        select(UserConsent)
        .where(UserConsent.user_id == user_id, UserConsent.withdrawn_at.is_(None))
        .order_by(UserConsent.given_at.desc(), UserConsent.id.desc())
        .limit(1)
    )


class ListedLead(NamedTuple):
    """What a list's card shows of a lead (the parent's requests, the staff's inbox): read
    as columns, since twenty Lead objects a page (identity map, state) cost more than their
    statement."""

    id: int
    level: str
    created_at: datetime
    state: str


# What a ListedLead is read from, in its order.
LISTED_LEAD_COLUMNS = (Lead.id, Lead.level, Lead.created_at, Lead.state)


@dataclass(frozen=True)
class ParentLead:
    """A row of the parent's list: the lead, where it went, and its offers still open."""

    lead: ListedLead
    school_name: str
    school_slug: str
    campus_name: str | None
    open_offers: int


def parent_leads_page(
    session: Session, user_id: int, number: int, today: date, per_page: int = PER_PAGE
) -> Page:
    """Page `number` of the parent's leads, newest first, each with its school and campus
    names and how many of its offers are open and not expired on `today` (one statement, the
    count with it)."""
    page = paginate(
        session,
        _parent_leads_statement(),
        number,
        per_page,
        scalars=False,
        total=_parent_leads_total(),
        parameters={"user_id": user_id, "today": today},
    )
    n = len(LISTED_LEAD_COLUMNS)  # the lead's columns first, then where it went and its offers
    return replace(page, items=[ParentLead(ListedLead(*row[:n]), *row[n:]) for row in page.items])


@cache
def _parent_leads_statement() -> Select:
    """Parent `user_id`'s leads, newest first, with the offers still open on `today`; built
    once (decisions.md, "Statements built once")."""
    open_offers = (
        select(func.count(SchoolOffer.id))
        .where(
            SchoolOffer.lead_id == Lead.id,
            SchoolOffer.status == "open",
            SchoolOffer.valid_until >= bindparam("today"),
            Lead.state == "open",
        )
        .correlate(Lead)
        .scalar_subquery()
    )
    return (
        select(
            *LISTED_LEAD_COLUMNS,
            School.name,
            School.slug,
            Campus.name,
            open_offers,
        )
        .join(School, School.id == Lead.school_id)
        .outerjoin(Campus, Campus.id == Lead.campus_id)
        .where(Lead.user_id == bindparam("user_id"))
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        # A school or campus deleted since still names the parent's own request.
        .execution_options(include_deleted=True)
    )


@cache
def _parent_leads_total() -> Select:
    return select(func.count(Lead.id)).where(Lead.user_id == bindparam("user_id"))


def parent_lead(session: Session, user_id: int, lead_id: int) -> Lead | None:
    """The parent's own lead with its school and campus, or None (unknown or another's)."""
    return session.scalar(
        select(Lead)
        .where(Lead.id == lead_id, Lead.user_id == user_id)
        .options(joinedload(Lead.school), joinedload(Lead.campus), raiseload("*"))
        .execution_options(include_deleted=True)
    )


def parent_timeline(session: Session, lead: Lead) -> list[LeadEvent]:
    """The lead's events the parent may see (never the internal ones), oldest first."""
    return list(
        session.scalars(
            select(LeadEvent)
            .where(LeadEvent.lead_id == lead.id, LeadEvent.is_internal.is_(False))
            .order_by(LeadEvent.created_at, LeadEvent.id)
            .options(raiseload("*"))
        )
    )


def offers_of(session: Session, lead: Lead) -> list[SchoolOffer]:
    """The lead's offers, oldest first."""
    return list(
        session.scalars(
            select(SchoolOffer)
            .where(SchoolOffer.lead_id == lead.id)
            .order_by(SchoolOffer.created_at, SchoolOffer.id)
            .options(raiseload("*"))
        )
    )


def has_phone(session: Session, user_id: int) -> bool:
    """The parent gave a phone number: in their profile, or as one of their contacts."""
    profile = session.scalar(select(UserDetail.phone).where(UserDetail.user_id == user_id))
    if profile:
        return True
    return (
        session.scalar(
            select(UserContact.id)
            .where(UserContact.user_id == user_id, UserContact.contact_type == "phone")
            .limit(1)
        )
        is not None
    )
