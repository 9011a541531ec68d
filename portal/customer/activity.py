"""A staff member's day at work: customer_user_daily_activity_logs, one row per member and
Europe/Istanbul business date, whose counters working a lead adds to.

Two requests of the same member can land at the same moment (two tabs, a double click), so
the row is never read, changed in Python and written back, which would lose one of them. One
upsert statement does it all, in the caller's transaction: INSERT the day's row with the
counts, or, when the unique (customer_user_id, activity_date) says the row exists, add them to
it (SET counter = counter + n, on the latest committed value, under the row's lock):
ON CONFLICT DO UPDATE on PostgreSQL and SQLite, ON DUPLICATE KEY UPDATE on MariaDB.

Why not INSERT ... DO NOTHING / INSERT IGNORE, then UPDATE: on MariaDB the ignored duplicate
leaves each racing transaction holding a shared lock on the row, and their UPDATEs then wait
on one another: InnoDB kills all but one as deadlocked (19 of 20 racing requests failed in
tests/customer/test_activity.py). The single upsert takes the exclusive lock at once.

The caller commits, with the change the activity is about: a sign-in with its session row
(portal.auth.views.sign_in), a lead step with the step (portal.leads.views.staff), a signature
with its sign record (portal.agreements.views.staff; `agreement_sign_count`, migration 0018).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.clock import istanbul_today, utcnow
from portal.models import CustomerUser, CustomerUserDailyActivityLog, User
from portal.paging import Page, paginate

_TABLE = CustomerUserDailyActivityLog.__table__


def record(
    session: Session,
    customer_user: CustomerUser,
    *,
    sign_ins: int = 0,
    lead_views: int = 0,
    lead_replies: int = 0,
    offers: int = 0,
    agreements_signed: int = 0,
    now: datetime | None = None,
) -> None:
    """Add to the member's counters of today (the Istanbul date of `now`) and note the time.

    :raise ValueError: for a negative count (counters only grow).
    """
    if min(sign_ins, lead_views, lead_replies, offers, agreements_signed) < 0:
        raise ValueError("activity counts only grow")
    now = now or utcnow()
    session.execute(
        _upsert_statement(session.get_bind().dialect.name),
        {
            "customer_user_id": customer_user.id,
            "activity_date": istanbul_today(now),
            "sign_in_count": sign_ins,
            "lead_view_count": lead_views,
            "lead_reply_count": lead_replies,
            "offer_count": offers,
            "agreement_sign_count": agreements_signed,
            "last_activity_at": now,
        },
    )


_COUNTERS = (
    "sign_in_count",
    "lead_view_count",
    "lead_reply_count",
    "offer_count",
    "agreement_sign_count",
)


@cache
def _upsert_statement(dialect: str):
    """The day's row inserted, or its counters added to, for the database `dialect`; built
    once: every step on a lead asks (decisions.md, "Statements built once"). Each counter's
    parameter is both the new row's value and what is added to an existing row."""
    columns = ("customer_user_id", "activity_date", *_COUNTERS, "last_activity_at")
    values = {name: bindparam(name, type_=_TABLE.c[name].type) for name in columns}
    added = {name: _TABLE.c[name] + values[name] for name in _COUNTERS}
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(_TABLE).values(values)
        return statement.on_conflict_do_update(
            index_elements=["customer_user_id", "activity_date"],
            set_={**added, "last_activity_at": statement.excluded.last_activity_at},
        )
    # In ON DUPLICATE KEY UPDATE a column names the existing row's value.
    statement = mysql_insert(_TABLE).values(values)
    return statement.on_duplicate_key_update(
        **added, last_activity_at=statement.inserted.last_activity_at
    )


# --- Reading it: the activity page (portal.customer.views.activity) -------------------------

DAYS_SHOWN = 30
# Five a page: a member's 30 days, as a chart and a table, are about 8 KB.
MEMBERS_PER_PAGE = 5


