"""Tests for portal.billing.periods: periods from a fixed anchor, in calendar months or days."""

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from portal.billing.periods import (
    BILLING_CYCLES,
    DAILY,
    LIFETIME,
    MONTHLY,
    QUARTERLY,
    SEMI_ANNUAL,
    WEEKLY,
    YEARLY,
    is_renewable,
    period_end,
    period_index_on,
    period_start,
)
from portal.clock import istanbul_today

RENEWABLE = (DAILY, WEEKLY, MONTHLY, QUARTERLY, SEMI_ANNUAL, YEARLY)


def starts(anchor: date, cycle: str, count: int) -> list[date]:
    return [period_start(anchor, cycle, n) for n in range(count)]


def test_billing_cycles_are_the_seven_of_the_domain():
    assert BILLING_CYCLES == (
        "daily",
        "weekly",
        "monthly",
        "quarterly",
        "semi_annual",
        "yearly",
        "lifetime",
    )


def test_monthly_anchor_on_31st_clamps_then_recovers():
    assert starts(date(2027, 1, 31), MONTHLY, 7) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
        date(2027, 6, 30),
        date(2027, 7, 31),
    ]


def test_monthly_anchor_on_31st_reaches_feb_29_in_a_leap_year():
    assert starts(date(2028, 1, 31), MONTHLY, 4) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]


def test_monthly_anchor_on_30th_clamps_in_february_only():
    assert starts(date(2027, 1, 30), MONTHLY, 4) == [
        date(2027, 1, 30),
        date(2027, 2, 28),
        date(2027, 3, 30),
        date(2027, 4, 30),
    ]


def test_yearly_anchor_on_feb_29_clamps_to_feb_28_and_returns_in_leap_years():
    assert starts(date(2028, 2, 29), YEARLY, 5) == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
    ]


def test_quarterly_anchor_on_aug_31_follows_month_ends():
    assert starts(date(2027, 8, 31), QUARTERLY, 8) == [
        date(2027, 8, 31),
        date(2027, 11, 30),
        date(2028, 2, 29),
        date(2028, 5, 31),
        date(2028, 8, 31),
        date(2028, 11, 30),
        date(2029, 2, 28),
        date(2029, 5, 31),
    ]


def test_semi_annual_anchor_on_aug_31_follows_month_ends():
    assert starts(date(2027, 8, 31), SEMI_ANNUAL, 5) == [
        date(2027, 8, 31),
        date(2028, 2, 29),
        date(2028, 8, 31),
        date(2029, 2, 28),
        date(2029, 8, 31),
    ]


def test_daily_periods_are_single_calendar_days_across_month_and_year_ends():
    assert starts(date(2027, 12, 30), DAILY, 4) == [
        date(2027, 12, 30),
        date(2027, 12, 31),
        date(2028, 1, 1),
        date(2028, 1, 2),
    ]
    assert period_start(date(2028, 2, 28), DAILY, 1) == date(2028, 2, 29)
    assert period_start(date(2028, 2, 28), DAILY, 2) == date(2028, 3, 1)
    assert period_start(date(2027, 1, 1), DAILY, 365) == date(2028, 1, 1)


def test_daily_periods_do_not_skip_or_repeat_on_european_clock_change_days():
    # Istanbul keeps UTC+3 all year; the last Sundays of March and October (Europe's clock
    # changes) are ordinary days here.
    assert starts(date(2027, 3, 27), DAILY, 3) == [
        date(2027, 3, 27),
        date(2027, 3, 28),
        date(2027, 3, 29),
    ]
    assert starts(date(2027, 10, 30), DAILY, 3) == [
        date(2027, 10, 30),
        date(2027, 10, 31),
        date(2027, 11, 1),
    ]


def test_weekly_periods_are_seven_days_across_month_and_year_ends():
    assert starts(date(2027, 12, 22), WEEKLY, 4) == [
        date(2027, 12, 22),
        date(2027, 12, 29),
        date(2028, 1, 5),
        date(2028, 1, 12),
    ]
    assert period_start(date(2028, 2, 26), WEEKLY, 1) == date(2028, 3, 4)
    assert period_start(date(2027, 1, 4), WEEKLY, 52) == date(2028, 1, 3)


@pytest.mark.parametrize("cycle", RENEWABLE)
def test_period_end_is_the_next_period_start(cycle):
    anchor = date(2027, 1, 31)
    for n in range(30):
        end = period_end(anchor, cycle, n)
        assert end == period_start(anchor, cycle, n + 1)
        assert period_start(anchor, cycle, n) < end


def test_monthly_period_end_is_exclusive():
    anchor = date(2027, 1, 31)
    assert period_end(anchor, MONTHLY, 0) == date(2027, 2, 28)
    assert period_index_on(anchor, MONTHLY, date(2027, 2, 27)) == 0
    assert period_index_on(anchor, MONTHLY, date(2027, 2, 28)) == 1


