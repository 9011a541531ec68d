"""Paying a signed agreement in a real browser (issue 13 item 6), in Turkish, with JavaScript
on and off: the company's finance member (JS on) or admin (JS off) opens the agreement, sees
the installment due, presses Pay, chooses a new card, types the sandbox's success card on the
provider's hosted page, and lands on the receipt that names the agreement; back on the
agreement, the installment reads paid and the Pay button is gone. A declined card brings the
member back to the pay page with the reason next to the card choice and nothing charged.

The pages are found by ids, names and roles, not by their words (Turkish catalogue pending),
and the amounts in the Turkish format: 2 × 600,00 ₺ monthly is 1.200,00 ₺ + 240,00 ₺ KDV =
1.440,00 ₺."""

import re
from datetime import date
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.access.permissions import Role
from portal.agreements.evidence import document_sha256
from portal.clock import istanbul_today
from portal.models import Payment
from tests.browser.conftest import live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

NBSP = "\u00a0"
SUCCESS_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
EXPIRY_YEAR = str(date.today().year + 2)
GROSS = f"1.440,00{NBSP}₺"


def company_with_signed_agreement(app, role: Role) -> dict:
    """A new company, its member of `role`, and its signed agreement whose first installment
    (2 × 600,00 ₺ monthly, from today) is due."""
    tag = uuid4().hex[:8]
    today = istanbul_today()
    with live_data(app) as session:
        make = Factories(session)
        customer = make.customer(name=f"Ödeme Eğitim {tag}", legal_name=f"Ödeme {tag} A.Ş.")
        member = make.customer_user(customer=customer, role=role, email=f"odeme.{tag}@example.com")
        document = f"Hizmet sözleşmesi {tag}\n"
        agreement = make.agreement(
            customer,
            status="signed",
            starts_on=today,
            ends_on=date(today.year + 1, 12, 31),
            products=[
                {"name": "Destek", "quantity": 2, "unit_price": "600.00", "period": "monthly"}
            ],
            document_text=document,
            document_sha256=document_sha256(document),
        )
        session.commit()
        return {"email": member.user.email, "agreement": agreement.id, "no": agreement.agreement_no}


def payments_of(app, agreement_id: int) -> list[Payment]:
    with live_data(app) as session:
        rows = list(
            session.scalars(select(Payment).where(Payment.customer_agreement_id == agreement_id))
        )
        session.expunge_all()
        return rows


def fill_card(form, number: str) -> None:
    form.locator("input[name=holder_name]").fill("Ayşe Yılmaz")
    form.locator("input[name=number]").fill(number)
    form.locator("select[name=exp_month]").select_option("12")
    form.locator("select[name=exp_year]").select_option(EXPIRY_YEAR)
    form.locator("input[name=cvc]").fill("123")


def to_hosted_page_from_agreement(page: Page, agreement_id: int) -> None:
    """From the agreement's page: its Pay link, a new card, the pay button."""
    page.goto(f"/customer/agreements/{agreement_id}")
    row = page.locator("#agreement-installments tbody tr").first
    expect(row).to_have_attribute("data-state", "due")
    expect(row).to_contain_text(GROSS)
    page.locator("#pay-agreement").click()
    page.wait_for_url(re.compile(rf"/customer/agreements/{agreement_id}/pay$"))
    expect(page.locator("#installment-gross")).to_have_text(GROSS)
    form = page.locator("#agreement-pay-form")
    form.locator("input[name=card][value=new]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/sandbox-pay/checkout\?checkout="))


@pytest.mark.parametrize(
    ("javascript", "role"), [(True, Role.FINANCE), (False, Role.ADMIN)], ids=["js", "nojs"]
)
def test_a_billing_member_pays_a_signed_agreement_and_reads_the_receipt(
    new_page, javascript, role, live_app, assert_accessible
):
    company = company_with_signed_agreement(live_app, role)
    page = new_page(javascript=javascript)
    sign_in(page, live_app, company["email"])
    expect(page.locator("html")).to_have_attribute("lang", "tr")

    to_hosted_page_from_agreement(page, company["agreement"])
    form = page.locator("#card-form")
    fill_card(form, SUCCESS_CARD)
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r"/payments/\d+/receipt$"))
    expect(page.locator("#receipt-agreement")).to_have_text(company["no"])
    expect(page.locator("table.summary tr.total td")).to_have_text(GROSS)
    if javascript:
        assert_accessible(page)
    (payment,) = payments_of(live_app, company["agreement"])
    assert (payment.status, payment.purpose) == ("succeeded", "agreement")
    assert payment.charged_period == istanbul_today()

    page.goto(f"/customer/agreements/{company['agreement']}")
    expect(page.locator("#agreement-installments tbody tr").first).to_have_attribute(
        "data-state", "paid"
    )
    expect(page.locator("#pay-agreement")).to_have_count(0)


def test_a_declined_card_comes_back_next_to_the_card_choice_and_charges_nothing(
    page, live_app, assert_accessible
):
    company = company_with_signed_agreement(live_app, Role.FINANCE)
    sign_in(page, live_app, company["email"])

    to_hosted_page_from_agreement(page, company["agreement"])
    form = page.locator("#card-form")
    fill_card(form, DECLINED_CARD)
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(rf"/customer/agreements/{company['agreement']}/pay/return\?"))
    settle(page)
    expect(page.locator("#card-error")).to_be_visible()
    expect(page.locator("#agreement-pay-form button[type=submit]")).to_be_visible()
    assert_accessible(page)
    assert payments_of(live_app, company["agreement"]) == []
