"""The one rule for "may this customer user work on this school, or this campus of it".

A grant row with campus_id NULL covers the whole school and every campus of it; a row with a
campus covers that campus only. Grants count only for schools the user's company owns.

The lists load in a fixed number of statements however many schools are granted: the schools
in one query, the grants on them with every campus they cover in one more, and lazy loads
refused (an N+1 would raise instead of growing quietly with the data).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, false, or_, select
from sqlalchemy.orm import Session, joinedload, raiseload

from portal.database import hashed_filter
from portal.models import Campus, CustomerUser, CustomerUserSchool, School
from portal.paging import COUNT_OVER_ROWS, PER_PAGE, Page, paginate


class SchoolLink(NamedTuple):
    """What a list of granted schools shows of a school: a link to its public page when it
    is public, its name. Read as columns: twenty School objects a page cost more than their
    statement."""

    id: int
    name: str
    slug: str
    is_public: bool


class GrantedCampus(NamedTuple):
    """A campus of a granted school, as the lists of granted schools show it."""

    id: int
    name: str
    district: str


@dataclass
class GrantedSchool:
    """A school the user may work on: all of it, or only the listed campuses."""

    school: School | SchoolLink  # a SchoolLink in a page of them (granted_schools_page)
    whole_school: bool
    campuses: list[GrantedCampus] = field(default_factory=list)


def may_work_on(
    session: Session, customer_user: CustomerUser, school_id: int, campus_id: int | None = None
) -> bool:
    """True when the grant covers the school (campus_id None) or that campus of it.

    Asking about the school as a whole needs a whole-school grant: a campus grant does not
    open the other campuses.
    """
    if not customer_user.is_active:
        return False
    grants = session.scalars(
        select(CustomerUserSchool.campus_id)
        .join(School, School.id == CustomerUserSchool.school_id)
        .where(
            CustomerUserSchool.customer_user_id == customer_user.id,
            CustomerUserSchool.school_id == school_id,
            School.customer_id == customer_user.customer_id,
        )
    ).all()
    return None in grants or (campus_id is not None and campus_id in grants)


def covers(customer_user: CustomerUser, school_id, campus_id) -> ColumnElement[bool]:
    """`may_work_on` as SQL, for rows that carry a school id and a (nullable) campus id, such
    as leads: true when a grant of the user covers the row's school as a whole, or names the
    row's campus. A row with no campus (a lead to the whole school) needs a whole-school
    grant. Use it in WHERE clauses, so that a list, a count and a single-row lookup all apply
    the one rule.
    """
    if not customer_user.is_active:
        return false()
    return _covering(school_id, campus_id, customer_user.customer_id, customer_user.id)


def covers_bound(school_id, campus_id, company_id=None) -> ColumnElement[bool]:
    """`covers()` for a statement built once: the member comes as the bound parameters
    `customer_id` and `customer_user_id`, and the caller answers for an inactive member
    (who is covered by nothing) without running it.

    `company_id`, for rows that carry their school's company (leads.customer_id), is compared
    with the member's company instead of looking the school up among the company's: the
    same rule, and the database can then walk the company's rows in an index's order."""
    return _covering(
        school_id,
        campus_id,
        bindparam("customer_id"),
        bindparam("customer_user_id"),
        company_id,
    )


def _covering(
    school_id, campus_id, customer_id, customer_user_id, company_id=None
) -> ColumnElement[bool]:
    if company_id is not None:
        of_the_company = company_id == customer_id
    else:
        of_the_company = school_id.in_(select(School.id).where(School.customer_id == customer_id))
    # A campus belongs to one school, and a grant and a lead naming a campus both name its
    # school too (their foreign keys on (campus_id, school_id)), so the campus alone decides.
    # Two uncorrelated IN lists rather than one EXISTS per row: PostgreSQL keeps them as
    # hashed filters, so a list walks an index in its order and stops at its page, where a
    # semi-join made its generic (prepared) plan read and sort every row (4.3 ms against
    # 0.07 for 200 schools' 11,700 open leads).
    return and_(
        of_the_company,
        or_(
            school_id.in_(whole_school_grants(customer_user_id)),
            and_(campus_id.is_not(None), campus_id.in_(campus_grants(customer_user_id))),
        ),
    )


def whole_school_grants(customer_user_id) -> Select:
    """The ids of the schools the member (an id, or a bound parameter) holds whole: each
    covers the school and all its campuses. Not yet limited to the member's company."""
    return select(CustomerUserSchool.school_id).where(
        CustomerUserSchool.customer_user_id == customer_user_id,
        CustomerUserSchool.campus_id.is_(None),
    )


