"""The company's agreements, for its staff: the list, one agreement with its signing steps,
and the evidence page.

Readers are the members who may sign agreements or see the company's billing
(portal.agreements.company.may_read); others get 403. Another company's agreement, a draft or
an unknown id is a 404, the same answer. Signing is two steps, each a real form: "Send me a
signing code" mails a fresh code (portal.agreements.signing), then the code, the ticked box
and the document's SHA-256 as shown sign it, with the Witness of this request.
"""

from flask import abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.access.permissions import ROLE_NAMES, Permission, Role, can, members_who_can
from portal.agreements import agreements, bp, company, evidence, evidence_pdf, renewals, signing
from portal.agreements.agreements import AgreementError
from portal.agreements.evidence import Witness
from portal.agreements.forms import DeclineForm, SignForm
from portal.agreements.views.payments import payment_context
from portal.auth.codes import current_policy
from portal.clock import ISTANBUL, istanbul_today, utcnow
from portal.core.views.errors import refuse_not_yours
from portal.extensions import db, limiter
from portal.forms import EmptyForm, posted_id
from portal.i18n import in_language
from portal.models.customers import AgreementStatus
from portal.origin import current_origin, peer_address
from portal.paging import page_number

STATUS_NAMES = {
    AgreementStatus.DRAFT: _l("Draft"),
    AgreementStatus.AWAITING_SIGNATURE: _l("Awaiting signature"),
    AgreementStatus.SIGNED: _l("Signed"),
    AgreementStatus.DECLINED: _l("Declined"),
    AgreementStatus.VOIDED: _l("Voided"),
    AgreementStatus.EXPIRED: _l("Expired"),
    AgreementStatus.RENEWED: _l("Renewed"),
}
# Why a step was refused, for the person (AgreementError codes).
REFUSALS = {
    "cannot_sign": _l("You cannot sign this agreement now."),
    "not_awaiting_signature": _l("This agreement no longer awaits signatures."),
    "already_signed": _l("You have already signed this agreement."),
    "role_already_signed": _l("A member of your role has already signed this agreement."),
    "document_changed": _l(
        "The agreement's document is not the one you were shown. Read it again before signing."
    ),
    "wrong_code": _l("The code is wrong, used or expired. You can ask for a new one."),
    "reason_required": _l("Write the reason: it is kept with the agreement."),
    "reason_too_long": _l("The reason is too long."),
}
CODE_ANSWERS = {
    signing.SENT: _l("We sent a 6-digit signing code to %(email)s. Enter it below to sign."),
    signing.TOO_SOON: _l(
        "A code was sent less than a minute ago: use it, or wait a moment to ask again."
    ),
}
TOO_MANY = _l("Too many codes were asked for or tried. Try again in an hour.")


def role_label(code: str) -> str:
    """A role code as the reader's language names it."""
    try:
        return str(ROLE_NAMES[Role(code)])
    except ValueError:
        return code


def _reader():
    """The signed-in member, who must be allowed to read the company's agreements.

    :raise 403: when they may not.
    """
    actor = current_user.customer_user
    if not company.may_read(actor):
        abort(403)
    return actor


def _agreement(actor, agreement_id: str):
    """The actor's company's agreement named in the URL.

    :raise 404: for anything else (another company's, a draft, an unknown id, not a number).
    """
    wanted = posted_id(agreement_id)
    if wanted is None:
        abort(404)
    agreement = company.agreement_of(db.session, actor.customer_id, wanted)
    if agreement is None:
        refuse_not_yours("customer_agreement", agreement_id)
    return agreement


def _common(**values) -> dict:
    return {"status_names": in_language(STATUS_NAMES), "role_label": role_label, **values}


@bp.route("/customer/agreements")
@allow(CUSTOMER_USER)
def company_agreements():
    """The company's agreements, newest first, a page at a time (`?page=N`): number, term,
    status and the roles still to sign.

    :raise 403: the member may neither sign agreements nor see billing.
    """
    actor = _reader()
    rows = company.agreements_page(
        db.session, actor.customer_id, page_number(request.args.get("page", 1))
    )
    return htmx.render(
        "agreements/list.html",
        "agreement_list",
        **_common(
            rows=rows,
            customer=actor.customer,
            # Signed agreements near their end, and their next term once sent (renewals).
            endings=renewals.endings(
                db.session, [row.agreement for row in rows.items], istanbul_today()
            ),
        ),
    )


