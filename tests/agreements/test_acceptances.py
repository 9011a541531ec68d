"""A parent's confirmation of the pre-information form and the distance sales contract: the
documents rendered for the order, the evidence kept, the chain, and the database refusing any
change of it."""

import hashlib
import json
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal.agreements import acceptances
from portal.agreements.acceptances import AcceptanceError, Buyer
from portal.agreements.evidence import Witness
from portal.agreements.texts import publish_text
from portal.billing import subscriptions
from portal.billing.subscribers import Subscriber
from portal.clock import istanbul_today
from portal.extensions import db
from portal.models import Payment, UserAgreementAcceptance
from portal.models.billing import PaymentPurpose
from portal.models.customers import AgreementKind
from tests import dbutil

PROVIDER = {
    "name": "Okul",
    "legal_name": "Okul Bilişim Hizmetleri A.Ş.",
    "tax_office": "Kadıköy",
    "tax_id": "1234567890",
    "address": "Moda Caddesi 1, Kadıköy, İstanbul",
    "kep_address": "",
}
WITNESS = Witness("203.0.113.7", "10.0.0.2", "Mozilla/5.0 (Test)", "password_session")
KEY = "a" * 32


@pytest.fixture
def without_sale_texts():
    """Overrides tests/agreements/conftest.py's: these tests need migration 0017's texts."""


@pytest.fixture
def parent(make):
    return make.user("parent", name="Ayşe Çınar", email="ayse@example.com")


@pytest.fixture
def quote(session, make, parent):
    plan = make.plan()
    plan.name = "Aile Artı"
    price = make.price(plan, billing_cycle="monthly", amount="149.90")
    return subscriptions.quote(session, Subscriber(user_id=parent.id), price, istanbul_today())


def documents(session, parent, quote, now, key=KEY):
    return acceptances.sale_documents(
        session, PROVIDER, Buyer.of_user(parent), quote, order_key=key, now=now
    )


def accept(session, parent, quote, now, key=KEY, witness=WITNESS):
    return acceptances.accept(
        session,
        Buyer.of_user(parent),
        documents(session, parent, quote, now, key),
        plan_price_id=quote.price.id,
        idempotency_key=key,
        witness=witness,
        now=now,
    )


def test_the_documents_name_the_seller_the_parent_the_plan_and_the_price_with_kdv(
    session, parent, quote, now
):
    form, contract = documents(session, parent, quote, now)

    assert (form.kind, contract.kind) == (
        AgreementKind.PARENT_PRE_INFORMATION,
        AgreementKind.PARENT_DISTANCE_SALES,
    )
    # 149,90 ₺ includes KDV: net 124,92 + KDV 24,98 = 149,90 (portal.billing.money).
    assert quote.charge.net + quote.charge.kdv == quote.charge.gross == Decimal("149.90")
    for document in (form, contract):
        body = document.document
        for expected in (
            "Okul Bilişim Hizmetleri A.Ş.",
            "Ayşe Çınar",
            "ayse@example.com",
            "Aile Artı",
            "aylık",
            "124,92 ₺",
            "24,98 ₺",
            "149,90 ₺",
            "%20",
            "14 (on dört) gün",
            "cayma hakkı kullanılamaz",
            KEY,
        ):
            assert expected in body, expected
        assert "{" not in body
        assert document.sha256 == hashlib.sha256(body.encode("utf-8")).hexdigest()
    assert form.document.startswith("ÖN BİLGİLENDİRME FORMU")
    assert contract.document.startswith("MESAFELİ SATIŞ SÖZLEŞMESİ")


def test_confirming_keeps_both_documents_with_the_evidence_of_a_signature(
    session, parent, quote, now
):
    shown = documents(session, parent, quote, now)
    first, second = accept(session, parent, quote, now)
    session.commit()
    session.expire_all()

    rows = session.scalars(
        select(UserAgreementAcceptance).order_by(UserAgreementAcceptance.sequence)
    ).all()
    assert [row.id for row in rows] == [first.id, second.id]
    for row, document in zip(rows, shown, strict=True):
        assert row.document_text == document.document
        assert row.document_sha256 == hashlib.sha256(row.document_text.encode()).hexdigest()
        assert row.agreement_text_id == document.text.id
        assert row.kind == document.kind
        assert row.user_id == parent.id
        assert row.plan_price_id == quote.price.id
        assert row.idempotency_key == KEY
        assert (row.buyer_name, row.buyer_email) == ("Ayşe Çınar", "ayse@example.com")
        assert (row.client_ip, row.peer_ip) == ("203.0.113.7", "10.0.0.2")
        assert row.user_agent == "Mozilla/5.0 (Test)"
        assert row.auth_method == "password_session"
        assert row.accepted_at == now.astimezone(UTC)
    # The chain: the form first, the contract linked to it.
    assert [row.sequence for row in rows] == [1, 2]
    assert rows[0].previous_hash is None
    assert rows[1].previous_hash == rows[0].record_hash
    assert acceptances.check_order(rows) == []


