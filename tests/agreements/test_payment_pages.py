"""Paying a signed agreement over HTTP: the installments on the agreement's page, the pay page
for members who may manage billing (a saved card charged at once, a new card through the
provider's hosted page), the refusals (no permission, another company, not signed, no CSRF
token, a card choice that is not one, a declined card), and the receipt naming the agreement."""

import re
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.access import permissions
from portal.access.permissions import Permission, Role
from portal.billing.cards import store_card
from portal.billing.gateway import SavedCard
from portal.billing.subscribers import Subscriber
from portal.models import CustomerCreditCard, Payment, UserLog
from tests.billing.helpers import DECLINED_CARD, POOR_CARD, TL, card_fields, text
from tests.helpers import HTMX, csrf_token, post
from tests.test_html import assert_valid_html

LIST = "/customer/agreements"


def page_of(agreement) -> str:
    return f"{LIST}/{agreement.id}"


def pay_url(agreement) -> str:
    return f"{LIST}/{agreement.id}/pay"


@pytest.fixture
def finance(session, signers, auth):
    """The company's finance member, reading in English, signed in."""
    member = signers[Role.FINANCE]
    member.user.locale = "en"
    session.commit()
    auth.login(member.user.email)
    return member


def saved_card(session, company, behaviour="ok", exp_year=2031):
    saved = SavedCard(
        "sandbox", f"sbx_{behaviour}_{uuid.uuid4().hex[:24]}", "visa", "4242", 12, exp_year
    )
    card = store_card(session, Subscriber(customer_id=company.id), saved)
    session.commit()
    return card


def form_fields(client, agreement, **values) -> dict:
    """The pay form as the page fills it in: the installment's day, a fresh key."""
    fields = {
        "due_on": agreement.starts_on.isoformat(),
        "idempotency_key": uuid.uuid4().hex,
        "csrf_token": csrf_token(client),
    }
    fields.update(values)
    return {name: value for name, value in fields.items() if value is not None}


def pay_with(client, agreement, headers=None, **values):
    return client.post(
        pay_url(agreement), data=form_fields(client, agreement, **values), headers=headers
    )


def payments_of(session, agreement) -> list[Payment]:
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.customer_agreement_id == agreement.id)
            .order_by(Payment.id)
        )
    )


def events(session, name: str) -> list[UserLog]:
    session.commit()
    return list(session.scalars(select(UserLog).where(UserLog.event == name)))


def location(response) -> str:
    return response.headers.get("HX-Redirect") or response.headers.get("Location") or ""


# --- The agreement's page --------------------------------------------------------------------


def test_the_agreement_page_shows_what_is_due_and_a_pay_link_to_billing_managers(
    client, session, signed, finance
):
    html = client.get(page_of(signed)).text

    assert_valid_html(html, page_of(signed))
    (row,) = re.findall(r'<tr data-due-on="([^"]+)" data-state="([^"]+)"', html)
    assert row == ("2027-01-01", "due")
    assert f"3,600.00{TL}" in text(html)
    assert f'href="{pay_url(signed)}"' in html


def test_a_reader_who_may_not_manage_billing_sees_the_state_but_no_button(
    client, session, signed, finance, monkeypatch
):
    monkeypatch.setitem(
        permissions.ROLE_PERMISSIONS,
        Role.FINANCE,
        frozenset({Permission.SEE_BILLING, Permission.SIGN_AGREEMENTS}),
    )

    html = client.get(page_of(signed)).text

    assert 'data-state="due"' in html
    assert pay_url(signed) not in html
    assert 'id="agreement-payment-due"' in html
    assert client.get(pay_url(signed)).status_code == 403
    assert pay_with(client, signed, card="new").status_code == 403


