"""The schools' own pages, kept by their company's staff: the school's description, address and
contact, the levels it teaches, each campus's yearly fees, and whether it is listed.

Plain module: the caller passes the session, the acting member and the request's Origin, and
commits. Every change is refused here too, not only in the views, so a CLI or a test that calls
these functions meets the same rules:

- all of it needs Permission.EDIT_SCHOOL_PAGES and a grant (portal.access.grants): a school or
  campus outside the member's grants is not found, the same as an unknown one (`NotYours`);
- a member granted the whole school edits the school's own fields and levels, every campus's
  fees, and lists or unlists it; a member granted only some campuses edits only those campuses'
  fees (`WholeSchoolOnly` otherwise);
- the school's name and address in the search (name, city, district) are the operator's: not
  edited here, so `schools.name_folded` never changes here;
- fees are Decimal lira, more than zero, for this school year and the next
  (portal.schools.fees); a campus teaches a level when it publishes that level's fee, and
  pricing a level the school does not list yet adds it to the school's levels (school_levels),
  so the search's level filter finds it;
- listing one school more than the company's plan allows ("schools_listed",
  portal.billing.limits) is refused (`ListedLimitReached`); the check is serialised by locking
  the company's row, so two members listing at once cannot both pass it.

Each change writes one audit row naming who did it and what changed (the school's public fields
are not personal data: values are kept for fees, field names for the rest).
"""

from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from functools import cache

from sqlalchemy import Select, bindparam, delete, func, select
from sqlalchemy.orm import Session, raiseload

from portal.access.grants import granted_schools_page
from portal.access.permissions import Permission, can
from portal.audit import Origin, log_event
from portal.billing.limits import limit_columns, limit_for, limit_of
from portal.clock import istanbul_today
from portal.database import insert_many, update_many
from portal.models import (
    Campus,
    Customer,
    CustomerUser,
    CustomerUserSchool,
    PlanFeature,
    School,
    SchoolFee,
    SchoolLevel,
    SubscriptionPlanFeature,
)
from portal.models.schools import SCHOOL_LEVELS
from portal.paging import PER_PAGE, Page
from portal.schools.fees import school_years_offered
from portal.turkish import normalize_phone

SCHOOLS_LISTED = "schools_listed"
# Without a plan a company may list one school, as the smallest company plan does.
FREE_LIMITS = {SCHOOLS_LISTED: 1}


class SchoolPageError(Exception):
    """A refused change; `code` says which rule refused it."""

    code = "refused"


class NotYours(SchoolPageError):
    """The school or campus is unknown, another company's, or outside the member's grants."""

    code = "not_yours"


class WholeSchoolOnly(SchoolPageError):
    """Only a member granted the whole school may do this."""

    code = "whole_school_only"


class StaleSchoolYears(SchoolPageError):
    """The form was made for school years no longer offered (the year turned meanwhile)."""

    code = "stale_school_years"


class LevelStillPriced(SchoolPageError):
    """A level taken off the school is still priced at a campus; `levels` names them."""

    code = "level_still_priced"

    def __init__(self, levels: list[str]):
        super().__init__(f"levels still priced: {levels}")
        self.levels = levels


class ListedLimitReached(SchoolPageError):
    """Listing the school would list more schools than the company's plan allows."""

    code = "listed_limit"

    def __init__(self, limit: int, listed: int):
        super().__init__(f"the plan lists {limit} schools and {listed} are listed")
        self.limit = limit
        self.listed = listed


@dataclass
class EditableSchool:
    """A school the member may edit: all of it, or only `campuses` (live ones, by name)."""

    school: School
    whole_school: bool
    campuses: list[Campus] = field(default_factory=list)

    def campus(self, campus_id: int) -> Campus:
        """One of the campuses the member may edit.

        :raise NotYours: for any other id.
        """
        for campus in self.campuses:
            if campus.id == campus_id:
                return campus
        raise NotYours(f"campus {campus_id}")


@dataclass(frozen=True)
class SchoolDetails:
    """The school's own fields on its public page. Text arrives trimmed, empty as None."""

    description: str | None
    address_line: str | None
    phone: str | None
    email: str | None
    website: str | None


def may_edit_school_pages(customer_user: CustomerUser | None) -> bool:
    """The member may edit the pages of the schools they are granted."""
    return can(customer_user, Permission.EDIT_SCHOOL_PAGES)


def _require_permission(customer_user: CustomerUser) -> None:
    if not may_edit_school_pages(customer_user):
        raise PermissionError("this member may not edit school pages")


