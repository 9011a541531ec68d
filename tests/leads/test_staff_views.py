"""The staff's pages on leads: the inbox, a lead, and each step on it, within the grants.

A member granted one campus must not read, list, answer, assign or see the notes of anything
of another campus or school, by address, form field or htmx request: each is a 404 (the same
as no lead), logged, and leaves the database as it was.
"""

import logging
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.access.permissions import Role
from portal.audit import NO_ORIGIN
from portal.clock import istanbul_today
from portal.leads.leads import assign
from portal.models import (
    CustomerUser,
    CustomerUserDailyActivityLog,
    Lead,
    LeadEvent,
    SchoolOffer,
)
from tests.helpers import HTMX, counted_statements, csrf_token
from tests.leads import test_inbox
from tests.test_html import assert_valid_html

# The inbox tests' company, staff and leads (a fixture, shared by name).
desk = test_inbox.desk


def sign_in(auth, member: CustomerUser) -> None:
    response = auth.login(member.user.email)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def activity_of(session, member) -> tuple[int, int, int] | None:
    session.commit()
    row = session.scalar(
        select(CustomerUserDailyActivityLog).where(
            CustomerUserDailyActivityLog.customer_user_id == member.id
        )
    )
    return None if row is None else (row.lead_view_count, row.lead_reply_count, row.offer_count)


# The member signed in today: their day's row exists (its sign-in counted), with no lead work.
NO_LEAD_WORK = (0, 0, 0)


def count(session, model, **where) -> int:
    session.commit()
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return session.scalar(query)


def offer_fields(**fields) -> dict:
    return {
        "yearly_fee": "150.000",
        "discount_percent": "10",
        "valid_until": (istanbul_today() + timedelta(days=14)).isoformat(),
        "note": "Kardeş indirimi dahil.",
        **fields,
    }


# --- The inbox ------------------------------------------------------------------------------


def test_the_inbox_lists_only_the_leads_of_the_granted_campus(client, auth, desk):
    sign_in(auth, desk.campus_agent)

    html = client.get("/customer/leads?state=all").get_data(as_text=True)

    assert f"/customer/leads/{desk.campus_lead.id}" in html
    for lead in (desk.other_campus_lead, desk.whole_school_lead, desk.other_school_lead):
        assert f'/customer/leads/{lead.id}"' not in html
    assert "1 request" in html


