"""Queries over public schools (School.is_public), for the public pages.

The search over them (filters, paging, fee ranges) is portal.schools.search.
"""

from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from portal.models import School


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
