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

The caller commits, with the change the activity is about.
"""

from datetime import datetime

from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.clock import istanbul_today, utcnow
from portal.models import CustomerUser, CustomerUserDailyActivityLog

_TABLE = CustomerUserDailyActivityLog.__table__


def record(
    session: Session,
    customer_user: CustomerUser,
    *,
    lead_views: int = 0,
    lead_replies: int = 0,
    offers: int = 0,
    now: datetime | None = None,
) -> None:
    """Add to the member's counters of today (the Istanbul date of `now`) and note the time.

    :raise ValueError: for a negative count (counters only grow).
    """
    if min(lead_views, lead_replies, offers) < 0:
        raise ValueError("activity counts only grow")
    now = now or utcnow()
    counts = {
        "lead_view_count": lead_views,
        "lead_reply_count": lead_replies,
        "offer_count": offers,
    }
    values = {
        "customer_user_id": customer_user.id,
        "activity_date": istanbul_today(now),
        "sign_in_count": 0,
        **counts,
        "last_activity_at": now,
    }
    added = {name: _TABLE.c[name] + count for name, count in counts.items()}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(_TABLE)
            .values(values)
            .on_conflict_do_update(
                index_elements=["customer_user_id", "activity_date"],
                set_={**added, "last_activity_at": now},
            )
        )
    else:
        # In ON DUPLICATE KEY UPDATE a column names the existing row's value.
        statement = (
            mysql_insert(_TABLE)
            .values(values)
            .on_duplicate_key_update(**added, last_activity_at=now)
        )
    session.execute(statement)