def _page(actor, agreement, status: int = 200, **forms):
    """The agreement's page; `forms` replace the blank sign and decline forms, `refusal` and
    `code_sent` say what happened."""
    may_sign = agreements.may_sign(db.session, agreement, actor)
    context = _common(
        agreement=agreement,
        signs=agreements.signs_of(db.session, agreement),
        roles_to_sign=(
            agreements.roles_to_sign(db.session, agreement)
            if agreement.status == AgreementStatus.AWAITING_SIGNATURE
            else []
        ),
        may_sign=may_sign,
        may_decline=may_sign
        or (
            agreement.status == AgreementStatus.AWAITING_SIGNATURE
            and can(actor, Permission.SIGN_AGREEMENTS)
        ),
        signers=(
            members_who_can(db.session, actor.customer_id, Permission.SIGN_AGREEMENTS)
            if not can(actor, Permission.SIGN_AGREEMENTS)
            else []
        ),
        code_form=EmptyForm(formdata=None),
        sign_form=forms.get("sign_form")
        or SignForm(formdata=None, document_sha256=agreement.document_sha256),
        decline_form=forms.get("decline_form") or DeclineForm(formdata=None),
        refusal=forms.get("refusal"),
        code_minutes=current_policy().lifetime_minutes,
        ending=renewals.endings(db.session, [agreement], istanbul_today()).get(agreement.id),
        **payment_context(actor, agreement),
    )
    return htmx.render("agreements/agreement.html", "signing", status=status, **context)


def _back_to(agreement):
    return htmx.redirect_to(url_for("agreements.company_agreement", agreement_id=agreement.id))


@bp.route("/customer/agreements/<agreement_id>")
@allow(CUSTOMER_USER)
def company_agreement(agreement_id):
    """The agreement as sent (its document, preformatted, and SHA-256), the roles that must
    sign and who signed when; for a member who may sign now, the two signing steps and the
    decline form.

    :raise 403: as company_agreements(). :raise 404: not an agreement of their company.
    """
    actor = _reader()
    return _page(actor, _agreement(actor, agreement_id))


