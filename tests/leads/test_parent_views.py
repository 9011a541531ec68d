"""The parent's leads: the list, one lead with its offers, answering, withdrawing; another
parent's lead is a 404 everywhere."""

import re
from datetime import timedelta

import html5lib
import pytest
from sqlalchemy import select

from portal.clock import istanbul_today
from portal.leads.leads import add_event
from portal.models import Lead, SchoolOffer
from tests.helpers import HTMX, csrf_token
from tests.leads.conftest import counters
from tests.test_html import assert_valid_html


@pytest.fixture
def parent(world):
    return world.parent


def answer(client, lead, offer, action, headers=None):
    return client.post(
        f"/account/leads/{lead.id}/offers/{offer.id}",
        data={"csrf_token": csrf_token(client), "action": action},
        headers=headers,
    )


def test_the_list_shows_newest_first_with_state_and_open_offers(
    client, session, make, world, signed_in
):
    older = make.lead(world.parent, world.school, world.campus)
    newer = make.lead(world.parent, world.school, None)
    make.offer(older)
    make.offer(older)
    make.offer(older, valid_until=istanbul_today() - timedelta(days=1))  # expired: not counted
    make.lead(make.user("parent"), world.school, world.campus)  # another parent's
    session.commit()

    response = client.get("/account/leads")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_valid_html(html, "my leads")
    links = re.findall(r'href="/account/leads/(\d+)"', html)
    assert links == [str(newer.id), str(older.id)]
    # Two open offers on the older lead (the expired one is not counted), none on the newer.
    assert re.findall(r"</i> (\d+) (?:open offer|açık teklif)", html) == ["2"]


def test_a_kept_card_shows_a_new_offer_and_state_at_once(client, session, make, world, signed_in):
    lead = make.lead(world.parent, world.school, world.campus)
    session.commit()
    assert "açık teklif" not in client.get("/account/leads").get_data(as_text=True)

    make.offer(lead)
    session.commit()
    html = client.get("/account/leads").get_data(as_text=True)
    assert re.findall(r"</i> (\d+) açık teklif", html) == ["1"]

    lead.state = "lost"
    session.commit()
    html = client.get("/account/leads").get_data(as_text=True)
    # A lost lead's offers are no longer open, and its badge says so.
    assert "lead-lost" in html and "açık teklif" not in html


def test_the_list_pages(client, session, make, world, signed_in):
    for _ in range(21):
        make.lead(world.parent, world.school, world.campus)
    session.commit()

    first = client.get("/account/leads").get_data(as_text=True)
    second = client.get("/account/leads?page=2", headers=HTMX).get_data(as_text=True)

    assert len(re.findall(r'href="/account/leads/\d+"', first)) == 20
    assert len(re.findall(r'href="/account/leads/\d+"', second)) == 1
    assert second.lstrip().startswith('<section id="lead-list"')


