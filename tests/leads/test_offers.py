"""Offers: the net fee rule, expiry, making one, and the parent accepting or declining."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.audit import NO_ORIGIN
from portal.clock import istanbul_today
from portal.leads.leads import end_lead
from portal.leads.offers import (
    OfferError,
    accept_offer,
    decline_offer,
    is_expired,
    make_offer,
    net_fee,
)
from portal.models import LeadEvent, SchoolOffer
from tests.leads.conftest import counters, mails_to


@pytest.mark.parametrize(
    ("fee", "discount", "net"),
    [
        ("200000.00", "0", "200000.00"),
        ("200000.00", "10", "180000.00"),
        ("1234.57", "50", "617.29"),  # 617.285 rounds half up
        ("99.99", "33.33", "66.66"),  # 66.663333 rounds down
        ("150000.00", "100", "0.00"),
    ],
)
def test_net_fee_is_the_discounted_fee_rounded_half_up_to_the_kurus(fee, discount, net):
    offer = SchoolOffer(yearly_fee=Decimal(fee), discount_percent=Decimal(discount))
    assert net_fee(offer) == Decimal(net)


def test_an_open_offer_is_expired_only_after_its_last_day():
    offer = SchoolOffer(status="open", valid_until=date(2026, 12, 1))
    assert not is_expired(offer, date(2026, 12, 1))
    assert is_expired(offer, date(2026, 12, 2))
    offer.status = "accepted"
    assert not is_expired(offer, date(2026, 12, 2))


def offer_on(session, make, world, lead, **values):
    values.setdefault("yearly_fee", Decimal("250000"))
    values.setdefault("discount_percent", Decimal("10"))
    values.setdefault("valid_until", istanbul_today() + timedelta(days=7))
    values.setdefault("note", "  Kardeş indirimi dahil.  ")
    return make_offer(session, lead, world.campus_staff, origin=NO_ORIGIN, **values)


def test_making_an_offer_records_first_response_the_event_and_mails_the_parent(
    app, session, make, world
):
    lead = make.lead(world.parent, world.school, world.campus)
    offer = offer_on(session, make, world, lead)
    session.commit()

    assert (offer.status, offer.note, offer.customer_user_id) == (
        "open",
        "Kardeş indirimi dahil.",
        world.campus_staff.id,
    )
    assert lead.first_response_at is not None
    first = lead.first_response_at
    offer_on(session, make, world, lead)
    session.commit()
    assert lead.first_response_at == first
    kinds = session.scalars(
        select(LeadEvent.kind).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id)
    ).all()
    assert kinds == ["opened", "offer_sent", "offer_sent"]
    mailed = mails_to(app, world.parent.email)
    assert len(mailed) == 2
    # Turkish by default: the parent chose no language.
    assert "225.000,00" in mailed[0].body and "Bilge Koleji" in mailed[0].subject


def test_an_offer_needs_an_open_lead_a_grant_and_a_date_not_past(session, make, world):
    lead = make.lead(world.parent, world.school, world.campus)
    with pytest.raises(OfferError):
        offer_on(session, make, world, lead, valid_until=istanbul_today() - timedelta(days=1))
    with pytest.raises(OfferError):
        make_offer(
            session,
            lead,
            world.other_campus_staff,
            yearly_fee=Decimal("1"),
            discount_percent=Decimal("0"),
            valid_until=istanbul_today(),
            note=None,
            origin=NO_ORIGIN,
        )
    with pytest.raises(OfferError):
        offer_on(session, make, world, lead, discount_percent=Decimal("101"))
    end_lead(session, lead, "closed", actor_user_id=world.parent.id, origin=NO_ORIGIN)
    with pytest.raises(OfferError):
        offer_on(session, make, world, lead)


def test_accepting_wins_the_lead_declines_the_others_and_mails_the_staff(app, session, make, world):
    lead = make.lead(world.parent, world.school, world.campus)
    chosen = make.offer(lead, world.campus_staff)
    other = make.offer(lead, world.whole_school_staff)
    session.commit()
    app.extensions["mail_outbox"] = []

    accept_offer(session, chosen, world.parent, origin=NO_ORIGIN)
    session.commit()

    session.expire_all()
    assert (chosen.status, other.status, lead.state) == ("accepted", "declined", "won")
    assert chosen.answered_at is not None and lead.ended_at is not None
    assert counters(session, world.parent) == {"open": 0, "won": 1, "lost": 0, "closed": 0}
    kinds = session.scalars(
        select(LeadEvent.kind).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id)
    ).all()
    assert kinds == ["opened", "offer_accepted", "won"]
    # The staff who may work on this campus and answer leads; never the other campus's, nor
    # finance.
    assert sorted(m.to for m in app.extensions["mail_outbox"]) == [
        "campus@bilge.example.com",
        "whole@bilge.example.com",
    ]


def test_an_expired_offer_cannot_be_accepted(session, make, world):
    lead = make.lead(world.parent, world.school, world.campus)
    offer = make.offer(lead, valid_until=istanbul_today() - timedelta(days=1))
    session.commit()

    with force_locale("en"), pytest.raises(OfferError, match="expired"):
        accept_offer(session, offer, world.parent, origin=NO_ORIGIN)
    session.rollback()
    session.expire_all()
    assert (offer.status, lead.state) == ("open", "open")
    assert counters(session, world.parent)["open"] == 1


def test_only_the_leads_parent_may_answer_and_only_once(session, make, world):
    lead = make.lead(world.parent, world.school, world.campus)
    offer = make.offer(lead)
    stranger = make.user("parent")
    session.commit()

    with pytest.raises(OfferError):
        accept_offer(session, offer, stranger, origin=NO_ORIGIN)
    with pytest.raises(OfferError):
        decline_offer(session, offer, stranger, origin=NO_ORIGIN)
    decline_offer(session, offer, world.parent, origin=NO_ORIGIN)
    session.commit()
    with pytest.raises(OfferError):
        accept_offer(session, offer, world.parent, origin=NO_ORIGIN)


def test_declining_keeps_the_lead_open_and_mails_the_staff(app, session, make, world):
    lead = make.lead(world.parent, world.school, world.campus)
    offer = make.offer(lead)
    session.commit()
    app.extensions["mail_outbox"] = []

    decline_offer(session, offer, world.parent, origin=NO_ORIGIN)
    session.commit()

    session.expire_all()
    assert (offer.status, lead.state) == ("declined", "open")
    assert counters(session, world.parent)["open"] == 1
    assert sorted(m.to for m in app.extensions["mail_outbox"]) == [
        "campus@bilge.example.com",
        "whole@bilge.example.com",
    ]


def test_an_offer_on_a_closed_lead_cannot_be_accepted(session, make, world):
    lead = make.lead(world.parent, world.school, world.campus)
    offer = make.offer(lead)
    end_lead(session, lead, "closed", actor_user_id=world.parent.id, origin=NO_ORIGIN)
    session.commit()

    with pytest.raises(OfferError):
        accept_offer(session, offer, world.parent, origin=NO_ORIGIN)
