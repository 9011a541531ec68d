"""A parent's checkout shows the pre-information form and the distance sales contract and pays
only once the parent ticks the box that confirms them; the confirmation is kept as evidence,
mailed with the receipt and linked from the subscription page. Companies get none of it."""

import hashlib
import re

import pytest
from sqlalchemy import select

from portal.access.permissions import Role
from portal.models import Payment, UserAgreementAcceptance
from tests import dbutil
from tests.billing.helpers import (
    PAGE,
    checkout_url,
    count,
    hosted_page_url,
    pay,
    payments_of,
    start_checkout,
    subscriptions_of,
    text,
    type_card,
)
from tests.helpers import HTMX
from tests.test_html import assert_valid_html

DOCUMENT_IDS = ("parent_pre_information", "parent_distance_sales")


def acceptances(session, user=None) -> list[UserAgreementAcceptance]:
    session.expire_all()
    query = select(UserAgreementAcceptance).order_by(
        UserAgreementAcceptance.idempotency_key, UserAgreementAcceptance.sequence
    )
    if user is not None:
        query = query.where(UserAgreementAcceptance.user_id == user.id)
    return list(session.scalars(query))


def shown_document(html: str, kind: str) -> str:
    """The document as the page shows it (the <pre> of that kind, entities undone)."""
    found = re.search(rf'<pre[^>]*id="{kind}"[^>]*>(.*?)</pre>', html, re.S)
    assert found is not None, kind
    return (
        found.group(1)
        .replace("&#39;", "'")
        .replace("&#34;", '"')
        .replace("&quot;", '"')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def key_of(html: str) -> str:
    return re.search(r'name="idempotency_key"[^>]*value="([0-9a-f]{32})"', html).group(1)


def test_the_checkout_shows_both_documents_filled_in_for_the_parent(
    client, session, signed_in, monthly
):
    response = client.get(checkout_url(monthly))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for kind in DOCUMENT_IDS:
        document = shown_document(html, kind)
        assert signed_in.name in document and signed_in.email in document
        assert "Aile Plus" in document
        # 120,00 ₺ with KDV: 100,00 ₺ + 20,00 ₺ KDV, whatever the page's language.
        assert "100,00 ₺" in document and "20,00 ₺" in document and "120,00 ₺" in document
        assert "14 (on dört) gün" in document
        assert key_of(html) in document
    box = re.search(r'<input[^>]*name="accept_documents"[^>]*>', html).group(0)
    assert 'type="checkbox"' in box and "checked" not in box
    assert_valid_html(html, "parent checkout with its documents")


def test_without_the_box_nothing_is_recorded_or_charged_and_the_box_says_why(
    client, session, signed_in, english, monthly
):
    for headers in (None, HTMX):
        response = start_checkout(client, monthly, headers=headers, accept_documents=None)

        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert hosted_page_url(response) is None
        error = re.search(r'<p class="error" id="accept_documents-error">([^<]*)</p>', html)
        assert error is not None
        assert "Tick the box" in error.group(1)
        assert 'aria-invalid="true"' in re.search(r"<input[^>]*accept_documents[^>]*>", html)[0]
    assert acceptances(session) == []
    assert payments_of(session, signed_in) == [] and subscriptions_of(session, signed_in) == []


def test_with_the_box_both_documents_are_recorded_then_the_payment_with_the_same_key(
    client, session, signed_in, monthly
):
    page = client.get(checkout_url(monthly)).get_data(as_text=True)
    key = key_of(page)
    shown = [shown_document(page, kind) for kind in DOCUMENT_IDS]
    client.environ_base["REMOTE_ADDR"] = "192.0.2.44"

    started = start_checkout(
        client, monthly, idempotency_key=key, headers={"User-Agent": "Tarayıcı/2.0 (Test)"}
    )

    assert hosted_page_url(started) is not None
    rows = acceptances(session)
    assert [row.kind for row in rows] == list(DOCUMENT_IDS)
    assert [row.document_text for row in rows] == shown
    for row in rows:
        assert row.idempotency_key == key and row.user_id == signed_in.id
        assert row.document_sha256 == hashlib.sha256(row.document_text.encode()).hexdigest()
        assert row.client_ip == row.peer_ip == "192.0.2.44"
        assert row.user_agent == "Tarayıcı/2.0 (Test)"
        assert row.plan_price_id == monthly.id
    assert rows[1].previous_hash == rows[0].record_hash
    # Nothing is charged until the card comes back from the hosted page.
    assert payments_of(session, signed_in) == []

    returned = client.get(type_card(client, hosted_page_url(started)).headers["Location"])

    assert returned.status_code == 303
    (payment,) = payments_of(session, signed_in)
    assert payment.idempotency_key == key
    assert len(acceptances(session)) == 2


def test_the_same_form_sent_twice_records_the_documents_once(client, session, signed_in, monthly):
    key = "0123456789abcdef0123456789abcdef"

    first = start_checkout(client, monthly, idempotency_key=key)
    second = start_checkout(client, monthly, idempotency_key=key)

    assert hosted_page_url(first) is not None and hosted_page_url(second) is not None
    assert len(acceptances(session)) == 2
    client.get(type_card(client, hosted_page_url(first)).headers["Location"])
    client.get(type_card(client, hosted_page_url(second)).headers["Location"])
    assert len(payments_of(session, signed_in)) == 1
    assert len(acceptances(session)) == 2


@pytest.mark.config(TRUSTED_PROXY_COUNT=1)
def test_a_forged_forwarded_for_is_not_believed_and_the_real_peer_is_kept(
    client, session, signed_in, monthly
):
    # The client forged the first entry; the one trusted proxy (10.0.0.5) appended its peer.
    client.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    headers = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}

    assert hosted_page_url(start_checkout(client, monthly, headers=headers)) is not None

    for row in acceptances(session):
        assert row.client_ip == "203.0.113.9"
        assert row.peer_ip == "10.0.0.5"


