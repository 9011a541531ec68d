"""Queries over public schools (School.is_public), for the public pages."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import School


def cities(session: Session) -> list[str]:
    """The cities that have at least one published school, alphabetically."""
    query = select(School.city).where(School.is_public).distinct().order_by(School.city)
    return list(session.scalars(query))


def published_schools(session: Session, city: str | None = None) -> list[School]:
    """Published schools, optionally in one city, with their levels and campuses loaded."""
    query = (
        select(School)
        .where(School.is_public)
        .options(selectinload(School.level_rows), selectinload(School.campuses))
        .order_by(School.name)
    )
    if city:
        query = query.where(School.city == city)
    return list(session.scalars(query))


def published_school(session: Session, slug: str) -> School | None:
    """One published school by its slug, or None."""
    query = (
        select(School)
        .where(School.slug == slug, School.is_public)
        .options(selectinload(School.level_rows), selectinload(School.campuses))
    )
    return session.scalar(query)
