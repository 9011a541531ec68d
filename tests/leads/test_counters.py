"""The repair command: the lead counters recounted from the leads table and set right."""

from sqlalchemy import update

from portal.audit import NO_ORIGIN
from portal.leads.counters import CounterChange, repair
from portal.leads.leads import end_lead
from portal.models import UserDetail
from tests.leads.conftest import counters


def test_counters_that_agree_are_left_alone(session, make, world, runner):
    make.lead(world.parent, world.school, world.campus)
    session.commit()

    result = runner.invoke(args=["leads", "repair-counters"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Lead counters: 0 fixed for 0 users.",
        "Staff lead counts: 0 fixed.",
    ]


def test_a_tampered_counter_is_fixed_and_reported(session, make, world, runner):
    make.lead(world.parent, world.school, world.campus)
    won = make.lead(world.parent, world.school, world.campus)
    end_lead(session, won, "won", actor_user_id=world.parent.id, origin=NO_ORIGIN)
    bystander = make.user("parent")
    session.add(UserDetail(user_id=bystander.id))
    session.commit()
    # Tampered behind the domain's back: a lost lead that never was, a won one forgotten,
    # and a parent with no leads at all counted as having two open.
    session.execute(
        update(UserDetail)
        .where(UserDetail.user_id == world.parent.id)
        .values(lead_lost_count=3, lead_won_count=0)
    )
    session.execute(
        update(UserDetail).where(UserDetail.user_id == bystander.id).values(lead_open_count=2)
    )
    session.commit()

    result = runner.invoke(args=["leads", "repair-counters"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"user {world.parent.id}: lead_won_count 0 → 1" in lines
    assert f"user {world.parent.id}: lead_lost_count 3 → 0" in lines
    assert f"user {bystander.id}: lead_open_count 2 → 0" in lines
    assert lines[-2:] == ["Lead counters: 3 fixed for 2 users.", "Staff lead counts: 0 fixed."]
    assert counters(session, world.parent) == {"open": 1, "won": 1, "lost": 0, "closed": 0}
    assert counters(session, bystander)["open"] == 0
    assert repair(session).changes == []


def test_a_parent_with_leads_but_no_details_row_gets_one(session, make, world):
    make.lead(world.parent, world.school, world.campus)
    session.commit()
    session.execute(UserDetail.__table__.delete().where(UserDetail.user_id == world.parent.id))
    session.commit()

    report = repair(session)
    session.commit()

    assert report.changes == [CounterChange(world.parent.id, "lead_open_count", 0, 1)]
    assert counters(session, world.parent)["open"] == 1


def test_the_repair_is_one_grouped_read_however_many_parents(app, session, make, world):
    from tests.helpers import counted_statements

    for _ in range(5):
        parent = make.user("parent")
        session.add(UserDetail(user_id=parent.id, lead_closed_count=1))
    session.commit()

    from portal.extensions import db

    with counted_statements(app) as statements:
        report = repair(db.session)
        db.session.commit()

    assert len(report.changes) == 5
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2  # the differing rows, and parents with no details row