def campus_grants(customer_user_id) -> Select:
    """The ids of the campuses the member's grants name, one campus each (a select of
    CustomerUserSchool rows, to narrow further). Not yet limited to the member's company."""
    return select(CustomerUserSchool.campus_id).where(
        CustomerUserSchool.customer_user_id == customer_user_id,
        CustomerUserSchool.campus_id.is_not(None),
    )


def members_covering(session: Session, school_id: int, campus_id: int | None) -> list[CustomerUser]:
    """The active staff of the school's company whose grants cover the school (campus_id None)
    or that campus of it, with their users loaded: who may work on a lead sent there."""
    parameters = {"school_id": school_id, "campus_id": campus_id}
    return list(session.scalars(_members_covering_statement(), parameters).unique())


@cache
def _members_covering_statement() -> Select:
    """`members_covering` of `school_id` and `campus_id`; built once: every lead page and
    every new lead asks (decisions.md, "Statements built once")."""
    school_id = bindparam("school_id")
    # A NULL `campus_id` (a lead to the whole school) compares as unknown: only a
    # whole-school grant covers it.
    grant_covers = or_(
        CustomerUserSchool.campus_id.is_(None),
        CustomerUserSchool.campus_id == bindparam("campus_id"),
    )
    return (
        select(CustomerUser)
        .join(School, School.customer_id == CustomerUser.customer_id)
        .where(
            School.id == school_id,
            CustomerUser.is_active,
            exists().where(
                CustomerUserSchool.customer_user_id == CustomerUser.id,
                CustomerUserSchool.school_id == school_id,
                grant_covers,
            ),
        )
        .options(joinedload(CustomerUser.user))
        .order_by(CustomerUser.id)
    )


def granted_schools(session: Session, customer_user: CustomerUser) -> list[GrantedSchool]:
    """Every school the user may work on, by name, with the campuses its grants cover (two
    statements)."""
    if not customer_user.is_active:
        return []
    schools = session.scalars(_granted_schools_statement(), _member_parameters(customer_user)).all()
    return _with_grants(session, customer_user, schools)


def granted_schools_page(
    session: Session, customer_user: CustomerUser, number: int, per_page: int = PER_PAGE
) -> Page:
    """Page `number` of `granted_schools()`: its items are `GrantedSchool`s, its total the
    number of schools the user may work on. Two statements however long the list: the page of
    schools with the count, and the grants on them with their campuses."""
    if not customer_user.is_active:
        return Page(items=[], number=1, per_page=per_page, total=0)
    page = paginate(
        session,
        _granted_schools_page_statement(),
        number,
        per_page,
        # In the page's own pass: the schools are sorted by name after the grants are
        # matched, so every granted school is read to choose the page anyway.
        total=COUNT_OVER_ROWS,
        parameters=_member_parameters(customer_user),
        scalars=False,
    )
    if not page.items:
        return page
    # bool(): a condition read as a column is 0 or 1 on MariaDB.
    schools = [SchoolLink(id_, name, slug, bool(public)) for id_, name, slug, public in page.items]
    return replace(page, items=_with_grants(session, customer_user, schools))


def _member_parameters(customer_user: CustomerUser) -> dict[str, int]:
    return {"customer_id": customer_user.customer_id, "customer_user_id": customer_user.id}