def test_the_record_hash_is_recomputable_from_the_written_formula(session, parent, quote, now):
    accept(session, parent, quote, now)
    session.commit()
    session.expire_all()
    row = session.scalar(
        select(UserAgreementAcceptance).where(UserAgreementAcceptance.sequence == 2)
    )

    # The formula of portal.agreements.evidence, written out again here.
    fields = {
        "record": "user_agreement_acceptance",
        "v": 1,
        "user_id": row.user_id,
        "agreement_text_id": row.agreement_text_id,
        "kind": row.kind,
        "plan_price_id": row.plan_price_id,
        "idempotency_key": row.idempotency_key,
        "sequence": 2,
        "buyer_name": row.buyer_name,
        "buyer_email": row.buyer_email,
        "document_sha256": row.document_sha256,
        "accepted_at": row.accepted_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "client_ip": row.client_ip,
        "peer_ip": row.peer_ip,
        "user_agent": row.user_agent,
        "auth_method": row.auth_method,
        "previous_hash": row.previous_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert row.record_hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_the_same_order_confirmed_twice_records_nothing_new(session, parent, quote, now):
    first = accept(session, parent, quote, now)
    session.commit()

    again = accept(session, parent, quote, now + timedelta(seconds=3))
    session.commit()

    assert [row.id for row in again] == [row.id for row in first]
    assert len(session.scalars(select(UserAgreementAcceptance)).all()) == 2


def test_another_parents_order_key_is_refused(session, make, parent, quote, now):
    accept(session, parent, quote, now)
    session.commit()
    other = make.user("parent")

    with pytest.raises(AcceptanceError) as refused:
        accept(session, other, quote, now)
    assert refused.value.code == "key_taken"


def test_a_document_that_no_longer_matches_its_hash_is_not_recorded(session, parent, quote, now):
    form, contract = documents(session, parent, quote, now)
    changed = acceptances.SaleDocument(contract.text, contract.document + "x", contract.sha256)

    with pytest.raises(AcceptanceError) as refused:
        acceptances.accept(
            session,
            Buyer.of_user(parent),
            [form, changed],
            plan_price_id=quote.price.id,
            idempotency_key=KEY,
            witness=WITNESS,
            now=now,
        )
    assert refused.value.code == "document_changed"


def test_without_a_valid_text_nothing_can_be_shown(session, parent, quote, now):
    dbutil.remove_sale_texts(session.connection())

    with pytest.raises(AcceptanceError) as refused:
        documents(session, parent, quote, now)
    assert refused.value.code == "no_text"


def test_without_the_sellers_name_nothing_can_be_shown(session, parent, quote, now):
    with pytest.raises(AcceptanceError) as refused:
        acceptances.sale_documents(
            session,
            {**PROVIDER, "legal_name": " "},
            Buyer.of_user(parent),
            quote,
            order_key=KEY,
            now=now,
        )
    assert refused.value.code == "provider_missing"


def refused(session, sql, values=None):
    try:
        with session.begin_nested():
            session.execute(text(sql), values or {})
    except DBAPIError:
        return True
    return False


def test_the_database_refuses_to_change_or_delete_an_acceptance(session, parent, quote, now):
    first, _second = accept(session, parent, quote, now)
    session.commit()

    assert refused(
        session,
        "UPDATE user_agreement_acceptances SET document_text = 'başka' WHERE id = :id",
        {"id": first.id},
    )
    assert refused(
        session,
        "UPDATE user_agreement_acceptances SET client_ip = '1.2.3.4' WHERE id = :id",
        {"id": first.id},
    )
    assert refused(
        session, "DELETE FROM user_agreement_acceptances WHERE id = :id", {"id": first.id}
    )
    session.rollback()
    session.expire_all()
    assert len(session.scalars(select(UserAgreementAcceptance)).all()) == 2
    assert session.get(UserAgreementAcceptance, first.id).client_ip == "203.0.113.7"


def test_a_new_text_version_does_not_change_what_was_accepted(session, parent, quote, now):
    kept = [row.document_text for row in accept(session, parent, quote, now)]
    session.commit()

    later = now + timedelta(seconds=1)
    publish_text(
        session,
        AgreementKind.PARENT_DISTANCE_SALES,
        title="Mesafeli Satış Sözleşmesi",
        body="SÖZLEŞME SÜRÜM 2\n{buyer_name} {price_gross}\n",
        started_at=later,
        now=now,
    )
    session.commit()
    session.expire_all()

    rows = acceptances.acceptances_of_order(session, KEY)
    assert [row.document_text for row in rows] == kept
    assert acceptances.check_order(rows) == []
    # A new order renders the new version.
    _form, contract = documents(session, parent, quote, later + timedelta(seconds=1), "b" * 32)
    assert contract.document.startswith("SÖZLEŞME SÜRÜM 2")


def test_the_check_finds_a_changed_record(session, parent, quote, now):
    rows = accept(session, parent, quote, now)
    session.commit()
    for row in rows:
        session.refresh(row)
    session.expunge_all()  # changed in memory only: the database would refuse it

    rows[0].buyer_email = "baska@example.com"
    rows[1].document_text += "."

    problems = {(m.sign_id, m.problem) for m in acceptances.check_order(rows)}
    assert problems == {(rows[0].id, "record_hash"), (rows[1].id, "document_hash")}


def test_the_daily_check_command_finds_a_tampered_acceptance(runner, session, parent, quote, now):
    rows = accept(session, parent, quote, now)
    accept(session, parent, quote, now, key="b" * 32)  # another order, untouched
    session.commit()
    second = rows[1].id
    assert runner.invoke(args=["agreements", "check"]).exit_code == 0

    with db.engine.begin() as connection:
        create, drop = dbutil.evidence_triggers(
            connection.dialect.name, "user_agreement_acceptances"
        )
        for statement in drop:
            connection.exec_driver_sql(statement)
        connection.execute(
            text("UPDATE user_agreement_acceptances SET client_ip = '198.51.100.9' WHERE id = :id"),
            {"id": second},
        )
        for statement in create:
            connection.exec_driver_sql(statement)
    session.expire_all()

    result = runner.invoke(args=["agreements", "check"])

    assert result.exit_code == 1
    assert f"parent acceptance {second}: record_hash" in result.output
    assert result.output.count("parent acceptance") == 1


def _subscription(make, quote, parent, created_at):
    return make.subscription(quote.price, user=parent, created_at=created_at)


def test_a_subscription_shows_the_documents_of_the_order_its_first_charge_paid(
    session, make, parent, quote, now
):
    """accepted_for, the subscription page's contract documents: the order is the one whose
    key the first charge carries, even when a newer order of the same price was confirmed."""
    paid = accept(session, parent, quote, now - timedelta(minutes=5), key=KEY)
    accept(session, parent, quote, now - timedelta(minutes=1), key="b" * 32)  # left unpaid
    subscription = _subscription(make, quote, parent, now)
    session.add(
        Payment(
            user_subscription_id=subscription.id,
            user_id=parent.id,
            purpose=PaymentPurpose.FIRST_CHARGE,
            plan_price_id=quote.price.id,
            net_amount=Decimal("124.92"),
            kdv_amount=Decimal("24.98"),
            gross_amount=Decimal("149.90"),
            status="succeeded",
            gateway="sandbox",
            idempotency_key=KEY,
        )
    )
    session.flush()

    shown = acceptances.accepted_for(session, subscription)

    assert [row.id for row in shown] == [row.id for row in paid]
    assert [row.kind for row in shown] == [
        AgreementKind.PARENT_PRE_INFORMATION,
        AgreementKind.PARENT_DISTANCE_SALES,
    ]


def test_a_trial_shows_the_newest_order_confirmed_before_it_began(
    session, make, parent, quote, now
):
    """A trial has no first charge: its order is the newest of its price confirmed before the
    subscription was made; one confirmed after it, or another parent's, is not it."""
    accept(session, parent, quote, now - timedelta(hours=2), key="b" * 32)
    newest = accept(session, parent, quote, now - timedelta(hours=1), key="c" * 32)
    accept(session, parent, quote, now + timedelta(minutes=1), key="d" * 32)
    subscription = _subscription(make, quote, parent, now)

    assert [row.id for row in acceptances.accepted_for(session, subscription)] == [
        row.id for row in newest
    ]

    nobodys = _subscription(make, quote, parent, now - timedelta(days=1))
    assert acceptances.accepted_for(session, nobodys) == []
