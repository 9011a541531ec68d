"""A school company's five scores for one Istanbul business date, computed from the
platform's own data, and how its members read them.

Each score is a whole number from 0 to 255 (customer_scores keeps them as the seed's tinyint);
people read it as a share of the maximum (`percent`: 255 is 100 %). Every score is built from
a fraction f between 0 and 1 as round_half_up(255 * f), with exact fractions, so the same data
always gives the same integers. "The day" is the Istanbul date `day`; "by the day's end" means
before 00:00 Istanbul of the next date; "the 30 days" are `day` and the 29 dates before it.

    demand          leads / (5 * published schools), at most 1.
                    The requests parents sent to the company's schools in the 30 days, against
                    five requests per published school. No published school: 0.
                    Moves with: more requests per school.

    communication   3/4 * answered share + 1/4 * active-day share.
                    answered share: of the judged leads (below), those that got an answer (an
                    offer: leads.first_response_at) by the day's end; 1/2 when no lead is
                    judged. active-day share: of the 30 days, those on which at least one
                    member signed in or worked a lead (customer_user_daily_activity_logs).
                    Moves with: answering every request; someone at work every day.

    responsiveness  quarter points per judged lead / (4 * judged leads).
                    A lead of the 30 days is judged once it has an answer by the day's end, or
                    once 72 hours have passed by then without one. Points by the time from the
                    request to its first answer: within 1 hour 4, within 4 hours 3, within 24
                    hours 2, within 72 hours 1, later or never 0. No judged lead: 1/2.
                    Moves with: answering quickly; an unanswered request counts 0 after 72 h.

    payment         succeeded / (succeeded + failed) charges of the company (payments) in the
                    365 days up to the day's end, halved when the latest of them failed (the
                    subscription is past due). No charge at all: 1/2.
                    Moves with: charges that go through; a failed renewal until it is paid.

    total           round_half_up((2 * demand + 3 * communication + 3 * responsiveness
                    + 2 * payment) / 10): a weighted mean of the four scores above, in which
                    how the company treats the parents who ask weighs more than how many ask.

Everything but the count of published schools is read "as of the day's end", so recomputing a
past day later gives the same scores as long as no school was published or withdrawn since.
The same formula is in docs/scores.md.

`score_all(session, day)` scores every live company in batches, a fixed handful of set-based
statements per batch (no query per company), and writes the rows with one upsert on
(customer_id, scored_on), so running it twice for a day leaves the same rows. Plain module:
the caller commits.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from math import floor

from sqlalchemy import Float, and_, case, distinct, func, or_, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from portal.clock import ISTANBUL
from portal.models import (
    Customer,
    CustomerScore,
    CustomerUser,
    CustomerUserDailyActivityLog,
    Payment,
    School,
)
from portal.models.billing import PaymentStatus
from portal.models.customers import SCORE_NAMES
from portal.models.leads import Lead

MAXIMUM = 255
WINDOW_DAYS = 30
PAYMENT_WINDOW_DAYS = 365
DEMAND_FULL_PER_SCHOOL = 5
# The answer deadline after which an unanswered lead is judged (and scores 0 points).
ANSWER_DEADLINE = timedelta(hours=72)
# (within this many hours, quarter points), best first; anything later is 0.
SPEED_POINTS = ((1, 4), (4, 3), (24, 2), (72, 1))
WEIGHTS = {"demand": 2, "communication": 3, "responsiveness": 3, "payment": 2}
NEUTRAL = Fraction(1, 2)
BATCH = 500


@dataclass(frozen=True)
class Facts:
    """What the formula reads about one company for one day (all counts)."""

    published_schools: int = 0
    leads: int = 0  # opened in the 30 days
    judged: int = 0  # of those, answered by the day's end or 72 h old without an answer
    answered: int = 0  # of the judged, answered by the day's end
    quarter_points: int = 0  # the judged leads' speed points, in quarters
    active_days: int = 0  # of the 30 days, days with a member's activity
    payments_succeeded: int = 0
    payments_failed: int = 0
    last_payment_failed: bool = False


@dataclass(frozen=True)
class Scores:
    """The five 0–255 scores of one company for one day."""

    demand: int
    communication: int
    responsiveness: int
    payment: int
    total: int


def to_score(fraction: Fraction) -> int:
    """255 * fraction, rounded half up, kept within 0..255."""
    return max(0, min(MAXIMUM, floor(MAXIMUM * Fraction(fraction) + Fraction(1, 2))))


def percent(score: int) -> int:
    """A 0–255 score as people read it: the share of the maximum in whole percent."""
    return floor(Fraction(100 * score, MAXIMUM) + Fraction(1, 2))


def scores_from(facts: Facts) -> Scores:
    """The formula of the module docstring, on one company's facts."""
    if facts.published_schools:
        demand = min(
            Fraction(1), Fraction(facts.leads, DEMAND_FULL_PER_SCHOOL * facts.published_schools)
        )
    else:
        demand = Fraction(0)
    answered = Fraction(facts.answered, facts.judged) if facts.judged else NEUTRAL
    active = Fraction(min(facts.active_days, WINDOW_DAYS), WINDOW_DAYS)
    communication = Fraction(3, 4) * answered + Fraction(1, 4) * active
    responsiveness = Fraction(facts.quarter_points, 4 * facts.judged) if facts.judged else NEUTRAL
    charges = facts.payments_succeeded + facts.payments_failed
    payment = Fraction(facts.payments_succeeded, charges) if charges else NEUTRAL
    if charges and facts.last_payment_failed:
        payment /= 2
    four = {
        "demand": to_score(demand),
        "communication": to_score(communication),
        "responsiveness": to_score(responsiveness),
        "payment": to_score(payment),
    }
    weighted = Fraction(
        sum(WEIGHTS[name] * value for name, value in four.items()), sum(WEIGHTS.values())
    )
    return Scores(**four, total=max(0, min(MAXIMUM, floor(weighted + Fraction(1, 2)))))


