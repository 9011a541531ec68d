"""A company's team: its members (customer_users), their roles, titles and grants, and who is
active; the plan's team-size limit.

Plain module: the caller passes the session, the acting member, the request's Origin and the
time, and commits. Every change needs Permission.MANAGE_TEAM, asked here (so a CLI or demo
caller cannot get round it), touches only the acting member's own company, and writes an audit
row naming the acting user.

Two rules need the whole team at once, and so are serialised per company by locking the
company's `customers` row (SELECT ... FOR UPDATE; SQLite has one writer anyway):

- **Somebody can still manage the team.** The last active member whose role carries
  MANAGE_TEAM cannot be deactivated or given a role without it, by themselves or by another;
  two admins demoting each other at once cannot both succeed.
- **The team fits the plan.** Active members plus pending invitations may not exceed the
  plan's "team_members" limit (`limit_for`; FREE_LIMITS without a live plan). A pending
  invitation holds its place until it is accepted, revoked or expires, so accepting one never
  finds the team full. Deactivated members do not count; reactivating one needs a free place.

A member who loses a grant or is deactivated loses the access on their next request: the
audience hook (portal.access.audience_of_user) and portal.access.grants read the member's row
and grants from the database on every request, never from the browser session.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Label, Row, Select, and_, bindparam, delete, func, literal, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload

from portal.access.permissions import ROLE_PERMISSIONS, Permission, Role, can, roles_with
from portal.audit import Origin, log_event
from portal.billing.limits import limit_columns, limit_for, limit_of
from portal.clock import istanbul_today
from portal.models import (
    Campus,
    Customer,
    CustomerUser,
    CustomerUserInvitation,
    CustomerUserRole,
    CustomerUserSchool,
    CustomerUserTitle,
    School,
    User,
)
from portal.models.base import UTCDateTime
from portal.paging import PER_PAGE, Page, paginate

TEAM_MEMBERS = "team_members"  # the plan_features code of the team-size limit
# Without a live plan a company may have three active members (the admin and two colleagues),
# pending invitations included.
FREE_LIMITS = {TEAM_MEMBERS: 3}
# How many grants the team list shows per member; the member's page shows them all.
GRANTS_SHOWN = 5


class TeamError(Exception):
    """A change the team rules refuse; `code` names the rule (for the view's message)."""

    code = "team_error"


class LastManager(TeamError):
    """The change would leave the company with no active member who can manage the team."""

    code = "last_manager"


class TeamFull(TeamError):
    """The plan's team-size limit is reached (pending invitations included)."""

    code = "team_full"

    def __init__(self, limit: int):
        super().__init__(f"at most {limit} team members")
        self.limit = limit


class UnknownChoice(TeamError):
    """A role, title, school or campus that is not one of the offered choices."""

    code = "unknown_choice"


@dataclass(frozen=True)
class GrantLabel:
    """One grant as the team pages show it: a whole school, or one campus of it."""

    grant_id: int
    school_name: str
    campus_name: str | None


class ListedMember(NamedTuple):
    """A member as the team list shows them: the columns, no objects (twenty members with
    their users, roles and titles were eighty objects to build on every view)."""

    id: int
    name: str
    email: str
    role_code: str
    role_name: str
    title_name: str | None
    is_active: bool


@dataclass
class MemberRow:
    """A member on the team list with the first grants and how many more there are."""

    member: ListedMember
    grants: list[GrantLabel] = field(default_factory=list)
    more_grants: int = 0


@dataclass(frozen=True)
class TeamUsage:
    """How many places of the plan's team are used, and how many there are (None: no limit)."""

    members: int
    pending: int
    limit: int | None

    @property
    def used(self) -> int:
        return self.members + self.pending

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def require_manager(actor: CustomerUser) -> None:
    """:raise PermissionError: when `actor` may not manage the team."""
    if not can(actor, Permission.MANAGE_TEAM):
        raise PermissionError("this member may not manage the team")


def role_manages_team(role: CustomerUserRole) -> bool:
    """The role carries MANAGE_TEAM (an unknown role code carries nothing)."""
    try:
        return Permission.MANAGE_TEAM in ROLE_PERMISSIONS[Role(role.code)]
    except ValueError:
        return False


def lock_company(session: Session, customer_id: int) -> None:
    """Serialise team changes of one company until the caller's transaction ends."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def team_limit(session: Session, customer_id: int) -> int | None:
    """The plan's team-size limit of the company (None: unlimited)."""
    return limit_for(session, TEAM_MEMBERS, FREE_LIMITS, customer_id=customer_id)


def pending_clause(now: datetime):
    """An invitation that may still be accepted."""
    return and_(
        CustomerUserInvitation.accepted_at.is_(None),
        CustomerUserInvitation.revoked_at.is_(None),
        CustomerUserInvitation.expires_at > now,
    )


def places_taken(customer_id, now) -> tuple[Label[int], Label[int]]:
    """The columns `members` (active) and `pending` (invitations that may still be accepted)
    of the company: the places of the plan's team taken, as the team page and the dashboard
    count them."""
    members = select(func.count(CustomerUser.id)).where(
        CustomerUser.customer_id == customer_id, CustomerUser.is_active
    )
    pending = select(func.count(CustomerUserInvitation.id)).where(
        CustomerUserInvitation.customer_id == customer_id, pending_clause(now)
    )
    return (
        members.scalar_subquery().label("members"),
        pending.scalar_subquery().label("pending"),
    )


class _UsageRow(NamedTuple):
    """_usage_columns() as read: the places taken and limit_columns()' three."""

    members: int
    pending: int
    subscription_id: int | None
    included: bool | None
    limit_value: int | None


def _usage_columns() -> tuple[Label, ...]:
    """places_taken() of the company `customer_id` at `now`, with the plan's team-size limit
    (limits.limit_columns): _UsageRow's columns, bound by _usage_parameters()."""
    return (
        *places_taken(bindparam("customer_id"), bindparam("now", type_=UTCDateTime())),
        *limit_columns("customer"),
    )


def _usage_parameters(customer_id: int, now: datetime) -> dict:
    return {
        "customer_id": customer_id,
        "now": now,
        # The limit's parameters (limit_columns): the company's plan in force today.
        "owner_id": customer_id,
        "today": istanbul_today(now),
        "feature_code": TEAM_MEMBERS,
    }


def _usage_of(row: _UsageRow) -> TeamUsage:
    return TeamUsage(row.members, row.pending, limit_of(row, TEAM_MEMBERS, FREE_LIMITS))


@cache
def _usage_statement() -> Select:
    """Built once (decisions.md, "Statements built once")."""
    return select(*_usage_columns())


def team_usage(session: Session, customer_id: int, now: datetime) -> TeamUsage:
    """Active members, pending invitations and the plan's limit (one statement)."""
    row = session.execute(_usage_statement(), _usage_parameters(customer_id, now)).one()
    return _usage_of(_UsageRow(*row))


def check_room(session: Session, customer_id: int, now: datetime) -> None:
    """:raise TeamFull: when one more member or invitation would pass the plan's limit.

    Call it with the company locked (lock_company). The counts are locking reads of the rows
    rather than COUNT(*): under MariaDB's REPEATABLE READ a plain read sees the snapshot the
    transaction began with, not what a concurrent invitation just committed, and PostgreSQL
    allows no FOR UPDATE with an aggregate.
    """
    limit = team_limit(session, customer_id)
    if limit is None:
        return
    members = session.scalars(
        select(CustomerUser.id)
        .where(CustomerUser.customer_id == customer_id, CustomerUser.is_active)
        .with_for_update()
    ).all()
    pending = session.scalars(
        select(CustomerUserInvitation.id)
        .where(CustomerUserInvitation.customer_id == customer_id, pending_clause(now))
        .with_for_update()
    ).all()
    if len(members) + len(pending) >= limit:
        raise TeamFull(limit)


def roles(session: Session) -> tuple[Row, ...]:
    """The roles a member may be given (customer_user_roles), as (id, code, name) rows in
    their table's order: plain values, which a caller may keep between requests."""
    columns = (CustomerUserRole.id, CustomerUserRole.code, CustomerUserRole.name)
    return tuple(session.execute(select(*columns).order_by(CustomerUserRole.id)))


def titles(session: Session) -> tuple[Row, ...]:
    """The titles a member may be given (customer_user_titles), as (id, code, name) rows in
    their table's order: plain values, which a caller may keep between requests."""
    columns = (CustomerUserTitle.id, CustomerUserTitle.code, CustomerUserTitle.name)
    return tuple(session.execute(select(*columns).order_by(CustomerUserTitle.id)))


def role_and_title(
    session: Session, role_id: int, title_id: int | None
) -> tuple[CustomerUserRole, CustomerUserTitle | None]:
    """The rows of a chosen role and title.

    :raise UnknownChoice: for an id that is not in the tables.
    """
    role = session.get(CustomerUserRole, role_id)
    title = session.get(CustomerUserTitle, title_id) if title_id is not None else None
    if role is None or (title_id is not None and title is None):
        raise UnknownChoice("no such role or title")
    return role, title


# --- Reading ---------------------------------------------------------------------------------


def _members_in_name_order() -> Select:
    """The members of the company `customer_id`, by their user's name (joined for the order)."""
    return (
        select(CustomerUser)
        .join(User, User.id == CustomerUser.user_id)
        .where(CustomerUser.customer_id == bindparam("customer_id"))
        .order_by(User.name, CustomerUser.id)
    )


@cache
def _members_statement() -> Select:
    """The members of the company `customer_id` with their user, role and title, by name;
    built once, as the team pages ask on every visit (decisions.md, "Statements built
    once")."""
    # No raiseload here: the acting member and their user are in this list too, and the
    # option would stay on those objects for the rest of the request (the layout reads
    # them). The statement-count test keeps the list free of lazy loads instead.
    return _members_in_name_order().options(
        joinedload(CustomerUser.user),
        joinedload(CustomerUser.role),
        joinedload(CustomerUser.title),
    )


@cache
def _team_rows_statement() -> Select:
    """The team list's members as ListedMember columns, in `_members_in_name_order`'s order
    (its join to `users` gives the names and addresses too), each row followed by the team's
    usage (_usage_columns: uncorrelated, so computed once for the statement)."""
    return (
        _members_in_name_order()
        .with_only_columns(
            CustomerUser.id,
            User.name,
            User.email,
            CustomerUserRole.code,
            CustomerUserRole.name,
            CustomerUserTitle.name,
            CustomerUser.is_active,
            *_usage_columns(),
        )
        .join(CustomerUserRole, CustomerUserRole.id == CustomerUser.role_id)
        .outerjoin(CustomerUserTitle, CustomerUserTitle.id == CustomerUser.title_id)
    )


@cache
def _members_total_statement() -> Select:
    return select(func.count(CustomerUser.id)).where(
        CustomerUser.customer_id == bindparam("customer_id")
    )


def team_page(
    session: Session, customer_id: int, number: int, now: datetime, per_page: int = PER_PAGE
) -> tuple[Page, TeamUsage]:
    """Page `number` of the company's members (active and deactivated) by name, each a
    `MemberRow` with its first GRANTS_SHOWN grants, and the team's usage at `now` (as
    team_usage()): two statements however large the team and however many grants each
    member holds."""
    page = paginate(
        session,
        _team_rows_statement(),
        number,
        per_page,
        scalars=False,
        total=_members_total_statement(),
        parameters=_usage_parameters(customer_id, now),
    )
    if not page.items:  # no member at all: nobody to read the usage beside
        return page, team_usage(session, customer_id, now)
    listed = len(ListedMember._fields)
    usage = _usage_of(_UsageRow(*page.items[0][listed:]))
    rows = {row[0]: MemberRow(ListedMember(*row[:listed])) for row in page.items}
    for member_id, label, count in _first_grants(session, customer_id, list(rows)):
        row = rows[member_id]
        row.grants.append(label)
        row.more_grants = count - min(count, GRANTS_SHOWN)
    return replace(page, items=list(rows.values())), usage


def _first_grants(session: Session, customer_id: int, member_ids: Sequence[int]):
    """(member id, GrantLabel, the member's number of grants) for the first GRANTS_SHOWN
    grants of each member, by school and campus name, in one statement (window functions)."""
    rows = session.execute(
        _first_grants_statement(),
        {"customer_id": customer_id, "member_ids": list(member_ids), "shown": GRANTS_SHOWN},
    )
    for row in rows:
        yield (
            row.member_id,
            GrantLabel(row.grant_id, row.school_name, row.campus_name),
            row.grants,
        )


@cache
def _first_grants_statement() -> Select:
    """The first `shown` grants of each member of `member_ids` in company `customer_id`, with
    the member's number of grants; built once (decisions.md, "Statements built once")."""
    order = (School.name, Campus.name.is_not(None), Campus.name, CustomerUserSchool.id)
    ranked = (
        select(
            CustomerUserSchool.customer_user_id.label("member_id"),
            CustomerUserSchool.id.label("grant_id"),
            School.name.label("school_name"),
            Campus.name.label("campus_name"),
            func.row_number()
            .over(partition_by=CustomerUserSchool.customer_user_id, order_by=order)
            .label("position"),
            func.count(literal(1))
            .over(partition_by=CustomerUserSchool.customer_user_id)
            .label("grants"),
        )
        .join(School, School.id == CustomerUserSchool.school_id)
        .outerjoin(Campus, Campus.id == CustomerUserSchool.campus_id)
        .where(
            CustomerUserSchool.customer_user_id.in_(bindparam("member_ids", expanding=True)),
            School.customer_id == bindparam("customer_id"),
            School.deleted_at.is_(None),
            or_(CustomerUserSchool.campus_id.is_(None), Campus.deleted_at.is_(None)),
        )
        .subquery()
    )
    return (
        select(ranked)
        .where(ranked.c.position <= bindparam("shown"))
        .order_by(ranked.c.member_id, ranked.c.position)
    )


def member_of(session: Session, customer_id: int, member_id: int) -> CustomerUser | None:
    """The company's member with this id (with user, role and title), or None: a member of
    another company is as unknown as an id that does not exist."""
    return session.scalar(
        _members_statement().where(CustomerUser.id == member_id), {"customer_id": customer_id}
    )


def member_grants(session: Session, member: CustomerUser) -> list[GrantLabel]:
    """Every grant of the member, by school and campus name (one statement). Shown whether or
    not the member is active: a deactivated member's grants come back with them."""
    rows = session.execute(
        select(CustomerUserSchool.id, School.name, Campus.name)
        .join(School, School.id == CustomerUserSchool.school_id)
        .outerjoin(Campus, Campus.id == CustomerUserSchool.campus_id)
        .where(
            CustomerUserSchool.customer_user_id == member.id,
            School.customer_id == member.customer_id,
        )
        .order_by(School.name, Campus.name.is_not(None), Campus.name, CustomerUserSchool.id)
    )
    return [GrantLabel(grant_id, school, campus) for grant_id, school, campus in rows]


@dataclass(frozen=True)
class GrantTarget:
    """A school of the company with its live campuses: what the grant form offers once the
    school is chosen."""

    school: "Named"
    campuses: list["Named"]


class Named(NamedTuple):
    """A school or a campus as the grant form names it: its id and name, no more (a company
    of 200 schools offers 200 choices, too many to load as ORM objects for one select)."""

    id: int
    name: str


def grant_schools(session: Session, customer_id: int) -> list[Named]:
    """The company's live schools by name: the grant form's first question (one statement).
    Their campuses are asked for once a school is chosen (grant_target): a company of 200
    schools has 600 more, too many for one select a person can read (or a page can carry)."""
    return [
        Named(*row)
        for row in session.execute(
            select(School.id, School.name)
            .where(School.customer_id == customer_id, School.deleted_at.is_(None))
            .order_by(School.name, School.id)
        )
    ]


def grant_target(
    session: Session, customer_id: int, kind: str, target_id: int
) -> GrantTarget | None:
    """The live school of the company that `kind` ("school" or "campus") and `target_id` name
    (the school itself, or the campus's school), with its live campuses by name; None when
    there is no such school, campus or company's school (two statements at most)."""
    school_id = target_id
    if kind == "campus":
        school_id = session.scalar(
            select(Campus.school_id).where(Campus.id == target_id, Campus.deleted_at.is_(None))
        )
    elif kind != "school":
        return None
    if school_id is None:
        return None
    rows = session.execute(
        select(School.id, School.name, Campus.id, Campus.name)
        .outerjoin(Campus, and_(Campus.school_id == School.id, Campus.deleted_at.is_(None)))
        .where(
            School.id == school_id,
            School.customer_id == customer_id,
            School.deleted_at.is_(None),
        )
        .order_by(Campus.name, Campus.id)
    ).all()
    if not rows:
        return None
    school = Named(rows[0][0], rows[0][1])
    return GrantTarget(school, [Named(row[2], row[3]) for row in rows if row[2] is not None])


# --- Changing ----------------------------------------------------------------------------------


def _other_managers(session: Session, customer_id: int, member_id: int) -> int:
    """How many active members besides `member_id` may manage the team (a locking read: see
    check_room)."""
    codes = [str(role) for role in roles_with(Permission.MANAGE_TEAM)]
    role_ids = session.scalars(
        select(CustomerUserRole.id).where(CustomerUserRole.code.in_(codes))
    ).all()
    others = session.scalars(
        select(CustomerUser.id)
        .where(
            CustomerUser.customer_id == customer_id,
            CustomerUser.is_active,
            CustomerUser.id != member_id,
            CustomerUser.role_id.in_(role_ids),
        )
        .with_for_update()
    ).all()
    return len(others)


def _check_not_last_manager(session: Session, member: CustomerUser) -> None:
    if can(member, Permission.MANAGE_TEAM) and not _other_managers(
        session, member.customer_id, member.id
    ):
        raise LastManager("the company would be left without anyone to manage the team")


def _reload_locked(session: Session, member: CustomerUser) -> None:
    """Read the member's row again, locked and as last committed (a locking read: MariaDB's
    plain reads would show the transaction's snapshot). Role and title come without a join:
    PostgreSQL locks no nullable side of an outer join."""
    session.scalars(
        select(CustomerUser)
        .where(CustomerUser.id == member.id)
        .options(lazyload(CustomerUser.role), lazyload(CustomerUser.title))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _own(actor: CustomerUser, member: CustomerUser) -> None:
    if member.customer_id != actor.customer_id:
        raise LookupError("not a member of the actor's company")


def set_role(
    session: Session,
    actor: CustomerUser,
    member: CustomerUser,
    role_id: int,
    title_id: int | None,
    origin: Origin,
) -> bool:
    """Give the member a role and a title; False when both were already theirs.

    :raise PermissionError: the actor may not manage the team.
    :raise LookupError: the member is not of the actor's company.
    :raise UnknownChoice: an unknown role or title.
    :raise LastManager: the member is the last active one who can manage the team and the new
        role cannot.
    """
    require_manager(actor)
    _own(actor, member)
    role, title = role_and_title(session, role_id, title_id)
    if (member.role_id, member.title_id) == (role.id, title_id):
        return False
    lock_company(session, member.customer_id)
    _reload_locked(session, member)
    if not role_manages_team(role):
        _check_not_last_manager(session, member)
    before = (member.role.code, member.title.code if member.title else None)
    member.role, member.title = role, title
    log_event(
        session,
        "team_member_changed",
        actor.user_id,
        origin,
        customer_id=member.customer_id,
        customer_user_id=member.id,
        role=[before[0], role.code],
        title=[before[1], title.code if title else None],
    )
    return True


def deactivate(session: Session, actor: CustomerUser, member: CustomerUser, origin: Origin) -> bool:
    """Take the member's access away (their row, grants and history stay); False when already
    deactivated.

    :raise PermissionError, LookupError: as set_role.
    :raise LastManager: the member is the last active one who can manage the team.
    """
    require_manager(actor)
    _own(actor, member)
    lock_company(session, member.customer_id)
    _reload_locked(session, member)
    if not member.is_active:
        return False
    _check_not_last_manager(session, member)
    member.is_active = False
    log_event(
        session,
        "team_member_deactivated",
        actor.user_id,
        origin,
        customer_id=member.customer_id,
        customer_user_id=member.id,
    )
    return True


def reactivate(
    session: Session, actor: CustomerUser, member: CustomerUser, origin: Origin, now: datetime
) -> bool:
    """Give a deactivated member their access back, with the role and grants they had; False
    when already active.

    :raise PermissionError, LookupError: as set_role.
    :raise TeamFull: the plan's team is full.
    """
    require_manager(actor)
    _own(actor, member)
    lock_company(session, member.customer_id)
    _reload_locked(session, member)
    if member.is_active:
        return False
    check_room(session, member.customer_id, now)
    member.is_active = True
    log_event(
        session,
        "team_member_reactivated",
        actor.user_id,
        origin,
        customer_id=member.customer_id,
        customer_user_id=member.id,
    )
    return True


def parse_target(value: str | None) -> tuple[str, int] | None:
    """ "school:12" or "campus:34" as (kind, id); None for anything else."""
    kind, _, number = (value or "").partition(":")
    if kind not in ("school", "campus") or not (number.isascii() and number.isdigit()):
        return None
    if len(number) > 18:
        return None
    return kind, int(number)


def grant(
    session: Session,
    actor: CustomerUser,
    member: CustomerUser,
    kind: str,
    target_id: int,
    origin: Origin,
) -> bool:
    """Let the member work on a whole school of the company ("school") or one campus of it
    ("campus"); False when an existing grant already covers it.

    A whole-school grant replaces the member's campus grants of that school (it covers them).

    :raise PermissionError, LookupError: as set_role.
    :raise UnknownChoice: the school or campus is not the company's (or does not exist).
    """
    require_manager(actor)
    _own(actor, member)
    if kind == "school":
        school = session.scalar(
            select(School).where(School.id == target_id, School.customer_id == actor.customer_id)
        )
        campus = None
    elif kind == "campus":
        campus = session.scalar(
            select(Campus)
            .join(School, School.id == Campus.school_id)
            .where(Campus.id == target_id, School.customer_id == actor.customer_id)
        )
        school = session.get(School, campus.school_id) if campus is not None else None
    else:
        school = campus = None
    if school is None:
        raise UnknownChoice("no such school or campus in the company")
    existing = session.execute(
        select(CustomerUserSchool.id, CustomerUserSchool.campus_id).where(
            CustomerUserSchool.customer_user_id == member.id,
            CustomerUserSchool.school_id == school.id,
        )
    ).all()
    campus_ids = {row.campus_id for row in existing}
    if None in campus_ids or (campus is not None and campus.id in campus_ids):
        return False
    if campus is None and campus_ids:
        session.execute(
            delete(CustomerUserSchool).where(
                CustomerUserSchool.customer_user_id == member.id,
                CustomerUserSchool.school_id == school.id,
            )
        )
    session.add(
        CustomerUserSchool(
            customer_user_id=member.id,
            school_id=school.id,
            campus_id=campus.id if campus is not None else None,
        )
    )
    log_event(
        session,
        "team_grant_added",
        actor.user_id,
        origin,
        customer_id=actor.customer_id,
        customer_user_id=member.id,
        school_id=school.id,
        campus_id=campus.id if campus is not None else None,
    )
    return True


def revoke_grant(
    session: Session, actor: CustomerUser, member: CustomerUser, grant_id: int, origin: Origin
) -> bool:
    """Take one grant of the member away; False when the member holds no such grant.

    :raise PermissionError, LookupError: as set_role.
    """
    require_manager(actor)
    _own(actor, member)
    row = session.scalar(
        select(CustomerUserSchool).where(
            CustomerUserSchool.id == grant_id, CustomerUserSchool.customer_user_id == member.id
        )
    )
    if row is None:
        return False
    school_id, campus_id = row.school_id, row.campus_id
    session.delete(row)
    log_event(
        session,
        "team_grant_revoked",
        actor.user_id,
        origin,
        customer_id=actor.customer_id,
        customer_user_id=member.id,
        school_id=school_id,
        campus_id=campus_id,
    )
    return True