def test_a_document_changed_since_it_was_shown_is_shown_again_not_recorded(
    client, session, signed_in, english, monthly
):
    page = client.get(checkout_url(monthly)).get_data(as_text=True)
    response = start_checkout(
        client, monthly, idempotency_key=key_of(page), documents_sha256=f"{'0' * 64}:{'1' * 64}"
    )

    assert response.status_code == 422
    assert "The documents changed" in text(response.get_data(as_text=True))
    box = re.search(r'<input[^>]*name="accept_documents"[^>]*>', response.get_data(as_text=True))
    assert "checked" not in box.group(0)
    assert acceptances(session) == []


def test_without_a_valid_text_the_checkout_refuses_politely_and_charges_nothing(
    client, session, signed_in, english, monthly
):
    dbutil.remove_sale_texts(session.connection())
    session.commit()

    shown = client.get(checkout_url(monthly))
    sent = start_checkout(client, monthly)

    assert shown.status_code == 200
    assert 'id="documents-unavailable"' in shown.get_data(as_text=True)
    assert_valid_html(shown.get_data(as_text=True), "checkout without its documents")
    assert "<button" not in re.search(r'<form id="checkout-form".*?</form>', shown.text, re.S)[0]
    assert sent.status_code == 422 and hosted_page_url(sent) is None
    assert "Online purchases are not possible" in text(sent.get_data(as_text=True))
    assert acceptances(session) == [] and payments_of(session, signed_in) == []


def test_the_receipt_mail_carries_both_documents_and_their_hashes(
    app, client, session, signed_in, monthly
):
    assert pay(client, monthly).status_code == 303

    rows = acceptances(session)
    mails = app.extensions.get("mail_outbox", [])
    (receipt,) = [m for m in mails if m.to == signed_in.email and "/receipt" in m.body]
    assert len(rows) == 2
    for row in rows:
        assert row.document_sha256 in receipt.body
        assert row.document_text in receipt.body


def test_the_subscription_page_links_the_documents_and_only_their_owner_reads_them(
    client, session, make, auth, signed_in, english, monthly
):
    assert pay(client, monthly).status_code == 303
    rows = acceptances(session)

    page = client.get(PAGE).get_data(as_text=True)
    for row in rows:
        link = f"/account/subscription/documents/{row.id}"
        assert f'href="{link}"' in page
        document = client.get(link)
        assert document.status_code == 200
        html = document.get_data(as_text=True)
        assert row.document_sha256 in html
        assert shown_document_text(html) == row.document_text
        assert_valid_html(html, "an accepted document")
    assert_valid_html(page, "subscription page with its documents")

    auth.logout()
    other = make.user("parent")
    session.commit()
    auth.login(other.email)
    for row in rows:
        assert client.get(f"/account/subscription/documents/{row.id}").status_code == 404
    assert client.get("/account/subscription/documents/999999").status_code == 404


def shown_document_text(html: str) -> str:
    found = re.search(r'<pre[^>]*id="document-text"[^>]*>(.*?)</pre>', html, re.S).group(1)
    return found.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')


def test_a_company_checkout_has_no_documents_and_records_none(client, session, make, auth):
    plan = make.plan(audience="companies")
    price = make.price(plan, amount="1000.00", kdv_included=False)
    admin = make.customer_user(role=Role.ADMIN)
    session.commit()
    auth.login(admin.user.email)

    page = client.get(checkout_url(price)).get_data(as_text=True)
    assert "accept_documents" not in page
    assert not any(f'id="{kind}"' in page for kind in DOCUMENT_IDS)

    assert pay(client, price, accept_documents=None).status_code == 303
    assert len(payments_of(session, customer=admin.customer)) == 1
    assert acceptances(session) == []
    assert count(session, Payment) == 1


def test_a_free_trial_mails_the_documents_on_their_own_and_links_them(
    app, client, session, make, signed_in, english
):
    price = make.price(make.plan(), amount="60.00", trial_days=7)
    session.commit()

    assert pay(client, price).status_code == 303
    # Checkout again after subscribing: sent to the subscription page, nothing recorded or mailed.
    assert pay(client, price).status_code == 303

    rows = acceptances(session)
    assert len(rows) == 2 and payments_of(session, signed_in) == []
    mails = [m for m in app.extensions.get("mail_outbox", []) if m.to == signed_in.email]
    (documents,) = [m for m in mails if rows[0].document_sha256 in m.body]
    assert rows[1].document_sha256 in documents.body
    page = client.get(PAGE).get_data(as_text=True)
    assert all(f'href="/account/subscription/documents/{row.id}"' in page for row in rows)
