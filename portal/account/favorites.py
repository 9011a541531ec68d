"""A user's favorites (schools and campuses), read with a fixed number of queries."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import Campus, School, UserFavorite


@dataclass(frozen=True)
class Favorite:
    """A favorite with the school it belongs to, and the campus when it names one."""

    favorite: UserFavorite
    school: School
    campus: Campus | None


def favorites_of(session: Session, user_id: int) -> list[Favorite]:
    """The user's favorites, newest first; three queries however many there are.

    Favorites whose school or campus is gone (soft-deleted) are left out.
    """
    rows = list(
        session.scalars(
            select(UserFavorite)
            .where(UserFavorite.user_id == user_id)
            .order_by(UserFavorite.created_at.desc(), UserFavorite.id.desc())
        )
    )
    campus_ids = {f.favoritable_id for f in rows if f.favoritable_type == "campus"}
    campuses = (
        {c.id: c for c in session.scalars(select(Campus).where(Campus.id.in_(campus_ids)))}
        if campus_ids
        else {}
    )
    school_ids = {f.favoritable_id for f in rows if f.favoritable_type == "school"}
    school_ids |= {c.school_id for c in campuses.values()}
    schools = (
        {
            s.id: s
            for s in session.scalars(
                select(School)
                .where(School.id.in_(school_ids))
                .options(selectinload(School.level_rows))
            )
        }
        if school_ids
        else {}
    )
    result = []
    for f in rows:
        campus = campuses.get(f.favoritable_id) if f.favoritable_type == "campus" else None
        school_id = campus.school_id if campus else f.favoritable_id
        if (f.favoritable_type == "campus" and campus is None) or school_id not in schools:
            continue
        result.append(Favorite(f, schools[school_id], campus))
    return result
