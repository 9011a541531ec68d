"""The school search: which published schools match a parent's filters, a page at a time.

A parent looks for "a primary school in Kadıköy within 150,000–300,000 ₺ a year". The filters:
- the name (`q`): every typed word starts a word of the name, folded the Turkish way both
  sides, through each database's full-text index (portal.database.name_query/name_matches);
- where (`city`, `district`): the school's own address or one of its live campuses;
- the level the school teaches;
- the fee (`fee_min`, `fee_max`): a fee row of the chosen level (any level when none is
  chosen), in the chosen school year, at a live campus in the chosen city/district, lies in
  the range. The card's range is the lowest and highest of exactly those rows, so what the
  card says is what the filters matched.

Three statements however many schools match: the count, the page's ids in the search's
order, and those schools with their levels, campus count and fee range (subqueries of it:
the range one lateral lookup on PostgreSQL). The view keeps the count, the page's ids, and
the city and district lists for a minute (portal/caching.py); the cards read their schools
as columns, so nothing can load one by one.
"""

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    join,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.orm import Session

from portal.database import name_matches, name_query
from portal.models import Campus, School, SchoolFee, SchoolLevel, UserDetail
from portal.paging import PER_PAGE, Page, last_page
from portal.schools.catalogue import (
    CARD_SCHOOL_COLUMNS,
    CardSchool,
    levels_column,
    levels_in_order,
)
from portal.schools.fees import FeeRange
from portal.schools.marks import school_mark_columns
from portal.search_text import fold

# How results may be ordered; the first is the default.
SORTS = ("name", "fee_asc", "fee_desc")

# Words that name a level, as parents type them into the search box, folded
# (portal.search_text.fold) and matched as the start of a typed word: "ilkokul",
# "ilkokulları", "İLKOKUL" all mean the level primary, whatever the schools are called.
LEVEL_WORDS = {
    "anaokul": "preschool",
    "anasinif": "preschool",
    "kres": "preschool",
    "preschool": "preschool",
    "kindergarten": "preschool",
    "ilkokul": "primary",
    "primary": "primary",
    "ortaokul": "middle",
    "middle": "middle",
    "lise": "high",
}


def level_words(q: str) -> tuple[str, str | None]:
    """`q` without the words that name a level, and the level the first of them names.

    A parent looking for "ilkokul Kadıköy" wants schools that teach primary, not schools
    with "ilkokul" in their names; a school whose name says "İlkokulu" teaches primary and
    is found all the same.
    """
    kept, level = [], None
    for word in q.split():
        named = next(
            (lvl for start, lvl in LEVEL_WORDS.items() if fold(word).startswith(start)), None
        )
        if named is None:
            kept.append(word)
        elif level is None:
            level = named
    return " ".join(kept), level


@dataclass(frozen=True)
class SchoolSearch:
    """A parent's filters, already checked: None (or "") is "any"."""

    school_year: int
    q: str = ""
    city: str | None = None
    # Only with a city: a district name means nothing without its city.
    district: str | None = None
    level: str | None = None
    fee_min: Decimal | None = None
    fee_max: Decimal | None = None
    sort: str = "name"

    @property
    def has_fee_range(self) -> bool:
        return self.fee_min is not None or self.fee_max is not None


@dataclass(frozen=True)
class FoundSchool:
    """A result: the school (its id, slug, name, city and district), the levels it teaches
    (youngest first), its live campuses' count, and the range of the fee rows that matched
    the filters (None when no fee row did)."""

    school: CardSchool
    levels: list[str]
    campus_count: int
    fee_range: FeeRange | None
    # For a search made for a parent (`marks_for`): whether they keep and compare it.
    is_favorite: bool = False
    is_compared: bool = False

    @property
    def facts(self) -> tuple:
        """Everything the card shows, the key its kept markup is found by (the template
        would read it with a dozen attribute lookups a card)."""
        school, fees = self.school, self.fee_range
        return (
            school.slug,
            school.name,
            school.city,
            school.district,
            tuple(self.levels),
            self.campus_count,
            fees.low if fees else None,
            fees.high if fees else None,
        )


