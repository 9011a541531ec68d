"""The operators' agreement screen (a small one; the full back office comes later): the
agreements and the company service text versions, publishing a new version, drafting an
agreement for a company, reviewing its rendering, sending it for signature and voiding it.

Every step is audited (user_logs) and every refusal of the domain (AgreementError, TextError)
comes back as a message on the page, 422, never a 500. Sending tells each active member of the
company whose role must sign, in their language, through the outbox, in the same transaction.
"""

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import htmx
from portal.access import OPERATOR, allow
from portal.agreements import agreements, bp, evidence_pdf, notifications, texts
from portal.agreements.agreements import AgreementError, Party
from portal.agreements.operator_forms import (
    KIND_NAMES,
    PERIOD_LABELS,
    PublishTextForm,
    VoidForm,
    draft_form,
)
from portal.agreements.views.staff import STATUS_NAMES, role_label, send_evidence_pdf
from portal.audit import log_event
from portal.clock import utcnow
from portal.extensions import db
from portal.forms import EmptyForm, posted_id
from portal.i18n import in_language
from portal.models import (
    AgreementText,
    Customer,
    CustomerAgreement,
)
from portal.models.customers import AgreementKind, AgreementStatus
from portal.origin import current_origin
from portal.paging import page_number, paginate
from portal.urls import IdUrls

# Up to this many companies, the draft form offers them by name; beyond, the id is typed.
COMPANY_CHOICES = 200
# The text versions the screen lists, newest first.
TEXT_VERSIONS = 20

# Why a step was refused (AgreementError and TextError codes), for the operator.
REFUSALS = {
    "no_text": _l("No company service text is valid now: publish one first."),
    "text_outdated": _l(
        "A newer text version is valid now: void this draft and draft the agreement again."
    ),
    "not_draft": _l("Only a draft can be sent."),
    "cannot_void": _l("This agreement can no longer be voided."),
    "reason_required": _l("Write the reason: it is kept with the agreement."),
    "reason_too_long": _l("The reason is too long."),
    "no_products": _l("Enter at least one product."),
    "term_inverted": _l("The term cannot end before it starts."),
    "role_cannot_sign": _l("Only roles that may sign agreements can be required."),
    "no_required_roles": _l("Choose at least one role."),
    "product_name_invalid": _l("A product's name is missing or too long."),
    "product_quantity_invalid": _l("A product's quantity is not a whole number from 1."),
    "product_price_invalid": _l("A product's unit price must be in whole kuruş."),
    "product_period_invalid": _l("A product's period is unknown."),
    "provider_missing": _l(
        "Okul's details for agreements are not configured (AGREEMENT_PROVIDER): nothing was sent."
    ),
    "template_unfilled": _l("The text uses a placeholder this agreement cannot fill."),
}
# Publication refusals, and the field each belongs next to.
TEXT_REFUSALS = {
    "template_syntax": (
        "body",
        _l("A brace is not closed: write {name} for a placeholder, {{ or }} for a brace."),
    ),
    "template_field": ("body", _l("Placeholders are plain names in braces, like {company_name}.")),
    "template_unknown_placeholder": ("body", _l("Unknown placeholder: %(names)s.")),
    "body_empty": ("body", _l("Write the text.")),
    "title_invalid": ("title", _l("The title is missing or too long.")),
    "window_overlaps": (
        "started_at",
        _l("Another version of this kind is valid then (%(detail)s): choose another start."),
    ),
    "starts_in_the_past": ("started_at", _l("A version cannot start in the past.")),
    "window_inverted": ("started_at", _l("The version would end before it starts.")),
    "unknown_kind": ("kind", _l("Choose a kind.")),
}


def provider() -> Party:
    """Okul as the agreements name it (settings: AGREEMENT_PROVIDER)."""
    values = current_app.config["AGREEMENT_PROVIDER"]
    return Party(**{key: values.get(key, "") for key in Party.__dataclass_fields__})


def _agreements_page(session: Session, number: int):
    """A page of every agreement, newest first, with its company's name."""
    query = (
        select(
            CustomerAgreement.id,
            CustomerAgreement.agreement_no,
            CustomerAgreement.status,
            CustomerAgreement.starts_on,
            CustomerAgreement.ends_on,
            Customer.name,
        )
        .join(Customer, Customer.id == CustomerAgreement.customer_id)
        .order_by(CustomerAgreement.id.desc())
    )
    return paginate(
        session, query, number, scalars=False, total=select(func.count(CustomerAgreement.id))
    )


def _text_versions(session: Session) -> list[AgreementText]:
    return list(
        session.scalars(
            select(AgreementText)
            .where(AgreementText.kind == AgreementKind.COMPANY_SERVICE)
            .order_by(AgreementText.version.desc())
            .limit(TEXT_VERSIONS)
        )
    )


