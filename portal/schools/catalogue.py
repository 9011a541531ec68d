"""Queries over public schools (School.is_public), for the public pages.

The search over them (filters, paging, fee ranges) is portal.schools.search.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import School


def published_school(session: Session, slug: str) -> School | None:
    """One published school by its slug, or None."""
    query = (
        select(School)
        .where(School.slug == slug, School.is_public)
        .options(selectinload(School.level_rows), selectinload(School.campuses))
    )
    return session.scalar(query)