def day_bounds(day: date) -> tuple[datetime, datetime, datetime]:
    """The UTC instants where the 30 days start, where the day ends, and where the 365 days of
    payments start."""
    end = datetime.combine(day + timedelta(days=1), time(), ISTANBUL)
    start = datetime.combine(day - timedelta(days=WINDOW_DAYS - 1), time(), ISTANBUL)
    payments_start = datetime.combine(
        day - timedelta(days=PAYMENT_WINDOW_DAYS - 1), time(), ISTANBUL
    )
    return start.astimezone(UTC), end.astimezone(UTC), payments_start.astimezone(UTC)


# --- Reading the facts, set-based -----------------------------------------------------------


class seconds_between(FunctionElement):
    """The seconds from one timestamp to a later one, in each database's own words."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "mysql")
def _seconds_mysql(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"TIMESTAMPDIFF(MICROSECOND, {start}, {end}) / 1000000.0"


def _speed_points(delay: ColumnElement) -> ColumnElement:
    return case(*((delay <= hours * 3600, points) for hours, points in SPEED_POINTS), else_=0)


def facts_for(session: Session, customer_ids: list[int], day: date) -> dict[int, Facts]:
    """The facts of each of `customer_ids` for `day`: four grouped statements, whatever the
    number of companies."""
    start, end, payments_start = day_bounds(day)
    found: dict[int, dict] = {customer_id: {} for customer_id in customer_ids}

    schools = session.execute(
        select(School.customer_id, func.count())
        .where(School.customer_id.in_(customer_ids), School.is_public)
        .group_by(School.customer_id)
    )
    for customer_id, count in schools:
        found[customer_id]["published_schools"] = count

    answered_in_time = and_(Lead.first_response_at.is_not(None), Lead.first_response_at < end)
    judged = or_(answered_in_time, Lead.created_at <= end - ANSWER_DEADLINE)
    delay = seconds_between(Lead.created_at, Lead.first_response_at)
    leads = session.execute(
        select(
            School.customer_id,
            func.count(),
            func.sum(case((judged, 1), else_=0)),
            func.sum(case((answered_in_time, 1), else_=0)),
            func.sum(case((answered_in_time, _speed_points(delay)), else_=0)),
        )
        .join(School, School.id == Lead.school_id)
        .where(
            School.customer_id.in_(customer_ids),
            Lead.created_at >= start,
            Lead.created_at < end,
        )
        .group_by(School.customer_id)
    )
    for customer_id, count, judged_count, answered_count, points in leads:
        found[customer_id].update(
            leads=count,
            judged=int(judged_count or 0),
            answered=int(answered_count or 0),
            quarter_points=int(points or 0),
        )

    log = CustomerUserDailyActivityLog
    worked = (log.sign_in_count + log.lead_view_count + log.lead_reply_count + log.offer_count) > 0
    active_days = session.execute(
        select(CustomerUser.customer_id, func.count(distinct(log.activity_date)))
        .join(CustomerUser, CustomerUser.id == log.customer_user_id)
        .where(
            CustomerUser.customer_id.in_(customer_ids),
            log.activity_date > day - timedelta(days=WINDOW_DAYS),
            log.activity_date <= day,
            worked,
        )
        .group_by(CustomerUser.customer_id)
    )
    for customer_id, count in active_days:
        found[customer_id]["active_days"] = count

    succeeded = Payment.status == PaymentStatus.SUCCEEDED
    failed = Payment.status == PaymentStatus.FAILED
    last_ok = func.max(case((succeeded, Payment.created_at)))
    last_failed = func.max(case((failed, Payment.created_at)))
    payments = session.execute(
        select(
            Payment.customer_id,
            func.sum(case((succeeded, 1), else_=0)),
            func.sum(case((failed, 1), else_=0)),
            case(
                (
                    and_(
                        last_failed.is_not(None),
                        or_(last_ok.is_(None), last_failed > last_ok),
                    ),
                    1,
                ),
                else_=0,
            ),
        )
        .where(
            Payment.customer_id.in_(customer_ids),
            Payment.created_at >= payments_start,
            Payment.created_at < end,
            or_(succeeded, failed),
        )
        .group_by(Payment.customer_id)
    )
    for customer_id, ok_count, failed_count, last_was_failed in payments:
        found[customer_id].update(
            payments_succeeded=int(ok_count or 0),
            payments_failed=int(failed_count or 0),
            last_payment_failed=bool(last_was_failed),
        )
    return {customer_id: Facts(**values) for customer_id, values in found.items()}


# --- Writing the rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """What a run did: the day and how many companies it scored."""

    day: date
    companies: int


def score_all(session: Session, day: date, batch: int = BATCH) -> Report:
    """Score every live company for `day` and upsert its row; the caller commits.

    Companies are read by id in batches of `batch`; each batch costs one statement for the
    ids, four for the facts and one upsert.
    """
    scored, after = 0, 0
    while True:
        ids = list(
            session.scalars(
                select(Customer.id).where(Customer.id > after).order_by(Customer.id).limit(batch)
            )
        )
        if not ids:
            return Report(day=day, companies=scored)
        facts = facts_for(session, ids, day)
        upsert(session, day, {customer_id: scores_from(facts[customer_id]) for customer_id in ids})
        scored += len(ids)
        after = ids[-1]


def upsert(session: Session, day: date, scores: dict[int, Scores]) -> None:
    """Insert each company's row for `day`, or overwrite the scores of the row it has."""
    if not scores:
        return
    rows = [
        {"customer_id": customer_id, "scored_on": day, **vars(values)}
        for customer_id, values in scores.items()
    ]
    table = CustomerScore.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(table).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["customer_id", "scored_on"],
            set_={name: statement.excluded[name] for name in SCORE_NAMES},
        )
    else:
        statement = mysql_insert(table).values(rows)
        statement = statement.on_duplicate_key_update(
            {name: statement.inserted[name] for name in SCORE_NAMES}
        )
    session.execute(statement)


# --- Reading them back for the page ---------------------------------------------------------

TREND_WEEKS = 12


@dataclass(frozen=True)
class Week:
    """One week of the trend: its last date and the latest scores scored in it (or None)."""

    ends_on: date
    scores: CustomerScore | None


def latest_and_trend(
    session: Session, customer_id: int, today: date
) -> tuple[CustomerScore | None, list[Week]]:
    """The company's latest scores up to `today` and its last 12 weeks, oldest first: one
    statement, at most 84 rows, whatever the history's length."""
    first = today - timedelta(days=7 * TREND_WEEKS - 1)
    rows = list(
        session.scalars(
            select(CustomerScore)
            .where(
                CustomerScore.customer_id == customer_id,
                CustomerScore.scored_on >= first,
                CustomerScore.scored_on <= today,
            )
            .order_by(CustomerScore.scored_on)
        )
    )
    weeks = []
    for n in range(TREND_WEEKS):
        ends_on = first + timedelta(days=7 * n + 6)
        in_week = [r for r in rows if ends_on - timedelta(days=6) <= r.scored_on <= ends_on]
        weeks.append(Week(ends_on=ends_on, scores=in_week[-1] if in_week else None))
    return (rows[-1] if rows else None), weeks
