"""The evidence PDF (issue 13 item 4): Turkish letters as written, the hash, the signers with
their times, IPs and the chain; made the same byte for byte from the same rows; offered only
for signed agreements, to the company's readers and operators; and the public verification
page says yes for it and no for the same file with one byte changed."""

import io
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256

import pytest
from pypdf import PdfReader

from portal.access.permissions import Role
from portal.agreements import evidence, evidence_pdf
from portal.models import CustomerAgreement, CustomerUserAgreementSign
from tests.helpers import HTMX, csrf_token
from tests.test_html import assert_valid_html

VERIFY = "/agreements/verify"

# The SHA-256 of the PDF of `fixed_agreement()`. It changes only when the layout, fpdf2 or
# the fonts change; then every evidence PDF handed out before stops verifying (a PDF is
# checked by making it again), so such a change needs a decision, not a new number here.
KNOWN_PDF_SHA256 = "2b41084f48374847fdba5c93b0fa1287808d7f02e608b8e6a12be7718ff9d789"


def fixed_agreement() -> tuple[CustomerAgreement, list[CustomerUserAgreementSign]]:
    """A signed agreement and its two records, made in memory with fixed values."""
    document = evidence.canonical_document(
        "Okul Portal Hizmet Sözleşmesi\nMüşteri: Şahin Eğitim Öğretim Çalışmaları Ltd. Şti.\n"
        "Bedel: 1.234,56 ₺ (KDV hariç)\nİĞÜŞÖÇ ığüşöç\n"
    )
    signed_at = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)
    agreement = CustomerAgreement(
        id=7,
        agreement_no="OK-2026-0007",
        status="signed",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
        document_text=document,
        document_sha256=evidence.document_sha256(document),
        signed_at=signed_at,
    )
    signs = []
    previous = None
    for sequence, (role, name) in enumerate(
        [("admin", "Ayşe Işıkoğlu"), ("finance", "Çağrı Güneş")], start=1
    ):
        sign = CustomerUserAgreementSign(
            customer_agreement_id=7,
            sequence=sequence,
            customer_user_id=10 + sequence,
            agreement_text_id=3,
            signer_role=role,
            signer_name=name,
            signer_email=f"imza{sequence}@example.com",
            document_text=document,
            document_sha256=agreement.document_sha256,
            signed_at=signed_at - timedelta(minutes=2 - sequence),
            client_ip="203.0.113.7",
            peer_ip="10.0.0.2",
            user_agent="Mozilla/5.0 (Test)",
            auth_method="password+email_code",
            previous_hash=previous,
        )
        sign.record_hash = evidence.sign_record_hash(sign)
        previous = sign.record_hash
        signs.append(sign)
    return agreement, signs


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_holds_the_text_hash_signers_times_ips_and_chain_in_turkish_letters():
    agreement, signs = fixed_agreement()

    text = text_of(evidence_pdf.render(agreement, signs))

    assert "Şahin Eğitim Öğretim Çalışmaları Ltd. Şti." in text
    assert "İĞÜŞÖÇ ığüşöç" in text and "1.234,56 ₺" in text
    assert agreement.document_sha256 in text.replace("\n", "")
    for sign in signs:
        assert sign.signer_name in text and sign.signer_email in text
        assert sign.record_hash in text.replace("\n", "")
    # Times in Istanbul with their offset, and in UTC as the record hash writes them.
    assert "2026-11-02T12:29:15+03:00" in text
    assert "2026-11-02T09:29:15.123456Z" in text
    assert "203.0.113.7" in text and "10.0.0.2" in text and "password+email_code" in text
    assert signs[1].previous_hash == signs[0].record_hash


def test_the_same_rows_make_the_same_bytes_and_the_layout_is_pinned():
    first = evidence_pdf.render(*fixed_agreement())
    again = evidence_pdf.render(*fixed_agreement())

    assert first == again
    assert sha256(first).hexdigest() == KNOWN_PDF_SHA256


def test_an_agreement_not_signed_by_every_role_has_no_pdf():
    agreement, signs = fixed_agreement()
    agreement.status, agreement.signed_at = "awaiting_signature", None

    with pytest.raises(ValueError):
        evidence_pdf.render(agreement, signs[:1])