def _with_grants(
    session: Session, customer_user: CustomerUser, schools: Sequence[School | SchoolLink]
) -> list[GrantedSchool]:
    """One entry per school, in the order given, filled from the member's grants on them,
    each grant with the live campuses it covers (one statement)."""
    entries = {school.id: GrantedSchool(school, whole_school=False) for school in schools}
    if not entries:
        return []
    seen: set[int] = set()
    for school_id, grant_campus_id, *campus in session.execute(
        _grants_with_campuses_statement(),
        {"customer_user_id": customer_user.id, "school_ids": list(entries)},
    ):
        entry = entries[school_id]
        if grant_campus_id is None:
            entry.whole_school = True
        # A campus comes once per grant covering it (a whole-school and a campus grant both).
        campus_id = campus[0]
        if campus_id is not None and campus_id not in seen:
            seen.add(campus_id)
            entry.campuses.append(GrantedCampus(*campus))
    return list(entries.values())


# The staff member's home lists through these on every visit: built once (decisions.md,
# "Statements built once").


@cache
def _granted_schools_statement() -> Select:
    """The schools of company `customer_id` that member `customer_user_id` has a grant on."""
    return select(School).where(_granted()).order_by(School.name, School.id).options(raiseload("*"))


def _granted() -> ColumnElement[bool]:
    """A School row of company `customer_id` on which member `customer_user_id` holds a grant
    (whole or a campus), both bound parameters. The IN kept as a hashed filter: a generic
    plan joined it as if the member held one grant (portal.database.hashed_filter)."""
    granted = select(CustomerUserSchool.school_id).where(
        CustomerUserSchool.customer_user_id == bindparam("customer_user_id")
    )
    return and_(
        School.customer_id == bindparam("customer_id"), hashed_filter(School.id.in_(granted))
    )


def granted_school_names(session: Session, customer_user: CustomerUser) -> list[tuple[int, str]]:
    """The schools the member has a grant on as (id, name), by name: for a filter that needs
    no campus or other column (one statement)."""
    if not customer_user.is_active:
        return []
    rows = session.execute(_granted_school_names_statement(), _member_parameters(customer_user))
    return [tuple(row) for row in rows]


@cache
def _granted_school_names_statement() -> Select:
    return select(School.id, School.name).where(_granted()).order_by(School.name, School.id)


@cache
def _granted_schools_page_statement() -> Select:
    """The same schools with only what their cards and lists show (SchoolLink's columns): the
    page's pass sorts and counts every granted school's row (200 for a big company), and a
    school's whole row (its description above all) was ten times wider."""
    return (
        select(School.id, School.name, School.slug, School.is_public.label("is_public"))
        .where(_granted())
        .order_by(School.name, School.id)
    )


@cache
def _grants_with_campuses_statement() -> Select:
    """Member `customer_user_id`'s grants on the schools `school_ids`, each once per live
    campus it covers (all of a whole-school grant's, the named one of a campus grant), by
    campus name; a grant covering no live campus comes once, with no campus."""
    covered = and_(
        Campus.school_id == CustomerUserSchool.school_id,
        or_(CustomerUserSchool.campus_id.is_(None), Campus.id == CustomerUserSchool.campus_id),
        Campus.deleted_at.is_(None),
    )
    # The campuses as the columns shown, not as objects: twenty schools' campuses loaded as
    # ORM rows cost more than the statement.
    return (
        select(
            CustomerUserSchool.school_id,
            CustomerUserSchool.campus_id,
            Campus.id,
            Campus.name,
            Campus.district,
        )
        .outerjoin(Campus, covered)
        .where(
            CustomerUserSchool.customer_user_id == bindparam("customer_user_id"),
            CustomerUserSchool.school_id.in_(bindparam("school_ids", expanding=True)),
        )
        .order_by(Campus.name, Campus.id)
    )
