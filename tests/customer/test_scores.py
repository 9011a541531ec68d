"""The companies' scores: the formula on hand-computed cases, the facts read from the
platform's data, the daily command (idempotent, a fixed number of statements), and the page."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import event, select

from portal.access.permissions import Role
from portal.customer.scores import Facts, Scores, facts_for, percent, score_all, scores_from
from portal.extensions import db
from portal.models import CustomerScore, CustomerUserDailyActivityLog, Payment
from tests.helpers import HTMX, counted_statements
from tests.test_html import assert_valid_html

DAY = date(2026, 11, 20)  # its end is 2026-11-20 21:00 UTC (Istanbul is UTC+3)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- The formula, by hand ------------------------------------------------------------------


def test_a_company_with_nothing_to_judge_sits_at_the_middle_but_has_no_demand():
    # communication 3/4 * 1/2 + 1/4 * 0 = 3/8 → 255 * 3/8 = 95.625 → 96; the others 127.5 → 128;
    # total (2 * 0 + 3 * 96 + 3 * 128 + 2 * 128) / 10 = 92.8 → 93.
    assert scores_from(Facts()) == Scores(
        demand=0, communication=96, responsiveness=128, payment=128, total=93
    )


def test_a_hand_computed_ordinary_company():
    facts = Facts(
        published_schools=2,
        leads=4,
        judged=4,
        answered=3,
        quarter_points=4 + 3 + 1 + 0,  # within 1 h, 3 h, 30 h, never
        active_days=15,
        payments_succeeded=3,
        payments_failed=1,
    )
    # demand 4 / (5 * 2) → 102; communication 3/4 * 3/4 + 1/4 * 15/30 = 11/16 → 175.3125 → 175;
    # responsiveness 8 / 16 → 127.5 → 128; payment 3/4 → 191.25 → 191;
    # total (204 + 525 + 384 + 382) / 10 = 149.5 → 150 (half up).
    assert scores_from(facts) == Scores(
        demand=102, communication=175, responsiveness=128, payment=191, total=150
    )


def test_demand_is_capped_and_a_failed_latest_charge_halves_payment():
    facts = Facts(
        published_schools=1,
        leads=12,
        judged=2,
        answered=2,
        quarter_points=8,
        active_days=30,
        payments_succeeded=1,
        payments_failed=1,
        last_payment_failed=True,
    )
    # payment 1/2 halved = 1/4 → 63.75 → 64; total (510 + 765 + 765 + 128) / 10 = 216.8 → 217.
    assert scores_from(facts) == Scores(
        demand=255, communication=255, responsiveness=255, payment=64, total=217
    )


def test_every_request_unanswered_after_72_hours_scores_zero_responsiveness():
    facts = Facts(published_schools=1, leads=3, judged=3, answered=0, quarter_points=0)
    result = scores_from(facts)
    assert (result.responsiveness, result.communication) == (0, 0)


@pytest.mark.parametrize(
    ("score", "shown"), [(0, 0), (1, 0), (2, 1), (128, 50), (184, 72), (255, 100)]
)
def test_a_score_is_read_as_a_share_of_the_maximum(score, shown):
    assert percent(score) == shown


# --- The facts, read from the data ---------------------------------------------------------


@pytest.fixture
def company(make, session):
    """A company with two published schools and a hidden one, an admin and a parent."""
    admin = make.customer_user(role=Role.ADMIN)
    customer = admin.customer
    published = make.school(customer=customer)
    make.school(customer=customer)
    make.school(customer=customer, is_published=False)
    parent = make.user("parent")
    session.commit()
    return {"customer": customer, "admin": admin, "school": published, "parent": parent}


def add_lead(make, session, parent, school, created, answered=None):
    lead = make.lead(parent, school)
    lead.created_at = created
    lead.first_response_at = answered
    session.flush()
    return lead


def add_payment(session, customer, status, created):
    session.add(
        Payment(
            customer_id=customer.id,
            purpose="renewal",
            net_amount=Decimal("100.00"),
            kdv_amount=Decimal("20.00"),
            gross_amount=Decimal("120.00"),
            status=status,
            gateway="sandbox",
            idempotency_key=uuid.uuid4().hex,
            created_at=created,
        )
    )


def add_activity(session, member, on, **counts):
    session.add(
        CustomerUserDailyActivityLog(
            customer_user_id=member.id,
            activity_date=on,
            sign_in_count=counts.get("sign_ins", 0),
            lead_view_count=counts.get("views", 0),
            lead_reply_count=0,
            offer_count=counts.get("offers", 0),
        )
    )


def build_history(make, session, company):
    """The data of the hand-computed case below, plus what must not count."""
    parent, school, customer = company["parent"], company["school"], company["customer"]
    add_lead(make, session, parent, school, utc(2026, 11, 19, 6), utc(2026, 11, 19, 6, 30))  # 4
    add_lead(make, session, parent, school, utc(2026, 11, 18, 6), utc(2026, 11, 18, 9))  # 3
    add_lead(make, session, parent, school, utc(2026, 11, 16, 6), utc(2026, 11, 17, 12))  # 1
    add_lead(make, session, parent, school, utc(2026, 11, 10, 6))  # judged, never answered: 0
    add_lead(make, session, parent, school, utc(2026, 11, 20, 10))  # 11 h old: not judged yet
    # Answered only after the day's end, and not 72 h old by then: not judged.
    add_lead(make, session, parent, school, utc(2026, 11, 19, 6), utc(2026, 11, 21, 6))
    add_lead(make, session, parent, school, utc(2026, 10, 1, 6), utc(2026, 10, 1, 7))  # too old
    other_school = make.school()  # another company's
    add_lead(make, session, parent, other_school, utc(2026, 11, 19, 6), utc(2026, 11, 19, 7))

    admin = company["admin"]
    add_activity(session, admin, date(2026, 11, 20), sign_ins=1)
    add_activity(session, admin, date(2026, 11, 12), views=3)
    add_activity(session, admin, date(2026, 10, 22), offers=1)  # the 30th day back: counts
    add_activity(session, admin, date(2026, 11, 13))  # a row of zeros is no activity
    add_activity(session, admin, date(2026, 10, 21), sign_ins=1)  # 31 days back
    add_activity(session, admin, date(2026, 11, 21), sign_ins=1)  # after the day

    add_payment(session, customer, "succeeded", utc(2026, 10, 2, 9))
    add_payment(session, customer, "failed", utc(2026, 11, 1, 9))
    add_payment(session, customer, "succeeded", utc(2026, 11, 2, 9))
    add_payment(session, customer, "pending", utc(2026, 11, 3, 9))  # no outcome: ignored
    add_payment(session, customer, "failed", utc(2026, 11, 25, 9))  # after the day
    add_payment(session, customer, "failed", utc(2025, 11, 1, 9))  # over a year before
    session.commit()


def test_the_facts_are_read_as_of_the_days_end(make, session, company):
    build_history(make, session, company)
    customer = company["customer"]

    facts = facts_for(session, [customer.id], DAY)[customer.id]

    assert facts == Facts(
        published_schools=2,
        leads=6,
        judged=4,
        answered=3,
        quarter_points=8,
        active_days=3,
        payments_succeeded=2,
        payments_failed=1,
        last_payment_failed=False,
    )
    # demand 6/10 → 153; communication 3/4 * 3/4 + 1/4 * 3/30 = 47/80 → 149.8125 → 150;
    # responsiveness 8/16 → 128; payment 2/3 → 170; total (306 + 450 + 384 + 340) / 10 = 148.
    assert scores_from(facts) == Scores(153, 150, 128, 170, 148)


def test_a_failed_charge_after_the_last_success_is_past_due(session, company):
    customer = company["customer"]
    add_payment(session, customer, "succeeded", utc(2026, 10, 2, 9))
    add_payment(session, customer, "failed", utc(2026, 11, 2, 9))
    session.commit()

    facts = facts_for(session, [customer.id], DAY)[customer.id]

    assert (facts.payments_succeeded, facts.payments_failed) == (1, 1)
    assert facts.last_payment_failed is True
    assert scores_from(facts).payment == 64  # 1/2 halved → 63.75 → 64


# --- The command ---------------------------------------------------------------------------


def score_rows(session):
    session.commit()
    return [
        (
            r.id,
            r.customer_id,
            r.scored_on,
            r.demand,
            r.communication,
            r.responsiveness,
            r.payment,
            r.total,
        )
        for r in session.scalars(select(CustomerScore).order_by(CustomerScore.customer_id))
    ]


def test_the_command_scores_every_company_and_running_it_again_gives_the_same_rows(
    make, session, runner, company
):
    build_history(make, session, company)
    quiet = make.customer()
    session.commit()

    first = runner.invoke(args=["customers", "scores", "--date", DAY.isoformat()])
    rows = score_rows(session)
    again = runner.invoke(args=["customers", "scores", "--date", DAY.isoformat()])

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert "Scores for 2026-11-20" in first.output
    assert score_rows(session) == rows
    by_company = {row[1]: row[3:] for row in rows}
    assert by_company[company["customer"].id] == (153, 150, 128, 170, 148)
    assert by_company[quiet.id] == (0, 96, 128, 128, 93)
    # The other company's school gets its own row from its own lead only.
    assert {row[2] for row in rows} == {DAY}


def test_a_changed_fact_overwrites_the_days_row_instead_of_adding_one(make, session, company):
    customer = company["customer"]
    score_all(session, DAY)
    session.commit()
    (before,) = [r for r in score_rows(session) if r[1] == customer.id]

    add_lead(
        make,
        session,
        company["parent"],
        company["school"],
        utc(2026, 11, 19, 6),
        utc(2026, 11, 19, 6, 10),
    )
    session.commit()
    score_all(session, DAY)
    session.commit()

    (after,) = [r for r in score_rows(session) if r[1] == customer.id]
    assert after[0] == before[0]  # the same row
    assert after[3:] != before[3:]
    assert after[5] == 255  # one lead, answered in ten minutes


def test_the_command_defaults_to_the_day_that_ended(make, session, runner, company):
    from portal.clock import istanbul_today

    result = runner.invoke(args=["customers", "scores"])

    assert result.exit_code == 0, result.output
    assert {row[2] for row in score_rows(session)} == {istanbul_today() - timedelta(days=1)}


def test_scoring_costs_the_same_statements_for_one_company_as_for_many(app, make, session):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    make.customer()
    session.commit()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        score_all(session, DAY)
        session.commit()
        one = len(statements)
        parent = make.user("parent")
        for _ in range(30):
            school = make.school(customer=make.customer())
            add_lead(make, session, parent, school, utc(2026, 11, 19, 6), utc(2026, 11, 19, 7))
            add_payment(session, school.customer, "succeeded", utc(2026, 11, 2, 9))
        session.commit()
        statements.clear()
        report = score_all(session, DAY)
        session.commit()
        many = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert report.companies == 31
    assert many == one


def test_batches_together_score_every_company(make, session):
    for _ in range(5):
        make.customer()
    session.commit()

    report = score_all(session, DAY, batch=2)
    session.commit()

    assert report.companies == 5
    assert len(score_rows(session)) == 5


# --- The page ------------------------------------------------------------------------------

PAGE = "/customer/scores"


@pytest.fixture
def reader(make, session, auth):
    """An admissions agent (every active member reads the scores), in English, signed in."""
    member = make.customer_user(role=Role.AGENT)
    member.user.locale = "en"
    session.commit()
    auth.login(member.user.email)
    return member


def add_scores(session, customer, days, base=100):
    for n, day in enumerate(days):
        session.add(
            CustomerScore(
                customer_id=customer.id,
                scored_on=day,
                demand=base,
                communication=base + 1,
                responsiveness=base + 2,
                payment=base + 3,
                total=(base + n) % 256,
            )
        )
    session.commit()


def test_the_page_shows_the_latest_scores_as_percentages_and_twelve_weeks(client, session, reader):
    from portal.clock import istanbul_today

    today = istanbul_today()
    add_scores(session, reader.customer, [today - timedelta(days=14), today], base=184)
    html = client.get(PAGE).get_data(as_text=True)

    assert_valid_html(html, PAGE)
    assert "72 %" in html  # 184 / 255
    assert html.count('role="img"') == 5
    table = re.search(r'<table id="score-weeks".*?</table>', html, re.S).group(0)
    assert len(re.findall(r'<th scope="row">', table)) == 12
    assert table.count("not scored") == 10 * 5


def test_a_company_without_scores_is_told_so(client, reader):
    with force_locale("en"):
        html = client.get(PAGE).get_data(as_text=True)
    assert "no scores yet" in html
    assert 'role="img"' not in html


def test_no_other_companys_scores_are_shown(client, make, session, reader):
    from portal.clock import istanbul_today

    other = make.customer(name="Başka Eğitim")
    session.commit()
    add_scores(session, other, [istanbul_today()], base=250)

    html = client.get(PAGE).get_data(as_text=True)

    assert "no scores yet" in html
    assert "98 %" not in html and "Başka" not in html


def test_the_page_runs_as_many_statements_for_a_long_history_as_for_none(
    app, client, session, reader
):
    from portal.clock import istanbul_today

    client.get(PAGE)
    with counted_statements(app) as empty:
        client.get(PAGE)
    today = istanbul_today()
    add_scores(session, reader.customer, [today - timedelta(days=n) for n in range(400)])
    with counted_statements(app) as full:
        response = client.get(PAGE)
    with counted_statements(app) as fragment:
        client.get(PAGE, headers=HTMX)

    assert response.status_code == 200
    assert len(full) == len(empty) == len(fragment), full
