"""The evidence PDF of a signed agreement, and the check of an uploaded one.

The PDF holds the agreement's number and term, the SHA-256 of its document, every sign record
(signer, role, e-mail, time in Istanbul with its UTC offset and in UTC as the record hash
writes it, client and peer IP, user agent, how the signer was authenticated), the event chain
(each record's previous hash and own hash) and the full document text as signed. Its labels
are Turkish with English beside them, never the reader's language, because:

The PDF is made the same, byte for byte, from the same rows: no "printed at" time, the
creation date is the agreement's signed_at, the fonts are the ones in `fonts/` (DejaVu, for
every Turkish letter), and fpdf2 derives the file's /ID from its content. So a PDF need not be
stored to be checked: `claimed` reads the marker it carries in its Keywords
(`okul-evidence:v1:<document sha256>:<last record hash>`), the agreement is found by that
document hash among the signed ones, its PDF is made again and the two are compared whole
(hmac.compare_digest). One byte changed anywhere, in the text, a record or the marker, and it
is not the same file. An upgrade of fpdf2 or of the fonts may change the bytes: the test
`tests/agreements/test_evidence_pdf.py` holds the SHA-256 of a fixed agreement's PDF and
fails when they change, and the dependency is pinned to one minor version for it.

Only agreements signed by every required role (signed, later expired or renewed: the same
rule as the hash check of portal.agreements.verification) have a PDF.
"""

from __future__ import annotations

import hmac
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cachetools import LRUCache
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.agreements.evidence import instant
from portal.agreements.verification import SIGNED_STATUSES, Answer
from portal.clock import ISTANBUL
from portal.models import CustomerAgreement, CustomerUserAgreementSign

FONTS = Path(__file__).resolve().parent / "fonts"
MARKER = "okul-evidence:v1"
_CLAIM = re.compile(rb"okul-evidence:v1:([0-9a-f]{64}):([0-9a-f]{64})")
# An evidence PDF is tens of kilobytes; more than this is not one of ours. (The app refuses a
# request body over MAX_CONTENT_LENGTH, also 256 KB, before any view reads it.)
MAX_UPLOAD_BYTES = 256 * 1024
# How many agreements may share one document hash before the check stops looking (a
# document names its agreement's number, so in practice one).
_MAX_CANDIDATES = 3


# Making a PDF costs most of a second (fpdf2 reads and subsets three fonts), and a signed
# agreement's PDF never changes (its rows cannot), so each process keeps the last few it made:
# a download after the first, and every check of an uploaded copy, costs one statement. About
# 40 KB each.
_MADE: LRUCache = LRUCache(64)
_MADE_LOCK = threading.Lock()


class NotAnEvidencePdf(ValueError):
    """The upload carries no evidence marker: not a PDF this portal made."""


@dataclass(frozen=True)
class Claim:
    """What an uploaded PDF says it is: the document's hash and the chain's last record."""

    document_sha256: str
    last_record_hash: str


def has_pdf(agreement: CustomerAgreement) -> bool:
    """Whether the agreement has an evidence PDF: every required role signed."""
    return agreement.status in SIGNED_STATUSES and agreement.signed_at is not None


def _istanbul(value: datetime) -> str:
    return value.astimezone(ISTANBUL).isoformat(timespec="seconds")