def editable_schools_page(
    session: Session, customer_user: CustomerUser, number: int, per_page: int = PER_PAGE
) -> Page:
    """Page `number` of the schools the member may edit (portal.access.grants'
    GrantedSchool items), in a fixed number of statements.

    :raise PermissionError: without Permission.EDIT_SCHOOL_PAGES.
    """
    _require_permission(customer_user)
    return granted_schools_page(session, customer_user, number, per_page)


def editable_school(session: Session, customer_user: CustomerUser, slug: str) -> EditableSchool:
    """The school with this slug, as far as the member may edit it (three statements: the
    school with its levels, the grants, the campuses). Unlisted schools are included: an
    unlisted page is still edited before it is listed.

    :raise PermissionError: without Permission.EDIT_SCHOOL_PAGES.
    :raise NotYours: for an unknown school, another company's, or one outside the grants.
    """
    _require_permission(customer_user)
    school = session.scalar(
        _school_statement(), {"slug": slug, "customer_id": customer_user.customer_id}
    )
    if school is None:
        raise NotYours(f"school {slug}")
    grants = session.scalars(
        _grants_statement(), {"customer_user_id": customer_user.id, "school_id": school.id}
    ).all()
    if not grants:
        raise NotYours(f"school {slug}")
    whole_school = None in grants
    campus_ids = [] if whole_school else [g for g in grants if g is not None]
    campuses = session.scalars(
        _campuses_statement(whole_school), {"school_id": school.id, "campus_ids": campus_ids}
    )
    return EditableSchool(school=school, whole_school=whole_school, campuses=list(campuses))


# The editing page's statements, built once: every view and step of it asks
# (decisions.md, "Statements built once").


@cache
def _school_statement() -> Select:
    """The school `slug` of company `customer_id`, listed or not."""
    return (
        select(School)
        .where(School.slug == bindparam("slug"), School.customer_id == bindparam("customer_id"))
        .options(raiseload("*"))
    )


@cache
def _grants_statement() -> Select:
    """The campus ids (NULL: the whole school) of member `customer_user_id`'s grants on
    school `school_id`."""
    return select(CustomerUserSchool.campus_id).where(
        CustomerUserSchool.customer_user_id == bindparam("customer_user_id"),
        CustomerUserSchool.school_id == bindparam("school_id"),
    )


@cache
def _campuses_statement(whole_school: bool) -> Select:
    """The live campuses of school `school_id`, by name: all of them, or `campus_ids`."""
    campuses = select(Campus).where(Campus.school_id == bindparam("school_id"))
    if not whole_school:
        campuses = campuses.where(Campus.id.in_(bindparam("campus_ids", expanding=True)))
    return campuses.order_by(Campus.name, Campus.id).options(raiseload("*"))


def school_levels(session: Session, school_id: int) -> list[str]:
    """The levels the school lists, youngest first (one statement)."""
    present = set(session.scalars(_levels_statement(), {"school_id": school_id}))
    return [level for level in SCHOOL_LEVELS if level in present]


@cache
def _levels_statement() -> Select:
    return select(SchoolLevel.level).where(SchoolLevel.school_id == bindparam("school_id"))


def fees_of(
    session: Session, campus_ids: list[int], school_years: list[int]
) -> dict[int, dict[tuple[str, int], Decimal]]:
    """Each campus's fees in these school years, by (level, school year): one statement."""
    by_campus: dict[int, dict[tuple[str, int], Decimal]] = {c: {} for c in campus_ids}
    if not campus_ids:
        return by_campus
    rows = session.execute(
        select(
            SchoolFee.campus_id, SchoolFee.level, SchoolFee.school_year, SchoolFee.yearly_fee
        ).where(SchoolFee.campus_id.in_(campus_ids), SchoolFee.school_year.in_(school_years))
    )
    for campus_id, level, school_year, amount in rows:
        by_campus[campus_id][(level, school_year)] = amount
    return by_campus


