"""An agreement from draft to proof, in a real browser (issue 13): an operator drafts one for a
company, reviews the rendering and sends it; the company's admin, told by mail, reads it and
signs with the code mailed just before; the evidence page shows the document's hash and the
sign record's, and its PDF both; the public verification page says yes for that hash and for
the downloaded PDF, and no for the same hash with one character changed and for the PDF with
one byte changed. With JavaScript on, and the signing once more with it off."""

import io
import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portal.access.permissions import Role
from portal.models import CustomerAgreement
from tests.browser.conftest import last_code_mailed_to, live_data, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser


@pytest.fixture
def parties(live_app) -> dict:
    """An operator, and a company with its admin (who signs agreements)."""
    tag = uuid4().hex[:8]
    with live_data(live_app) as session:
        make = Factories(session)
        operator = make.user("operator", email=f"operator.{tag}@example.com")
        customer = make.customer(name=f"Sözleşme Eğitim {tag}", legal_name=f"Sözleşme {tag} A.Ş.")
        admin = make.customer_user(
            customer=customer, role=Role.ADMIN, email=f"imza.{tag}@example.com"
        )
        session.commit()
        return {"operator": operator.email, "admin": admin.user.email, "customer": customer.id}


def draft_and_send(page: Page, app, parties: dict) -> int:
    """The operator's part; returns the agreement's id."""
    sign_in(page, app, parties["operator"])
    page.goto("/operator/")
    page.locator("a[href='/operator/agreements']").click()
    page.wait_for_url(re.compile(r"/operator/agreements$"))
    page.locator("a[href='/operator/agreements/new']").first.click()
    page.wait_for_url(re.compile(r"/operator/agreements/new$"))
    form = page.locator("#draft-form")
    company = form.locator("[name=customer_id]")
    if company.evaluate("element => element.tagName") == "SELECT":
        company.select_option(str(parties["customer"]))
    else:
        company.fill(str(parties["customer"]))
    form.locator("[name='products-0-name']").fill("Okul listeleme")
    form.locator("[name='products-0-quantity']").fill("2")
    form.locator("[name='products-0-unit_price']").fill("60.000,00")
    form.locator("[name='products-0-period']").select_option("yearly")
    form.locator("[name=starts_on]").fill("2027-01-01")
    form.locator("[name=ends_on]").fill("2027-12-31")
    form.locator(f"[name=required_roles][value={Role.ADMIN}]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/operator/agreements/\d+$"))
    expect(page.locator("#agreement-status")).to_have_attribute("data-status", "draft")
    # The rendering to review names the company and the product.
    expect(page.locator("#agreement-document")).to_contain_text("Okul listeleme")
    page.locator("#send-form button[type=submit]").click()
    settle(page)
    expect(page.locator("#agreement-status")).to_have_attribute("data-status", "awaiting_signature")
    return int(page.url.rsplit("/", 1)[1])


def sign(page: Page, app, parties: dict, agreement_id: int, javascript: bool) -> str:
    """The admin's part; returns the document's SHA-256 shown."""
    sign_in(page, app, parties["admin"])
    page.goto("/customer/")
    page.locator(f"a[href='/customer/agreements/{agreement_id}']").first.click()
    page.wait_for_url(re.compile(rf"/customer/agreements/{agreement_id}$"))
    sha = page.locator("#document-sha256").inner_text().strip()
    page.locator("#signing-code-form button[type=submit]").click()
    if javascript:
        settle(page)
    code = last_code_mailed_to(app, parties["admin"])
    form = page.locator("#sign-form")
    form.locator("[name=code]").fill(code)
    form.locator("[name=confirm]").check()
    form.locator("button[type=submit]").click()
    if javascript:
        settle(page)
    expect(page.locator("#agreement-status")).to_have_attribute("data-status", "signed")
    return sha


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_agreement_is_drafted_sent_signed_and_proved(
    new_page, live_app, parties, javascript, assert_accessible
):
    operator_page = new_page(javascript=True)
    agreement_id = draft_and_send(operator_page, live_app, parties)

    page = new_page(javascript=javascript)
    sha = sign(page, live_app, parties, agreement_id, javascript)
    with live_data(live_app) as session:
        agreement = session.get(CustomerAgreement, agreement_id)
        assert (agreement.status, agreement.document_sha256) == ("signed", sha)
        (record,) = agreement.signs
        assert record.auth_method == "password+email_code"

    page.locator("#evidence-link").click()
    expect(page.locator("#document-sha256")).to_have_text(sha)
    expect(page.locator("#chain-status")).to_have_attribute("data-verified", "yes")
    expect(page.locator("#sign-record-1")).to_have_attribute("data-record-hash", record.record_hash)
    if javascript:
        assert_accessible(page)
    with page.expect_download() as download:
        page.locator("#evidence-pdf").click()
    pdf = Path(download.value.path()).read_bytes()
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert sha in pdf_text.replace("\n", "") and record.record_hash in pdf_text.replace("\n", "")

    visitor = new_page(javascript=javascript)
    visitor.goto("/agreements/verify")
    visitor.locator("#verify-form [name=sha256]").fill(sha)
    visitor.locator("#verify-form button[type=submit]").click()
    expect(visitor.locator("#verify-answer")).to_have_attribute("data-matched", "yes")
    changed = ("0" if sha[0] != "0" else "1") + sha[1:]
    visitor.locator("#verify-form [name=sha256]").fill(changed)
    visitor.locator("#verify-form button[type=submit]").click()
    expect(visitor.locator("#verify-answer")).to_have_attribute("data-matched", "no")
    if javascript:
        assert_accessible(visitor)

    # The PDF itself, as downloaded, and the same file with one byte changed.
    middle = len(pdf) // 2
    tampered = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
    for data, matched in ((pdf, "yes"), (tampered, "no")):
        upload = visitor.locator("#verify-pdf-form [name=evidence_pdf]")
        upload.set_input_files({"name": "kanit.pdf", "mimeType": "application/pdf", "buffer": data})
        visitor.locator("#verify-pdf-form button[type=submit]").click()
        expect(visitor.locator("#verify-answer")).to_have_attribute("data-matched", matched)
        expect(visitor.locator("#verify-signed-at")).to_have_attribute(
            "data-utc", re.compile(r".+Z") if matched == "yes" else ""
        )
