"""The one reader of the clock: the instant in UTC, and the business date in Istanbul.

Times are stored in UTC; business dates (billing dates, scores, daily activity) are
Europe/Istanbul dates. Domain functions take `now` or `today` from their caller, so that a
test, a CLI command with `--date` and a view all decide the same way.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

ISTANBUL = ZoneInfo("Europe/Istanbul")


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def istanbul_today(now: datetime | None = None) -> date:
    """The business date in Europe/Istanbul at the aware instant `now` (default: now)."""
    if now is None:
        now = utcnow()
    elif now.tzinfo is None or now.utcoffset() is None:
        # A naive time could be UTC or local; guessing would shift the date near midnight.
        raise ValueError("now must be an aware datetime (UTC)")
    return now.astimezone(ISTANBUL).date()
