"""A company admin keeps the company's invoice details; identifiers are checked."""

import pytest
from sqlalchemy import select

from portal.models import Customer
from portal.validators import make_tc_kimlik_no, make_vkn
from tests.helpers import HTMX, csrf_token


@pytest.fixture
def admin(make, session, auth):
    staff = make.customer_user(role="admin")
    session.commit()
    auth.login(staff.user.email)
    return staff


def form(client, **values):
    data = {
        "name": "Yeni Marka",
        "customer_type": "company",
        "tax_office": "Kadıköy",
        "tax_number": make_vkn("987654321"),
        "tc_no": "",
        "csrf_token": csrf_token(client),
    }
    data.update(values)
    return data


def stored(session, customer_id) -> Customer:
    session.expire_all()
    return session.scalar(select(Customer).where(Customer.id == customer_id))


def test_admin_saves_company_details(client, session, admin):
    response = client.post("/customer/company", data=form(client, email=" muhasebe@example.com "))

    assert response.status_code == 303
    customer = stored(session, admin.customer_id)
    assert customer.name == "Yeni Marka"
    assert customer.tax_number == make_vkn("987654321")
    assert customer.email == "muhasebe@example.com"
    assert customer.tc_no is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tax_number": "123456789"}, "VKN) tam 10 haneli olmalıdır."),
        ({"tax_number": "12345678A0"}, "VKN) yalnızca rakamlardan oluşmalıdır."),
        (
            {
                "tax_number": make_vkn("987654321")[:9] + "0"
                if make_vkn("987654321")[-1] != "0"
                else make_vkn("987654321")[:9] + "1"
            },
            "VKN'nin son hanesi doğrulama kuralına uymuyor.",
        ),
        ({"tax_number": ""}, "Şirketler için vergi kimlik numarası (VKN) gereklidir."),
        (
            {"customer_type": "sole_proprietor", "tc_no": "01234567890"},
            "TC Kimlik No 0 ile başlayamaz.",
        ),
        (
            {"customer_type": "sole_proprietor", "tc_no": "10000000147"},
            "11. hanesi doğrulama kuralına uymuyor.",
        ),
    ],
)
def test_wrong_identifier_is_refused_with_a_message_and_nothing_is_saved(
    client, session, admin, values, message
):
    before = stored(session, admin.customer_id).tax_number

    response = client.post("/customer/company", data=form(client, name="Kaydedilmemeli", **values))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    customer = stored(session, admin.customer_id)
    assert (customer.name, customer.tax_number) != ("Kaydedilmemeli", None)
    assert customer.name != "Kaydedilmemeli" and customer.tax_number == before


def test_sole_proprietor_is_saved_with_a_valid_tc_kimlik_no(client, session, admin):
    tc_no = make_tc_kimlik_no("284619375")
    response = client.post(
        "/customer/company",
        data=form(client, customer_type="sole_proprietor", tax_number="", tc_no=tc_no),
    )

    assert response.status_code == 303
    customer = stored(session, admin.customer_id)
    assert (customer.customer_type, customer.tc_no, customer.tax_number) == (
        "sole_proprietor",
        tc_no,
        None,
    )


def test_htmx_error_returns_the_form_fragment_with_the_error_next_to_the_field(client, admin):
    response = client.post("/customer/company", data=form(client, tax_number="123"), headers=HTMX)
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="company-form"')
    assert 'id="tax_number-error"' in html
    assert 'aria-describedby="tax_number-hint tax_number-error"' in html


def test_staff_who_are_not_admins_read_but_cannot_change(client, make, session, auth):
    agent = make.customer_user(role="agent")
    session.commit()
    auth.login(agent.user.email)

    page = client.get("/customer/company")
    assert page.status_code == 200 and '<form id="company-form"' not in page.get_data(as_text=True)
    response = client.post("/customer/company", data=form(client))
    assert response.status_code == 403
    assert stored(session, agent.customer_id).name != "Yeni Marka"


def test_extra_fields_cannot_change_what_the_form_does_not_offer(client, session, admin):
    client.post("/customer/company", data=form(client, erp_code="HACK", is_active="false"))

    customer = stored(session, admin.customer_id)
    assert customer.erp_code is None and customer.is_active is True
