"""A parent's comparison: the schools and campuses they put side by side, and the limit on
how many at once.

Plain module: the caller passes the session and commits. A row names a school (campus_id
NULL) or one campus of it; `target_key` ("school:12", "campus:34") carries the uniqueness per
parent. Only public schools and live campuses of public schools can be added; a row whose
school or campus has since been withdrawn is neither shown nor counted against the limit.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from flask import current_app
from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, raiseload

from portal.billing.limits import limit_for
from portal.models import Campus, School, SchoolFee, User, UserComparison
from portal.models.schools import SCHOOL_LEVELS
from portal.places import public_target

COMPARISON = "school_comparison"  # the plan_features code of this feature
KINDS = ("school", "campus")


class ComparisonTargetNotFound(LookupError):
    """The school or campus is unknown, unpublished or deleted."""


class ComparisonLimitReached(Exception):
    """The parent already compares as many schools and campuses as they may."""

    def __init__(self, limit: int):
        super().__init__(f"at most {limit} in a comparison")
        self.limit = limit


def target_key(kind: str, target_id: int) -> str:
    """("campus", 34) → "campus:34", the value of user_comparisons.target_key."""
    return f"{kind}:{target_id}"


def comparison_limit(session: Session, user_id: int) -> int | None:
    """How many schools and campuses `user_id` may compare at once (None: no limit): their
    plan's limit for the "school_comparison" feature, or COMPARISON_LIMIT_DEFAULT without one."""
    return limit_for(
        session,
        COMPARISON,
        {COMPARISON: current_app.config.get("COMPARISON_LIMIT_DEFAULT")},
        user_id=user_id,
    )


def _visible() -> ColumnElement[bool]:
    """A comparison row whose school is public and whose campus, when it names one, is live."""
    school_public = exists().where(School.id == UserComparison.school_id, School.is_public)
    campus_live = exists().where(Campus.id == UserComparison.campus_id, Campus.deleted_at.is_(None))
    return school_public & (UserComparison.campus_id.is_(None) | campus_live)


def _compared_now(session: Session, user_id: int) -> int:
    """How many of the user's rows are still visible; a locking read (see favorites)."""
    query = (
        select(UserComparison.id)
        .where(UserComparison.user_id == user_id, _visible())
        .with_for_update()
    )
    return len(session.scalars(query).all())


def add_to_comparison(session: Session, user: User, kind: str, target_id: int) -> bool:
    """Put a school or campus in the user's comparison; True when a row was added, False when
    it was there already.

    :raise ComparisonTargetNotFound: the target is unknown, unpublished or deleted.
    :raise ComparisonLimitReached: the user compares as many as they may.
    """
    target = public_target(session, kind, target_id) if kind in KINDS else None
    if target is None:
        raise ComparisonTargetNotFound(f"{kind} {target_id}")
    key = target_key(kind, target_id)
    already = select(UserComparison.id).where(
        UserComparison.user_id == user.id, UserComparison.target_key == key
    )
    if session.scalar(already) is not None:
        return False
    limit = comparison_limit(session, user.id)
    if limit is not None:
        # Lock the user's row so that two adds at once (a double click, two tabs) are counted
        # one after the other and cannot both take the last place.
        session.execute(select(User.id).where(User.id == user.id).with_for_update())
        if _compared_now(session, user.id) >= limit:
            raise ComparisonLimitReached(limit)
    school_id = target.id if kind == "school" else target.school_id
    campus_id = target.id if kind == "campus" else None
    try:
        with session.begin_nested():
            session.add(
                UserComparison(
                    user_id=user.id, school_id=school_id, campus_id=campus_id, target_key=key
                )
            )
            session.flush()
    except IntegrityError:
        return False  # the same add made at the same moment elsewhere won
    return True