def test_lifetime_has_no_end_and_no_period_1():
    anchor = date(2027, 5, 17)
    assert period_start(anchor, LIFETIME, 0) == anchor
    assert period_end(anchor, LIFETIME, 0) is None
    with pytest.raises(ValueError, match="only period 0"):
        period_start(anchor, LIFETIME, 1)
    with pytest.raises(ValueError, match="only period 0"):
        period_end(anchor, LIFETIME, 1)
    assert period_index_on(anchor, LIFETIME, date(2127, 5, 17)) == 0


def test_only_lifetime_is_not_renewable():
    assert [cycle for cycle in BILLING_CYCLES if not is_renewable(cycle)] == [LIFETIME]


@pytest.mark.parametrize(
    "call",
    [
        lambda: period_start(date(2027, 1, 1), "biweekly", 0),
        lambda: period_end(date(2027, 1, 1), "Monthly", 0),
        lambda: period_index_on(date(2027, 1, 1), "annual", date(2027, 1, 1)),
        lambda: is_renewable("forever"),
    ],
)
def test_an_unknown_cycle_is_refused(call):
    with pytest.raises(ValueError, match="Unknown billing cycle"):
        call()


def test_a_negative_period_index_is_refused():
    with pytest.raises(ValueError, match="0 or more"):
        period_start(date(2027, 1, 1), MONTHLY, -1)