def test_the_inbox_answers_htmx_with_the_list_alone(client, auth, desk):
    sign_in(auth, desk.whole_school_agent)

    response = client.get("/customer/leads?state=open&assigned=unassigned", headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="lead-list"') and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]
    assert html.count('class="card"') == 3


def test_a_filter_naming_another_school_or_an_unknown_value_falls_back(client, auth, desk):
    sign_in(auth, desk.campus_agent)

    response = client.get(
        f"/customer/leads?school={desk.other_company_school.id}&state=deleted&assigned=x"
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/customer/leads/{desk.campus_lead.id}" in html
    assert f'/customer/leads/{desk.other_company_lead.id}"' not in html
    assert "Bora Koleji" not in html


def test_the_list_alone_checks_a_chosen_school_against_the_grants(app, client, auth, desk):
    sign_in(auth, desk.whole_school_agent)
    base = "/customer/leads?state=all"

    def listed(address: str) -> str:
        return client.get(address, headers=HTMX).get_data(as_text=True)

    everything = listed(base)
    # Another company's school is no choice: the list falls back to all the member's leads.
    assert listed(f"{base}&school={desk.other_company_school.id}") == everything
    assert f"/customer/leads/{desk.whole_school_lead.id}" in listed(
        f"{base}&school={desk.school.id}"
    )
    # With no school chosen, the list alone reads none of the member's school names.
    with counted_statements(app) as statements:
        listed(base)
    assert not any("ORDER BY schools.name" in statement for statement in statements)
    with counted_statements(app) as statements:
        client.get(base)
    assert any("ORDER BY schools.name" in statement for statement in statements)


def test_the_dashboard_links_the_inbox_with_its_counts(client, auth, session, desk):
    assign(session, desk.campus_lead, desk.whole_school_agent, actor_user_id=None, origin=NO_ORIGIN)
    session.commit()
    sign_in(auth, desk.whole_school_agent)

    html = client.get("/customer/").get_data(as_text=True)

    link = re.search(r'<section class="panel" id="lead-inbox-link".*?</section>', html, re.S)[0]
    assert 'href="/customer/leads"' in link
    assert "3 open" in link and "2 unassigned" in link


def test_a_member_who_may_not_answer_leads_is_refused_and_not_offered_the_inbox(client, auth, desk):
    sign_in(auth, desk.finance)

    assert client.get("/customer/leads").status_code == 403
    assert client.get(f"/customer/leads/{desk.campus_lead.id}").status_code == 403
    assert "lead-inbox-link" not in client.get("/customer/").get_data(as_text=True)


# --- A lead ---------------------------------------------------------------------------------


def test_the_lead_page_shows_the_request_the_timeline_and_counts_a_view(
    client, auth, session, make, desk
):
    sign_in(auth, desk.campus_agent)
    make.offer(desk.campus_lead, desk.campus_agent)
    session.add(
        LeadEvent(
            lead_id=desk.campus_lead.id,
            kind="note",
            is_internal=True,
            body="Veliyi pazartesi arayalım.",
            actor_user_id=desk.whole_school_agent.user_id,
        )
    )
    session.commit()

    response = client.get(f"/customer/leads/{desk.campus_lead.id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ayşe Yılmaz" in html and "veli@example.com" in html
    assert "+905321234567" not in html  # the parent asked to be e-mailed
    assert "Veliyi pazartesi arayalım." in html and ">internal<" in html
    assert re.search(r'<table id="offers">.*180,000', html, re.S)  # 200,000 less 10 %
    assert activity_of(session, desk.campus_agent) == (1, 0, 0)


def test_a_lead_counts_as_viewed_once_a_day_however_often_it_is_shown(client, auth, session, desk):
    sign_in(auth, desk.whole_school_agent)
    first, second = desk.campus_lead.id, desk.whole_school_lead.id

    for lead_id in (first, first, second, first):  # reloads and coming back are one view
        assert client.get(f"/customer/leads/{lead_id}").status_code == 200
    assert activity_of(session, desk.whole_school_agent) == (2, 0, 0)

    # The browser last showed it yesterday (Istanbul): today it is a view again.
    with client.session_transaction() as browser_session:
        member, _day, shown = browser_session["leads_viewed_today"]
        assert (member, shown) == (desk.whole_school_agent.id, [first, second])
        yesterday = (istanbul_today() - timedelta(days=1)).isoformat()
        browser_session["leads_viewed_today"] = (member, yesterday, shown)
    client.get(f"/customer/leads/{first}")
    assert activity_of(session, desk.whole_school_agent) == (3, 0, 0)

    # Another member signing in on the same browser has seen nothing yet.
    sign_in(auth, desk.campus_agent)
    client.get(f"/customer/leads/{first}")
    assert activity_of(session, desk.campus_agent) == (1, 0, 0)


def test_an_offer_in_turkish_figures_is_made_answered_and_counted(client, auth, session, desk):
    sign_in(auth, desk.campus_agent)
    url = f"/customer/leads/{desk.campus_lead.id}/offers"

    response = client.post(url, data={**offer_fields(), "csrf_token": csrf_token(client)})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/customer/leads/{desk.campus_lead.id}"
    session.commit()
    offer = session.scalar(select(SchoolOffer))
    assert (offer.yearly_fee, offer.discount_percent, offer.customer_user_id) == (
        Decimal("150000.00"),
        Decimal("10.00"),
        desk.campus_agent.id,
    )
    assert session.get(Lead, desk.campus_lead.id).first_response_at is not None
    assert activity_of(session, desk.campus_agent) == (0, 0, 1)


def test_an_offer_by_htmx_swaps_the_work_area(client, auth, session, desk):
    sign_in(auth, desk.campus_agent)

    response = client.post(
        f"/customer/leads/{desk.campus_lead.id}/offers",
        data={**offer_fields(yearly_fee="200000,50"), "csrf_token": csrf_token(client)},
        headers=HTMX,
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="lead-work">') and "<html" not in html
    assert "Offer sent to the parent." in html and '<table id="offers">' in html
    assert count(session, SchoolOffer) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"yearly_fee": ""}, "yearly_fee", "Enter the yearly fee."),
        ({"yearly_fee": "on beş bin"}, "yearly_fee", "Enter an amount in lira"),
        ({"discount_percent": "120"}, "discount_percent", "between 0 and 100"),
        ({"valid_until": "2001-01-01"}, "valid_until", "cannot end before today"),
        ({"valid_until": "yarın"}, "valid_until", ""),
    ],
)
def test_a_bad_offer_is_refused_next_to_its_field(
    client, auth, session, desk, fields, field, message
):
    sign_in(auth, desk.campus_agent)

    for headers in ({}, HTMX):
        response = client.post(
            f"/customer/leads/{desk.campus_lead.id}/offers",
            data={**offer_fields(**fields), "csrf_token": csrf_token(client)},
            headers=headers,
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
        assert error and message in error.group(1)
    assert count(session, SchoolOffer) == 0
    assert activity_of(session, desk.campus_agent) == NO_LEAD_WORK


def test_an_internal_note_is_added_and_counted_as_a_reply(client, auth, session, desk):
    sign_in(auth, desk.campus_agent)

    response = client.post(
        f"/customer/leads/{desk.campus_lead.id}/notes",
        data={"body": "Kardeşi de okulumuzda.", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Kardeşi de okulumuzda." in response.get_data(as_text=True)
    session.commit()
    note = session.scalar(select(LeadEvent).where(LeadEvent.kind == "note"))
    assert (note.is_internal, note.actor_user_id) == (True, desk.campus_agent.user_id)
    assert activity_of(session, desk.campus_agent) == (0, 1, 0)


def test_an_empty_note_is_refused(client, auth, session, desk):
    sign_in(auth, desk.campus_agent)

    response = client.post(
        f"/customer/leads/{desk.campus_lead.id}/notes",
        data={"body": "  ", "csrf_token": csrf_token(client)},
    )

    assert response.status_code == 422
    assert 'id="body-error"' in response.get_data(as_text=True)
    assert count(session, LeadEvent, kind="note") == 0


def test_assigning_to_a_colleague_who_covers_the_lead_then_to_nobody(client, auth, session, desk):
    sign_in(auth, desk.campus_agent)
    url = f"/customer/leads/{desk.campus_lead.id}/assign"

    page = client.get(f"/customer/leads/{desk.campus_lead.id}").get_data(as_text=True)
    options = re.search(r'<select id="assignee".*?</select>', page, re.S).group(0)
    assert f'value="{desk.whole_school_agent.id}"' in options
    assert f'value="{desk.other_campus_agent.id}"' not in options
    assert f'value="{desk.finance.id}"' not in options

    response = client.post(
        url, data={"assignee": str(desk.whole_school_agent.id), "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303
    assert session.get(Lead, desk.campus_lead.id).assigned_customer_user_id == (
        desk.whole_school_agent.id
    )

    response = client.post(url, data={"assignee": "", "csrf_token": csrf_token(client)})
    assert response.status_code == 303
    session.commit()
    assert session.get(Lead, desk.campus_lead.id).assigned_customer_user_id is None
    assert count(session, LeadEvent, kind="assigned") == 2
    assert activity_of(session, desk.campus_agent) == (1, 2, 0)


def test_an_assignee_that_is_not_an_id_is_a_field_error(client, auth, session, desk):
    sign_in(auth, desk.campus_agent)

    response = client.post(
        f"/customer/leads/{desk.campus_lead.id}/assign",
        data={"assignee": "herkes", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert 'id="assignee-error"' in response.get_data(as_text=True)
    assert count(session, LeadEvent, kind="assigned") == 0


def test_ending_a_lead_as_lost_with_a_reason(client, auth, session, desk):
    sign_in(auth, desk.campus_agent)
    url = f"/customer/leads/{desk.campus_lead.id}/end"

    refused = client.post(url, data={"state": "lost", "csrf_token": csrf_token(client)})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.get_data(as_text=True)
    won = client.post(url, data={"state": "won", "reason": "x", "csrf_token": csrf_token(client)})
    assert won.status_code == 422  # staff cannot declare a sale: accepting an offer wins

    response = client.post(
        url,
        data={"state": "lost", "reason": "Başka okul seçildi.", "csrf_token": csrf_token(client)},
    )

    assert response.status_code == 303
    session.commit()
    lead = session.get(Lead, desk.campus_lead.id)
    assert lead.state == "lost" and lead.ended_at is not None
    event = session.scalar(select(LeadEvent).where(LeadEvent.kind == "lost"))
    assert event.body == "Başka okul seçildi."
    assert activity_of(session, desk.campus_agent) == (0, 1, 0)
    # An ended lead offers no more steps but the note.
    page = client.get(f"/customer/leads/{lead.id}").get_data(as_text=True)
    assert 'id="offer-form"' not in page and 'id="end-form"' not in page
    assert 'id="note-form"' in page


# --- Outside the grants ---------------------------------------------------------------------

OUTSIDE = ("other_campus_lead", "whole_school_lead", "other_school_lead", "other_company_lead")
STEPS = {
    "offers": offer_fields(),
    "notes": {"body": "Gizli not"},
    "assign": {"assignee": ""},
    "end": {"state": "lost", "reason": "Yok"},
}


@pytest.mark.parametrize("outside", OUTSIDE)
def test_a_campus_member_reaches_nothing_outside_the_grant(
    client, auth, session, make, desk, caplog, outside
):
    lead = getattr(desk, outside)
    make.offer(lead)
    session.add(LeadEvent(lead_id=lead.id, kind="note", is_internal=True, body="Gizli bilgi"))
    session.commit()
    sign_in(auth, desk.campus_agent)
    before = (count(session, SchoolOffer), count(session, LeadEvent))

    with caplog.at_level(logging.WARNING):
        for headers in ({}, HTMX):
            page = client.get(f"/customer/leads/{lead.id}", headers=headers)
            assert page.status_code == 404
            assert "Gizli bilgi" not in page.get_data(as_text=True)
            for step, fields in STEPS.items():
                response = client.post(
                    f"/customer/leads/{lead.id}/{step}",
                    data={**fields, "csrf_token": csrf_token(client)},
                    headers=headers,
                )
                assert response.status_code == 404, (step, headers)

    session.commit()
    assert (count(session, SchoolOffer), count(session, LeadEvent)) == before
    refreshed = session.get(Lead, lead.id)
    assert (refreshed.state, refreshed.assigned_customer_user_id) == ("open", None)
    assert activity_of(session, desk.campus_agent) == NO_LEAD_WORK
    agent = desk.campus_agent
    assert (
        f"user {agent.user_id} (customer_user {agent.id}) asked for lead {lead.id}" in caplog.text
    )
    listing = client.get("/customer/leads?state=all").get_data(as_text=True)
    assert f'/customer/leads/{lead.id}"' not in listing


@pytest.mark.parametrize("who", ["other_campus_agent", "finance", "other_company_admin", "gone"])
def test_assigning_to_someone_who_may_not_work_on_the_lead_is_a_404(
    client, auth, session, make, desk, caplog, who
):
    if who == "gone":
        gone = make.customer_user(desk.campus_agent.customer, role=Role.AGENT, is_active=False)
        make.grant(gone, desk.school)
        session.commit()
        assignee_id = gone.id
    else:
        assignee_id = getattr(desk, who).id
    sign_in(auth, desk.campus_agent)

    with caplog.at_level(logging.WARNING):
        for headers in ({}, HTMX):
            response = client.post(
                f"/customer/leads/{desk.campus_lead.id}/assign",
                data={"assignee": str(assignee_id), "csrf_token": csrf_token(client)},
                headers=headers,
            )
            assert response.status_code == 404

    session.commit()
    assert session.get(Lead, desk.campus_lead.id).assigned_customer_user_id is None
    assert count(session, LeadEvent, kind="assigned") == 0
    assert f"asked for customer_user {assignee_id}" in caplog.text


def test_a_deactivated_member_loses_access_at_once(client, auth, session, desk):
    sign_in(auth, desk.campus_agent)
    assert client.get(f"/customer/leads/{desk.campus_lead.id}").status_code == 200
    token = csrf_token(client)

    member = session.get(CustomerUser, desk.campus_agent.id)
    member.is_active = False
    session.commit()

    assert client.get("/customer/leads").status_code == 403
    assert client.get(f"/customer/leads/{desk.campus_lead.id}").status_code == 403
    response = client.post(
        f"/customer/leads/{desk.campus_lead.id}/notes",
        data={"body": "Hâlâ buradayım", "csrf_token": token},
    )
    assert response.status_code == 403
    assert count(session, LeadEvent, kind="note") == 0


def test_the_pages_and_their_fragments_are_valid_html(client, auth, session, make, desk):
    make.offer(desk.campus_lead, desk.campus_agent)
    session.commit()
    sign_in(auth, desk.campus_agent)
    lead_url = f"/customer/leads/{desk.campus_lead.id}"

    for url, headers in (
        ("/customer/leads", {}),
        ("/customer/leads?state=all", HTMX),
        (lead_url, {}),
    ):
        response = client.get(url, headers=headers)
        html = response.get_data(as_text=True)
        if headers:
            html = f"<!doctype html><title>t</title>{html}"
        assert_valid_html(html, url)
    for headers in ({}, HTMX):
        refused = client.post(
            f"{lead_url}/offers",
            data={**offer_fields(yearly_fee="x"), "csrf_token": csrf_token(client)},
            headers=headers,
        )
        html = refused.get_data(as_text=True)
        if headers:
            html = f"<!doctype html><title>t</title>{html}"
        assert_valid_html(html, f"refused offer {headers}")
