"""The lead domain: opening (once per request key), ending, the counters and the timeline."""

import pytest
from sqlalchemy import func, select

from portal.audit import NO_ORIGIN
from portal.leads import leads
from portal.leads.leads import LeadError, end_lead, open_lead
from portal.models import Lead, LeadEvent, UserLog
from tests.helpers import in_parallel
from tests.leads.conftest import counters


def ask(session, world, request_key="key-1", **values):
    values.setdefault("campus", world.campus)
    return open_lead(
        session,
        world.parent,
        school=world.school,
        level=values.pop("level", "primary"),
        school_year=values.pop("school_year", 2026),
        message=values.pop("message", "  Bilgi almak istiyoruz.  "),
        contact_preference=values.pop("contact_preference", "email"),
        request_key=request_key,
        consent=values.pop("consent", world.parent_consent(session)),
        origin=NO_ORIGIN,
        **values,
    )


@pytest.fixture(autouse=True)
def _consent_lookup(world):
    from portal.models import UserConsent

    world.parent_consent = lambda session: session.scalar(
        select(UserConsent).where(UserConsent.user_id == world.parent.id)
    )


def test_opening_a_lead_counts_it_records_the_event_and_the_audit_row(session, world):
    lead, created = ask(session, world)
    session.commit()

    assert created is True
    assert (lead.state, lead.campus_id, lead.message) == (
        "open",
        world.campus.id,
        "Bilgi almak istiyoruz.",
    )
    assert counters(session, world.parent) == {"open": 1, "won": 0, "lost": 0, "closed": 0}
    kinds = session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == lead.id)).all()
    assert kinds == ["opened"]
    logged = session.scalars(select(UserLog).where(UserLog.event == "lead_opened")).one()
    assert logged.user_id == world.parent.id and logged.data["lead_id"] == lead.id


def test_the_same_request_key_twice_is_one_lead_counted_once(session, world):
    first, created_first = ask(session, world, request_key="double")
    second, created_second = ask(session, world, request_key="double", message="again")
    session.commit()

    assert (created_first, created_second) == (True, False)
    assert first.id == second.id
    assert session.scalar(select(func.count(Lead.id))) == 1
    assert counters(session, world.parent)["open"] == 1


def test_two_sessions_racing_with_one_key_make_one_lead(app, session, world):
    school_id, campus_id, parent_id = world.school.id, world.campus.id, world.parent.id

    def work():
        from portal.extensions import db
        from portal.models import Campus, School, User, UserConsent

        own = db.session
        user = own.get(User, parent_id)
        consent = own.scalar(select(UserConsent).where(UserConsent.user_id == parent_id))
        lead, created = open_lead(
            own,
            user,
            school=own.get(School, school_id),
            campus=own.get(Campus, campus_id),
            level="primary",
            school_year=2026,
            message="race",
            contact_preference="either",
            request_key="raced",
            consent=consent,
            origin=NO_ORIGIN,
        )
        return lead.id, created

    results = in_parallel(app, work, times=6)
    session.commit()  # MariaDB's repeatable read: see what the racers committed

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({lead_id for lead_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False] * 5 + [True]
    assert session.scalar(select(func.count(Lead.id))) == 1
    assert counters(session, world.parent)["open"] == 1


@pytest.mark.parametrize("state", ["won", "lost", "closed"])
def test_ending_a_lead_moves_the_counters_and_sets_ended_at(session, world, state):
    lead, _ = ask(session, world)
    end_lead(session, lead, state, actor_user_id=world.parent.id, origin=NO_ORIGIN, body="bitti")
    session.commit()

    expected = {"open": 0, "won": 0, "lost": 0, "closed": 0} | {state: 1}
    assert counters(session, world.parent) == expected
    assert lead.state == state and lead.ended_at is not None
    events = session.execute(
        select(LeadEvent.kind, LeadEvent.body)
        .where(LeadEvent.lead_id == lead.id)
        .order_by(LeadEvent.id)
    ).all()
    assert [tuple(e) for e in events] == [("opened", None), (state, "bitti")]


def test_an_ended_lead_cannot_end_again_and_counters_stay(session, world):
    lead, _ = ask(session, world)
    end_lead(session, lead, "closed", actor_user_id=world.parent.id, origin=NO_ORIGIN)
    session.commit()

    with pytest.raises(LeadError):
        end_lead(session, lead, "won", actor_user_id=world.parent.id, origin=NO_ORIGIN)
    with pytest.raises(LeadError):
        end_lead(session, lead, "open", actor_user_id=world.parent.id, origin=NO_ORIGIN)
    session.rollback()
    assert counters(session, world.parent) == {"open": 0, "won": 0, "lost": 0, "closed": 1}


def test_two_ends_racing_move_the_counters_once(app, session, world):
    lead, _ = ask(session, world)
    session.commit()
    lead_id = lead.id

    def work():
        from portal.extensions import db

        own = db.session
        end_lead(own, own.get(Lead, lead_id), "lost", actor_user_id=None, origin=NO_ORIGIN)
        return True

    results = in_parallel(app, work, times=4)
    session.commit()

    assert results.count(True) == 1, results
    assert counters(session, world.parent) == {"open": 0, "won": 0, "lost": 1, "closed": 0}


def test_a_lead_needs_a_live_consent_of_its_own_parent(session, world, make):
    consent = world.parent_consent(session)
    other = make.user("parent")
    with pytest.raises(LeadError):
        ask(session, world, consent=make.consent(other))
    consent.withdrawn_at = consent.given_at
    with pytest.raises(LeadError):
        ask(session, world, consent=consent)


def test_a_campus_of_another_school_or_a_deleted_one_is_refused(session, world, make):
    elsewhere = make.school(campuses=("Başka",)).campuses[0]
    with pytest.raises(LeadError):
        ask(session, world, campus=elsewhere)
    world.campus.deleted_at = world.campus.created_at
    with pytest.raises(LeadError):
        ask(session, world)


def test_an_unpublished_school_is_refused(session, world):
    world.school.is_published = False
    with pytest.raises(LeadError):
        ask(session, world, campus=None)


def test_assigning_records_an_internal_event(session, world):
    lead, _ = ask(session, world)
    event = leads.assign(
        session,
        lead,
        world.campus_staff,
        actor_user_id=world.whole_school_staff.user_id,
        origin=NO_ORIGIN,
    )
    session.commit()

    assert lead.assigned_customer_user_id == world.campus_staff.id
    assert (event.kind, event.is_internal) == ("assigned", True)
    leads.assign(session, lead, None, actor_user_id=None, origin=NO_ORIGIN)
    session.commit()
    assert lead.assigned_customer_user_id is None


def test_a_missing_user_details_row_is_made_with_the_count(session, world, make):
    from portal.models import UserDetail

    parent = make.user("parent")
    make.consent(parent)  # makes the row: take it away again
    session.delete(session.get(UserDetail, parent.id))
    session.flush()
    world.parent = parent
    ask(session, world)
    session.commit()
    assert counters(session, parent)["open"] == 1