class Day(NamedTuple):
    """One member's counters on one Istanbul date (zeros for a day without a row). A named
    tuple, not a dataclass: a page builds 150 of them and keys its kept charts by them, and
    a tuple is made, hashed and compared without a Python call."""

    on: date
    sign_ins: int = 0
    lead_views: int = 0
    lead_replies: int = 0
    offers: int = 0
    agreements_signed: int = 0

    @property
    def lead_work(self) -> int:
        """Everything done on leads that day: views, replies and offers."""
        return self.lead_views + self.lead_replies + self.offers

    @property
    def total(self) -> int:
        """Every counter of the day added up (the fields after the date): the height of its
        stacked bar."""
        return sum(self[1:])

    @property
    def is_empty(self) -> bool:
        return not self.total


@dataclass(frozen=True)
class MemberActivity:
    """A member of the company and their last DAYS_SHOWN days, oldest first."""

    customer_user_id: int
    name: str
    is_active: bool
    days: list[Day]

    @property
    def totals(self) -> Day:
        """The days added up (dated the last day)."""
        return Day(
            on=self.days[-1].on,
            sign_ins=sum(d.sign_ins for d in self.days),
            lead_views=sum(d.lead_views for d in self.days),
            lead_replies=sum(d.lead_replies for d in self.days),
            offers=sum(d.offers for d in self.days),
            agreements_signed=sum(d.agreements_signed for d in self.days),
        )


def team_activity_page(session: Session, customer_id: int, today: date, number: int) -> Page:
    """A page of the company's members (active first, then by name), each with their last
    DAYS_SHOWN days up to `today`: two statements whatever the team's size or history, each
    built once."""
    members = paginate(
        session,
        _members_statement(),
        number,
        MEMBERS_PER_PAGE,
        scalars=False,
        total=_members_total(),
        parameters={"customer_id": customer_id},
    )
    first = today - timedelta(days=DAYS_SHOWN - 1)
    by_member: dict[int, dict[date, Day]] = {member_id: {} for member_id, _, _ in members.items}
    if by_member:
        rows = session.execute(
            _days_statement(), {"member_ids": list(by_member), "first": first, "today": today}
        )
        for member_id, on, *counts in rows:
            by_member[member_id][on] = Day(on, *counts)
    dates = [first + timedelta(days=n) for n in range(DAYS_SHOWN)]
    items = [
        MemberActivity(
            customer_user_id=member_id,
            name=name,
            is_active=is_active,
            days=[by_member[member_id].get(on, Day(on)) for on in dates],
        )
        for member_id, name, is_active in members.items
    ]
    return Page(items=items, number=members.number, per_page=members.per_page, total=members.total)


@cache
def _members_statement() -> Select:
    """Company `customer_id`'s members, active first, then by name (built once, as every
    list's statement: building it cost more Python than running it)."""
    return (
        select(CustomerUser.id, User.name, CustomerUser.is_active)
        .join(User, User.id == CustomerUser.user_id)
        .where(CustomerUser.customer_id == bindparam("customer_id"))
        .order_by(CustomerUser.is_active.desc(), User.name, CustomerUser.id)
    )


@cache
def _members_total() -> Select:
    """How many members company `customer_id` has (the list's joins only add columns)."""
    return (
        select(func.count())
        .select_from(CustomerUser)
        .where(CustomerUser.customer_id == bindparam("customer_id"))
    )


@cache
def _days_statement() -> Select:
    """The activity rows of members `member_ids` dated `first` to `today`."""
    log = CustomerUserDailyActivityLog
    return select(
        log.customer_user_id,
        log.activity_date,
        log.sign_in_count,
        log.lead_view_count,
        log.lead_reply_count,
        log.offer_count,
        log.agreement_sign_count,
    ).where(
        log.customer_user_id.in_(bindparam("member_ids", expanding=True)),
        log.activity_date >= bindparam("first"),
        log.activity_date <= bindparam("today"),
    )
