"""Invoice details (issue 14, item 5): checkout asks a parent for the invoice's name, address
and (optional) TC Kimlik No, and shows a company its details; both are kept with the
subscription, so the receipt shows buyer and issuer as they were at the sale, and the receipt
can be downloaded as a file.

Words are checked in English (the `english` fixture); the TC Kimlik Nos below were checked by
hand against the official rules (tests/test_turkish.py): 10000000146 is valid, 10000000147
has a wrong 11th digit and 10000000156 a wrong 10th.
"""

import html5lib
import pytest
from sqlalchemy import select

from portal.access.permissions import Role
from portal.models import Customer, InvoiceDetails, Payment
from tests.billing.helpers import (
    checkout_url,
    count,
    hosted_page_url,
    named_plan,
    page,
    pay,
    payments_of,
    staff_signed_in,
    start_checkout,
    subscriptions_of,
    text,
)
from tests.helpers import HTMX
from tests.test_html import assert_valid_html

ADDRESS = "Bağdat Cad. No: 5, Kadıköy / İstanbul"
ISSUER_AT_SALE = (
    "Okul Portal A.Ş.",
    "Maslak Mah. 1, Sarıyer / İstanbul",
    "Maslak V.D. · 1234567890",
)


def _details(session) -> list[InvoiceDetails]:
    session.expire_all()
    return list(session.scalars(select(InvoiceDetails).order_by(InvoiceDetails.id)))


def _field_error(html: str, field_id: str) -> str | None:
    """The error text shown next to the field (the field marked invalid and pointing at it)."""
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)
    field = tree.find(f".//*[@id='{field_id}']")
    error = tree.find(f".//*[@id='{field_id}-error']")
    if field is None or error is None or field.get("aria-invalid") != "true":
        return None
    assert f"{field_id}-error" in field.get("aria-describedby", "")
    return "".join(error.itertext()).strip()


def test_a_parents_checkout_asks_for_the_invoice_details_with_the_name_filled_in(
    client, english, signed_in, monthly
):
    html = page(client, checkout_url(monthly))

    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)
    assert tree.find(".//input[@id='invoice_name']").get("value") == signed_in.name
    assert tree.find(".//input[@id='invoice_tc_no']") is not None
    assert tree.find(".//textarea[@id='invoice_address']") is not None
    assert "Optional. Written on the e-invoice if you give it: 11 digits." in text(html)
    assert_valid_html(html, "checkout with invoice details")


@pytest.mark.parametrize(
    ("tc_no", "message"),
    [
        ("10000000147", "The 11th digit of the TC Kimlik No does not match the checksum."),
        ("10000000156", "The 10th digit of the TC Kimlik No does not match the checksum."),
        ("01234567890", "A TC Kimlik No cannot start with 0."),
        ("1000000014", "A TC Kimlik No must be exactly 11 digits."),
        ("1000000014a", "A TC Kimlik No must contain digits only."),
    ],
)
@pytest.mark.parametrize("headers", [None, HTMX], ids=["plain", "htmx"])
def test_a_wrong_tc_kimlik_no_is_refused_next_to_the_field(
    client, session, english, signed_in, monthly, tc_no, message, headers
):
    response = start_checkout(client, monthly, headers=headers, invoice_tc_no=tc_no)

    assert response.status_code == 422
    assert hosted_page_url(response) is None
    html = response.get_data(as_text=True)
    assert _field_error(html, "invoice_tc_no") == message
    assert "This checkout form could not be used" not in html  # only the field's message
    assert _details(session) == []


def test_the_name_and_the_address_are_required(client, session, english, signed_in, monthly):
    response = start_checkout(client, monthly, invoice_name="  ", invoice_address=None)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _field_error(html, "invoice_name") == "Enter the name the invoice is made out to."
    assert _field_error(html, "invoice_address") == "Enter the address for the invoice."
    assert _details(session) == []


