"""A parent's favorites (schools and campuses): add, remove, list, and the limit on how many.

Plain module: the caller passes the session and the request's Origin, and commits. A favorite
names its target polymorphically with no foreign key, so every add checks here that the
school or campus exists and is public (published, not deleted; a campus's school too).
"""

from collections.abc import Collection
from dataclasses import dataclass, replace
from functools import cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    event,
    exists,
    false,
    func,
    inspect,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Origin, log_event
from portal.billing.limits import limit_for
from portal.models import Campus, School, User, UserComparison, UserFavorite
from portal.models.users import FAVORITABLE_TYPES
from portal.paging import COUNT_OVER_ROWS, PER_PAGE, Page, paginate
from portal.places import public_target
from portal.schools.catalogue import (
    CARD_SCHOOL_COLUMNS,
    CardSchool,
    levels_column,
    levels_in_order,
)
from portal.schools.fees import FeeRange, school_range_columns

FAVORITES = "favorites"  # the plan_features code of this feature


class FavoriteTargetNotFound(LookupError):
    """The school or campus is unknown, unpublished or deleted."""


class FavoritesLimitReached(Exception):
    """The parent already keeps as many favorites as they may."""

    def __init__(self, limit: int):
        super().__init__(f"at most {limit} favorites")
        self.limit = limit


class FavoriteCampus(NamedTuple):
    """The campus of a campus favorite, as its card shows it."""

    id: int
    school_id: int
    name: str
    city: str
    district: str


@dataclass(frozen=True)
class Favorite:
    """A favorite with the school it belongs to, and the campus when it names one; whether
    the parent compares that school or campus, and the school's fee range of the school year
    asked (None: no fee row)."""

    school: CardSchool
    campus: FavoriteCampus | None
    compared: bool
    fee_range: FeeRange | None
    levels: list[str]  # the school's, youngest first


def favorites_limit(session: Session, user: User) -> int | None:
    """How many favorites `user` may keep (None: no limit): their plan's limit for the
    "favorites" feature, or FAVORITES_LIMIT_DEFAULT without a plan."""
    return limit_for(
        session,
        FAVORITES,
        {FAVORITES: current_app.config.get("FAVORITES_LIMIT_DEFAULT")},
        user_id=user.id,
    )


def is_favorite(session: Session, user_id: int, kind: str, target_id: int) -> bool:
    """The user already keeps this school or campus."""
    query = select(UserFavorite.id).where(
        UserFavorite.user_id == user_id,
        UserFavorite.favoritable_type == kind,
        UserFavorite.favoritable_id == target_id,
    )
    return session.scalar(query) is not None


def _visible() -> ColumnElement[bool]:
    """A favorite whose school or campus is still public (published, not deleted): the rule
    `UserFavorite.is_visible` keeps (below, `_keep_visibility`).

    What the favorites page lists, and so what counts against the limit: a favorite whose
    school has since been withdrawn is not shown, so it must not use up a place either.

    Written as scalar subqueries (the favorite's school, through its campus for a campus,
    then whether that school is public), which each database runs per favorite through the
    primary keys: `refresh_visibility` sets the flag with it for the favorites a change
    concerns. (As EXISTS under an OR, PostgreSQL hashed every public school and campus.)
    """
    campus_school = (
        select(Campus.school_id)
        .where(Campus.id == UserFavorite.favoritable_id, Campus.deleted_at.is_(None))
        .correlate(UserFavorite)
        .scalar_subquery()
    )
    school_id = case(
        (UserFavorite.favoritable_type == "school", UserFavorite.favoritable_id),
        else_=campus_school,
    )
    school_is_public = (
        select(School.is_public).where(School.id == school_id).correlate(UserFavorite)
    ).scalar_subquery()
    return func.coalesce(school_is_public, false()) == true()


# --- Each favorite's visibility, kept ----------------------------------------------------------
#
# The favorites page counts a parent's visible favorites and chooses its page among them: with
# the rule above that meant looking up every favorite's school (and campus), 1,000 probes for
# 500 favorites. `user_favorites.is_visible` keeps the rule's answer instead, and these keep the
# flag right: whatever flush changes whether a school is published or deleted, whether a
# campus is deleted or which school it belongs to, or adds a favorite, recomputes the flag of
# the favorites concerned with the rule itself, in the same transaction. A change made with a
# bulk UPDATE, bypassing the ORM's objects, calls `refresh_visibility` itself.
#
# One window is left open: a favorite added while another transaction withdraws its school,
# the withdrawal committing between the add's flush and its commit, keeps `true` (neither
# transaction sees the other's row) until the school's visibility next changes. The page then
# counts it but shows no card for it (its schools' statement asks `School.is_public` again).

