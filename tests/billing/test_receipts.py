"""Receipts: the amounts and the card as a receipt shows them, and only for whoever paid.

Amounts are checked in the default Turkish locale; words and dates are checked in English,
since the Turkish catalogue gets these strings later.
"""

import uuid
from decimal import Decimal

from portal.models import Payment
from tests.billing.helpers import (
    CVC,
    GOOD_CARD,
    TL,
    pay,
    payments_of,
    staff_signed_in,
    text,
)
from tests.test_html import assert_valid_html


def test_the_receipt_shows_the_amounts_and_only_the_brand_and_last_four_of_the_card(
    client, session, signed_in, subscribed
):
    (payment,) = payments_of(session, signed_in)

    response = client.get(f"/payments/{payment.id}/receipt")

    html = response.get_data(as_text=True)
    shown = text(html)
    assert response.status_code == 200
    assert f"100,00{TL}" in shown and f"20,00{TL}" in shown and f"120,00{TL}" in shown
    assert "Visa •••• 4242" in shown
    assert "4242424242424242" not in html and GOOD_CARD not in html and CVC not in shown
    assert payment.gateway_reference in shown
    assert signed_in.email in shown
    assert "Aile Plus" in shown
    assert_valid_html(html, "receipt")


def test_a_receipt_is_404_for_another_parents_payment_and_for_a_failed_payment(
    client, session, make, auth, monthly
):
    owner, other = make.user("parent"), make.user("parent")
    session.commit()
    auth.login(owner.email)
    pay(client, monthly)
    (paid,) = payments_of(session, owner)
    failed = Payment(
        user_subscription_id=paid.user_subscription_id,
        user_id=owner.id,
        purpose="renewal",
        plan_price_id=monthly.id,
        net_amount=Decimal("100.00"),
        kdv_amount=Decimal("20.00"),
        gross_amount=Decimal("120.00"),
        status="failed",
        failure_code="insufficient_funds",
        gateway="sandbox",
        idempotency_key=uuid.uuid4().hex,
        card_brand="visa",
        card_last4="4242",
    )
    session.add(failed)
    session.commit()

    assert client.get(f"/payments/{paid.id}/receipt").status_code == 200
    assert client.get(f"/payments/{failed.id}/receipt").status_code == 404
    assert client.get("/payments/999999999/receipt").status_code == 404
    auth.logout()
    auth.login(other.email)
    assert client.get(f"/payments/{paid.id}/receipt").status_code == 404


def test_receipts_are_seen_only_by_the_parent_or_company_that_paid(
    client, session, make, auth, monthly
):
    company_price = make.price(make.plan(audience="companies"), kdv_included=False)
    staff = staff_signed_in(make, session, auth, "admin")
    pay(client, company_price)
    (company_payment,) = payments_of(session, customer=staff.customer)
    auth.logout()
    parent = make.user("parent")
    session.commit()
    auth.login(parent.email)
    pay(client, monthly)
    (parent_payment,) = payments_of(session, parent)

    assert client.get(f"/payments/{company_payment.id}/receipt").status_code == 404
    auth.logout()
    auth.login(staff.user.email)
    assert client.get(f"/payments/{parent_payment.id}/receipt").status_code == 404
    assert client.get(f"/payments/{company_payment.id}/receipt").status_code == 200
    auth.logout()
    staff_signed_in(make, session, auth, "admin")  # of another company
    assert client.get(f"/payments/{company_payment.id}/receipt").status_code == 404
