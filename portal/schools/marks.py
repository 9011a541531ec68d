"""Which of a page's schools and campuses a parent keeps and compares: the two toggles on each
card of the catalogue and the school page, marked in one statement for the whole page.

Plain module: the caller passes the session and the parent's id.
"""

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    CompoundSelect,
    Label,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from portal.models import UserComparison, UserFavorite


@dataclass(frozen=True)
class Marks:
    """The page's schools and campuses the parent keeps and compares, as (kind, id) pairs."""

    favorites: frozenset[tuple[str, int]]
    compared: frozenset[tuple[str, int]]


NO_MARKS = Marks(frozenset(), frozenset())


def school_mark_columns(school_id) -> tuple[Label[bool], Label[bool]]:
    """Whether parent `user_id` (a bound parameter) keeps and compares the school `school_id`
    (a column of another statement): marks_of()'s rule for schools as the columns
    `is_favorite` and `is_compared`, so a list that reads its schools anyway (the search's
    page of results) marks its toggles without a statement of its own."""
    user_id = bindparam("user_id")
    favorite = exists().where(
        UserFavorite.user_id == user_id,
        UserFavorite.favoritable_type == "school",
        UserFavorite.favoritable_id == school_id,
    )
    compared = exists().where(
        UserComparison.user_id == user_id,
        UserComparison.campus_id.is_(None),
        UserComparison.school_id == school_id,
    )
    return favorite.label("is_favorite"), compared.label("is_compared")


def marks_of(
    session: Session, user_id: int, schools: Collection[int] = (), campuses: Collection[int] = ()
) -> Marks:
    """The marks of these schools and campuses only, whatever the parent keeps elsewhere."""
    if not schools and not campuses:
        return NO_MARKS
    marked: dict[str, set[tuple[str, int]]] = {"favorite": set(), "compared": set()}
    for mark, kind, target_id in session.execute(
        _marks_statement(),
        {"user_id": user_id, "schools": list(schools), "campuses": list(campuses)},
    ):
        marked[mark].add((kind, target_id))
    return Marks(frozenset(marked["favorite"]), frozenset(marked["compared"]))


@cache
def _marks_statement() -> CompoundSelect:
    """Built once, as every page of results asks (decisions.md, "Statements built once"):
    ("favorite" or "compared", kind, id) rows."""
    user_id, schools, campuses = (
        bindparam("user_id"),
        bindparam("schools", expanding=True),
        bindparam("campuses", expanding=True),
    )
    favorites = select(
        literal("favorite", String).label("mark"),
        UserFavorite.favoritable_type.label("kind"),
        UserFavorite.favoritable_id.label("target_id"),
    ).where(
        UserFavorite.user_id == user_id,
        or_(
            and_(
                UserFavorite.favoritable_type == "school", UserFavorite.favoritable_id.in_(schools)
            ),
            and_(
                UserFavorite.favoritable_type == "campus", UserFavorite.favoritable_id.in_(campuses)
            ),
        ),
    )
    # A comparison row names its school, and its campus when it compares one (campus_id NULL:
    # the school as a whole).
    compared = select(
        literal("compared", String),
        case((UserComparison.campus_id.is_(None), literal("school", String)), else_="campus"),
        func.coalesce(UserComparison.campus_id, UserComparison.school_id),
    ).where(
        UserComparison.user_id == user_id,
        or_(
            and_(UserComparison.campus_id.is_(None), UserComparison.school_id.in_(schools)),
            UserComparison.campus_id.in_(campuses),
        ),
    )
    return union_all(favorites, compared)