def one_byte_changed(pdf: bytes) -> bytes:
    middle = len(pdf) // 2
    return pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]


def test_an_uploaded_pdf_matches_and_one_byte_changed_does_not(session, signed):
    pdf = evidence_pdf.pdf_of(session, signed)

    assert evidence_pdf.check_upload(session, pdf).matched
    assert evidence_pdf.check_upload(session, pdf).signed_at == signed.signed_at
    assert not evidence_pdf.check_upload(session, one_byte_changed(pdf)).matched
    with pytest.raises(evidence_pdf.NotAnEvidencePdf):
        evidence_pdf.check_upload(session, b"%PDF-1.4 nothing of ours")


def post_pdf(client, data: bytes, **headers):
    token = csrf_token(client)
    return client.post(
        VERIFY,
        data={"csrf_token": token, "evidence_pdf": (io.BytesIO(data), "evidence.pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )


def answer_of(html: str) -> str:
    marker = 'id="verify-answer" data-matched="'
    return html[html.index(marker) + len(marker) :].split('"', 1)[0]


def test_the_verification_page_confirms_the_pdf_and_refuses_a_changed_one(client, session, signed):
    pdf = evidence_pdf.pdf_of(session, signed)

    yes = post_pdf(client, pdf)
    no = post_pdf(client, one_byte_changed(pdf), **HTMX)

    assert yes.status_code == 200 and answer_of(yes.get_data(as_text=True)) == "yes"
    assert evidence.instant(signed.signed_at) in yes.get_data(as_text=True)
    assert_valid_html(yes.get_data(as_text=True), VERIFY)
    assert no.status_code == 200 and answer_of(no.get_data(as_text=True)) == "no"
    # Nothing about who, for a yes either.
    for sign in signed.signs:
        assert sign.signer_name not in yes.get_data(as_text=True)


@pytest.mark.parametrize(
    "data", [b"not a pdf at all", b"%PDF-1.7\n% a PDF this portal did not make\n"]
)
def test_a_file_that_is_not_our_pdf_is_refused_next_to_the_field(client, data):
    response = post_pdf(client, data, **HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="evidence_pdf-error"' in html and 'id="verify-answer"' not in html


def test_no_file_is_refused_next_to_the_field(client):
    token = csrf_token(client)

    response = client.post(VERIFY, data={"csrf_token": token})

    assert response.status_code == 422
    assert 'id="evidence_pdf-error"' in response.get_data(as_text=True)


def test_the_upload_needs_the_csrf_token(client, session, signed):
    pdf = evidence_pdf.pdf_of(session, signed)

    response = client.post(
        VERIFY,
        data={"evidence_pdf": (io.BytesIO(pdf), "evidence.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code in (400, 403)


def test_the_company_reader_downloads_the_pdf_from_the_evidence_page(client, auth, signed, signers):
    auth.login(signers[Role.FINANCE].user.email)

    page = client.get(f"/customer/agreements/{signed.id}/evidence").get_data(as_text=True)
    response = client.get(f"/customer/agreements/{signed.id}/evidence.pdf")

    assert f"/customer/agreements/{signed.id}/evidence.pdf" in page
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert signed.document_sha256 in text_of(response.data).replace("\n", "")


def test_an_agreement_awaiting_signatures_has_no_pdf(client, auth, sent, signers):
    auth.login(signers[Role.ADMIN].user.email)

    page = client.get(f"/customer/agreements/{sent.id}/evidence").get_data(as_text=True)

    assert "evidence.pdf" not in page
    assert client.get(f"/customer/agreements/{sent.id}/evidence.pdf").status_code == 404


def test_another_companys_member_gets_no_pdf(client, auth, make, signed):
    stranger = make.customer_user(make.customer(), Role.ADMIN)
    make.session.commit()
    auth.login(stranger.user.email)

    assert client.get(f"/customer/agreements/{signed.id}/evidence.pdf").status_code == 404


def test_an_operator_downloads_the_pdf(client, auth, session, make, signed):
    operator = make.user("operator")
    session.commit()
    auth.login(operator.email)

    page = client.get(f"/operator/agreements/{signed.id}").get_data(as_text=True)
    response = client.get(f"/operator/agreements/{signed.id}/evidence.pdf")

    assert f"/operator/agreements/{signed.id}/evidence.pdf" in page
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