def remove_from_comparison(session: Session, user: User, kind: str, target_id: int) -> bool:
    """Take a school or campus out of the user's comparison; True when a row was removed.

    Works whatever became of the target, so a parent can always drop it.
    """
    result = session.execute(
        delete(UserComparison).where(
            UserComparison.user_id == user.id,
            UserComparison.target_key == target_key(kind, target_id),
        )
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class Compared:
    """One column of the comparison: a school as a whole, or one campus of it.

    `campuses` are the live campuses the column covers (the school's all, or the one);
    `fees` maps each level to its yearly fees over those campuses in the chosen school year
    (one amount for a campus; for a school, every campus's amount, lowest first).
    """

    kind: str
    school: School
    campus: Campus | None
    campuses: list[Campus]
    levels: list[str]
    fees: dict[str, list[Decimal]] = field(default_factory=dict)

    @property
    def target_id(self) -> int:
        return self.campus.id if self.campus else self.school.id

    @property
    def name(self) -> str:
        return f"{self.school.name} – {self.campus.name}" if self.campus else self.school.name

    def fee_span(self, level: str) -> tuple[Decimal, Decimal] | None:
        """The lowest and highest yearly fee of `level` in the column, or None."""
        amounts = self.fees.get(level)
        return (amounts[0], amounts[-1]) if amounts else None


# The comparison page's statements, built once (decisions.md, "Statements built once").


@cache
def _rows_statement() -> Select:
    """The visible comparison rows of `user_id`, in the order they were added."""
    return (
        select(UserComparison)
        .where(UserComparison.user_id == bindparam("user_id"), _visible())
        .options(raiseload("*"))
        .order_by(UserComparison.created_at, UserComparison.id)
    )


@cache
def _schools_statement() -> Select:
    """The public schools `school_ids` with their levels and live campuses (by name)."""
    return (
        select(School)
        .where(School.id.in_(bindparam("school_ids", expanding=True)), School.is_public)
        .options(
            raiseload("*"),
            joinedload(School.level_rows),
            joinedload(School.campuses).raiseload("*"),
        )
    )


@cache
def _fees_statement() -> Select:
    """The fee rows of the schools `school_ids` in `school_year`."""
    return (
        select(SchoolFee)
        .where(
            SchoolFee.school_id.in_(bindparam("school_ids", expanding=True)),
            SchoolFee.school_year == bindparam("school_year"),
        )
        .options(raiseload("*"))
    )


def comparison(session: Session, user_id: int, school_year: int) -> list[Compared]:
    """The user's comparison in the order they added it, with the fees of `school_year`.

    Three statements however long it is: the rows, their schools with levels and live
    campuses, and the fees; any other relationship touched raises.
    """
    rows = session.scalars(_rows_statement(), {"user_id": user_id}).all()
    school_ids = list({row.school_id for row in rows})
    schools = {
        s.id: s for s in session.scalars(_schools_statement(), {"school_ids": school_ids}).unique()
    }
    campuses_of = {school.id: list(school.campuses) for school in schools.values()}
    fees_of: dict[int, dict[str, Decimal]] = {}
    for fee in session.scalars(
        _fees_statement(), {"school_ids": school_ids, "school_year": school_year}
    ):
        fees_of.setdefault(fee.campus_id, {})[fee.level] = fee.yearly_fee
    columns = []
    for row in rows:
        school = schools.get(row.school_id)
        if school is None:
            continue  # withdrawn between the statements: left out rather than shown broken
        if row.campus_id is None:
            covered, campus = campuses_of[school.id], None
        else:
            campus = next((c for c in campuses_of[school.id] if c.id == row.campus_id), None)
            if campus is None:
                continue
            covered = [campus]
        fees: dict[str, list[Decimal]] = {}
        for each in covered:
            for level, amount in fees_of.get(each.id, {}).items():
                fees.setdefault(level, []).append(amount)
        # A campus teaches the levels it publishes a fee for; a school, the levels it lists.
        levels = school.levels if campus is None else [lv for lv in SCHOOL_LEVELS if lv in fees]
        columns.append(
            Compared(
                kind="campus" if campus else "school",
                school=school,
                campus=campus,
                campuses=covered,
                levels=levels,
                fees={level: sorted(amounts) for level, amounts in fees.items()},
            )
        )
    return columns


def comparison_levels(columns: list[Compared]) -> list[str]:
    """The levels any column teaches or prices, youngest first: the table's fee rows."""
    present = {lv for column in columns for lv in column.levels} | {
        lv for column in columns for lv in column.fees
    }
    return [level for level in SCHOOL_LEVELS if level in present]
