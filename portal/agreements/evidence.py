"""The evidence engine: canonical documents and their SHA-256, sign records chained by hash,
and the check that finds any record or snapshot changed since.

Shared by the company's signatures (customer_user_agreement_signs) and, later, the parent's
confirmation of the distance sales contract: a record is a dict of canonical fields, and its
hash is computed the same way whatever table keeps it.

The formulas (written down so that anyone can recompute them with standard tools):

- A document is canonical when it is Unicode NFC with "\\n" line ends. It is stored exactly so,
  and `document_sha256` is the SHA-256 (hex) of its UTF-8 bytes: `sha256sum` of the stored
  text gives the same value.
- `record_hash` is the SHA-256 (hex) of the UTF-8 bytes of the record's canonical JSON: an
  object of the fields named in SIGN_FIELDS plus "record" (the kind of record, so a record of
  one table can never pass for another's) and "v" (this formula's version, 1), keys sorted,
  no whitespace (separators "," and ":"), non-ASCII characters written as themselves;
  integers as JSON numbers, missing values as null, instants as UTC ISO 8601 with
  microseconds and "Z" ("2026-12-01T09:30:00.123456Z"). The fields include `previous_hash`,
  the record_hash of the record before it for the same agreement (null for the first), and
  `sequence` (1, 2, ...), so removing, reordering or changing any record breaks every hash
  after it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from portal.audit import USER_AGENT_LENGTH, Origin
from portal.models import CustomerAgreement, CustomerUserAgreementSign
from portal.models.customers import AgreementStatus
from portal.refusal import Refusal

FORMULA_VERSION = 1
SIGN_RECORD = "customer_user_agreement_sign"
# The columns of a sign row that its record_hash covers (the document through its hash).
SIGN_FIELDS = (
    "customer_agreement_id",
    "sequence",
    "customer_user_id",
    "agreement_text_id",
    "signer_role",
    "signer_name",
    "signer_email",
    "document_sha256",
    "signed_at",
    "client_ip",
    "peer_ip",
    "user_agent",
    "auth_method",
    "previous_hash",
)
IP_LENGTH = 45  # the longest IPv6 text form
AUTH_METHOD_LENGTH = 32


class EvidenceError(Refusal):
    """Evidence that cannot be recorded as given; `code` names why."""


@dataclass(frozen=True)
class Witness:
    """Where and how a person acted: the client IP as ProxyFix resolved it through the trusted
    proxies (portal.origin), the peer address the connection really came from, the user agent
    and how they were authenticated ("password+otp")."""

    client_ip: str
    peer_ip: str | None
    user_agent: str | None
    auth_method: str

    def __post_init__(self) -> None:
        if not self.client_ip or len(self.client_ip) > IP_LENGTH:
            raise EvidenceError("client_ip_invalid")
        if self.peer_ip is not None and len(self.peer_ip) > IP_LENGTH:
            raise EvidenceError("peer_ip_invalid")
        if not self.auth_method or len(self.auth_method) > AUTH_METHOD_LENGTH:
            raise EvidenceError("auth_method_invalid")
        object.__setattr__(self, "user_agent", (self.user_agent or "")[:USER_AGENT_LENGTH] or None)

    @classmethod
    def of(cls, origin: Origin, peer_ip: str | None, auth_method: str) -> Witness:
        """A Witness from a request's Origin, its peer address and the way of sign-in."""
        return cls(origin.ip_address or "", peer_ip, origin.user_agent, auth_method)


@dataclass(frozen=True)
class Mismatch:
    """One thing the check found wrong: the agreement, the sign row (None: the agreement's own
    snapshot or status) and what (`problem`, a code; `detail` for people)."""

    agreement_id: int
    sign_id: int | None
    problem: str
    detail: str = ""


def canonical_document(text: str) -> str:
    """The text as it is stored and hashed: NFC, "\\n" line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def document_sha256(text: str) -> str:
    """SHA-256 (hex) of the canonical document's UTF-8 bytes."""
    return sha256(canonical_document(text).encode("utf-8")).hexdigest()


def instant(value: datetime) -> str:
    """An aware instant as the hash writes it: UTC, microseconds, "Z"."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given; pass an aware one (UTC)")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(record: str, fields: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the canonical JSON of a record's fields (see the module docstring)."""
    canonical = {"record": record, "v": FORMULA_VERSION}
    for name, value in fields.items():
        canonical[name] = instant(value) if isinstance(value, datetime) else value
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256(text.encode("utf-8")).hexdigest()


def sign_fields(row: CustomerUserAgreementSign) -> dict[str, object]:
    """The fields of a sign row that its record_hash covers."""
    return {name: getattr(row, name) for name in SIGN_FIELDS}


def sign_record_hash(row: CustomerUserAgreementSign) -> str:
    """What a sign row's record_hash must be, computed from its fields."""
    return record_hash(SIGN_RECORD, sign_fields(row))


def last_sign(session: Session, agreement_id: int) -> CustomerUserAgreementSign | None:
    """The newest link of an agreement's chain. The caller holds the agreement's row lock, so
    no other signature can be added between this read and the new row."""
    return session.scalar(
        select(CustomerUserAgreementSign)
        .where(CustomerUserAgreementSign.customer_agreement_id == agreement_id)
        .order_by(CustomerUserAgreementSign.sequence.desc())
        .limit(1)
    )