def search_schools(
    session: Session,
    search: SchoolSearch,
    number: int = 1,
    per_page: int = PER_PAGE,
    *,
    total: int | None = None,
    keep: Callable[[Hashable, Callable[[], tuple[int, ...]]], tuple[int, ...]] | None = None,
    marks_for: int | None = None,
) -> Page:
    """Page `number` of the published schools matching `search`, as FoundSchool items (the
    last page when past the end).

    By name (the id breaks ties, so no school repeats or vanishes across pages), or by fee:
    ascending by the lowest matching fee, descending by the highest; schools with no matching
    fee come last. `total`, when the caller knows it already (count_schools(), kept for a
    while: counting every school with a fee in range is a search's costliest statement),
    spares the count.

    `keep(key, compute)` may answer which schools make the page from what `compute()`
    answered a while ago (the view passes portal.caching.short_lived): choosing them is the
    rest of the search's database time. The page's schools are read afresh by their ids and
    checked against the filters again either way, so a card never shows old facts and a
    school that stopped matching drops out at once; one that started matching shows once the
    kept answer expires, as it is counted.

    `marks_for`, a parent's user id, has each result say whether that parent keeps and
    compares it (portal.schools.marks.school_mark_columns), read with the page's schools.
    """
    dialect = session.get_bind().dialect.name
    if total is None:
        total = count_schools(session, search)
    number = min(max(number, 1), last_page(total, per_page))

    def choose() -> tuple[int, ...]:
        ids = _ids_statement(dialect, search).limit(per_page).offset((number - 1) * per_page)
        return tuple(session.scalars(ids))

    ids = keep((dialect, search, number, per_page), choose) if keep else choose()
    by_id = {}
    if ids:
        marked = marks_for is not None
        n = len(CARD_SCHOOL_COLUMNS)  # the card's columns first, then the rest
        for row in session.execute(
            _rows_statement(dialect, search, marked), {"ids": list(ids), "user_id": marks_for}
        ):
            by_id[row[0]] = _found(CardSchool(*row[:n]), *row[n:])
    found = [
        by_id[school_id]
        for school_id in ids
        if school_id in by_id and _still_matches(search, by_id[school_id])
    ]
    return Page(items=found, number=number, per_page=per_page, total=total)


def _still_matches(search: SchoolSearch, found: FoundSchool) -> bool:
    """The level and fee filters, checked on what the card read: its levels are the school's
    level rows, and its range is made of exactly the fee rows the fee filter asks for, so a
    school with none of them has no range. Asking the database again took two semi-joins a
    school in the rows statement."""
    if search.level and search.level not in found.levels:
        return False
    return not search.has_fee_range or found.fee_range is not None


def _found(school, taught, count, lo, hi, is_favorite=False, is_compared=False) -> FoundSchool:
    return FoundSchool(
        school,
        levels_in_order(taught),
        count,
        FeeRange(lo, hi) if lo is not None else None,
        bool(is_favorite),
        bool(is_compared),
    )


@lru_cache(maxsize=128)  # a statement is some kilobytes; crawlers ask for many
def _ids_statement(dialect: str, search: SchoolSearch) -> Select:
    """The matching schools' ids in the search's order, built once per search and kept:
    building a search's statements (their subqueries and conditions) cost a fifth of the
    catalogue's own time. A statement is immutable, so every request may run the same one;
    the search holds every value it binds (the school year included). By name, no fee is
    needed to choose the page; by fee, every matching school's range is needed before the
    first row: one grouped pass over the year's fee rows, joined, beats a lookup per school
    (4,800)."""
    conditions = _conditions(dialect, search)
    if search.sort == "name":
        return select(School.id).where(*conditions).order_by(School.name, School.id)
    fees = (
        select(
            SchoolFee.school_id,
            func.min(SchoolFee.yearly_fee).label("low"),
            func.max(SchoolFee.yearly_fee).label("high"),
        )
        .join(Campus, Campus.id == SchoolFee.campus_id)
        .where(*_matching_fee_rows(search))
        .group_by(SchoolFee.school_id)
        .subquery()
    )
    return (
        select(School.id)
        .outerjoin(fees, fees.c.school_id == School.id)
        .where(*conditions)
        .order_by(*_order(search.sort, fees.c.low, fees.c.high), School.name, School.id)
    )


