"""Who is told of a new lead, when (at once or in the daily digest), and in which language."""

from datetime import UTC, date, datetime

from sqlalchemy import select

from portal.leads.notifications import day_bounds
from portal.models import Lead, UserLog
from tests.leads.conftest import recipients


def instant_plan(make, customer, limit=None):
    """A live company plan that includes instant lead alerts."""
    plan = make.plan(audience="companies", features={"lead_alerts": limit})
    make.subscription(make.price(plan), customer=customer)


def test_with_instant_alerts_the_covering_staff_who_answer_leads_are_mailed_at_once(
    app, session, make, world
):
    instant_plan(make, world.school.customer)
    session.commit()

    make.lead(world.parent, world.school, world.campus)
    session.commit()

    assert sorted(recipients(app)) == ["campus@bilge.example.com", "whole@bilge.example.com"]
    mail = app.extensions["mail_outbox"][0]
    assert "Bilge Koleji" in mail.subject and "Kadıköy Kampüsü" in mail.subject
    assert "veli@example.com" in mail.body and "05321234567" in mail.body


def test_a_lead_to_the_whole_school_reaches_only_whole_school_grants(app, session, make, world):
    instant_plan(make, world.school.customer)
    session.commit()

    make.lead(world.parent, world.school, None)
    session.commit()

    assert recipients(app) == ["whole@bilge.example.com"]


def test_a_member_who_chose_english_gets_the_mail_in_english(app, session, make, world):
    instant_plan(make, world.school.customer)
    world.whole_school_staff.user.locale = "en"
    session.commit()

    make.lead(world.parent, world.school, world.campus)
    session.commit()

    # The level's name is translated already (the new sentences get theirs later).
    by_address = {mail.to: mail for mail in app.extensions["mail_outbox"]}
    assert "Primary school" in by_address["whole@bilge.example.com"].body
    assert "İlkokul" in by_address["campus@bilge.example.com"].body


def test_a_plan_without_the_feature_waits_for_the_digest(app, session, make, world):
    instant_plan(make, world.school.customer, limit=False)
    session.commit()

    make.lead(world.parent, world.school, world.campus)
    session.commit()

    assert recipients(app) == []


def opened_on(session, lead, when):
    lead.created_at = when
    session.commit()


def test_the_digest_mails_yesterdays_leads_once_per_member_and_day(
    app, session, make, world, runner
):
    first = make.lead(world.parent, world.school, world.campus)
    second = make.lead(world.parent, world.school, world.other_campus)
    too_late = make.lead(world.parent, world.school, world.campus)
    # 2026-11-10 in Istanbul is [2026-11-09 21:00, 2026-11-10 21:00) UTC.
    opened_on(session, first, datetime(2026, 11, 9, 21, 0, tzinfo=UTC))
    opened_on(session, second, datetime(2026, 11, 10, 20, 59, tzinfo=UTC))
    opened_on(session, too_late, datetime(2026, 11, 10, 21, 0, tzinfo=UTC))

    result = runner.invoke(args=["leads", "digest", "--date", "2026-11-10"])

    assert result.exit_code == 0, result.output
    assert "2 leads, 3 members mailed" in result.output
    by_address = {mail.to: mail for mail in app.extensions["mail_outbox"]}
    assert sorted(by_address) == [
        "campus@bilge.example.com",
        "other@bilge.example.com",
        "whole@bilge.example.com",
    ]
    assert by_address["whole@bilge.example.com"].body.count("Bilge Koleji") == 2
    assert "Ataşehir" not in by_address["campus@bilge.example.com"].body
    assert (
        session.scalar(select(UserLog.data).where(UserLog.event == "lead_digest_sent"))["day"]
        == "2026-11-10"
    )

    again = runner.invoke(args=["leads", "digest", "--date", "2026-11-10"])

    assert "0 members mailed, 3 already had it" in again.output
    assert len(app.extensions["mail_outbox"]) == 3


def test_the_digest_skips_companies_with_instant_alerts(app, session, make, world, runner):
    instant_plan(make, world.school.customer)
    lead = make.lead(world.parent, world.school, world.campus)
    session.commit()
    app.extensions["mail_outbox"] = []
    opened_on(session, lead, datetime(2026, 11, 9, 22, 0, tzinfo=UTC))

    result = runner.invoke(args=["leads", "digest", "--date", "2026-11-10"])

    assert "1 leads, 0 members mailed" in result.output
    assert app.extensions["mail_outbox"] == []
    assert session.scalar(select(Lead.id)) == lead.id


def test_day_bounds_follow_istanbul_midnight():
    start, end = day_bounds(date(2026, 11, 10))
    assert (start, end) == (
        datetime(2026, 11, 9, 21, 0, tzinfo=UTC),
        datetime(2026, 11, 10, 21, 0, tzinfo=UTC),
    )
