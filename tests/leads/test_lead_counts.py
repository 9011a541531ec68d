"""The staff's lead counts per school and campus: moved with each lead, read by the dashboard
and the inbox, recounted and repaired by `flask leads repair-counters`."""

from sqlalchemy import select, update

from portal.audit import NO_ORIGIN
from portal.leads import inbox, lead_counts
from portal.leads.leads import assign, end_lead
from portal.models import CampusLeadCount, Lead, SchoolLeadCount
from tests.helpers import in_parallel


def stored(session, world) -> dict:
    """The counts as the database holds them: (open, unassigned) by place."""
    # A new transaction: under MariaDB's repeatable read the last one's snapshot may
    # predate what other sessions committed since.
    session.commit()
    school = session.get(SchoolLeadCount, world.school.id)
    campuses = {
        row.campus_id: (row.open_count, row.unassigned_count)
        for row in session.scalars(select(CampusLeadCount))
    }
    return {
        "school": (school.open_count, school.unassigned_count) if school else None,
        "campus": campuses.get(world.campus.id),
        "other_campus": campuses.get(world.other_campus.id),
    }


def test_counts_move_with_each_lead_and_agree_with_a_recount(session, make, world):
    to_campus = make.lead(world.parent, world.school, world.campus)
    to_other = make.lead(world.parent, world.school, world.other_campus)
    to_school = make.lead(world.parent, world.school, None)
    session.commit()
    assert stored(session, world) == {"school": (3, 3), "campus": (1, 1), "other_campus": (1, 1)}

    staff = world.whole_school_staff
    assign(session, to_campus, staff, actor_user_id=None, origin=NO_ORIGIN)
    # Given to someone else: still followed, nothing moves.
    assign(session, to_campus, world.campus_staff, actor_user_id=None, origin=NO_ORIGIN)
    assign(session, to_school, staff, actor_user_id=None, origin=NO_ORIGIN)
    assign(session, to_school, None, actor_user_id=None, origin=NO_ORIGIN)
    session.commit()
    assert stored(session, world) == {"school": (3, 2), "campus": (1, 0), "other_campus": (1, 1)}

    # Ended while followed, and ended while nobody followed it.
    end_lead(session, to_campus, "lost", actor_user_id=None, origin=NO_ORIGIN)
    end_lead(session, to_other, "closed", actor_user_id=None, origin=NO_ORIGIN)
    session.commit()
    assert stored(session, world) == {"school": (1, 1), "campus": (0, 0), "other_campus": (0, 0)}
    # An ended lead given to someone moves nothing: only open leads are counted.
    assign(session, to_campus, None, actor_user_id=None, origin=NO_ORIGIN)
    session.commit()

    assert lead_counts.repair(session).changes == []
    assert inbox.open_lead_counts(session, staff) == inbox.LeadCounts(1, 1)
    assert inbox.open_lead_counts(session, world.campus_staff) == inbox.LeadCounts(0, 0)


def test_a_member_counts_what_their_grants_cover_once(session, make, world):
    for campus in (world.campus, world.campus, world.other_campus, None):
        make.lead(world.parent, world.school, campus)
    session.commit()

    assert inbox.open_lead_counts(session, world.whole_school_staff) == inbox.LeadCounts(4, 4)
    assert inbox.open_lead_counts(session, world.campus_staff) == inbox.LeadCounts(2, 2)
    # A campus grant beside a whole-school grant adds nothing to it.
    make.grant(world.whole_school_staff, world.school, world.campus)
    session.commit()
    assert inbox.open_lead_counts(session, world.whole_school_staff) == inbox.LeadCounts(4, 4)
    # The inbox's open list is totalled from the same counts, and lists as many.
    page = inbox.inbox_page(session, world.campus_staff, assigned="unassigned")
    assert (page.total, len(page.items)) == (2, 2)


def test_racing_assignments_move_the_unassigned_count_once(app, session, make, world):
    lead = make.lead(world.parent, world.school, world.campus)
    session.commit()
    lead_id, staff_id = lead.id, world.campus_staff.id

    def work():
        from portal.extensions import db
        from portal.models import CustomerUser

        own = db.session
        member = own.get(CustomerUser, staff_id)
        assign(own, own.get(Lead, lead_id), member, actor_user_id=None, origin=NO_ORIGIN)
        return True

    results = in_parallel(app, work, times=4)

    assert results.count(True) == 4, results
    assert stored(session, world)["campus"] == (1, 0)
    assert stored(session, world)["school"] == (1, 0)


def test_the_repair_command_sets_tampered_counts_right(session, make, world, runner):
    lead = make.lead(world.parent, world.school, world.campus)
    make.lead(world.parent, world.school, None)
    elsewhere = make.customer()
    session.commit()
    # Behind the domain's back: a school counted wrong, a campus's row gone, and a lead
    # filed under another company.
    session.execute(
        update(SchoolLeadCount)
        .where(SchoolLeadCount.school_id == world.school.id)
        .values(open_count=7, unassigned_count=0)
    )
    session.execute(CampusLeadCount.__table__.delete())
    session.execute(update(Lead).where(Lead.id == lead.id).values(customer_id=elsewhere.id))
    session.commit()
    # The company's inbox no longer finds the misfiled lead.
    assert inbox.inbox_page(session, world.campus_staff).items == []

    result = runner.invoke(args=["leads", "repair-counters"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"school_lead_counts {world.school.id}: open, unassigned 7, 0 → 2, 2" in lines
    assert f"campus_lead_counts {world.campus.id}: open, unassigned 0, 0 → 1, 1" in lines
    assert "1 leads given their school's company." in lines
    assert lines[-1] == "Staff lead counts: 2 fixed."
    assert stored(session, world) == {"school": (2, 2), "campus": (1, 1), "other_campus": None}
    assert [row.lead.id for row in inbox.inbox_page(session, world.campus_staff).items] == [lead.id]
    assert lead_counts.repair(session).changes == []
