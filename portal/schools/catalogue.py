"""Queries over public schools (School.is_public), for the public pages.

The search over them (filters, paging, fee ranges) is portal.schools.search.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.models import Campus, School


def published_school(session: Session, slug: str) -> School | None:
    """One published school by its slug, or None."""
    query = (
        select(School)
        .where(School.slug == slug, School.is_public)
        .options(selectinload(School.level_rows), selectinload(School.campuses))
    )
    return session.scalar(query)


def public_target(session: Session, kind: str, target_id: int) -> School | Campus | None:
    """The public school, or the live campus of a public school, that a parent's favorite or
    comparison names ("school" or "campus"), or None.

    Through the session's identity map: a toggle asks once to check and once more to draw
    itself, and the second time costs no query.
    """
    if kind == "school":
        school = session.get(School, target_id)
        return school if school is not None and school.is_public else None
    if kind == "campus":
        campus = session.get(Campus, target_id, options=[joinedload(Campus.school)])
        if campus is None or campus.deleted_at is not None:
            return None
        # A deleted school is not loaded at all (the soft-delete criteria): None here.
        return campus if campus.school is not None and campus.school.is_public else None
    return None