class _Evidence(FPDF):
    def __init__(self, agreement_no: str, document_sha256: str) -> None:
        super().__init__(format="A4")
        self._agreement_no = agreement_no
        self._document_sha256 = document_sha256
        self.add_font("Sans", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("Sans", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.add_font("Mono", "", str(FONTS / "DejaVuSansMono.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(16, 16, 16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Sans", size=7)
        self.cell(
            0,
            5,
            f"{self._agreement_no} · SHA-256 {self._document_sha256} · {self.page_no()}/{{nb}}",
            align="C",
        )

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font("Sans", "B", 12)
        self.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("Sans", size=9)

    def field(self, label: str, value: str, mono: bool = False) -> None:
        self.set_font("Sans", "B", 8)
        self.multi_cell(0, 4.5, label, new_x="LMARGIN", new_y="NEXT")
        self.set_font("Mono" if mono else "Sans", size=8 if mono else 9)
        self.multi_cell(0, 4.5, value or "—", new_x="LMARGIN", new_y="NEXT")
        self.ln(0.8)


def render(agreement: CustomerAgreement, signs: list[CustomerUserAgreementSign]) -> bytes:
    """The evidence PDF of a signed agreement and its sign records (in sequence order).

    :raise ValueError: the agreement is not signed, or has no record.
    """
    if not has_pdf(agreement) or not signs or agreement.document_text is None:
        raise ValueError("only a signed agreement has an evidence PDF")
    last = signs[-1]
    pdf = _Evidence(agreement.agreement_no, agreement.document_sha256)
    pdf.set_title(f"Sözleşme kanıtı / Evidence · {agreement.agreement_no}")
    pdf.set_author("Okul Portal")
    pdf.set_creator("Okul Portal")
    pdf.set_keywords(f"{MARKER}:{agreement.document_sha256}:{last.record_hash}")
    pdf.set_creation_date(agreement.signed_at.astimezone(UTC))
    pdf.add_page()

    pdf.set_font("Sans", "B", 15)
    pdf.multi_cell(
        0, 8, "Elektronik onay kanıtı / Evidence of signature", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Sans", size=9)
    pdf.field("Sözleşme no / Agreement no", agreement.agreement_no)
    pdf.field(
        "Süre / Term",
        f"{agreement.starts_on:%d.%m.%Y} – {agreement.ends_on:%d.%m.%Y}",
    )
    pdf.field(
        "İmza tamamlandı / Signed by every required role",
        f"{_istanbul(agreement.signed_at)}  (UTC {instant(agreement.signed_at)})",
    )
    pdf.field("Belgenin SHA-256 özeti / Document SHA-256", agreement.document_sha256, mono=True)
    pdf.set_font("Sans", size=8)
    pdf.multi_cell(
        0,
        4.5,
        "Belge metni UTF-8, NFC ve \\n satır sonlarıyla özetlenir; bu özet ve kayıt özetleri "
        "Okul Portal'ın /agreements/verify sayfasında doğrulanabilir. "
        "The document text is hashed as UTF-8, NFC with \\n line ends; this hash and the record "
        "hashes can be checked on Okul Portal's /agreements/verify page.",
        new_x="LMARGIN",
        new_y="NEXT",
    )

    pdf.heading("İmza kayıtları ve olay zinciri / Sign records and event chain")
    for sign in signs:
        pdf.set_font("Sans", "B", 10)
        pdf.multi_cell(0, 6, f"Kayıt / Record {sign.sequence}", new_x="LMARGIN", new_y="NEXT")
        pdf.field("İmzalayan / Signer", f"{sign.signer_name} <{sign.signer_email}>")
        pdf.field("Rol / Role", sign.signer_role)
        pdf.field(
            "Zaman / Time",
            f"{_istanbul(sign.signed_at)}  (UTC {instant(sign.signed_at)})",
        )
        pdf.field("İstemci IP / Client IP", sign.client_ip)
        pdf.field("Bağlantı IP / Peer IP", sign.peer_ip or "—")
        pdf.field("Tarayıcı / User agent", sign.user_agent or "—")
        pdf.field("Kimlik doğrulama / Authentication", sign.auth_method)
        pdf.field("İmzalanan belgenin özeti / Document SHA-256", sign.document_sha256, mono=True)
        pdf.field(
            "Önceki kaydın özeti / Previous record hash", sign.previous_hash or "—", mono=True
        )
        pdf.field("Bu kaydın özeti / Record hash", sign.record_hash, mono=True)

    pdf.add_page()
    pdf.heading("İmzalanan belge / The document as signed")
    pdf.set_font("Sans", size=9)
    pdf.multi_cell(0, 4.6, agreement.document_text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def pdf_of(session: Session, agreement: CustomerAgreement) -> bytes:
    """The agreement's evidence PDF, from its stored rows (made once a process: see _MADE)."""
    signs = list(
        session.scalars(
            select(CustomerUserAgreementSign)
            .where(CustomerUserAgreementSign.customer_agreement_id == agreement.id)
            .order_by(CustomerUserAgreementSign.sequence)
        )
    )
    # Everything the PDF shows is fixed once signed; the key names the rows it was made of.
    key = (
        agreement.id,
        agreement.document_sha256,
        agreement.signed_at,
        signs[-1].record_hash if signs else None,
    )
    with _MADE_LOCK:
        made = _MADE.get(key)
    if made is None:
        made = render(agreement, signs)
        with _MADE_LOCK:
            _MADE[key] = made
    return made


def claimed(data: bytes) -> Claim:
    """What an uploaded file says it is.

    :raise NotAnEvidencePdf: it carries no marker (not a PDF, or not one of ours).
    """
    if not data.startswith(b"%PDF-"):
        raise NotAnEvidencePdf("not a PDF")
    found = _CLAIM.search(data)
    if found is None:
        raise NotAnEvidencePdf("no evidence marker")
    return Claim(found.group(1).decode(), found.group(2).decode())


def check_upload(session: Session, data: bytes) -> Answer:
    """Whether `data` is, byte for byte, the evidence PDF of a signed agreement; the answer
    is the agreement's signed_at, as for a hash.

    :raise NotAnEvidencePdf: as `claimed`.
    """
    claim = claimed(data)
    candidates = session.scalars(
        select(CustomerAgreement)
        .where(
            CustomerAgreement.document_sha256 == claim.document_sha256,
            CustomerAgreement.status.in_([str(status) for status in SIGNED_STATUSES]),
            CustomerAgreement.signed_at.is_not(None),
        )
        .order_by(CustomerAgreement.id)
        .limit(_MAX_CANDIDATES)
    ).all()
    for agreement in candidates:
        if hmac.compare_digest(pdf_of(session, agreement), data):
            return Answer(matched=True, signed_at=agreement.signed_at)
    return Answer(matched=False, signed_at=None)