def test_an_unsigned_agreement_shows_no_payments_and_cannot_be_paid(
    client, session, sent, finance, company
):
    card = saved_card(session, company)

    assert 'id="agreement-payments"' not in client.get(page_of(sent)).text
    page = client.get(pay_url(sent))
    assert page.status_code == 200 and 'id="nothing-due"' in page.text
    refused = pay_with(client, sent, card=str(card.id))
    assert refused.status_code == 422
    assert "Only a signed agreement can be paid." in text(refused.text)
    assert payments_of(session, sent) == []


# --- Paying ----------------------------------------------------------------------------------


def test_a_saved_card_pays_the_installment_and_leads_to_the_receipt(
    app, client, session, signed, finance, company
):
    card = saved_card(session, company)
    page = client.get(pay_url(signed))
    assert page.status_code == 200
    assert_valid_html(page.text, pay_url(signed))
    shown = text(page.text)
    assert f"3,000.00{TL}" in shown and f"600.00{TL}" in shown and f"3,600.00{TL}" in shown

    response = pay_with(client, signed, card=str(card.id))

    assert response.status_code == 303
    (payment,) = payments_of(session, signed)
    assert location(response) == f"/payments/{payment.id}/receipt"
    assert (payment.status, payment.purpose, payment.customer_id) == (
        "succeeded",
        "agreement",
        company.id,
    )
    assert (payment.charged_period, payment.gross_amount) == (date(2027, 1, 1), Decimal("3600.00"))
    assert len(events(session, "agreement_paid")) == 1
    receipt = client.get(location(response))
    assert receipt.status_code == 200
    assert_valid_html(receipt.text, "receipt")
    shown = text(receipt.text)
    assert signed.agreement_no in shown and "Installment due on" in shown
    assert "<dt>Plan</dt>" not in receipt.text and "Back to the agreement" in shown
    assert f"3,600.00{TL}" in shown
    # Listed with the company's payments, with its receipt; the agreement now says paid.
    assert f"/payments/{payment.id}/receipt" in client.get("/customer/subscription").text
    assert 'data-state="paid"' in client.get(page_of(signed)).text
    assert pay_url(signed) not in client.get(page_of(signed)).text


def test_a_double_click_charges_once(client, session, signed, finance, company):
    card = saved_card(session, company)
    fields = form_fields(client, signed, card=str(card.id))

    first = client.post(pay_url(signed), data=fields)
    second = client.post(pay_url(signed), data=fields)

    assert first.status_code == second.status_code == 303
    assert location(first) == location(second)
    assert len(payments_of(session, signed)) == 1


def test_a_second_form_for_a_paid_installment_is_refused(client, session, signed, finance, company):
    card = saved_card(session, company)
    assert pay_with(client, signed, card=str(card.id)).status_code == 303

    again = pay_with(client, signed, card=str(card.id))

    assert again.status_code == 422
    assert len(payments_of(session, signed)) == 1


def test_a_new_card_goes_through_the_hosted_page_and_is_kept_once_it_has_paid(
    client, session, signed, finance, company
):
    started = pay_with(client, signed, card="new")
    hosted = location(started)
    assert started.status_code == 303 and hosted.startswith("/sandbox-pay/")
    typed = client.post(hosted, data=card_fields(client))
    assert typed.status_code == 303
    answer = typed.headers["Location"]

    back = client.get(answer)
    reload = client.get(answer)

    assert back.status_code == 303 and location(back) == location(reload)
    (payment,) = payments_of(session, signed)
    assert location(back) == f"/payments/{payment.id}/receipt"
    cards = list(
        session.scalars(
            select(CustomerCreditCard).where(CustomerCreditCard.customer_id == company.id)
        )
    )
    assert [c.last4 for c in cards] == ["4242"]


def test_a_declined_card_shows_the_failure_and_charges_nothing(
    client, session, signed, finance, company
):
    started = pay_with(client, signed, card="new")
    typed = client.post(location(started), data=card_fields(client, number=DECLINED_CARD))

    back = client.get(typed.headers["Location"])

    assert back.status_code == 422
    assert "Your card was declined. Nothing was charged" in text(back.text)
    assert re.search(r'id="card-error"', back.text)
    assert payments_of(session, signed) == []
    (event,) = events(session, "payment_failed")
    assert event.data["customer_agreement_id"] == signed.id
    assert session.scalars(select(CustomerCreditCard)).all() == []