def _list_page(status: int = 200, publish_form=None):
    fragment = htmx.wants_fragment()
    # The list's fragment (the pager's swap) shows neither the text versions nor the form.
    list_only = fragment and publish_form is None
    return htmx.render(
        "agreements/operator_list.html",
        "publish_form" if publish_form is not None else "agreement_list",
        status=status,
        rows=_agreements_page(db.session, page_number(request.args.get("page", 1))),
        versions=[] if fragment else _text_versions(db.session),
        status_names=in_language(STATUS_NAMES),
        kind_names=in_language(KIND_NAMES),
        agreement_url=IdUrls("agreements.operator_agreement", "agreement_id"),
        placeholders=[]
        if list_only
        else [
            f"{{{name}}}"
            for name in sorted(texts.PLACEHOLDERS[AgreementKind.COMPANY_SERVICE] or ())
        ],
        publish_form=None if list_only else publish_form or PublishTextForm(formdata=None),
        # A blank form's fields are the same markup for every operator: kept rendered.
        publish_blank=publish_form is None,
    )


@bp.route("/operator/agreements")
@allow(OPERATOR)
def operator_agreements():
    """The agreements, newest first, a page at a time (`?page=N`; htmx gets the list alone),
    the company service text versions with their windows, and the form to publish a new
    version."""
    return _list_page()


@bp.route("/operator/agreements/texts", methods=["POST"])
@allow(OPERATOR)
def operator_publish_text():
    """Publish the next version of a kind's text; a refusal (an unknown placeholder, an
    overlapping window, a start in the past) comes back next to its field, 422."""
    form = PublishTextForm()
    if form.validate_on_submit():
        now = utcnow()
        try:
            text = texts.publish_text(
                db.session,
                form.kind.data,
                title=form.title.data,
                body=form.body.data,
                started_at=form.start_utc(now),
                now=now,
            )
        except texts.TextError as error:
            db.session.rollback()
            name, message = TEXT_REFUSALS.get(error.code, ("body", _l("The text was refused.")))
            form[name].errors = [
                *form[name].errors,
                str(message) % {"names": error.detail, "detail": error.detail},
            ]
        else:
            log_event(
                db.session,
                "agreement_text_published",
                current_user.id,
                current_origin(),
                agreement_text_id=text.id,
                kind=text.kind,
                version=text.version,
            )
            db.session.commit()
            flash(_("Version %(version)d is published.", version=text.version), "success")
            return htmx.redirect_to(url_for("agreements.operator_agreements"))
    return _list_page(status=422, publish_form=form)


def _companies() -> list[tuple[int, str]] | None:
    """The companies by name when there are few enough to choose from; None otherwise."""
    count = db.session.scalar(select(func.count(Customer.id)))
    if count > COMPANY_CHOICES:
        return None
    return [
        (row.id, row.name)
        for row in db.session.execute(select(Customer.id, Customer.name).order_by(Customer.name))
    ]


def _draft_page(form, status: int = 200, refusal=None):
    return htmx.render(
        "agreements/operator_new.html",
        "draft_form",
        status=status,
        form=form,
        refusal=refusal,
    )


@bp.route("/operator/agreements/new", methods=["GET", "POST"])
@allow(OPERATOR)
def operator_new_agreement():
    """Draft an agreement for a company from the company service text valid now: the
    products (name, quantity, unit price, period), the term and the roles that must sign.
    Made, it opens for review; refused, the form comes back with the reasons (422)."""
    form = draft_form(_companies())
    if not form.is_submitted():
        return _draft_page(form)
    if form.validate_on_submit():
        wanted = posted_id(form.customer_id.data)
        customer = db.session.get(Customer, wanted) if wanted is not None else None
        if customer is None or customer.is_deleted:
            form.customer_id.errors = [*form.customer_id.errors, _("No company has this id.")]
        else:
            now = utcnow()
            try:
                agreement = agreements.draft_agreement(
                    db.session,
                    customer,
                    form.product_lines(),
                    starts_on=form.starts_on.data,
                    ends_on=form.ends_on.data,
                    required_roles=form.required_roles.data,
                    now=now,
                )
            except AgreementError as error:
                db.session.rollback()
                return _draft_page(form, 422, REFUSALS.get(error.code, error.code))
            log_event(
                db.session,
                "agreement_drafted",
                current_user.id,
                current_origin(),
                agreement_id=agreement.id,
                customer_id=customer.id,
            )
            db.session.commit()
            flash(_("The draft is made: review it before sending."), "success")
            return htmx.redirect_to(
                url_for("agreements.operator_agreement", agreement_id=agreement.id)
            )
    return _draft_page(form, 422)