_SCHOOL_VISIBILITY = ("is_published", "deleted_at")
_CAMPUS_VISIBILITY = ("deleted_at", "school_id")


def refresh_visibility(
    connection: Connection,
    school_ids: Collection[int] = (),
    campus_ids: Collection[int] = (),
    favorite_ids: Collection[int] = (),
) -> int:
    """Recompute `is_visible` of the favorites of these schools (and of their campuses), of
    these campuses, and these favorites, from the rule (`_visible`); how many it set."""
    concerned = []
    if school_ids:
        concerned += [
            and_(
                UserFavorite.favoritable_type == "school",
                UserFavorite.favoritable_id.in_(school_ids),
            ),
            and_(
                UserFavorite.favoritable_type == "campus",
                UserFavorite.favoritable_id.in_(
                    select(Campus.id).where(Campus.school_id.in_(school_ids))
                ),
            ),
        ]
    if campus_ids:
        concerned.append(
            and_(
                UserFavorite.favoritable_type == "campus",
                UserFavorite.favoritable_id.in_(campus_ids),
            )
        )
    if favorite_ids:
        concerned.append(UserFavorite.id.in_(favorite_ids))
    if not concerned:
        return 0
    statement = update(UserFavorite).where(or_(*concerned)).values(is_visible=_visible())
    return connection.execute(statement).rowcount


def _changed(instance, names: tuple[str, ...]) -> bool:
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _keep_visibility(session: Session, flush_context) -> None:
    """After a flush (its rows written; the session's lists and histories still as before
    it), recompute the flag of the favorites whose target's visibility it changed, and of the
    favorites it added."""
    schools, campuses, favorites = set(), set(), set()
    for instance in session.dirty:
        if isinstance(instance, School) and _changed(instance, _SCHOOL_VISIBILITY):
            schools.add(instance.id)
        elif isinstance(instance, Campus) and _changed(instance, _CAMPUS_VISIBILITY):
            campuses.add(instance.id)
    for instance in session.new:
        if isinstance(instance, UserFavorite):
            favorites.add(instance.id)
    if schools or campuses or favorites:
        refresh_visibility(session.connection(), schools, campuses, favorites)


def _kept_now(session: Session, user_id: int) -> int:
    """How many of the user's favorites still name a public school or campus.

    A locking read (FOR UPDATE, of ids: PostgreSQL refuses it with count()) sees rows
    committed a moment ago, where a plain read under MariaDB's REPEATABLE READ would keep an
    older snapshot.
    """
    query = (
        select(UserFavorite.id)
        .where(UserFavorite.user_id == user_id, UserFavorite.is_visible)
        .with_for_update()
    )
    return len(session.scalars(query).all())


def add_favorite(session: Session, user: User, kind: str, target_id: int, origin: Origin) -> bool:
    """Keep a school or campus; True when a row was added, False when it was already kept.

    :raise FavoriteTargetNotFound: the target is unknown, unpublished or deleted.
    :raise FavoritesLimitReached: the user keeps as many favorites as they may.
    """
    if kind not in FAVORITABLE_TYPES or public_target(session, kind, target_id) is None:
        raise FavoriteTargetNotFound(f"{kind} {target_id}")
    if is_favorite(session, user.id, kind, target_id):
        return False
    limit = favorites_limit(session, user)
    if limit is not None:
        # Lock the user's row (PostgreSQL, MariaDB) so that two adds at once, a double click
        # or two tabs, are counted one after the other and cannot both take the last place.
        session.execute(select(User.id).where(User.id == user.id).with_for_update())
        if _kept_now(session, user.id) >= limit:
            raise FavoritesLimitReached(limit)
    try:
        # The favorite and its audit row stand or fall together; the same add made at the
        # same moment elsewhere wins the unique constraint, and this one changes nothing.
        with session.begin_nested():
            session.add(
                UserFavorite(user_id=user.id, favoritable_type=kind, favoritable_id=target_id)
            )
            session.flush()
            log_event(session, "favorite_added", user.id, origin, kind=kind, id=target_id)
    except IntegrityError:
        return False
    return True


def remove_favorite(
    session: Session, user: User, kind: str, target_id: int, origin: Origin
) -> bool:
    """Stop keeping a school or campus; True when a row was removed.

    Works whatever became of the target, so a parent can always drop a favorite.
    """
    result = session.execute(
        delete(UserFavorite).where(
            UserFavorite.user_id == user.id,
            UserFavorite.favoritable_type == kind,
            UserFavorite.favoritable_id == target_id,
        )
    )
    if not result.rowcount:
        return False
    log_event(session, "favorite_removed", user.id, origin, kind=kind, id=target_id)
    return True