def test_a_charge_the_gateway_refuses_is_recorded_as_failed_and_shown_next_to_the_card(
    client, session, signed, finance, company
):
    poor = saved_card(session, company, "insufficient_funds")

    refused = pay_with(client, signed, HTMX, card=str(poor.id))

    assert refused.status_code == 422
    assert "<html" not in refused.text and 'id="card-error"' in refused.text
    assert "insufficient funds" in text(refused.text)
    (payment,) = payments_of(session, signed)
    assert (payment.status, payment.charged_period) == ("failed", None)
    assert 'data-state="due"' in client.get(page_of(signed)).text
    # The page comes back with a new key: the next press is a new attempt.
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', refused.text)
    assert payment.idempotency_key not in refused.text


@pytest.mark.parametrize("choice", ["", "abc", "0", "-1", "9" * 30])
def test_a_card_choice_that_is_not_one_is_refused_next_to_the_field(
    client, session, signed, finance, choice
):
    plain = pay_with(client, signed, card=choice)
    fragment = pay_with(client, signed, HTMX, card=choice)

    for response in (plain, fragment):
        assert response.status_code == 422
        assert 'id="card-error"' in response.text
        assert "Choose a saved card or a new card." in text(response.text)
    assert payments_of(session, signed) == []


def test_an_expired_saved_card_is_refused_next_to_the_field(
    client, session, signed, finance, company
):
    old = saved_card(session, company, exp_year=2020)

    response = pay_with(client, signed, card=str(old.id))

    assert response.status_code == 422
    assert "This card has expired." in text(response.text)
    assert payments_of(session, signed) == []


def test_another_companys_card_is_a_404(client, session, make, signed, finance):
    theirs = saved_card(session, make.customer(name="Başka Eğitim"))

    assert pay_with(client, signed, card=str(theirs.id)).status_code == 404
    assert payments_of(session, signed) == []


def test_a_post_without_the_csrf_token_is_refused_and_charges_nothing(
    client, session, signed, finance, company
):
    card = saved_card(session, company)

    response = pay_with(client, signed, card=str(card.id), csrf_token=None)

    assert response.status_code == 400
    assert payments_of(session, signed) == []


def test_an_answer_for_another_agreement_is_refused(
    client, session, make, signed, finance, company
):
    other = make.agreement(company, status="signed", starts_on=date(2027, 1, 1))
    session.commit()
    started = pay_with(client, other, card="new")
    typed = client.post(location(started), data=card_fields(client, number=POOR_CARD))
    answer = typed.headers["Location"].split("?", 1)[1]

    response = client.get(f"{pay_url(signed)}/return?{answer}")

    assert response.status_code == 400
    assert payments_of(session, signed) == [] and payments_of(session, other) == []


# --- Who may ---------------------------------------------------------------------------------


def test_members_who_may_not_manage_billing_are_refused(
    client, session, make, company, signed, auth
):
    agent = make.customer_user(company, Role.AGENT)
    session.commit()
    auth.login(agent.user.email)

    assert client.get(pay_url(signed)).status_code == 403
    assert post(client, pay_url(signed), card="new").status_code == 403
    assert client.get(f"{pay_url(signed)}/return?answer=x").status_code == 403


def test_another_companys_agreement_is_a_404(client, session, make, signed, auth):
    stranger = make.customer_user(make.customer(name="Başka Eğitim"), Role.ADMIN)
    session.commit()
    auth.login(stranger.user.email)

    for url in (pay_url(signed), f"{LIST}/999999999/pay", f"{LIST}/abc/pay"):
        assert client.get(url).status_code == 404, url
    assert post(client, pay_url(signed), card="new").status_code == 404
    assert payments_of(session, signed) == []