def agreement_or_404(agreement_id: str) -> CustomerAgreement:
    """Any agreement, for operators (also the renewal pages'); 404 for an unknown id."""
    wanted = posted_id(agreement_id)
    # Not joined to its company: the domain refreshes an agreement FOR UPDATE with the options
    # it was loaded with, and PostgreSQL refuses FOR UPDATE on an outer join's nullable side.
    agreement = db.session.get(CustomerAgreement, wanted) if wanted is not None else None
    if agreement is None:
        abort(404)
    return agreement


def _review_page(agreement: CustomerAgreement, status: int = 200, void_form=None, refusal=None):
    """The agreement to review: the document as it would be sent (a draft) or as it was."""
    document, render_refusal = agreement.document_text, None
    if document is None:
        try:
            document = agreements.render(agreement, provider())
        except (AgreementError, texts.TextError) as error:
            render_refusal = REFUSALS.get(error.code, error.code)
    return htmx.render(
        "agreements/operator_agreement.html",
        "agreement_actions",
        status=status,
        agreement=agreement,
        products=agreements.products_of(agreement),
        signs=agreements.signs_of(db.session, agreement),
        document=document,
        render_refusal=render_refusal,
        refusal=refusal,
        status_names=in_language(STATUS_NAMES),
        period_labels=PERIOD_LABELS,
        role_label=role_label,
        send_form=EmptyForm(formdata=None),
        void_form=void_form or VoidForm(formdata=None),
        may_send=agreement.status == AgreementStatus.DRAFT and render_refusal is None,
        may_void=agreement.status in agreements.VOIDABLE,
        has_pdf=evidence_pdf.has_pdf(agreement),
    )


@bp.route("/operator/agreements/<agreement_id>")
@allow(OPERATOR)
def operator_agreement(agreement_id):
    """One agreement: its company, products, term and roles, the document to review (a
    draft's rendering now, or the snapshot sent), the signatures, Send (a draft) and Void.

    :raise 404: no such agreement.
    """
    return _review_page(agreement_or_404(agreement_id))


@bp.route("/operator/agreements/<agreement_id>/evidence.pdf")
@allow(OPERATOR)
def operator_evidence_pdf(agreement_id):
    """The evidence PDF of a signed agreement.

    :raise 404: no such agreement, or not signed by every required role yet.
    """
    return send_evidence_pdf(agreement_or_404(agreement_id))


@bp.route("/operator/agreements/<agreement_id>/send", methods=["POST"])
@allow(OPERATOR)
def operator_send_agreement(agreement_id):
    """Send the draft for signature: its rendering is kept with its SHA-256 and the company's
    signers are mailed a link. Refused (not a draft, a newer text valid now): 422 with why.

    :raise 404: no such agreement.
    """
    agreement = agreement_or_404(agreement_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    party = provider()
    try:
        if not (party.name and party.legal_name):
            raise AgreementError("provider_missing")
        agreements.send_for_signature(db.session, agreement, party, now=utcnow())
    except (AgreementError, texts.TextError) as error:
        db.session.rollback()
        return _review_page(
            agreement_or_404(agreement_id), 422, refusal=REFUSALS.get(error.code, error.code)
        )
    told = notifications.tell_signers(
        db.session,
        agreement,
        url_for("agreements.company_agreement", agreement_id=agreement.id, _external=True),
    )
    log_event(
        db.session,
        "agreement_sent",
        current_user.id,
        current_origin(),
        agreement_id=agreement.id,
        document_sha256=agreement.document_sha256,
        signers_told=told,
    )
    db.session.commit()
    flash(
        ngettext(
            "Sent for signature; %(num)d signer was told by e-mail.",
            "Sent for signature; %(num)d signers were told by e-mail.",
            told,
        ),
        "success",
    )
    return htmx.redirect_to(url_for("agreements.operator_agreement", agreement_id=agreement.id))


@bp.route("/operator/agreements/<agreement_id>/void", methods=["POST"])
@allow(OPERATOR)
def operator_void_agreement(agreement_id):
    """Void the agreement with a required reason (422 without one); its document and
    signatures stay readable and verifiable.

    :raise 404: no such agreement.
    """
    agreement = agreement_or_404(agreement_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            agreements.void(
                db.session,
                agreement,
                current_user._get_current_object(),
                form.reason.data,
                now=utcnow(),
            )
        except AgreementError as error:
            db.session.rollback()
            return _review_page(
                agreement_or_404(agreement_id),
                422,
                void_form=form,
                refusal=REFUSALS.get(error.code, error.code),
            )
        log_event(
            db.session,
            "agreement_voided",
            current_user.id,
            current_origin(),
            agreement_id=agreement.id,
        )
        db.session.commit()
        flash(_("The agreement is voided."), "success")
        return htmx.redirect_to(url_for("agreements.operator_agreement", agreement_id=agreement.id))
    return _review_page(agreement, 422, void_form=form)