def change_school_details(
    session: Session,
    customer_user: CustomerUser,
    editable: EditableSchool,
    details: SchoolDetails,
    levels: list[str],
    origin: Origin,
    today: date,
) -> list[str]:
    """Store the school's own fields and levels; returns the names of what changed ("levels"
    for the levels). Nothing changed, nothing written; else one `school_page_changed` row.

    :raise PermissionError: without Permission.EDIT_SCHOOL_PAGES.
    :raise WholeSchoolOnly: for a member granted only some campuses.
    :raise LevelStillPriced: when a level taken off is still priced at a live campus for this
        school year or the next (the fees go first, so the page never shows fees of a level
        the school says it does not teach).
    :raise ValueError: for an unknown level or a phone that is not Turkish (the form checks
        both first).
    """
    _require_permission(customer_user)
    if not editable.whole_school:
        raise WholeSchoolOnly("the school's own fields need a whole-school grant")
    unknown = set(levels) - set(SCHOOL_LEVELS)
    if unknown:
        raise ValueError(f"unknown levels {sorted(unknown)}")
    school = editable.school
    if details.phone:
        details = replace(details, phone=normalize_phone(details.phone))
    changed = [
        f.name for f in fields(SchoolDetails) if getattr(school, f.name) != getattr(details, f.name)
    ]
    before_levels = school_levels(session, school.id)
    wanted = [level for level in SCHOOL_LEVELS if level in set(levels)]
    removed = [level for level in before_levels if level not in wanted]
    added = [level for level in wanted if level not in before_levels]
    if removed:
        still_priced = set(
            session.scalars(
                select(SchoolFee.level)
                .join(Campus, Campus.id == SchoolFee.campus_id)
                .where(
                    SchoolFee.school_id == school.id,
                    SchoolFee.level.in_(removed),
                    SchoolFee.school_year.in_(school_years_offered(today)),
                    Campus.deleted_at.is_(None),
                )
                .distinct()
            )
        )
        if still_priced:
            raise LevelStillPriced([level for level in SCHOOL_LEVELS if level in still_priced])
    if not changed and not removed and not added:
        return []
    for name in changed:
        setattr(school, name, getattr(details, name))
    if removed:
        session.execute(
            delete(SchoolLevel).where(
                SchoolLevel.school_id == school.id, SchoolLevel.level.in_(removed)
            )
        )
    insert_many(session, SchoolLevel, [{"level": level} for level in added], school_id=school.id)
    log_event(
        session,
        "school_page_changed",
        customer_user.user_id,
        origin,
        customer_id=customer_user.customer_id,
        school_id=school.id,
        fields=changed,
        levels_added=added,
        levels_removed=removed,
    )
    return changed + (["levels"] if added or removed else [])


def change_campus_fees(
    session: Session,
    customer_user: CustomerUser,
    editable: EditableSchool,
    campus_id: int,
    fees: dict[tuple[str, int], Decimal | None],
    origin: Origin,
    today: date,
) -> list[dict]:
    """Set one campus's yearly fees for this school year and the next: a fee per (level,
    school year), None to publish none. Returns the changes ({level, school_year, before,
    after}, amounts as text); with any, one `school_fees_changed` row. In a fixed number of
    statements however many levels change: read, delete, update and insert once each.

    :raise PermissionError: without Permission.EDIT_SCHOOL_PAGES.
    :raise NotYours: for a campus outside the member's grants (or not of this school).
    :raise StaleSchoolYears: for a school year other than this one and the next.
    :raise ValueError: for an unknown level, a fee that is not a Decimal, or one of zero or
        less (the form checks those first).
    """
    _require_permission(customer_user)
    campus = editable.campus(campus_id)
    offered = school_years_offered(today)
    for (level, school_year), amount in fees.items():
        if school_year not in offered:
            raise StaleSchoolYears(f"school year {school_year} is not offered")
        if level not in SCHOOL_LEVELS:
            raise ValueError(f"unknown level {level!r}")
        if amount is not None and (not isinstance(amount, Decimal) or not amount > 0):
            raise ValueError(f"a fee is a Decimal above zero, not {amount!r}")
    existing = {
        (row.level, row.school_year): row
        for row in session.execute(
            select(
                SchoolFee.id, SchoolFee.level, SchoolFee.school_year, SchoolFee.yearly_fee
            ).where(SchoolFee.campus_id == campus.id, SchoolFee.school_year.in_(offered))
        )
    }
    removed, updated, added, changes = [], [], [], []
    for key in sorted(fees, key=lambda k: (k[1], SCHOOL_LEVELS.index(k[0]))):
        amount = fees[key]
        row = existing.get(key)
        before = row.yearly_fee if row is not None else None
        if amount is not None:
            amount = amount.quantize(Decimal("0.01"))
        if before == amount:
            continue
        if amount is None:
            removed.append(row.id)
        elif row is None:
            added.append({"level": key[0], "school_year": key[1], "yearly_fee": amount})
        else:
            updated.append({"id": row.id, "yearly_fee": amount})
        changes.append(
            {
                "level": key[0],
                "school_year": key[1],
                "before": None if before is None else str(before),
                "after": None if amount is None else str(amount),
            }
        )
    if not changes:
        return []
    if removed:
        session.execute(delete(SchoolFee).where(SchoolFee.id.in_(removed)))
    update_many(session, SchoolFee, updated)
    insert_many(session, SchoolFee, added, school_id=campus.school_id, campus_id=campus.id)
    # A campus teaches a level when it prices it; the school then lists it too, so that the
    # search's level filter (on school_levels) finds the school.
    priced = {level for (level, _), amount in fees.items() if amount is not None}
    if priced:
        listed = set(school_levels(session, campus.school_id))
        insert_many(
            session,
            SchoolLevel,
            [{"level": level} for level in SCHOOL_LEVELS if level in priced - listed],
            school_id=campus.school_id,
        )
    log_event(
        session,
        "school_fees_changed",
        customer_user.user_id,
        origin,
        customer_id=customer_user.customer_id,
        school_id=campus.school_id,
        campus_id=campus.id,
        changes=changes,
    )
    return changes


