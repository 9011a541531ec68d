"""The ask form: who may use it, consent on the way, one lead per form, errors at the fields."""

import re

import pytest
from sqlalchemy import func, select

from portal.models import Lead, UserConsent, UserDetail, UserLog
from tests.helpers import HTMX, csrf_token
from tests.leads.conftest import counters
from tests.test_html import assert_valid_html


def ask_url(world, campus=True):
    base = f"/schools/{world.school.slug}/ask"
    return f"{base}?campus={world.campus.id}" if campus else base


def shown_form(client, url):
    """The form as the page shows it: its hidden fields (key, consent text id)."""
    html = client.get(url).get_data(as_text=True)
    return dict(
        re.findall(r'name="(request_key|consent_text_id)" type="hidden" value="([^"]*)"', html)
    )


def send(client, url, headers=None, **fields):
    hidden = shown_form(client, url)
    data = {
        "csrf_token": csrf_token(client),
        "level": "primary",
        "school_year": fields.pop("school_year", None) or str(_this_year()),
        "message": "Kızım için bilgi almak istiyoruz.",
        "contact_preference": "email",
        **hidden,
        **fields,
    }
    return client.post(url, data=data, headers=headers)


def _this_year():
    from portal.clock import istanbul_today
    from portal.schools.fees import school_year_of

    return school_year_of(istanbul_today())


@pytest.fixture
def parent(world):
    return world.parent


def test_the_form_offers_the_campus_levels_and_years_and_is_valid_html(client, world, signed_in):
    response = client.get(ask_url(world))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_valid_html(html, "ask")
    levels = re.findall(r'<option value="(\w+)"', html.split('name="school_year"')[0])
    assert levels == ["primary", "middle"]
    assert f'value="{_this_year()}"' in html and f'value="{_this_year() + 1}"' in html
    # The parent has a live consent: no consent box.
    assert 'name="consent"' not in html
    assert len(shown_form(client, ask_url(world))["request_key"]) >= 16


def test_asking_makes_the_lead_and_redirects_to_it(client, session, world, signed_in):
    response = send(client, ask_url(world))

    assert response.status_code == 303
    lead = session.scalar(select(Lead))
    assert response.headers["Location"] == f"/account/leads/{lead.id}"
    assert (lead.school_id, lead.campus_id, lead.level) == (
        world.school.id,
        world.campus.id,
        "primary",
    )
    assert counters(session, world.parent)["open"] == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kızım için bilgi almak istiyoruz." in page


def test_the_same_form_sent_twice_is_one_lead(client, session, world, signed_in):
    hidden = shown_form(client, ask_url(world))
    data = {
        "csrf_token": csrf_token(client),
        "level": "primary",
        "school_year": str(_this_year()),
        "message": "iki kere",
        "contact_preference": "email",
        **hidden,
    }
    first = client.post(ask_url(world), data=data)
    second = client.post(ask_url(world), data=data)

    assert first.headers["Location"] == second.headers["Location"]
    assert session.scalar(select(func.count(Lead.id))) == 1
    assert counters(session, world.parent)["open"] == 1


def test_a_parent_without_consent_sees_the_text_and_must_tick_it(
    client, session, make, world, auth
):
    newcomer = make.user("parent", email="yeni@example.com")
    session.commit()
    auth.login(newcomer.email)

    page = client.get(ask_url(world)).get_data(as_text=True)
    assert 'name="consent"' in page and "Açık Rıza" in page
    refused = send(client, ask_url(world))

    assert refused.status_code == 422
    assert 'id="consent-error"' in refused.get_data(as_text=True)
    assert session.scalar(select(func.count(Lead.id))) == 0

    accepted = send(client, ask_url(world), consent="y")

    assert accepted.status_code == 303
    consent = session.scalar(select(UserConsent).where(UserConsent.user_id == newcomer.id))
    lead = session.scalar(select(Lead))
    assert (consent.method, consent.withdrawn_at) == ("lead_form", None)
    assert lead.user_consent_id == consent.id
    assert session.get(UserDetail, newcomer.id).kvkk_accepted_at is not None
    events = session.scalars(
        select(UserLog.event).where(UserLog.user_id == newcomer.id).order_by(UserLog.id)
    ).all()
    assert events[-2:] == ["consent_given", "lead_opened"]


def test_a_stale_consent_text_id_is_refused_at_the_box(client, session, make, world, auth):
    newcomer = make.user("parent")
    session.commit()
    auth.login(newcomer.email)

    refused = send(client, ask_url(world), consent="y", consent_text_id="999999")

    assert refused.status_code == 422
    assert 'id="consent-error"' in refused.get_data(as_text=True)
    assert (
        session.scalar(select(func.count(UserConsent.id)).where(UserConsent.user_id == newcomer.id))
        == 0
    )


def test_phone_contact_needs_a_phone(client, session, world, signed_in):
    session.get(UserDetail, world.parent.id).phone = None
    session.commit()

    refused = send(client, ask_url(world), contact_preference="phone")

    assert refused.status_code == 422
    assert 'id="contact_preference-error"' in refused.get_data(as_text=True)
    world_detail = session.get(UserDetail, world.parent.id)
    world_detail.phone = "05321234567"
    session.commit()
    assert send(client, ask_url(world), contact_preference="phone").status_code == 303


@pytest.mark.parametrize(
    ("field", "value"),
    [("message", ""), ("level", "high"), ("school_year", "1999"), ("request_key", "short")],
)
def test_bad_input_is_shown_next_to_the_field_with_422(
    client, session, world, signed_in, field, value
):
    response = send(client, ask_url(world), **{field: value})

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True) or field == "request_key"
    assert session.scalar(select(func.count(Lead.id))) == 0


def test_htmx_gets_the_form_fragment_on_error_and_a_redirect_on_success(
    client, session, world, signed_in
):
    refused = send(client, ask_url(world), headers=HTMX, message="")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="ask-form"') and "<html" not in html

    sent = send(client, ask_url(world), headers=HTMX)
    assert sent.status_code == 200
    assert sent.headers["HX-Redirect"].startswith("/account/leads/")


def test_the_whole_school_can_be_asked_without_a_campus(client, session, world, signed_in):
    assert send(client, ask_url(world, campus=False)).status_code == 303
    assert session.scalar(select(Lead.campus_id)) is None


@pytest.mark.parametrize("campus", ["999999", "abc", "other-school"])
def test_a_campus_not_of_the_school_is_404(client, session, make, world, signed_in, campus):
    if campus == "other-school":
        campus = str(make.school().campuses[0].id)
        session.commit()
    response = client.get(f"/schools/{world.school.slug}/ask?campus={campus}")
    assert response.status_code == 404


def test_an_unpublished_school_is_404(client, session, world, signed_in):
    world.school.is_published = False
    session.commit()
    assert client.get(ask_url(world)).status_code == 404


def test_a_visitor_is_sent_to_sign_in_and_staff_are_refused(client, session, world, auth):
    anonymous = client.get(ask_url(world))
    assert anonymous.status_code in (302, 303)
    assert "/auth/login?next=" in anonymous.headers["Location"]

    auth.login(world.campus_staff.user.email)
    assert client.get(ask_url(world)).status_code == 403
