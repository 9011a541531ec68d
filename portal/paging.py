"""One way to page a list: one page of rows with the list's count, and the numbers a pager shows.

Offset paging over an ordered query: the lists it serves (the catalogue, a parent's favorites,
the operators' customers) are thousands of rows at most per list, where an offset costs little
and a reader expects page numbers and a total ("2,431 schools"). A list that grows without
bound (the audit log, leads) should page by key instead; that is for when one exists.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from math import ceil
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

# Enough to scan, few enough that the page stays well under 100 KB.
PER_PAGE = 20
# A page number past the end of any list.
PAST_THE_END = 10**9


class Counting(Enum):
    """How paginate() counts when `total` names a way rather than a statement or a number."""

    # count(*) OVER () in the page's own pass over the rows (paginate's docstring says when).
    OVER_ROWS = "over rows"


COUNT_OVER_ROWS = Counting.OVER_ROWS


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number (from 1) and the list's total."""

    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the list has (1 for an empty list)."""
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """The 1-based position of the page's first row in the list (0 when it is empty)."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        """The 1-based position of the page's last row in the list (0 when it is empty)."""
        return self.first_index + len(self.items) - 1 if self.items else 0


def page_number(value: object) -> int:
    """A page number from a query argument: anything but ASCII digits making a positive
    integer is 1 (int() alone would also take " 3 ", "1_000" and Arabic-Indic digits)."""
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        return 1
    # More digits than any list has pages (and int() refuses past 4,300): past the end, which
    # paginate() turns into the last page.
    if len(text) > 9:
        return PAST_THE_END
    return max(int(text), 1)


def paginate(
    session: Session,
    query: Select,
    number: int,
    per_page: int = PER_PAGE,
    *,
    scalars: bool = True,
    total: Select | int | Counting | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Page:
    """Load page `number` of `query` with the list's total (the last page when past the end).

    One statement whatever the list's length: the count rides along as an uncorrelated scalar
    subquery, which every database here runs once per statement, so a page costs one round
    trip and one result instead of two. A number past the end finds no rows; only then is the
    count read on its own and the last page loaded (three statements, for a stale link).
    `query` must be ordered by a unique key, or rows may repeat or vanish between pages. With
    `scalars=False` the items are rows (tuples). `total`, a SELECT of one count, replaces
    counting `query` itself when that is cheaper (the rows of a list whose joins only add
    columns); an int is a count already made.

    `parameters` are the bound parameters of a `query` (and `total`) built once, kept for the
    process's life (decisions.md, "Statements built once"): the page's statement is then built
    once too. A query built per call must not pass them, or its counted statement would be
    kept for ever.
    """
    # Past any list's end, but an offset every database takes.
    number = min(max(number, 1), PAST_THE_END)
    if isinstance(total, int):
        number = min(number, last_page(total, per_page))
        items = _items(session, query, number, per_page, scalars, parameters)
        return Page(items, number, per_page, total)
    counted_query = counted(query, total) if parameters is None else _counted_once(query, total)
    rows = list(session.execute(_limited(counted_query, number, per_page), parameters))
    if not rows:
        if number == 1:  # the first page is empty only when the list is
            return Page(items=[], number=1, per_page=per_page, total=0)
        # Past the end: with the count made, the branch above loads the last page.
        counting = None if total is COUNT_OVER_ROWS else total
        # int(): a count made by a SUM is a decimal on MariaDB.
        count = int(session.scalar(count_statement(query, counting), parameters) or 0)
        return paginate(
            session, query, number, per_page, scalars=scalars, total=count, parameters=parameters
        )
    count = rows[0][-1]
    items = [row[0] if scalars else tuple(row)[:-1] for row in rows]
    return Page(items=items, number=number, per_page=per_page, total=count)


def count_statement(query: Select, total: Select | None = None) -> Select:
    """The statement counting `query`'s rows, or `total` when the list has its own."""
    if total is None:
        return select(func.count()).select_from(query.order_by(None).subquery())
    return total


def counted(query: Select, total: Select | Counting | None) -> Select:
    """`query` with the list's count as a last column, `total` (see paginate())."""
    if total is COUNT_OVER_ROWS:
        return query.add_columns(func.count().over().label("total"))
    # correlate(None): `total` names the outer query's tables, and a correlated count would
    # count one row per row.
    return query.add_columns(
        count_statement(query, total).correlate(None).scalar_subquery().label("total")
    )


# Statements built once are kept for the process's life, so their counted forms may be too
# (keyed by identity: a statement compares and hashes as the object it is).
_counted_once = cache(counted)


def last_page(total: int, per_page: int) -> int:
    """The number of a list's last page (1 for an empty list)."""
    return max(1, ceil(total / per_page))


def _limited(query: Select, number: int, per_page: int) -> Select:
    return query.limit(per_page).offset((number - 1) * per_page)


def _items(
    session: Session,
    query: Select,
    number: int,
    per_page: int,
    scalars: bool,
    parameters: Mapping[str, Any] | None,
) -> list:
    limited = _limited(query, number, per_page)
    if scalars:
        return list(session.scalars(limited, parameters))
    return [tuple(row) for row in session.execute(limited, parameters)]
