"""School years and fees: what a level costs at a campus, and the ranges derived from it.

A school year starts in September on the Istanbul calendar and is named by the year it starts
in (2026 is 2026-2027). Fees are rows of school_fees (campus, level, school year); a school's
range is never stored, it is the minimum and maximum of the rows that apply.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from portal.models import Campus, SchoolFee

# The month a school year starts in.
SCHOOL_YEAR_STARTS = 9


def school_year_of(day: date) -> int:
    """The school year `day` (an Istanbul date) falls in: Nov 2026 and Aug 2027 are 2026."""
    return day.year if day.month >= SCHOOL_YEAR_STARTS else day.year - 1


def school_years_offered(today: date) -> list[int]:
    """The school years a parent may ask about or search by: this one and the next."""
    this_year = school_year_of(today)
    return [this_year, this_year + 1]


def school_year_label(school_year: int) -> str:
    """2026 → "2026–2027", as Turkish schools write it."""
    return f"{school_year}–{school_year + 1}"


@dataclass(frozen=True)
class FeeRange:
    low: Decimal
    high: Decimal


def fee_ranges(
    session: Session, school_ids: list[int], school_year: int, level: str | None = None
) -> dict[int, FeeRange]:
    """The yearly fee range of each school (of `level` only, when given) in a school year,
    over its live campuses: one statement for any number of schools. A school with no fee
    row that applies is missing from the answer."""
    if not school_ids:
        return {}
    parameters = {"school_ids": school_ids, "school_year": school_year}
    if level:
        parameters["level"] = level
    rows = session.execute(_ranges_statement(bool(level)), parameters)
    return {school_id: FeeRange(low, high) for school_id, low, high in rows}


@cache
def _ranges_statement(of_level: bool) -> Select:
    """fee_ranges() built once, as the favorites page asks on every visit (decisions.md,
    "Statements built once")."""
    query = (
        select(SchoolFee.school_id, func.min(SchoolFee.yearly_fee), func.max(SchoolFee.yearly_fee))
        .join(Campus, Campus.id == SchoolFee.campus_id)
        .where(
            SchoolFee.school_id.in_(bindparam("school_ids", expanding=True)),
            SchoolFee.school_year == bindparam("school_year"),
            Campus.deleted_at.is_(None),
        )
        .group_by(SchoolFee.school_id)
    )
    if of_level:
        query = query.where(SchoolFee.level == bindparam("level"))
    return query


def campus_fees(
    session: Session, campus_ids: list[int], school_year: int
) -> dict[int, list[SchoolFee]]:
    """Each campus's fee rows for a school year, youngest level first (one statement)."""
    if not campus_ids:
        return {}
    rows = session.scalars(
        select(SchoolFee).where(
            SchoolFee.campus_id.in_(campus_ids), SchoolFee.school_year == school_year
        )
    )
    by_campus: dict[int, list[SchoolFee]] = {campus_id: [] for campus_id in campus_ids}
    for fee in sorted(rows, key=lambda fee: fee.level_order):
        by_campus[fee.campus_id].append(fee)
    return by_campus