@lru_cache(maxsize=128)
def _rows_statement(dialect: str, search: SchoolSearch, marked: bool = False) -> Select:
    """The page's schools by their ids (bound parameter `ids`), still published and matching
    the name and place (the caller checks the level and fee on what it read), with what
    their cards show, whatever the sort (the caller puts them in the kept order); `marked`,
    with whether parent `user_id` keeps and compares each.

    Each school's fee range: on PostgreSQL one lateral lookup gives both ends, where two
    correlated lookups read the same fee rows twice (with the re-checks gone too, the
    benchmark's city, level and fee page went 0.67-0.95 -> 0.40-0.47 ms in pgbench); MariaDB
    and SQLite have no LATERAL and keep the two lookups."""
    fee_rows = _matching_fee_rows(search)
    campus_count = (
        select(func.count(Campus.id))
        .where(Campus.school_id == School.id, Campus.deleted_at.is_(None))
        .correlate(School)
        .scalar_subquery()
    )
    if dialect == "postgresql":
        fees = (
            select(
                func.min(SchoolFee.yearly_fee).label("low"),
                func.max(SchoolFee.yearly_fee).label("high"),
            )
            .select_from(SchoolFee)
            .join(Campus, Campus.id == SchoolFee.campus_id)
            .where(SchoolFee.school_id == School.id, *fee_rows)
            .lateral("fees")
        )
        # An aggregate without GROUP BY is one row, so every school keeps its row.
        schools, low, high = join(School, fees, true()), fees.c.low, fees.c.high
    else:
        schools, low, high = School, _fee_of(func.min, fee_rows), _fee_of(func.max, fee_rows)
    return (
        select(
            # The columns the card shows: the rest (a description of some kilobytes among
            # them) was read for nothing on every search.
            *CARD_SCHOOL_COLUMNS,
            levels_column(),
            campus_count,
            low,
            high,
            *(school_mark_columns(School.id) if marked else ()),
        )
        .select_from(schools)
        .where(
            School.id.in_(bindparam("ids", expanding=True)),
            *_named_and_placed(dialect, search),
        )
    )


def count_schools(session: Session, search: SchoolSearch) -> int:
    """How many published schools match `search` (one statement)."""
    dialect = session.get_bind().dialect.name
    return session.scalar(select(func.count(School.id)).where(*_conditions(dialect, search)))


def _conditions(dialect: str, search: SchoolSearch) -> list:
    """The WHERE of the search: which schools match, whatever the order."""
    return [*_named_and_placed(dialect, search), *_taught_and_priced(search)]


def _named_and_placed(dialect: str, search: SchoolSearch) -> list:
    """The published schools matching the name and the place."""
    conditions = [School.is_public]
    if search.q:
        query = name_query(dialect, search.q)
        if query is None:
            # Only punctuation typed: nothing to look for, so nothing matches.
            conditions.append(School.id.is_(None))
        else:
            conditions.append(
                name_matches(dialect, School.name_folded, School.id, "schools_name_fts", query)
            )
    if search.city:
        conditions.append(_located_in(search.city, search.district))
    return conditions


def _taught_and_priced(search: SchoolSearch) -> list:
    """The schools teaching the level, with a fee row in the range (what `_still_matches`
    checks on a card already read)."""
    conditions = []
    if search.level:
        conditions.append(School.level_rows.any(SchoolLevel.level == search.level))
    if search.has_fee_range:
        conditions.append(
            exists()
            .where(SchoolFee.school_id == School.id, *_matching_fee_rows(search))
            .correlate(School)
        )
    return conditions