def append_sign(
    session: Session,
    agreement: CustomerAgreement,
    *,
    customer_user_id: int,
    signer_role: str,
    signer_name: str,
    signer_email: str,
    witness: Witness,
    now: datetime,
) -> CustomerUserAgreementSign:
    """Add the next evidence record of `agreement`: its snapshot as signed, the witness, and
    the link to the record before. The caller has locked the agreement's row and commits; the
    unique (agreement, sequence) refuses a second record at the same place should it not."""
    if agreement.document_text is None or agreement.document_sha256 is None:
        raise EvidenceError("no_snapshot")
    if document_sha256(agreement.document_text) != agreement.document_sha256:
        # Never sign a snapshot that no longer matches its own hash.
        raise EvidenceError("snapshot_changed")
    previous = last_sign(session, agreement.id)
    row = CustomerUserAgreementSign(
        customer_agreement_id=agreement.id,
        sequence=1 if previous is None else previous.sequence + 1,
        customer_user_id=customer_user_id,
        agreement_text_id=agreement.agreement_text_id,
        signer_role=signer_role,
        signer_name=signer_name,
        signer_email=signer_email,
        document_text=agreement.document_text,
        document_sha256=agreement.document_sha256,
        # Microseconds are what all three databases keep; the hash must see the stored value.
        signed_at=now.astimezone(UTC),
        client_ip=witness.client_ip,
        peer_ip=witness.peer_ip,
        user_agent=witness.user_agent,
        auth_method=witness.auth_method,
        previous_hash=None if previous is None else previous.record_hash,
    )
    row.record_hash = sign_record_hash(row)
    session.add(row)
    session.flush()
    return row


def check_agreement(
    agreement: CustomerAgreement, signs: Iterable[CustomerUserAgreementSign]
) -> list[Mismatch]:
    """Everything wrong with one agreement's snapshot and chain (signs in any order)."""
    found: list[Mismatch] = []

    def wrong(sign_id: int | None, problem: str, detail: str = "") -> None:
        found.append(Mismatch(agreement.id, sign_id, problem, detail))

    snapshot = agreement.document_sha256
    if agreement.document_text is not None and (
        agreement.document_text != canonical_document(agreement.document_text)
        or document_sha256(agreement.document_text) != snapshot
    ):
        wrong(None, "snapshot_hash", "the agreement's document does not match its SHA-256")
    previous_hash = None
    roles = set()
    for expected, sign in enumerate(sorted(signs, key=lambda row: row.sequence), start=1):
        roles.add(sign.signer_role)
        if snapshot is None:
            wrong(sign.id, "signed_without_snapshot")
        elif sign.document_sha256 != snapshot:
            wrong(sign.id, "document_differs", "signed a document other than the snapshot")
        if document_sha256(sign.document_text) != sign.document_sha256:
            wrong(sign.id, "document_hash", "the signed document does not match its SHA-256")
        if sign.sequence != expected:
            wrong(sign.id, "sequence_gap", f"sequence {sign.sequence}, expected {expected}")
        if sign.previous_hash != previous_hash:
            wrong(sign.id, "chain_broken", "previous_hash is not the record before")
        if sign_record_hash(sign) != sign.record_hash:
            wrong(sign.id, "record_hash", "the record's fields do not match its hash")
        previous_hash = sign.record_hash
    if agreement.status == AgreementStatus.SIGNED and not set(agreement.required_roles) <= roles:
        wrong(None, "roles_missing", "signed, but not by every required role")
    return found


def verify_chain(session: Session, agreement_id: int) -> list[Mismatch]:
    """The mismatches of one agreement's snapshot and sign records; [] when all hold."""
    agreement = session.get(CustomerAgreement, agreement_id)
    if agreement is None:
        raise LookupError(f"no agreement {agreement_id}")
    signs = session.scalars(
        select(CustomerUserAgreementSign).where(
            CustomerUserAgreementSign.customer_agreement_id == agreement_id
        )
    ).all()
    return check_agreement(agreement, signs)


def verify_all(session: Session, batch: int = 200) -> list[Mismatch]:
    """The mismatches of every agreement that has a snapshot or sign records, read in batches
    of `batch` agreements (two statements a batch), so memory stays flat however many."""
    found: list[Mismatch] = []
    has_signs = exists().where(
        CustomerUserAgreementSign.customer_agreement_id == CustomerAgreement.id
    )
    after = 0
    while True:
        agreements = session.scalars(
            select(CustomerAgreement)
            .where(
                CustomerAgreement.id > after,
                or_(CustomerAgreement.document_sha256.is_not(None), has_signs),
            )
            .order_by(CustomerAgreement.id)
            .limit(batch)
        ).all()
        if not agreements:
            return found
        signs: dict[int, list[CustomerUserAgreementSign]] = {a.id: [] for a in agreements}
        for sign in session.scalars(
            select(CustomerUserAgreementSign).where(
                CustomerUserAgreementSign.customer_agreement_id.in_(signs)
            )
        ):
            signs[sign.customer_agreement_id].append(sign)
        for agreement in agreements:
            found.extend(check_agreement(agreement, signs[agreement.id]))
        # The identity map holds rows weakly: a finished batch is let go of with these lists.
        after = agreements[-1].id
