"""Billing periods: calendar-correct period arithmetic from a subscription's fixed anchor.

Period n of a subscription starts at `anchor + n × cycle` and ends (exclusive) where period
n + 1 starts, so periods are half-open [start, end). Calendar months are added with
`dateutil.relativedelta`, which clamps to the month's last day: anchor Jan 31, monthly gives
Feb 28 (29 in a leap year), Mar 31, Apr 30, May 31. Starts are never derived from the previous
start ("previous date + 1 month" would drift to the 28th for good) and never from day counts.
All dates are Europe/Istanbul business dates (`datetime.date`).
"""

from __future__ import annotations

import calendar
import functools
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from portal.models.billing import BillingCycle

# The cycles are the schema's vocabulary (portal.models.billing.BillingCycle); the short names
# keep the arithmetic below readable.
DAILY = BillingCycle.DAILY
WEEKLY = BillingCycle.WEEKLY
MONTHLY = BillingCycle.MONTHLY
QUARTERLY = BillingCycle.QUARTERLY
SEMI_ANNUAL = BillingCycle.SEMI_ANNUAL
YEARLY = BillingCycle.YEARLY
LIFETIME = BillingCycle.LIFETIME

BILLING_CYCLES = tuple(BillingCycle)

# Cycles measured in days: Istanbul has had no DST since 2016 and business dates carry no
# time, so a day is always one calendar day.
CYCLE_DAYS = {DAILY: 1, WEEKLY: 7}

# Cycles measured in calendar months; a year is 12 months so that twelve monthly periods and
# one yearly period from the same anchor end on the same day.
CYCLE_MONTHS = {MONTHLY: 1, QUARTERLY: 3, SEMI_ANNUAL: 6, YEARLY: 12}


def _check(anchor: date, cycle: str) -> None:
    if cycle not in BILLING_CYCLES:
        raise ValueError(f"Unknown billing cycle: {cycle!r}")
    # A datetime is a date subclass, but its time part would leak into every result and make
    # comparisons with plain dates fail; business dates are dates only.
    if isinstance(anchor, datetime) or not isinstance(anchor, date):
        raise TypeError(f"The anchor must be a datetime.date, not {type(anchor).__name__}")


def is_renewable(cycle: str) -> bool:
    """Whether a subscription on this cycle has a next period (every cycle but lifetime)."""
    if cycle not in BILLING_CYCLES:
        raise ValueError(f"Unknown billing cycle: {cycle!r}")
    return cycle != LIFETIME


def period_start(anchor: date, cycle: str, n: int) -> date:
    """The first day of period n (n ≥ 0): the anchor plus n whole cycles."""
    _check(anchor, cycle)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"The period index must be an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError(f"The period index must be 0 or more, not {n}")
    if cycle == LIFETIME:
        if n != 0:
            raise ValueError("A lifetime subscription has only period 0")
        return anchor
    if cycle in CYCLE_DAYS:
        return anchor + timedelta(days=n * CYCLE_DAYS[cycle])
    # Always from the anchor in one step, so a clamped month (Feb 28) never shortens later ones.
    return anchor + _months(n * CYCLE_MONTHS[cycle])


@functools.lru_cache(maxsize=1024)
def _months(count: int) -> relativedelta:
    # Building a relativedelta costs as much as adding it, and renewal runs ask for the same
    # few offsets over and over; it is never mutated here, so sharing one is safe.
    return relativedelta(months=count)


def period_end(anchor: date, cycle: str, n: int) -> date | None:
    """The first day after period n (the start of period n + 1), or None for lifetime."""
    if cycle == LIFETIME:
        period_start(anchor, cycle, n)  # the same validation: only period 0 exists
        return None
    return period_start(anchor, cycle, n + 1)


def charged_period_end(anchor: date | None, cycle: str, start: date) -> date | None:
    """The first day after the period a charge that starts on `start` paid for (None for
    lifetime), counted from the subscription's anchor as the charge was: a month from Feb 28
    of a subscription anchored on Jan 31 ends on Mar 31, not Mar 28. Without an anchor on or
    before `start` (a change of plan anchored the subscription anew after this charge), from
    `start` itself."""
    anchor = anchor if anchor is not None and anchor <= start else start
    return period_end(anchor, cycle, period_index_on(anchor, cycle, start))


def period_index_on(anchor: date, cycle: str, day: date) -> int:
    """The index n of the period that contains `day` (on or after the anchor)."""
    _check(anchor, cycle)
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"The day must be a datetime.date, not {type(day).__name__}")
    if day < anchor:
        raise ValueError(f"{day} is before the anchor {anchor}")
    if cycle == LIFETIME:
        return 0
    if cycle in CYCLE_DAYS:
        return (day - anchor).days // CYCLE_DAYS[cycle]
    step = CYCLE_MONTHS[cycle]
    months = (day.year - anchor.year) * 12 + (day.month - anchor.month)
    n, months_into_cycle = divmod(months, step)
    # Period n + 1 starts in a month after day's, so n is never too low. It is one too high
    # only when period n starts in day's own month on a later day: anchor Jan 31, day Mar 30
    # gives n = 2, but period 2 starts on Mar 31. Worked out from the calendar rather than by
    # calling period_start(), so tests can check the two against each other.
    if months_into_cycle == 0 and _clamped_day(anchor.day, day.year, day.month) > day.day:
        n -= 1
    return n


def _clamped_day(day_of_month: int, year: int, month: int) -> int:
    # What relativedelta does to the day when it lands in a shorter month.
    return min(day_of_month, calendar.monthrange(year, month)[1])
