"""The public check of a hash: does it match a signed agreement's document, and when was it
signed. Nothing about who: the answer is a yes or no and a time, never a name, a company, an
agreement number or an id.

A hash matches when it is
- the document_sha256 of an agreement whose every required role signed (signed, and later
  expired or renewed): answered with the agreement's signed_at;
- the document_sha256 or the record_hash of a sign row: answered with that row's signed_at.
When several match, the latest time is the answer (for a signed agreement that is its last
signature, the same instant as its signed_at).

The same work whether or not the hash exists: `lookup` sends one statement for every
well-formed hash, the three branches of a UNION ALL, each an equality on one column, each
aggregated (MAX), so no branch stops early on a hit; the answer has the same fields either way.
The database compares the hash; the value it found is compared again here with
hmac.compare_digest, so no Python comparison of the visitor's input ends at its first
different character. A malformed input (not 64 hexadecimal digits) is refused before any
query: it cannot match, and refusing it costs the same for every malformed input.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from portal.models import CustomerAgreement, CustomerUserAgreementSign
from portal.models.customers import AgreementStatus

HASH_PATTERN = re.compile(r"[0-9a-f]{64}")
# An agreement that was signed by every required role, whatever happened to its term since.
SIGNED_STATUSES = (AgreementStatus.SIGNED, AgreementStatus.EXPIRED, AgreementStatus.RENEWED)
# Hexadecimal digits a visitor may paste with separators or in capitals.
_SEPARATORS = re.compile(r"[\s:-]")


class MalformedHash(ValueError):
    """Not a SHA-256 in hexadecimal (64 digits 0-9, a-f)."""


@dataclass(frozen=True)
class Answer:
    """The whole answer: whether the hash matches, and when (aware UTC; None when it does
    not match)."""

    matched: bool
    signed_at: datetime | None


def normalize(value: str | None) -> str:
    """The hash as stored: lower case, without spaces, colons or dashes (`sha256sum` writes
    lower case; some tools write capitals or groups).

    :raise MalformedHash: anything that is not then 64 hexadecimal digits.
    """
    text = _SEPARATORS.sub("", value or "").lower()
    if len(text) != 64 or not HASH_PATTERN.fullmatch(text):
        raise MalformedHash(text[:80])
    return text


def lookup(session: Session, sha256: str) -> Answer:
    """Whether `sha256` (normalized) matches a signed agreement's document or a sign record,
    and the latest time it was signed. One statement whatever the answer."""
    if not HASH_PATTERN.fullmatch(sha256):
        raise MalformedHash(sha256[:80])
    agreements = select(
        func.max(CustomerAgreement.document_sha256).label("found"),
        func.max(CustomerAgreement.signed_at).label("signed_at"),
    ).where(
        CustomerAgreement.document_sha256 == sha256,
        CustomerAgreement.status.in_([str(status) for status in SIGNED_STATUSES]),
        CustomerAgreement.signed_at.is_not(None),
    )
    documents = select(
        func.max(CustomerUserAgreementSign.document_sha256),
        func.max(CustomerUserAgreementSign.signed_at),
    ).where(CustomerUserAgreementSign.document_sha256 == sha256)
    records = select(
        func.max(CustomerUserAgreementSign.record_hash),
        func.max(CustomerUserAgreementSign.signed_at),
    ).where(CustomerUserAgreementSign.record_hash == sha256)
    branches = union_all(agreements, documents, records).subquery()
    # Every branch answers one row (an aggregate without GROUP BY), NULLs when nothing matched.
    rows = session.execute(select(branches.c.found, branches.c.signed_at)).all()
    matched = False
    latest: datetime | None = None
    for found, signed_at in rows:
        # Every row is compared, hit or not: the same work for any answer.
        same = hmac.compare_digest((found or "").encode(), sha256.encode())
        if same and signed_at is not None:
            matched = True
            latest = signed_at if latest is None or signed_at > latest else latest
    return Answer(matched=matched, signed_at=latest if matched else None)
