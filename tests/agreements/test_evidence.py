"""The evidence engine: hashes anyone can recompute, and a check that finds tampering."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text, update

from portal.access.permissions import Role
from portal.agreements import agreements, evidence
from portal.agreements.evidence import document_sha256, verify_all, verify_chain
from portal.models import CustomerAgreement, CustomerUserAgreementSign
from tests.agreements.conftest import WITNESS


def signed(session, sent, signers, now):
    for offset, role in enumerate((Role.FINANCE, Role.ADMIN)):
        agreements.sign(
            session,
            sent,
            signers[role],
            WITNESS,
            seen_sha256=sent.document_sha256,
            now=now + timedelta(seconds=offset),
        )
    session.commit()
    return agreements.signs_of(session, sent)


def test_document_hash_is_sha256_of_the_stored_utf8_text():
    assert document_sha256("Şirket\r\nİmza") == hashlib.sha256("Şirket\nİmza".encode()).hexdigest()
    # A decomposed "ş" (s + cedilla) is the same document as the composed one.
    assert document_sha256("s\u0327") == document_sha256("ş")


def test_record_hash_follows_the_written_formula(session, sent, signers, now):
    first = signed(session, sent, signers, now)[0]
    fields = {name: getattr(first, name) for name in evidence.SIGN_FIELDS}
    fields["signed_at"] = first.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields.update(record="customer_user_agreement_sign", v=1)
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert first.record_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_stored_time_keeps_what_the_hash_saw(session, sent, signers):
    moment = datetime(2027, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
    signed(session, sent, signers, moment)
    session.expire_all()

    assert verify_chain(session, sent.id) == []


def test_a_tampered_snapshot_is_found(session, sent, signers, now):
    signed(session, sent, signers, now)
    session.execute(
        update(CustomerAgreement)
        .where(CustomerAgreement.id == sent.id)
        .values(document_text=sent.document_text.replace("Listeleme", "Listeleme ve reklam"))
    )
    session.commit()
    session.expire_all()

    problems = {m.problem for m in verify_chain(session, sent.id)}
    assert "snapshot_hash" in problems
    assert [m.agreement_id for m in verify_all(session)] == [sent.id] * len(
        verify_chain(session, sent.id)
    )


def test_a_forged_row_is_found(session, make, sent, signers, now):
    first = signed(session, sent, signers, now)[-1]
    intruder = make.customer_user(sent.customer, Role.ADMIN)
    forged = {name: getattr(first, name) for name in evidence.SIGN_FIELDS}
    forged.update(
        sequence=3,
        customer_user_id=intruder.id,
        previous_hash=first.record_hash,
        signer_name="Sahte",
        document_text=first.document_text,
        record_hash="f" * 64,
    )
    session.execute(insert(CustomerUserAgreementSign), forged)
    session.commit()

    mismatches = verify_chain(session, sent.id)
    assert [(m.problem, m.sign_id is not None) for m in mismatches] == [("record_hash", True)]


def test_a_row_taken_out_of_the_chain_is_found(session, make, company, signers, now):
    """A forged first record (correct hash, but the chain after it no longer links)."""
    agreement = make.agreement(company, required_roles=(Role.ADMIN,))
    agreements.send_for_signature(session, agreement, agreements.Party(*"abcde"), now=now)
    real = agreements.sign(
        session,
        agreement,
        signers[Role.ADMIN],
        WITNESS,
        seen_sha256=agreement.document_sha256,
        now=now,
    )
    session.commit()
    fields = evidence.sign_fields(real) | {
        "sequence": 2,
        "previous_hash": "0" * 64,
        "customer_user_id": signers[Role.FINANCE].id,
    }
    row = {
        **fields,
        "document_text": real.document_text,
        "record_hash": evidence.record_hash(evidence.SIGN_RECORD, fields),
    }
    session.execute(insert(CustomerUserAgreementSign), row)
    session.commit()

    assert [m.problem for m in verify_chain(session, agreement.id)] == ["chain_broken"]


def test_a_signed_status_without_every_role_is_found(session, sent, signers, now):
    agreements.sign(
        session, sent, signers[Role.ADMIN], WITNESS, seen_sha256=sent.document_sha256, now=now
    )
    session.execute(
        text("UPDATE customer_agreements SET status = 'signed' WHERE id = :id"), {"id": sent.id}
    )
    session.commit()
    session.expire_all()

    assert [m.problem for m in verify_chain(session, sent.id)] == ["roles_missing"]


def test_verify_all_reads_in_batches_and_finds_only_the_bad_one(session, make, company, now):
    good = [make.agreement(company) for _ in range(4)]
    for agreement in good:
        agreements.send_for_signature(session, agreement, agreements.Party(*"abcde"), now=now)
    session.commit()
    session.execute(
        text("UPDATE customer_agreements SET document_sha256 = :h WHERE id = :id"),
        {"h": "a" * 64, "id": good[2].id},
    )
    session.commit()

    assert [(m.agreement_id, m.problem) for m in verify_all(session, batch=3)] == [
        (good[2].id, "snapshot_hash")
    ]