def _located_in(city: str, district: str | None):
    """The school's own address, or one of its live campuses, is in the city (district)."""
    school_here = School.city == city
    campus_here = Campus.city == city
    if district:
        school_here = and_(school_here, School.district == district)
        campus_here = and_(campus_here, Campus.district == district)
    campus_exists = (
        exists()
        .where(Campus.school_id == School.id, Campus.deleted_at.is_(None), campus_here)
        .correlate(School)
    )
    return or_(school_here, campus_exists)


def _matching_fee_rows(search: SchoolSearch) -> list:
    """The conditions on fee rows (joined to their campus) that the filters ask for."""
    rows = [
        SchoolFee.school_year == search.school_year,
        Campus.id == SchoolFee.campus_id,
        Campus.deleted_at.is_(None),
    ]
    if search.level:
        rows.append(SchoolFee.level == search.level)
    if search.city:
        # The fee of a campus the parent would use: one in the place they chose.
        rows.append(Campus.city == search.city)
        if search.district:
            rows.append(Campus.district == search.district)
    if search.fee_min is not None:
        rows.append(SchoolFee.yearly_fee >= search.fee_min)
    if search.fee_max is not None:
        rows.append(SchoolFee.yearly_fee <= search.fee_max)
    return rows


def _fee_of(aggregate, fee_rows: list):
    """The lowest or highest matching fee of the school of the row (a correlated subquery)."""
    return (
        select(aggregate(SchoolFee.yearly_fee))
        .select_from(SchoolFee)
        .join(Campus, Campus.id == SchoolFee.campus_id)
        .where(SchoolFee.school_id == School.id, *fee_rows)
        .correlate(School)
        .scalar_subquery()
    )


def _order(sort: str, low, high) -> list:
    # MariaDB has no NULLS LAST: "no matching fee" is sorted by a flag of its own first.
    if sort == "fee_asc":
        return [case((low.is_(None), 1), else_=0), low]
    if sort == "fee_desc":
        return [case((high.is_(None), 1), else_=0), high.desc()]
    return []


def cities(session: Session) -> list[str]:
    """The cities of the published schools' own addresses.

    Not their campuses' too: the list is on every search page, and reading 15,000 campuses
    for it costs several times the 5,000 schools (the benchmark's data); a campus's district
    is offered once its city is chosen, and a city filter matches campuses all the same.
    """
    query = select(School.city).where(School.is_public).distinct()
    return sorted(session.scalars(query), key=_city_order)


def districts(session: Session, city: str) -> list[str]:
    """The districts of `city` where a published school is, by its own address or a live
    campus."""
    query = _places(School.district, Campus.district, School.city == city, Campus.city == city)
    return sorted(set(session.scalars(query)), key=_city_order)


def _places(school_column, campus_column, school_where, campus_where):
    schools = select(school_column).where(School.is_public, school_where)
    campuses = (
        select(campus_column)
        .join(School, School.id == Campus.school_id)
        .where(School.is_public, Campus.deleted_at.is_(None), campus_where)
    )
    return union(schools, campuses)


def _city_order(name: str) -> tuple:
    # Turkish alphabetical order for the options, the same on every database: Çanakkale after
    # Bursa and İzmir after Isparta, where code-point order puts both after Zonguldak.
    lower = name.translate(_TURKISH_CAPITAL_I).lower()
    return tuple(_TURKISH_ALPHABET.get(ch, 100 + ord(ch)) for ch in lower), name


_TURKISH_CAPITAL_I = str.maketrans({"I": "ı", "İ": "i"})
_TURKISH_ALPHABET = {ch: i for i, ch in enumerate("abcçdefgğhıijklmnoöpqrsştuüvwxyz")}


def budget_of(details: UserDetail | None) -> tuple[Decimal | None, Decimal | None]:
    """The school-fee budget a parent saved in their profile (None where not given); the
    details come with the signed-in user (portal.auth.sessions loads them)."""
    return (details.budget_min, details.budget_max) if details else (None, None)
