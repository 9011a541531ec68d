"""Queries over public schools (School.is_public), for the public pages."""

from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, raiseload, selectinload

from portal.models import Campus, School
from portal.paging import PER_PAGE, Page, paginate


@dataclass(frozen=True)
class ListedSchool:
    """A school as the list shows it: the school (levels loaded) and how many campuses it has."""

    school: School
    campus_count: int


def cities(session: Session) -> list[str]:
    """The cities that have at least one published school, alphabetically."""
    query = select(School.city).where(School.is_public).distinct().order_by(School.city)
    return list(session.scalars(query))


def published_schools(
    session: Session, city: str | None = None, number: int = 1, per_page: int = PER_PAGE
) -> Page:
    """Page `number` of the published schools (optionally in one city), by name.

    Three statements however many schools there are: the count, the page with each school's
    campus count (a correlated count, no campus is loaded) and the page's levels. Any other
    relationship touched on these schools raises instead of loading one by one.
    """
    campus_count = (
        select(func.count(Campus.id))
        .where(Campus.school_id == School.id, Campus.deleted_at.is_(None))
        .correlate(School)
        .scalar_subquery()
    )
    query = (
        select(School, campus_count)
        .where(School.is_public)
        .options(raiseload("*"), selectinload(School.level_rows))
        # The id breaks ties between namesakes, so no school repeats or vanishes across pages.
        .order_by(School.name, School.id)
    )
    if city:
        query = query.where(School.city == city)
    page = paginate(session, query, number, per_page, scalars=False)
    return replace(page, items=[ListedSchool(school, count) for school, count in page.items])


def published_school(session: Session, slug: str) -> School | None:
    """One published school by its slug, or None."""
    query = (
        select(School)
        .where(School.slug == slug, School.is_public)
        .options(selectinload(School.level_rows), selectinload(School.campuses))
    )
    return session.scalar(query)