@bp.route("/customer/agreements/<agreement_id>/code", methods=["POST"])
@allow(CUSTOMER_USER)
@limiter.limit("20 per hour")
def send_signing_code(agreement_id):
    """Step 1: mail the member a fresh signing code for this agreement (the code policy's
    resend interval and caps apply).

    :raise 403, 404: as company_agreement().
    """
    actor = _reader()
    agreement = _agreement(actor, agreement_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        answer = signing.send_code(
            db.session, current_policy(), agreement, actor, current_origin(), utcnow()
        )
    except AgreementError as error:
        db.session.rollback()
        return _page(actor, agreement, status=422, refusal=REFUSALS[error.code])
    db.session.commit()
    if answer not in CODE_ANSWERS:
        return _page(actor, agreement, status=429, refusal=TOO_MANY)
    flash(str(CODE_ANSWERS[answer]) % {"email": actor.user.email}, "info")
    return _back_to(agreement)


@bp.route("/customer/agreements/<agreement_id>/sign", methods=["POST"])
@allow(CUSTOMER_USER)
@limiter.limit("30 per hour")
def sign(agreement_id):
    """Step 2: the code, the ticked box and the document's SHA-256 as shown sign the
    agreement; the sign record keeps the client IP, the peer address, the user agent and
    "password+email_code". A wrong or expired code, an unticked box or a changed document
    come back on the page (422) with nothing signed.

    :raise 403, 404: as company_agreement().
    """
    actor = _reader()
    agreement = _agreement(actor, agreement_id)
    form = SignForm()
    if form.validate_on_submit():
        origin = current_origin()
        try:
            signing.sign_with_code(
                db.session,
                current_policy(),
                agreement,
                actor,
                form.code.data,
                seen_sha256=form.document_sha256.data,
                witness=Witness.of(origin, peer_address(), signing.AUTH_METHOD),
                origin=origin,
                now=utcnow(),
            )
        except signing.WrongCode:
            db.session.commit()  # the spent try is kept
            form.code.errors.append(REFUSALS["wrong_code"])
        except AgreementError as error:
            db.session.rollback()
            agreement = _agreement(actor, agreement_id)
            return _page(
                actor,
                agreement,
                status=422,
                sign_form=form,
                refusal=REFUSALS.get(error.code, REFUSALS["cannot_sign"]),
            )
        else:
            db.session.commit()
            if agreement.status == AgreementStatus.SIGNED:
                flash(
                    _("You signed the agreement. Every required role has now signed it."), "success"
                )
            else:
                flash(_("You signed the agreement. It still awaits other signatures."), "success")
            return _back_to(agreement)
    return _page(actor, agreement, status=422, sign_form=form)


@bp.route("/customer/agreements/<agreement_id>/decline", methods=["POST"])
@allow(CUSTOMER_USER)
def decline(agreement_id):
    """Decline the agreement for the company, with a required reason (422 without one).

    :raise 403, 404: as company_agreement().
    """
    actor = _reader()
    agreement = _agreement(actor, agreement_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            signing.decline(
                db.session, agreement, actor, form.reason.data, current_origin(), utcnow()
            )
        except AgreementError as error:
            db.session.rollback()
            agreement = _agreement(actor, agreement_id)
            return _page(
                actor,
                agreement,
                status=422,
                decline_form=form,
                refusal=REFUSALS.get(error.code, REFUSALS["cannot_sign"]),
            )
        db.session.commit()
        flash(_("You declined the agreement. Your reason is kept with it."), "success")
        return _back_to(agreement)
    return _page(actor, agreement, status=422, decline_form=form)


@bp.route("/customer/agreements/<agreement_id>/evidence")
@allow(CUSTOMER_USER)
def evidence_page(agreement_id):
    """The evidence of the agreement's signatures: the document's SHA-256, every sign record
    (signer, role, time in Istanbul with its offset and in UTC, client and peer IP, user
    agent, how they signed in, the previous and the record's own hash) and whether the chain
    verifies.

    :raise 403: as company_agreements(). :raise 404: not an agreement of their company.
    """
    actor = _reader()
    agreement = _agreement(actor, agreement_id)
    signs = agreements.signs_of(db.session, agreement)
    records = [
        {
            "sign": sign,
            "istanbul": sign.signed_at.astimezone(ISTANBUL).isoformat(timespec="seconds"),
            "utc": evidence.instant(sign.signed_at),
        }
        for sign in signs
    ]
    return htmx.render(
        "agreements/evidence.html",
        "evidence",
        **_common(
            agreement=agreement,
            records=records,
            mismatches=evidence.verify_chain(db.session, agreement.id),
            pdf_url=(
                url_for("agreements.evidence_pdf_download", agreement_id=agreement.id)
                if evidence_pdf.has_pdf(agreement)
                else None
            ),
        ),
    )


def send_evidence_pdf(agreement):
    """The agreement's evidence PDF as a download.

    :raise 404: it has none (not signed by every required role yet).
    """
    if not evidence_pdf.has_pdf(agreement):
        abort(404)
    response = make_response(evidence_pdf.pdf_of(db.session, agreement))
    response.headers["Content-Type"] = "application/pdf"
    # The agreement number is made by the portal (letters, digits, dashes): safe in a name.
    response.headers["Content-Disposition"] = (
        f'attachment; filename="okul-evidence-{agreement.agreement_no}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/customer/agreements/<agreement_id>/evidence.pdf")
@allow(CUSTOMER_USER)
def evidence_pdf_download(agreement_id):
    """The evidence PDF of a signed agreement of the reader's company.

    :raise 403: as company_agreements(). :raise 404: not theirs, or not signed yet.
    """
    actor = _reader()
    return send_evidence_pdf(_agreement(actor, agreement_id))