def listed_count(customer_id) -> Select:
    """How many of the company's schools are listed (public): the statement, for a caller
    that asks it beside more (`customer_id` a value or a bound parameter)."""
    return select(func.count(School.id)).where(School.customer_id == customer_id, School.is_public)


def listed_schools(session: Session, customer_id: int) -> int:
    """How many of the company's schools are listed (public): one statement."""
    return session.scalar(listed_count(customer_id))


def listed_limit(session: Session, customer_id: int) -> int | None:
    """How many schools the company's plan lists; None for no limit."""
    return limit_for(session, SCHOOLS_LISTED, FREE_LIMITS, customer_id=customer_id)


@cache
def _listing_usage_statement() -> Select:
    """listed_schools() of company `owner_id` with the plan's listed-schools limit
    (limits.limit_columns), in one statement; built once."""
    listed = listed_count(bindparam("owner_id")).scalar_subquery().label("listed")
    return select(listed, *limit_columns("customer"))


def listing_usage(session: Session, customer_id: int) -> tuple[int, int | None]:
    """(listed_schools(), listed_limit()) of the company, asked in one statement: the school
    editing page shows both on every view."""
    row = session.execute(
        _listing_usage_statement(),
        {"owner_id": customer_id, "today": istanbul_today(), "feature_code": SCHOOLS_LISTED},
    ).one()
    return row.listed, limit_of(row, SCHOOLS_LISTED, FREE_LIMITS)


def set_listed(
    session: Session,
    customer_user: CustomerUser,
    editable: EditableSchool,
    listed: bool,
    origin: Origin,
) -> bool:
    """List (publish) or unlist the school; True when that changed something. Listing counts
    the company's listed schools against its plan with the company's row locked.

    :raise PermissionError: without Permission.EDIT_SCHOOL_PAGES.
    :raise WholeSchoolOnly: for a member granted only some campuses.
    :raise ListedLimitReached: when the plan lists no more schools.
    """
    _require_permission(customer_user)
    if not editable.whole_school:
        raise WholeSchoolOnly("listing a school needs a whole-school grant")
    school = editable.school
    if school.is_published == listed:
        return False
    if listed:
        # Serialises listings of one company (SQLite has one writer anyway).
        session.execute(
            select(Customer.id).where(Customer.id == customer_user.customer_id).with_for_update()
        )
        limit = listed_limit(session, customer_user.customer_id)
        # A locking read (of ids: PostgreSQL refuses FOR UPDATE with count()) sees a listing
        # committed a moment ago, where a plain read under MariaDB's REPEATABLE READ would
        # keep the snapshot taken before the lock.
        count = len(
            session.scalars(
                select(School.id)
                .where(School.customer_id == customer_user.customer_id, School.is_public)
                .with_for_update()
            ).all()
        )
        if limit is not None and count >= limit:
            raise ListedLimitReached(limit, count)
    school.is_published = listed
    log_event(
        session,
        "school_listed" if listed else "school_unlisted",
        customer_user.user_id,
        origin,
        customer_id=customer_user.customer_id,
        school_id=school.id,
    )
    return True


@dataclass(frozen=True)
class ListedShortfall:
    """A plan that lists fewer schools than the company lists now."""

    listed: int
    limit: int


def plan_listed_limit(session: Session, subscription_plan_id: int) -> int | None:
    """How many schools a plan lists (None: no limit; 0: the plan lists none), read as
    portal.billing.limits reads the plan in force."""
    row = session.execute(
        select(SubscriptionPlanFeature.included, SubscriptionPlanFeature.limit_value)
        .join(PlanFeature, PlanFeature.id == SubscriptionPlanFeature.plan_feature_id)
        .where(
            SubscriptionPlanFeature.subscription_plan_id == subscription_plan_id,
            PlanFeature.code == SCHOOLS_LISTED,
        )
    ).first()
    if row is None or not row.included:
        return 0
    return row.limit_value


def listed_shortfall(
    session: Session, customer_id: int, subscription_plan_id: int
) -> ListedShortfall | None:
    """For a plan change's preview: the company lists more schools than the new plan allows
    (the counts), or None when it fits."""
    limit = plan_listed_limit(session, subscription_plan_id)
    if limit is None:
        return None
    listed = listed_schools(session, customer_id)
    return ListedShortfall(listed=listed, limit=limit) if listed > limit else None
