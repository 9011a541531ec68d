"""The public verification page: anyone may check whether a SHA-256 matches a signed
agreement's document (or a sign record) and when it was signed; nothing about who.

Only hashes are taken for now: the evidence PDF does not exist yet, and checking an uploaded
one comes with it (issue 13 item 4). A GET form, so an answer has an address to share, with
one field; a malformed hash is refused next to it (422). Rate limited per address when a hash
is asked (the empty form costs nothing), and the same work for every well-formed hash,
found or not (portal.agreements.verification): one statement, the same page with the same
elements, only the yes or no and the time differing.
"""

from flask import request

from portal import htmx
from portal.access import ANONYMOUS, allow
from portal.agreements import bp, evidence, verification
from portal.agreements.operator_forms import VerifyForm
from portal.extensions import db, limiter

# Enough for a person checking documents by hand; a script walking hashes meets 429.
VERIFY_LIMIT = "20 per minute;200 per hour"


def _no_hash_asked() -> bool:
    return "sha256" not in request.args


@bp.route("/agreements/verify")
@allow(ANONYMOUS)
@limiter.limit(VERIFY_LIMIT, exempt_when=_no_hash_asked)
def verify():
    """The form; with `?sha256=...`, the answer: whether it matches a signed agreement and
    when it was signed (Istanbul time with its UTC offset, and UTC).

    Only hashes are taken for now: checking an uploaded evidence PDF comes with the PDF itself
    (issue 13 item 4), which does not exist yet.
    """
    form = VerifyForm(formdata=request.args if "sha256" in request.args else None)
    answer, status = None, 200
    if "sha256" in request.args:
        if form.validate():
            answer = verification.lookup(db.session, form.sha256.data)
        else:
            status = 422
    signed_at = answer.signed_at if answer is not None else None
    response = htmx.render(
        "agreements/verify.html",
        "verification",
        status=status,
        form=form,
        answer=answer,
        signed_utc=evidence.instant(signed_at) if signed_at is not None else "",
    )
    # An answer may change when an agreement is signed, and says nothing private: no cache
    # should keep it past that, so none keeps it at all.
    response.headers["Cache-Control"] = "no-store"
    return response
