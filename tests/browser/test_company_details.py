"""A sole proprietor's admin keeps the company's details in a real browser (issue 12, item 4):
the stored TC Kimlik No appears only masked, a wrong one is refused next to its field with
nothing saved, the city comes from the list of provinces, the ERP code cannot be changed, and
a member without the permission reads the details without the tax identity. With JavaScript
on (htmx swaps the form) and off (plain posts)."""

from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from portal.access.permissions import Role
from portal.models import Customer
from portal.turkish import make_tc_kimlik_no
from tests.browser.conftest import live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

TC_NO = make_tc_kimlik_no("123456789")


@pytest.fixture
def company(live_app) -> dict:
    """A sole proprietorship with its TC Kimlik No and ERP code, an admin and an agent."""
    tag = uuid4().hex[:8]
    with live_data(live_app) as session:
        make = Factories(session)
        customer = make.customer(
            name=f"Deneme Kurs {tag}", tc_no=TC_NO, erp_code=f"ERP-{tag}", city="Ankara"
        )
        customer.customer_type, customer.tax_number = "sole_proprietor", None
        admin = make.customer_user(customer=customer, role=Role.ADMIN, email=f"a.{tag}@example.com")
        agent = make.customer_user(customer=customer, role=Role.AGENT, email=f"b.{tag}@example.com")
        session.commit()
        return {
            "id": customer.id,
            "admin": admin.user.email,
            "agent": agent.user.email,
            "erp": f"ERP-{tag}",
            "name": customer.name,
        }


def stored(app, customer_id: int) -> Customer:
    with live_data(app) as session:
        customer = session.get(Customer, customer_id)
        session.expunge(customer)
        return customer


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_admin_changes_the_details_and_the_tc_no_stays_masked(
    new_page, live_app, company, javascript, assert_accessible
):
    page: Page = new_page(javascript=javascript)
    sign_in(page, live_app, company["admin"])
    page.goto("/customer/company")
    form = page.locator("#company-form")

    # The stored number is never in the page: the field is empty, the hint shows its end.
    assert TC_NO not in page.content()
    expect(form.locator("input[name=tc_no]")).to_have_value("")
    expect(form).to_contain_text("•" * 9 + TC_NO[-2:])
    expect(form).to_contain_text(company["erp"])
    assert form.locator("input[name=erp_code]").count() == 0  # read-only, not a field
    assert form.locator("select[name=city] option").count() == 82  # "—" and the 81 provinces
    if javascript:
        assert_accessible(page)

    # A wrong TC Kimlik No: refused next to its field, nothing saved.
    form.locator("input[name=legal_name]").fill("Yanlış Kayıt")
    form.locator("input[name=tc_no]").fill("12345678900")
    form.locator("button[type=submit]").click()
    if javascript:
        settle(page)
    tc_field = page.locator("#company-form .field.has-error")
    expect(tc_field).to_have_count(1)
    expect(tc_field.locator("input[name=tc_no]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#company-form [role=alert]")).to_contain_text("Hiçbir şey kaydedilmedi")
    assert stored(live_app, company["id"]).legal_name is None

    # Corrected: the number left empty keeps the stored one; the city chosen from the list.
    page.locator("#company-form input[name=tc_no]").fill("")
    page.locator("#company-form input[name=legal_name]").fill("Deneme Kurs Eğitim Hizmetleri")
    page.locator("#company-form select[name=city]").select_option("İzmir")
    page.locator("#company-form button[type=submit]").click()
    expect(page.get_by_text("Firma bilgileri kaydedildi.")).to_be_visible()
    saved = stored(live_app, company["id"])
    assert (saved.legal_name, saved.city, saved.tc_no, saved.erp_code) == (
        "Deneme Kurs Eğitim Hizmetleri",
        "İzmir",
        TC_NO,
        company["erp"],
    )
    expect(page.locator("#company-form select[name=city]")).to_have_value("İzmir")


def test_a_member_without_the_permission_reads_without_the_tax_identity(page, live_app, company):
    sign_in(page, live_app, company["agent"])
    page.goto("/customer/company")
    panel = page.locator("#company-form")
    expect(panel).to_contain_text("Deneme Kurs")
    assert panel.locator("input, select, button").count() == 0
    # The brand name and ERP code carry a random tag, which may hold the same two digits.
    shown = panel.inner_text().replace(company["erp"], "").replace(company["name"], "")
    assert TC_NO[-2:] not in shown
