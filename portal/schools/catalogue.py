"""Queries over public schools (School.is_public), for the public pages.

The search over them (filters, paging, fee ranges) is portal.schools.search.
"""

from functools import cache
from typing import NamedTuple

from sqlalchemy import ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from portal.models import School, SchoolLevel
from portal.models.schools import SCHOOL_LEVELS


class CardSchool(NamedTuple):
    """What a school's card on a list shows of it (the search's results, the favorites): read
    as columns, not as a School, since building twenty ORM objects (their identity and
    state) cost a tenth of a search fragment. Nothing on it can load one by one."""

    id: int
    slug: str
    name: str
    city: str
    district: str


# What a CardSchool is read from, in its order.
CARD_SCHOOL_COLUMNS = (School.id, School.slug, School.name, School.city, School.district)


def published_school(session: Session, slug: str) -> School | None:
    """One published school by its slug, with its levels and live campuses, or None (one
    statement)."""
    return session.scalars(_published_statement(), {"slug": slug}).unique().one_or_none()


@cache
def _published_statement() -> Select:
    """Built once: the school page and the ask form read it on every visit (decisions.md,
    "Statements built once"). Both collections are joined: a school has a few levels and
    campuses, so the rows they multiply stay few, and each is a statement fewer."""
    return (
        select(School)
        .where(School.slug == bindparam("slug"), School.is_public)
        .options(joinedload(School.level_rows), joinedload(School.campuses))
    )


def levels_column() -> ScalarSelect:
    """The row's school's (`School`) levels as one string ("high,primary"), a correlated
    aggregate: for a list whose own statement brings each school's levels, cheaper than
    loading its level rows as objects. `levels_in_order` reads it."""
    return (
        select(func.aggregate_strings(SchoolLevel.level, ","))
        .where(SchoolLevel.school_id == School.id)
        .correlate(School)
        .scalar_subquery()
    )


def levels_in_order(levels: str | None) -> list[str]:
    """The levels of a `levels_column()` value, youngest first."""
    present = set(levels.split(",")) if levels else set()
    return [level for level in SCHOOL_LEVELS if level in present]
