"""The company agreement's life: draft, send, sign by the required roles, decline, void."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.access.permissions import Role
from portal.agreements import agreements
from portal.agreements.agreements import AgreementError, Product
from portal.agreements.evidence import verify_chain
from portal.agreements.texts import publish_text
from portal.models.customers import AgreementKind, AgreementStatus
from tests.agreements.conftest import PROVIDER, WITNESS

BODY = (
    "HİZMET SÖZLEŞMESİ {agreement_no}\n"
    "Taraflar: {provider_legal_name} ve {company_legal_name} (VKN {company_tax_id}).\n"
    "Ürünler:\n{products}\n"
    "Toplam: {total_net} + KDV {kdv} = {total_gross}\n"
    "Süre: {term_start} - {term_end}\n"
)


def sign(session, agreement, member, now, **values):
    values.setdefault("seen_sha256", agreement.document_sha256)
    return agreements.sign(session, agreement, member, WITNESS, now=now, **values)


def refusal(call, *args, **kwargs):
    with pytest.raises(AgreementError) as refused:
        call(*args, **kwargs)
    return refused.value.code


def test_draft_renders_parties_products_decimal_total_and_term(session, make, company, now):
    publish_text(
        session, AgreementKind.COMPANY_SERVICE, title="Hizmet", body=BODY, started_at=now, now=now
    )
    products = [
        Product("Okul listeleme", 3, Decimal("1234.50"), "yearly"),
        Product("Kurulum", 1, Decimal("0.10"), "one_time"),
    ]
    agreement = agreements.draft_agreement(
        session,
        company,
        products,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
        required_roles=[Role.FINANCE, Role.ADMIN, Role.FINANCE],
        now=now,
    )

    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.total_amount == Decimal("3703.60")
    assert agreement.required_roles == ["finance", "admin"]
    assert agreement.products[0] == {
        "name": "Okul listeleme",
        "quantity": 3,
        "unit_price": "1234.50",
        "period": "yearly",
    }
    document = agreements.render(agreement, PROVIDER)
    assert "Okul Bilişim A.Ş. ve Bilge Eğitim Hizmetleri A.Ş." in document
    assert "1. Okul listeleme: 3 × 1.234,50 ₺ (yıllık) = 3.703,50 ₺" in document
    assert "Toplam: 3.703,60 ₺ + KDV 740,72 ₺ = 4.444,32 ₺" in document
    assert "Süre: 01.01.2027 - 31.12.2027" in document


def test_draft_refuses_roles_that_cannot_sign_and_bad_products(session, make, company, now):
    make.agreement_text()
    term = {"starts_on": date(2027, 1, 1), "ends_on": date(2027, 12, 31), "now": now}
    line = Product("Listeleme", 1, Decimal("10.00"), "yearly")

    assert (
        refusal(
            agreements.draft_agreement,
            session,
            company,
            [line],
            required_roles=[Role.AGENT],
            **term,
        )
        == "role_cannot_sign"
    )
    assert (
        refusal(agreements.draft_agreement, session, company, [line], required_roles=[], **term)
        == "no_required_roles"
    )
    assert refusal(Product, "x", 1, 10.5, "yearly") == "product_price_invalid"
    assert refusal(Product, "x", 1, Decimal("1.005"), "yearly") == "product_price_invalid"
    assert refusal(Product, "x", 0, Decimal("1"), "yearly") == "product_quantity_invalid"


def test_all_required_roles_signing_makes_it_signed_with_a_chain(session, sent, signers, now):
    first = sign(session, sent, signers[Role.FINANCE], now)
    session.commit()
    assert sent.status == AgreementStatus.AWAITING_SIGNATURE
    second = sign(session, sent, signers[Role.ADMIN], now + timedelta(minutes=5))
    session.commit()

    assert sent.status == AgreementStatus.SIGNED
    assert sent.signed_at == now + timedelta(minutes=5)
    assert (first.sequence, first.previous_hash) == (1, None)
    assert (second.sequence, second.previous_hash) == (2, first.record_hash)
    assert first.document_text == sent.document_text
    assert (first.client_ip, first.peer_ip, first.auth_method) == (
        "203.0.113.7",
        "10.0.0.2",
        "password+otp",
    )
    assert first.signer_role == "finance"
    assert first.signer_email == signers[Role.FINANCE].user.email
    assert verify_chain(session, sent.id) == []


def test_a_member_without_the_sign_permission_is_refused(session, make, sent, company, now):
    manager = make.customer_user(company, Role.MANAGER)

    assert refusal(sign, session, sent, manager, now) == "not_permitted"
    assert not agreements.may_sign(session, sent, manager)


def test_a_member_of_another_company_is_refused(session, make, sent, now):
    stranger = make.customer_user(make.customer(), Role.ADMIN)

    assert refusal(sign, session, sent, stranger, now) == "not_a_member"


def test_a_deactivated_member_is_refused(session, sent, signers, now):
    signers[Role.ADMIN].is_active = False

    assert refusal(sign, session, sent, signers[Role.ADMIN], now) == "not_a_member"


def test_a_signer_whose_role_is_not_required_is_refused(session, make, company, now):
    finance = make.customer_user(company, Role.FINANCE)
    agreement = make.agreement(company, required_roles=(Role.ADMIN,))
    agreements.send_for_signature(session, agreement, PROVIDER, now=now)

    assert refusal(sign, session, agreement, finance, now) == "role_not_required"


def test_signing_twice_or_a_second_member_of_a_signed_role_is_refused(
    session, make, sent, signers, company, now
):
    sign(session, sent, signers[Role.FINANCE], now)
    other_finance = make.customer_user(company, Role.FINANCE)

    assert refusal(sign, session, sent, signers[Role.FINANCE], now) == "already_signed"
    assert refusal(sign, session, sent, other_finance, now) == "role_already_signed"


def test_signing_what_was_not_shown_is_refused(session, sent, signers, now):
    assert refusal(sign, session, sent, signers[Role.ADMIN], now, seen_sha256="0" * 64) == (
        "document_changed"
    )


def test_a_draft_cannot_be_signed_and_a_sent_one_cannot_be_sent_again(
    session, make, company, signers, now
):
    agreement = make.agreement(company)
    assert refusal(sign, session, agreement, signers[Role.ADMIN], now) == "not_awaiting_signature"
    agreements.send_for_signature(session, agreement, agreements.Party(*["x"] * 5), now=now)
    assert refusal(agreements.send_for_signature, session, agreement, PROVIDER, now=now) == (
        "not_draft"
    )


def test_a_new_text_version_does_not_change_what_was_signed(session, sent, signers, now):
    sign(session, sent, signers[Role.FINANCE], now)
    sign(session, sent, signers[Role.ADMIN], now)
    session.commit()
    document, digest = sent.document_text, sent.document_sha256

    publish_text(
        session,
        AgreementKind.COMPANY_SERVICE,
        title="Yeni",
        body="Yeni {products}",
        started_at=now + timedelta(seconds=1),
        now=now,
    )
    sent.customer.legal_name = "Başka Unvan A.Ş."
    session.commit()
    session.expire_all()

    assert (sent.document_text, sent.document_sha256) == (document, digest)
    assert all(s.document_text == document for s in agreements.signs_of(session, sent))
    assert verify_chain(session, sent.id) == []


def test_sending_a_draft_of_an_outdated_text_is_refused(session, make, company, now):
    agreement = make.agreement(company)
    publish_text(
        session,
        AgreementKind.COMPANY_SERVICE,
        title="Yeni",
        body="{products}",
        started_at=now,
        now=now,
    )

    assert refusal(agreements.send_for_signature, session, agreement, PROVIDER, now=now) == (
        "text_outdated"
    )


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_decline_and_void_need_a_reason(session, make, sent, signers, now, reason):
    operator = make.user("operator")

    assert refusal(agreements.decline, session, sent, signers[Role.ADMIN], reason, now=now) == (
        "reason_required"
    )
    assert refusal(agreements.void, session, sent, operator, reason, now=now) == ("reason_required")
    assert sent.status == AgreementStatus.AWAITING_SIGNATURE


def test_decline_keeps_the_document_and_the_signatures_given(session, sent, signers, now):
    sign(session, sent, signers[Role.FINANCE], now)
    agreements.decline(session, sent, signers[Role.ADMIN], " Fiyat yüksek ", now=now)
    session.commit()
    session.expire_all()

    assert sent.status == AgreementStatus.DECLINED
    assert (sent.ended_reason, sent.ended_by_user_id) == (
        "Fiyat yüksek",
        signers[Role.ADMIN].user_id,
    )
    assert sent.document_text and len(agreements.signs_of(session, sent)) == 1
    assert verify_chain(session, sent.id) == []
    assert refusal(sign, session, sent, signers[Role.ADMIN], now) == "not_awaiting_signature"


def test_only_an_operator_voids_and_a_voided_agreement_stays_readable(
    session, make, sent, signers, now
):
    sign(session, sent, signers[Role.FINANCE], now)
    sign(session, sent, signers[Role.ADMIN], now)
    parent = make.user("parent")
    assert refusal(agreements.void, session, sent, parent, "yanlış", now=now) == "not_operator"

    agreements.void(session, sent, make.user("operator"), "Yanlış firma", now=now)
    session.commit()

    assert sent.status == AgreementStatus.VOIDED
    assert sent.ended_reason == "Yanlış firma"
    assert verify_chain(session, sent.id) == []
    assert refusal(agreements.void, session, sent, make.user("operator"), "x", now=now) == (
        "cannot_void"
    )
