"""School years and fees: what a level costs at a campus, and the ranges derived from it.

A school year starts in September on the Istanbul calendar and is named by the year it starts
in (2026 is 2026-2027). Fees are rows of school_fees (campus, level, school year); a school's
range is never stored, it is the minimum and maximum of the rows that apply.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from sqlalchemy import ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import Session

from portal.models import Campus, School, SchoolFee

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


def school_range_columns(school_year) -> tuple[ScalarSelect, ScalarSelect]:
    """The lowest and highest yearly fee of the row's school (`School`) in `school_year` (a
    value or a bound parameter) over its live campuses, as correlated subqueries: for a list
    whose own statement brings each school's range."""

    def fee(aggregate) -> ScalarSelect:
        return (
            select(aggregate(SchoolFee.yearly_fee))
            .join(Campus, Campus.id == SchoolFee.campus_id)
            .where(
                SchoolFee.school_id == School.id,
                SchoolFee.school_year == school_year,
                Campus.deleted_at.is_(None),
            )
            .correlate(School)
            .scalar_subquery()
        )

    return fee(func.min), fee(func.max)


def campus_fees(
    session: Session, campus_ids: list[int], school_years: list[int]
) -> dict[int, dict[int, list[SchoolFee]]]:
    """Each school year's fee rows of each campus ({year: {campus id: fees}}), youngest level
    first, every year and campus asked present (one statement)."""
    by_year: dict[int, dict[int, list[SchoolFee]]] = {
        year: {campus_id: [] for campus_id in campus_ids} for year in school_years
    }
    if not campus_ids or not school_years:
        return by_year
    rows = session.scalars(
        _campus_fees_statement(), {"campus_ids": campus_ids, "school_years": school_years}
    )
    for fee in sorted(rows, key=lambda fee: fee.level_order):
        by_year[fee.school_year][fee.campus_id].append(fee)
    return by_year


@cache
def _campus_fees_statement() -> Select:
    """Built once: the school page asks on every visit (decisions.md, "Statements built
    once")."""
    return select(SchoolFee).where(
        SchoolFee.campus_id.in_(bindparam("campus_ids", expanding=True)),
        SchoolFee.school_year.in_(bindparam("school_years", expanding=True)),
    )