def test_a_parents_details_are_kept_with_the_subscription_and_shown_on_the_receipt(
    app, client, session, english, signed_in, monthly
):
    app.config["RECEIPT_ISSUER"] = ISSUER_AT_SALE

    response = pay(
        client,
        monthly,
        invoice_name="Elif Şahin",
        invoice_tc_no="100 000 001 46",  # grouped as people type it
        invoice_address=ADDRESS,
    )

    assert response.status_code == 303
    (subscription,) = subscriptions_of(session, signed_in)
    (details,) = _details(session)
    assert details.user_subscription_id == subscription.id and details.user_id == signed_in.id
    assert (details.buyer_kind, details.name, details.tc_no, details.address) == (
        "person",
        "Elif Şahin",
        "10000000146",
        ADDRESS,
    )
    assert details.issuer_lines == list(ISSUER_AT_SALE)
    # The issuer's setting changes afterwards (a move): the receipt keeps the sale's.
    app.config["RECEIPT_ISSUER"] = ("Okul Portal A.Ş.", "Levent, Beşiktaş", "Beşiktaş V.D.")
    (payment,) = payments_of(session, signed_in)
    html = page(client, f"/payments/{payment.id}/receipt")
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)
    buyer = " ".join(tree.find(".//*[@id='receipt-buyer']").itertext())
    issuer = " ".join(tree.find(".//*[@id='receipt-issuer']").itertext())
    assert "Elif Şahin" in buyer and ADDRESS in buyer
    assert "TC Kimlik No: •••••••••46" in buyer and "10000000146" not in html
    assert all(line in issuer for line in ISSUER_AT_SALE) and "Levent" not in issuer
    assert_valid_html(html, "receipt with invoice details")


def test_the_next_checkout_offers_the_address_given_last_time(
    client, session, english, signed_in, monthly
):
    start_checkout(client, monthly, invoice_address=ADDRESS, invoice_tc_no="10000000146")

    html = page(client, checkout_url(monthly))

    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)
    assert tree.find(".//textarea[@id='invoice_address']").text.strip() == ADDRESS
    assert tree.find(".//input[@id='invoice_tc_no']").get("value") == "10000000146"


def test_a_company_confirms_its_details_and_the_receipt_keeps_them(
    client, session, make, auth, english
):
    customer = make.customer(
        "Bilge Eğitim",
        legal_name="Bilge Eğitim Hizmetleri A.Ş.",
        tax_office="Kadıköy",
        tax_number="1234567890",
        address_line="Moda Cad. 3",
        district="Kadıköy",
        city="İstanbul",
    )
    staff_signed_in(make, session, auth, Role.FINANCE, customer=customer)
    price = make.price(named_plan(make, "Okul Pro", audience="companies"), amount="1000.00")
    session.commit()

    checkout = page(client, checkout_url(price))
    response = pay(client, price)

    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(checkout)
    shown = " ".join(tree.find(".//*[@id='invoice-details']").itertext())
    assert "Bilge Eğitim Hizmetleri A.Ş." in shown and "Kadıköy" in shown
    assert "1234567890" in shown and "Moda Cad. 3, Kadıköy / İstanbul" in shown
    assert response.status_code == 303
    (details,) = _details(session)
    assert (details.buyer_kind, details.customer_id, details.tax_number) == (
        "company",
        customer.id,
        "1234567890",
    )
    # The company moves after the sale: the receipt still names it as it was.
    session.get(Customer, customer.id).address_line = "Rıhtım Cad. 9"
    session.commit()
    (payment,) = payments_of(session, customer=customer)
    receipt = page(client, f"/payments/{payment.id}/receipt")
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(receipt)
    buyer = " ".join(tree.find(".//*[@id='receipt-buyer']").itertext())
    assert "Moda Cad. 3" in buyer and "Rıhtım" not in buyer
    assert "VKN 1234567890" in buyer and "Tax office: Kadıköy" in buyer


def test_the_receipt_downloads_as_a_file_with_buyer_and_issuer(
    app, client, session, english, signed_in, monthly
):
    app.config["RECEIPT_ISSUER"] = ISSUER_AT_SALE
    pay(client, monthly, invoice_address=ADDRESS)
    (payment,) = payments_of(session, signed_in)

    response = client.get(f"/payments/{payment.id}/receipt/download")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="okul-receipt-{payment.id:08d}.html"'
    )
    assert "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    assert "<script" not in html and "site-header" not in html
    shown = text(html)
    assert "Elif Şahin" in shown and ADDRESS in shown
    assert all(line in shown for line in ISSUER_AT_SALE)
    assert payment.gateway_reference in shown
    assert_valid_html(html, "downloaded receipt")
    # The page links to it.
    assert f"/payments/{payment.id}/receipt/download" in page(
        client, f"/payments/{payment.id}/receipt"
    )


def test_another_parents_receipt_cannot_be_downloaded(client, session, make, auth, monthly):
    owner, other = make.user("parent"), make.user("parent")
    session.commit()
    auth.login(owner.email)
    pay(client, monthly)
    (payment,) = payments_of(session, owner)
    auth.logout()
    auth.login(other.email)

    response = client.get(f"/payments/{payment.id}/receipt/download")

    assert response.status_code == 404
    assert "Content-Disposition" not in response.headers
    assert count(session, Payment) == 1