# The favorites page's statements, built once (decisions.md, "Statements built once").

# What a campus favorite's card shows of its campus (FavoriteCampus, in this order).
CAMPUS_COLUMNS = (Campus.id, Campus.school_id, Campus.name, Campus.city, Campus.district)


@cache
def _page_statement() -> Select:
    """The visible favorites of `user_id`, newest first, each with whether the parent
    compares its target and its campus's CAMPUS_COLUMNS (NULL for a school favorite)."""
    # A comparison row names the school, and the campus when it compares one.
    compared = exists().where(
        UserComparison.user_id == UserFavorite.user_id,
        or_(
            and_(
                UserFavorite.favoritable_type == "school",
                UserComparison.campus_id.is_(None),
                UserComparison.school_id == UserFavorite.favoritable_id,
            ),
            and_(
                UserFavorite.favoritable_type == "campus",
                UserComparison.campus_id == UserFavorite.favoritable_id,
            ),
        ),
    )

    # A campus favorite's campus comes with it, as columns read by its primary key: both
    # PostgreSQL and the ORM do less than with an outer join, which PostgreSQL answered by
    # hashing every campus (15,000, 2.6 ms) for a parent with 500 favorites; these are read
    # for the page's rows only (the planner puts such subqueries after the LIMIT), and so is
    # the comparison mark. A statement fewer than asking for either after the page.
    def campus_column(column):
        return (
            select(column)
            .where(
                Campus.id == UserFavorite.favoritable_id, UserFavorite.favoritable_type == "campus"
            )
            .correlate(UserFavorite)
            .scalar_subquery()
        )

    # The favorite as the two columns the page needs, not as an object (twenty a page).
    return (
        select(
            UserFavorite.favoritable_type,
            UserFavorite.favoritable_id,
            compared.label("compared"),
            *(campus_column(column) for column in CAMPUS_COLUMNS),
        )
        .where(UserFavorite.user_id == bindparam("user_id"), UserFavorite.is_visible)
        .order_by(UserFavorite.created_at.desc(), UserFavorite.id.desc())
    )


@cache
def _schools_statement() -> Select:
    """The public schools `school_ids` with their levels and fee range in `school_year`."""
    # The columns a card shows (CardSchool), not a School: a school's whole row (its
    # description above all) was most of what the statement carried, and twenty objects
    # cost more than their statement. The levels as one string a row.
    return select(
        *CARD_SCHOOL_COLUMNS,
        levels_column(),
        *school_range_columns(bindparam("school_year")),
    ).where(School.id.in_(bindparam("school_ids", expanding=True)), School.is_public)


def favorites_page(
    session: Session, user_id: int, school_year: int, number: int = 1, per_page: int = PER_PAGE
) -> Page:
    """Page `number` of the user's favorites, newest first, with the count of all of them, as
    `Favorite`s with their fee ranges of `school_year`.

    Favorites whose school or campus is gone (soft-deleted) or unpublished are left out, and
    not counted. Two statements however many there are: the page with its campuses, the
    comparison marks and the count, and its schools with their levels and fee ranges, all
    as plain columns: nothing on an item can load one by one.
    """
    page = paginate(
        session,
        _page_statement(),
        number,
        per_page,
        scalars=False,
        # In the page's own pass: every visible favorite is read to choose the page anyway
        # (no index gives them newest first; the parent's rows are a few hundred at most).
        total=COUNT_OVER_ROWS,
        parameters={"user_id": user_id},
    )
    rows = [
        (kind, target_id, compared, FavoriteCampus(*campus) if campus[0] is not None else None)
        for kind, target_id, compared, *campus in page.items
    ]
    school_ids = {target_id for _, target_id, _, campus in rows if campus is None}
    school_ids |= {campus.school_id for *_, campus in rows if campus is not None}
    schools = {
        row[0]: (
            CardSchool(*row),
            levels_in_order(levels),
            FeeRange(low, high) if low is not None else None,
        )
        for *row, levels, low, high in session.execute(
            _schools_statement(), {"school_ids": list(school_ids), "school_year": school_year}
        )
    }
    items = []
    for kind, target_id, compared, campus in rows:
        school_id = campus.school_id if campus is not None else target_id
        # Withdrawn between the page's query and these: left out rather than shown broken.
        if (kind == "campus" and campus is None) or school_id not in schools:
            continue
        school, levels, fee_range = schools[school_id]
        items.append(Favorite(school, campus, bool(compared), fee_range, levels))
    return replace(page, items=items)
