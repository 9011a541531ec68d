"""The parent's profile: name, phone and school-fee budget, saved or refused field by field.

Assertions are on state (rows, status codes, aria-invalid, ids), not on translated text.
"""

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.models import User, UserDetail, UserLog
from tests.helpers import HTMX, csrf_token
from tests.test_html import assert_valid_html

URL = "/account/profile"


@pytest.fixture
def parent(make, session):
    user = make.user("parent", name="Elif Şahin")
    session.add(
        UserDetail(
            user_id=user.id,
            phone="+905321112233",
            budget_min=Decimal("100000.00"),
            budget_max=Decimal("200000.00"),
        )
    )
    session.commit()
    return user


def save(client, headers=None, **fields):
    data = {
        "name": "Elif Şahin",
        "phone": "0532 111 22 33",
        "budget_min": "100.000",
        "budget_max": "200.000",
        "csrf_token": csrf_token(client),
        **fields,
    }
    return client.post(URL, data=data, headers=headers)


def stored(session, user):
    session.expire_all()
    details = session.get(UserDetail, user.id)
    return (
        session.get(User, user.id).name,
        details.phone,
        details.budget_min,
        details.budget_max,
    )


def invalid_fields(html: str) -> set[str]:
    """The ids of the controls marked aria-invalid on a page."""
    return set(re.findall(r'id="([^"]+)"[^>]*aria-invalid="true"', html)) | set(
        re.findall(r'aria-invalid="true"[^>]*id="([^"]+)"', html)
    )


def profile_events(session, user):
    session.expire_all()
    rows = session.scalars(
        select(UserLog)
        .where(UserLog.user_id == user.id, UserLog.event == "profile_changed")
        .order_by(UserLog.id)
    )
    return [row.data for row in rows]


def test_profile_page_shows_the_stored_values_and_is_valid_html(client, signed_in):
    response = client.get(URL)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Elif Şahin"' in html and 'value="+905321112233"' in html
    assert 'value="100000"' in html and 'value="200000"' in html
    assert_valid_html(html, URL)


def test_saving_stores_the_phone_as_plus_90_and_the_budget_as_decimal(client, session, signed_in):
    response = save(
        client,
        name="Elif Yılmaz",
        phone="+90 (212) 555-01-01",
        budget_min="150.000,50",
        budget_max="320000",
    )

    assert response.status_code == 303 and response.headers["Location"] == URL
    assert stored(session, signed_in) == (
        "Elif Yılmaz",
        "+902125550101",
        Decimal("150000.50"),
        Decimal("320000.00"),
    )
    assert profile_events(session, signed_in) == [
        {"fields": ["name", "phone", "budget_min", "budget_max"]}
    ]
    assert "+902125550101" in client.get("/account/").get_data(as_text=True)


def test_the_audit_row_names_the_changed_fields_never_their_values(client, session, signed_in):
    save(client, phone="05449998877")

    (data,) = profile_events(session, signed_in)
    assert data == {"fields": ["phone"]}
    assert "9998877" not in str(data)


def test_saving_unchanged_values_writes_no_audit_row(client, session, signed_in):
    assert save(client).status_code == 303

    assert profile_events(session, signed_in) == []


def test_both_budget_ends_may_be_left_empty(client, session, signed_in):
    assert save(client, budget_min="", budget_max="", phone="").status_code == 303

    assert stored(session, signed_in)[1:] == (None, None, None)


def test_the_row_of_details_is_made_when_missing(client, session, make, auth):
    user = make.user("parent")
    session.commit()
    auth.login(user.email)

    assert save(client, budget_min="", budget_max="90.000").status_code == 303

    details = session.get(UserDetail, user.id)
    assert details.phone == "+905321112233" and details.budget_max == Decimal("90000.00")


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"budget_min": "-5"}, "budget_min"),
        ({"budget_max": "-1.000"}, "budget_max"),
        ({"budget_min": "300.000", "budget_max": "200.000"}, "budget_max"),
        ({"budget_min": "on bin"}, "budget_min"),
        ({"budget_min": "12,345"}, "budget_min"),
        ({"budget_max": "99999999999"}, "budget_max"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "+44 20 7946 0958"}, "phone"),
        ({"phone": "0632 111 22 33"}, "phone"),
        ({"phone": "0532 ABC 22 33"}, "phone"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_lost(
    client, session, signed_in, fields, wrong
):
    before = stored(session, signed_in)

    response = save(client, **fields)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert invalid_fields(html) == {wrong}
    assert f'id="{wrong}-error"' in html
    assert stored(session, signed_in) == before
    assert profile_events(session, signed_in) == []
    assert_valid_html(html, f"{URL} with {fields}")


def test_htmx_gets_the_form_alone_with_errors_and_422(client, session, signed_in):
    response = save(client, headers=HTMX, budget_min="-5")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="profile-form"') and "<html" not in html
    assert 'value="-5"' in html  # what was typed comes back, to be corrected
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_success_is_a_client_redirect(client, session, signed_in):
    response = save(client, headers=HTMX, name="Elif Kaya")

    assert response.status_code == 200 and response.headers["HX-Redirect"] == URL
    assert stored(session, signed_in)[0] == "Elif Kaya"


def test_extra_fields_such_as_user_type_or_company_are_ignored(client, session, make, signed_in):
    customer = make.customer()
    session.commit()
    operator_type = 3

    response = save(client, user_type_id=str(operator_type), customer_id=str(customer.id))

    assert response.status_code == 303
    user = session.get(User, signed_in.id)
    assert user.type_code == "parent" and user.customer_id is None


def test_other_audiences_may_not_reach_the_profile(client, session, make, auth):
    staff = make.customer_user()
    session.commit()
    auth.login(staff.user.email)

    assert client.get(URL).status_code == 403