def test_a_datetime_is_refused_where_a_business_date_is_expected():
    with pytest.raises(TypeError):
        period_start(datetime(2027, 1, 31, 12, 0, tzinfo=UTC), MONTHLY, 1)
    with pytest.raises(TypeError):
        period_index_on(date(2027, 1, 31), MONTHLY, datetime(2027, 3, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("anchor", "cycle", "day", "expected"),
    [
        # monthly from a month end: the clamped day belongs to the next period
        (date(2027, 1, 31), MONTHLY, date(2027, 1, 31), 0),
        (date(2027, 1, 31), MONTHLY, date(2027, 2, 27), 0),
        (date(2027, 1, 31), MONTHLY, date(2027, 2, 28), 1),
        (date(2027, 1, 31), MONTHLY, date(2027, 3, 30), 1),
        (date(2027, 1, 31), MONTHLY, date(2027, 3, 31), 2),
        (date(2027, 1, 31), MONTHLY, date(2027, 4, 29), 2),
        (date(2027, 1, 31), MONTHLY, date(2027, 4, 30), 3),
        (date(2028, 1, 31), MONTHLY, date(2028, 2, 28), 0),
        (date(2028, 1, 31), MONTHLY, date(2028, 2, 29), 1),
        (date(2027, 1, 15), MONTHLY, date(2027, 2, 14), 0),
        (date(2027, 1, 15), MONTHLY, date(2027, 2, 15), 1),
        # quarterly and semi-annual from Aug 31
        (date(2027, 8, 31), QUARTERLY, date(2027, 11, 29), 0),
        (date(2027, 8, 31), QUARTERLY, date(2027, 11, 30), 1),
        (date(2027, 8, 31), QUARTERLY, date(2028, 2, 28), 1),
        (date(2027, 8, 31), QUARTERLY, date(2028, 2, 29), 2),
        (date(2027, 8, 31), QUARTERLY, date(2028, 5, 30), 2),
        (date(2027, 8, 31), QUARTERLY, date(2028, 5, 31), 3),
        (date(2027, 8, 31), SEMI_ANNUAL, date(2028, 2, 28), 0),
        (date(2027, 8, 31), SEMI_ANNUAL, date(2028, 2, 29), 1),
        (date(2027, 8, 31), SEMI_ANNUAL, date(2028, 8, 30), 1),
        (date(2027, 8, 31), SEMI_ANNUAL, date(2028, 8, 31), 2),
        # yearly from Feb 29
        (date(2028, 2, 29), YEARLY, date(2029, 2, 27), 0),
        (date(2028, 2, 29), YEARLY, date(2029, 2, 28), 1),
        (date(2028, 2, 29), YEARLY, date(2032, 2, 28), 3),
        (date(2028, 2, 29), YEARLY, date(2032, 2, 29), 4),
        # daily and weekly across a year end and a leap day
        (date(2027, 12, 31), DAILY, date(2027, 12, 31), 0),
        (date(2027, 12, 31), DAILY, date(2028, 1, 1), 1),
        (date(2027, 12, 31), DAILY, date(2028, 3, 1), 61),
        (date(2027, 12, 29), WEEKLY, date(2028, 1, 4), 0),
        (date(2027, 12, 29), WEEKLY, date(2028, 1, 5), 1),
        (date(2027, 12, 29), WEEKLY, date(2028, 3, 1), 9),
        # lifetime: one period forever
        (date(2027, 12, 31), LIFETIME, date(2027, 12, 31), 0),
        (date(2027, 12, 31), LIFETIME, date(2099, 1, 1), 0),
    ],
)
def test_period_index_on_finds_the_period_containing_the_day(anchor, cycle, day, expected):
    assert period_index_on(anchor, cycle, day) == expected


def test_period_index_on_is_direct_far_from_the_anchor():
    # Thousands of periods later, still one step, and still right.
    assert period_index_on(date(2027, 1, 31), MONTHLY, date(2527, 2, 28)) == 6001
    assert period_index_on(date(2027, 1, 31), MONTHLY, date(2527, 2, 27)) == 6000
    # 500 years of 365 days, plus 121 leap days (125 years divisible by 4 from 2028 to 2524,
    # less 2100, 2200, 2300 and 2500).
    assert period_index_on(date(2027, 1, 1), DAILY, date(2527, 1, 1)) == 182621


@pytest.mark.parametrize("cycle", BILLING_CYCLES)
def test_period_index_on_refuses_a_day_before_the_anchor(cycle):
    with pytest.raises(ValueError, match="before the anchor"):
        period_index_on(date(2027, 3, 1), cycle, date(2027, 2, 28))


ANCHORS_2027_TO_2029 = [
    date(2027, 1, 1) + timedelta(days=offset)
    for offset in range((date(2030, 1, 1) - date(2027, 1, 1)).days)
]


@pytest.mark.parametrize("cycle", RENEWABLE)
def test_every_period_start_lies_in_its_own_period_for_every_anchor(cycle):
    # period_index_on() works from the calendar, not from period_start(), so this checks the
    # two against each other: 41 periods from each day of 2027-2029, including all month ends
    # and the leap day.
    for anchor in ANCHORS_2027_TO_2029:
        period_starts = [period_start(anchor, cycle, n) for n in range(42)]
        for n in range(41):
            start, end = period_starts[n], period_starts[n + 1]
            assert start < end
            assert period_index_on(anchor, cycle, start) == n
            assert period_index_on(anchor, cycle, end - timedelta(days=1)) == n
        assert period_end(anchor, cycle, 40) == period_starts[41]


def test_period_starts_never_drift_between_cycles_for_every_anchor():
    for anchor in ANCHORS_2027_TO_2029:
        yearly_1 = period_start(anchor, YEARLY, 1)
        assert period_start(anchor, MONTHLY, 12) == yearly_1
        assert period_start(anchor, QUARTERLY, 4) == yearly_1
        assert period_start(anchor, SEMI_ANNUAL, 2) == yearly_1
        assert period_start(anchor, MONTHLY, 6) == period_start(anchor, SEMI_ANNUAL, 1)
        assert period_start(anchor, MONTHLY, 3) == period_start(anchor, QUARTERLY, 1)
        # The anchor's day comes back whenever the month has it: no slide to the 28th.
        later = period_start(anchor, MONTHLY, 37)
        assert later.day == min(anchor.day, calendar.monthrange(later.year, later.month)[1])


def test_istanbul_today_is_already_tomorrow_late_in_the_utc_evening():
    assert istanbul_today(datetime(2026, 11, 21, 21, 30, tzinfo=UTC)) == date(2026, 11, 22)
    assert istanbul_today(datetime(2026, 11, 21, 20, 59, tzinfo=UTC)) == date(2026, 11, 21)


def test_istanbul_today_is_utc_plus_3_in_summer_too():
    assert istanbul_today(datetime(2026, 7, 1, 20, 59, tzinfo=UTC)) == date(2026, 7, 1)
    assert istanbul_today(datetime(2026, 7, 1, 21, 0, tzinfo=UTC)) == date(2026, 7, 2)


def test_istanbul_today_accepts_any_aware_time():
    new_york = timezone(timedelta(hours=-5))
    assert istanbul_today(datetime(2026, 11, 21, 16, 30, tzinfo=new_york)) == date(2026, 11, 22)


def test_istanbul_today_refuses_a_naive_time():
    with pytest.raises(ValueError, match="aware"):
        istanbul_today(datetime(2026, 11, 21, 21, 30))


def test_istanbul_today_defaults_to_now():
    before = istanbul_today(datetime.now(UTC))
    today = istanbul_today()
    assert today in (before, before + timedelta(days=1))


def test_the_schema_allows_exactly_the_cycles_the_arithmetic_knows():
    from portal.models import PlanPrice, UserSubscription

    for model in (PlanPrice, UserSubscription):
        (check,) = [
            c for c in model.__table__.constraints if c.name.endswith("billing_cycle_known")
        ]
        listed = ", ".join(f"'{cycle}'" for cycle in BILLING_CYCLES)
        assert str(check.sqltext) == f"billing_cycle IN ({listed})", model.__tablename__
