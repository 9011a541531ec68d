"""The public verification page: anyone may check whether a SHA-256, or an uploaded evidence
PDF, matches a signed agreement and when it was signed; nothing about who.

The hash form is a GET, so an answer has an address to share, with one field; a malformed
hash is refused next to it (422). The same work for every well-formed hash, found or not
(portal.agreements.verification): one statement, the same page with the same elements, only
the yes or no and the time differing. The PDF form is a POST (the file is its body, and it
carries the CSRF token like every post); the file is compared whole with the PDF made again
from the agreement it names (portal.agreements.evidence_pdf), so one byte changed says no.
Both are rate limited per address together (the empty form costs nothing).
"""

from flask import request

from portal import htmx
from portal.access import ANONYMOUS, allow
from portal.agreements import bp, evidence, evidence_pdf, verification
from portal.agreements.operator_forms import VerifyForm, VerifyPdfForm
from portal.extensions import db, limiter

# Enough for a person checking documents by hand; a script walking hashes meets 429.
VERIFY_LIMIT = "20 per minute;200 per hour"
_verify_limit = limiter.shared_limit(
    VERIFY_LIMIT,
    scope="agreements-verify",
    exempt_when=lambda: request.method == "GET" and "sha256" not in request.args,
)


def _page(form, pdf_form, answer=None, status: int = 200, block: str = "verification"):
    signed_at = answer.signed_at if answer is not None else None
    response = htmx.render(
        "agreements/verify.html",
        block,
        status=status,
        form=form,
        pdf_form=pdf_form,
        answer=answer,
        signed_utc=evidence.instant(signed_at) if signed_at is not None else "",
    )
    # An answer may change when an agreement is signed, and says nothing private: no cache
    # should keep it past that, so none keeps it at all.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/agreements/verify")
@allow(ANONYMOUS)
@_verify_limit
def verify():
    """The forms; with `?sha256=...`, the answer: whether it matches a signed agreement and
    when it was signed (Istanbul time with its UTC offset, and UTC)."""
    form = VerifyForm(formdata=request.args if "sha256" in request.args else None)
    answer, status = None, 200
    if "sha256" in request.args:
        if form.validate():
            answer = verification.lookup(db.session, form.sha256.data)
        else:
            status = 422
    return _page(form, VerifyPdfForm(formdata=None), answer, status)


@bp.route("/agreements/verify", methods=["POST"])
@allow(ANONYMOUS)
@_verify_limit
def verify_pdf():
    """The answer for an uploaded evidence PDF: whether it is, byte for byte, the evidence of
    a signed agreement, and when that was signed. A file that is not one of our PDFs is
    refused next to the field (422)."""
    pdf_form = VerifyPdfForm()
    answer, status = None, 422
    if pdf_form.validate():
        data = pdf_form.evidence_pdf.data.read(evidence_pdf.MAX_UPLOAD_BYTES + 1)
        try:
            if len(data) > evidence_pdf.MAX_UPLOAD_BYTES:
                raise evidence_pdf.NotAnEvidencePdf("too large")
            answer, status = evidence_pdf.check_upload(db.session, data), 200
        except evidence_pdf.NotAnEvidencePdf:
            pdf_form.evidence_pdf.errors = [VerifyPdfForm.NOT_OURS]
    return _page(VerifyForm(formdata=None), pdf_form, answer, status)
