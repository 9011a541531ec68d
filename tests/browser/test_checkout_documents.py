"""A parent's checkout in a real browser, in Turkish, with JavaScript on and off: the
pre-information form and the distance sales contract are shown filled in for them, the payment
waits for the box that confirms them, the confirmation is recorded, and the subscription page
links to the documents as kept. Found by ids and roles, so the test does not hang on the
wording of the translations."""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Payment, UserAgreementAcceptance
from tests.browser.conftest import live_data, price_id, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

SUCCESS_CARD = "4242 4242 4242 4242"


def new_parent(app) -> tuple[int, str, str]:
    with live_data(app) as session:
        user = Factories(session).user(
            "parent", email=f"documents-{uuid4().hex[:8]}@example.com", name="Zeynep Öztürk"
        )
        session.commit()
        return user.id, user.email, user.name


def rows_of(app, model, user_id) -> list:
    with live_data(app) as session:
        rows = list(
            session.scalars(select(model).where(model.user_id == user_id).order_by(model.id))
        )
        session.expunge_all()
        return rows


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_parent_reads_confirms_and_keeps_the_sale_documents(
    new_page, javascript, live_app, assert_accessible
):
    user_id, email, name = new_parent(live_app)
    page = new_page(javascript=javascript)
    sign_in(page, live_app, email)
    yearly = price_id(live_app, "veli-plus", "yearly")

    # 1. The checkout shows both documents, in Turkish, filled in with the parent and price.
    page.goto(f"/plans/{yearly}/checkout")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    form_text = page.locator("#parent_pre_information")
    contract = page.locator("#parent_distance_sales")
    expect(form_text).to_contain_text("ÖN BİLGİLENDİRME FORMU")
    expect(contract).to_contain_text("MESAFELİ SATIŞ SÖZLEŞMESİ")
    for document in (form_text, contract):
        expect(document).to_contain_text(name)
        expect(document).to_contain_text(email)
        expect(document).to_contain_text("479,00 ₺")  # Veli Plus yearly, KDV included
        expect(document).to_contain_text("CAYMA HAKKI")
    box = page.get_by_role("checkbox")
    expect(box).not_to_be_checked()
    if javascript:  # axe runs as JavaScript in the page
        assert_accessible(page)

    # 2. Paying without the box: the browser keeps the form (the box is required), nothing
    #    is recorded or charged.
    page.locator("#checkout-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/plans/{yearly}/checkout$"))
    assert rows_of(live_app, UserAgreementAcceptance, user_id) == []

    # 3. Ticked, and the invoice's address given, the payment goes on to the provider's page
    #    and back.
    page.locator("#invoice_address").fill("Bağdat Cad. No: 5, Kadıköy / İstanbul")
    box.check()
    page.locator("#checkout-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/sandbox-pay/checkout\?checkout="))
    card = page.locator("#card-form")
    card.locator("input[name=holder_name]").fill(name)
    card.locator("input[name=number]").fill(SUCCESS_CARD)
    card.locator("select[name=exp_month]").select_option("12")
    card.locator("select[name=exp_year]").select_option(index=2)
    card.locator("input[name=cvc]").fill("123")
    card.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/subscription$"))

    (payment,) = rows_of(live_app, Payment, user_id)
    accepted = rows_of(live_app, UserAgreementAcceptance, user_id)
    assert [row.kind for row in accepted] == ["parent_pre_information", "parent_distance_sales"]
    assert all(row.idempotency_key == payment.idempotency_key for row in accepted)
    assert accepted[1].previous_hash == accepted[0].record_hash

    # 4. The subscription page links both documents; each opens as kept, with its hash.
    links = page.locator("#accepted-documents a")
    expect(links).to_have_count(2)
    links.nth(1).click()
    page.wait_for_url(re.compile(rf"/account/subscription/documents/{accepted[1].id}$"))
    expect(page.locator("#document-sha256")).to_have_text(accepted[1].document_sha256)
    expect(page.locator("#document-text")).to_contain_text("MESAFELİ SATIŞ SÖZLEŞMESİ")
    expect(page.locator("#document-text")).to_contain_text(name)
    if javascript:
        assert_accessible(page)