def test_the_lead_page_hides_internal_events_and_shows_offers(
    client, session, make, world, signed_in
):
    lead = make.lead(world.parent, world.school, world.campus)
    add_event(
        session,
        lead,
        "note",
        actor_user_id=world.campus_staff.user_id,
        body="GİZLİ NOT",
        internal=True,
    )
    make.offer(lead, yearly_fee="200000.00", discount_percent="12.5", note="Erken kayıt")
    make.offer(lead, valid_until=istanbul_today() - timedelta(days=2))
    session.commit()

    response = client.get(f"/account/leads/{lead.id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_valid_html(html, "my lead")
    assert "GİZLİ NOT" not in html
    assert "Erken kayıt" in html and "175.000,00" in html and "12.5" in html
    # One open offer may be answered (two buttons); the expired one shows as such.
    assert html.count('name="action" value="accept"') == 1
    assert "Süresi doldu" in html  # "Expired", in the default language


def test_accepting_with_a_plain_form_wins_and_redirects_back(
    app, client, session, make, world, signed_in
):
    lead = make.lead(world.parent, world.school, world.campus)
    chosen, other = make.offer(lead), make.offer(lead)
    session.commit()

    response = answer(client, lead, chosen, "accept")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/account/leads/{lead.id}"
    session.expire_all()
    assert (lead.state, chosen.status, other.status) == ("won", "accepted", "declined")
    assert counters(session, world.parent) == {"open": 0, "won": 1, "lost": 0, "closed": 0}
    assert {"whole@bilge.example.com", "campus@bilge.example.com"} <= {
        m.to for m in app.extensions["mail_outbox"]
    }


def test_declining_with_htmx_swaps_the_state_block(client, session, make, world, signed_in):
    lead = make.lead(world.parent, world.school, world.campus)
    offer = make.offer(lead)
    session.commit()

    response = answer(client, lead, offer, "decline", headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="lead-state"') and "<html" not in html
    html5lib.HTMLParser(strict=True).parseFragment(html)
    assert 'name="action"' not in html
    session.expire_all()
    assert (offer.status, lead.state) == ("declined", "open")


def test_an_expired_offer_cannot_be_accepted_and_says_so(client, session, make, world, signed_in):
    lead = make.lead(world.parent, world.school, world.campus)
    offer = make.offer(lead, valid_until=istanbul_today() - timedelta(days=1))
    session.commit()

    plain = answer(client, lead, offer, "accept")
    htmx = answer(client, lead, offer, "accept", headers=HTMX)

    assert plain.status_code == htmx.status_code == 422
    assert 'role="alert"' in htmx.get_data(as_text=True)
    assert "expired" in plain.get_data(as_text=True) or "süres" in plain.get_data(as_text=True)
    session.expire_all()
    assert (offer.status, lead.state) == ("open", "open")


def test_a_bad_action_is_422(client, session, make, world, signed_in):
    lead = make.lead(world.parent, world.school, world.campus)
    offer = make.offer(lead)
    session.commit()

    assert answer(client, lead, offer, "maybe").status_code == 422
    session.expire_all()
    assert offer.status == "open"


def test_withdrawing_closes_the_lead_once(client, session, make, world, signed_in):
    lead = make.lead(world.parent, world.school, world.campus)
    session.commit()
    url = f"/account/leads/{lead.id}/withdraw"

    first = client.post(url, data={"csrf_token": csrf_token(client)})
    again = client.post(url, data={"csrf_token": csrf_token(client)}, headers=HTMX)

    assert first.status_code == 303
    assert again.status_code == 422
    session.expire_all()
    assert lead.state == "closed"
    assert counters(session, world.parent) == {"open": 0, "won": 0, "lost": 0, "closed": 1}


def test_withdrawing_without_the_csrf_token_changes_nothing(
    client, session, make, world, signed_in
):
    lead = make.lead(world.parent, world.school, world.campus)
    session.commit()

    response = client.post(f"/account/leads/{lead.id}/withdraw", data={})

    assert response.status_code in (400, 422)
    session.expire_all()
    assert lead.state == "open"


def test_another_parents_lead_and_offer_are_404_everywhere(client, session, make, world, signed_in):
    stranger = make.user("parent")
    theirs = make.lead(stranger, world.school, world.campus)
    their_offer = make.offer(theirs)
    mine = make.lead(world.parent, world.school, world.campus)
    session.commit()

    assert client.get(f"/account/leads/{theirs.id}").status_code == 404
    assert answer(client, theirs, their_offer, "accept").status_code == 404
    # Their offer through my lead's URL.
    assert answer(client, mine, their_offer, "accept").status_code == 404
    withdraw = client.post(
        f"/account/leads/{theirs.id}/withdraw", data={"csrf_token": csrf_token(client)}
    )
    assert withdraw.status_code == 404
    assert client.get(f"/account/leads/{2**63}").status_code == 404
    session.expire_all()
    assert (theirs.state, their_offer.status) == ("open", "open")
    assert session.scalar(select(Lead.state).where(Lead.id == mine.id)) == "open"
    assert (
        session.scalar(select(SchoolOffer.status).where(SchoolOffer.id == their_offer.id)) == "open"
    )


def test_the_account_menu_links_to_the_requests(client, world, signed_in):
    html = client.get("/account/favorites").get_data(as_text=True)
    assert 'href="/account/leads"' in html


def test_the_list_costs_the_same_statements_for_one_lead_or_a_page_of_them(
    app, client, session, make, world, signed_in
):
    from tests.helpers import counted_statements

    make.lead(world.parent, world.school, world.campus)
    session.commit()
    with counted_statements(app) as one:
        assert client.get("/account/leads").status_code == 200
    for _ in range(19):
        lead = make.lead(world.parent, world.school, None)
        make.offer(lead)
    session.commit()
    with counted_statements(app) as twenty:
        assert client.get("/account/leads").status_code == 200

    assert len(twenty) == len(one)
