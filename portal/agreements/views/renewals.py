"""The operators' renewal screen: the agreements near their end, one agreement's renewal (the
new prices previewed, then the next term drafted), its renewal discounts (offered, assigned to
a sales person, followed up) and the open follow-ups by due date.

The domain is portal.agreements.renewals; every step is audited (agreement_renewed,
renewal_discount_offered, renewal_discount_followed) and every refusal comes back next to its
field or as a message on the page, 422, never a 500.
"""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import caching, htmx
from portal.access import OPERATOR, allow
from portal.agreements import agreements, bp, renewals
from portal.agreements.operator_forms import PERIOD_LABELS
from portal.agreements.renewal_forms import (
    FOLLOWED_NAMES,
    FollowUpForm,
    OfferDiscountForm,
    RenewForm,
    with_sales_people,
)
from portal.agreements.renewals import RenewalError
from portal.agreements.views.operator import REFUSALS as AGREEMENT_REFUSALS
from portal.agreements.views.operator import agreement_or_404
from portal.agreements.views.staff import STATUS_NAMES
from portal.audit import log_event
from portal.clock import istanbul_today, utcnow
from portal.extensions import db
from portal.forms import posted_id
from portal.i18n import in_language
from portal.models import CustomerAgreement, User
from portal.models.customers import AgreementStatus, CustomerAgreementsRenewDiscount
from portal.origin import current_origin
from portal.paging import page_number

# Domain refusals: the field each belongs next to (None: a message on the page), and why.
REFUSALS = {
    "rate_required": (
        "rate",
        _l("This agreement rises with inflation: enter the rate (0 keeps the prices)."),
    ),
    "rate_invalid": ("rate", _l("Enter a percentage from 0 to 999,9999, for example 47,09.")),
    "price_too_high": ("rate", _l("A new unit price would pass 9.999.999,99 ₺.")),
    "note_too_long": ("note", _l("The note is too long.")),
    "not_signed": (None, _l("Only a signed agreement can be renewed or offered a discount.")),
    "already_renewed": (None, _l("This agreement is already renewed: see its next term.")),
    "not_operator": (None, _l("Only an operator can renew an agreement.")),
    "discount_one_of": ("discount_amount", _l("Enter either a rate or an amount.")),
    "discount_rate_invalid": (
        "discount_rate",
        _l("A discount rate is above 0 and at most 100, in hundredths."),
    ),
    "discount_amount_invalid": (
        "discount_amount",
        _l("A discount amount is above 0 and at most the agreement's total."),
    ),
    "not_sales_person": ("assigned_user_id", _l("Choose an operator as the sales person.")),
    "due_in_the_past": ("due_on", _l("The follow-up date cannot be in the past.")),
    "due_required": ("due_on", _l("An open follow-up needs its next date.")),
    "valid_until_in_the_past": ("valid_until", _l("The offer cannot end in the past.")),
    "status_invalid": ("followed_status", _l("Choose a status.")),
}


def percent(rate) -> str:
    """A rate as Turkish writes it: %47,09 (no trailing zeros)."""
    if rate is None:
        return "—"
    text = f"{rate:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "%" + text.replace(".", ",")


def _refuse(form, error: RenewalError) -> str | None:
    """Put the refusal next to its field; return it when it belongs to no field."""
    name, message = REFUSALS.get(error.code, (None, None))
    if message is None:
        message = AGREEMENT_REFUSALS.get(error.code, error.code)
    if name is not None and name in form:
        form[name].errors = [*form[name].errors, str(message)]
        return None
    return str(message)


def _sales_people(*, fresh: bool = False) -> list[tuple[int, str]]:
    """The operators a discount may be assigned to, (id, name) by name.

    For showing, kept up to a minute (portal/caching.py): the select is on every renewal page
    and cost two statements; a new operator appears in it within the minute. A form that is
    sent is checked against a `fresh` list (and the domain checks the person again)."""

    def read() -> list[tuple[int, str]]:
        return [(user.id, user.name) for user in renewals.sales_people(db.session)]

    return read() if fresh else caching.short_lived("renewal_sales_people", None, read)


def _operator() -> User:
    return current_user._get_current_object()


@bp.route("/operator/agreements/renewals")
@allow(OPERATOR)
def operator_renewals():
    """The signed agreements ending within the renewal window (or past their end and not yet
    expired), the soonest first, a page at a time (`?page=N`; htmx gets the list alone)."""
    today = istanbul_today()
    return htmx.render(
        "agreements/operator_renewals.html",
        "renewal_list",
        rows=renewals.due_page(db.session, today, page_number(request.args.get("page", 1))),
        today=today,
        window_days=renewals.RENEWAL_WINDOW_DAYS,
    )


@bp.route("/operator/agreements/renewals/follow-ups")
@allow(OPERATOR)
def operator_follow_ups():
    """The renewal discounts still open (pending, contacted) by due date, the overdue first,
    a page at a time (`?page=N`)."""
    return htmx.render(
        "agreements/operator_follow_ups.html",
        "follow_up_list",
        rows=renewals.follow_ups_page(db.session, page_number(request.args.get("page", 1))),
        today=istanbul_today(),
        followed_names=in_language(FOLLOWED_NAMES),
        percent=percent,
    )


def _renewal_page(
    agreement: CustomerAgreement,
    status: int = 200,
    *,
    renew_form=None,
    offer_form=None,
    follow_up_forms=None,
    preview=None,
    refusal=None,
    offer_refusal=None,
    block: str = "renewal_actions",
):
    """The agreement's renewal page; the forms given replace blank ones."""
    today = istanbul_today()
    people = _sales_people()
    discounts = renewals.discounts_of(db.session, agreement)
    follow_up_forms = dict(follow_up_forms or {})
    for discount in discounts:
        if discount.id not in follow_up_forms:
            follow_up_forms[discount.id] = FollowUpForm(
                formdata=None,
                prefix=f"discount-{discount.id}",
                followed_status=discount.followed_status,
                assigned_user_id=str(discount.assigned_user_id or ""),
                due_on=discount.due_on,
            )
        with_sales_people(follow_up_forms[discount.id], people)
    names = dict(people)
    # A blank offer form's fields depend only on who is asking and the sales people: kept
    # rendered (portal/caching.py), as they are on every renewal page.
    offer_blank = offer_form is None
    offer_form = offer_form or OfferDiscountForm(
        formdata=None, prefix="offer", assigned_user_id=str(current_user.id)
    )
    return htmx.render(
        "agreements/operator_renewal.html",
        block,
        status=status,
        agreement=agreement,
        products=agreements.products_of(agreement),
        next_term=renewals.renewal_of(db.session, agreement),
        next_dates=renewals.next_term(agreement.starts_on, agreement.ends_on),
        near_end=renewals.near_end(agreement, today),
        renewable=agreement.status == AgreementStatus.SIGNED,
        discounts=discounts,
        accepted=renewals.latest_accepted(discounts, today),
        follow_up_forms=follow_up_forms,
        sales_names=names,
        renew_form=renew_form or RenewForm(formdata=None),
        renew_blank=renew_form is None,
        offer_form=with_sales_people(offer_form, people),
        offer_blank=offer_blank,
        sales_people=people,
        preview=preview,
        refusal=refusal,
        offer_refusal=offer_refusal,
        today=today,
        status_names=in_language(STATUS_NAMES),
        period_labels=PERIOD_LABELS,
        followed_names=in_language(FOLLOWED_NAMES),
        percent=percent,
    )


@bp.route("/operator/agreements/<agreement_id>/renewal")
@allow(OPERATOR)
def operator_renewal(agreement_id):
    """One agreement's renewal: its term and products, the next term's dates, the renew form
    (inflation rate, preview, renew), its discounts with their follow-up forms and the offer
    form.

    :raise 404: no such agreement.
    """
    return _renewal_page(agreement_or_404(agreement_id))


@bp.route("/operator/agreements/<agreement_id>/renew", methods=["POST"])
@allow(OPERATOR)
def operator_renew_agreement(agreement_id):
    """`action=preview`: the new prices at the rate typed, nothing written (200). Otherwise
    renew: the next term is drafted and opens for review. A bad rate comes back next to the
    field, a refused renewal (not signed, already renewed) on the page, 422.

    :raise 404: no such agreement.
    """
    agreement = agreement_or_404(agreement_id)
    form = RenewForm()
    if not form.validate_on_submit():
        return _renewal_page(agreement, 422, renew_form=form)
    today = istanbul_today()
    try:
        if form.previewing:
            preview = renewals.quote(db.session, agreement, form.rate.data, today)
            return _renewal_page(agreement, renew_form=form, preview=preview)
        log = renewals.renew(
            db.session,
            agreement,
            _operator(),
            rate=form.rate.data,
            now=utcnow(),
            today=today,
            note=form.note.data,
        )
    except RenewalError as error:
        db.session.rollback()
        agreement = agreement_or_404(agreement_id)
        refusal = _refuse(form, error)
        return _renewal_page(agreement, 422, renew_form=form, refusal=refusal)
    log_event(
        db.session,
        "agreement_renewed",
        current_user.id,
        current_origin(),
        agreement_id=agreement.id,
        renewed_agreement_id=log.renewed_agreement_id,
        inflation_rate=str(log.inflation_rate) if log.inflation_rate is not None else None,
        previous_amount=str(log.previous_amount),
        new_amount=str(log.new_amount),
    )
    db.session.commit()
    flash(_("The next term is drafted: review it and send it for signature."), "success")
    return htmx.redirect_to(
        url_for("agreements.operator_agreement", agreement_id=log.renewed_agreement_id)
    )


def _user(value) -> User | None:
    wanted = posted_id(value)
    return db.session.get(User, wanted) if wanted is not None else None


@bp.route("/operator/agreements/<agreement_id>/discounts", methods=["POST"])
@allow(OPERATOR)
def operator_offer_discount(agreement_id):
    """Offer a renewal discount (a rate or an amount) assigned to a sales person with a
    follow-up date; refusals next to their field, 422.

    :raise 404: no such agreement.
    """
    agreement = agreement_or_404(agreement_id)
    form = with_sales_people(OfferDiscountForm(prefix="offer"), _sales_people(fresh=True))
    if form.validate_on_submit():
        try:
            discount = renewals.offer_discount(
                db.session,
                agreement,
                rate=form.discount_rate.data,
                amount=form.discount_amount.data,
                assigned_user=_user(form.assigned_user_id.data),
                due_on=form.due_on.data,
                valid_until=form.valid_until.data,
                note=form.note.data,
                today=istanbul_today(),
            )
        except RenewalError as error:
            db.session.rollback()
            agreement = agreement_or_404(agreement_id)
            return _renewal_page(
                agreement,
                422,
                offer_form=form,
                offer_refusal=_refuse(form, error),
                block="offer_form",
            )
        log_event(
            db.session,
            "renewal_discount_offered",
            current_user.id,
            current_origin(),
            agreement_id=agreement.id,
            discount_id=discount.id,
            assigned_user_id=discount.assigned_user_id,
        )
        db.session.commit()
        flash(_("The discount is offered and assigned."), "success")
        return htmx.redirect_to(url_for("agreements.operator_renewal", agreement_id=agreement.id))
    return _renewal_page(agreement, 422, offer_form=form, block="offer_form")


@bp.route("/operator/agreements/discounts/<discount_id>", methods=["POST"])
@allow(OPERATOR)
def operator_follow_up_discount(discount_id):
    """Record a discount's follow-up: status, sales person, next date, note; refusals next to
    their field, 422.

    :raise 404: no such discount.
    """
    wanted = posted_id(discount_id)
    discount = (
        db.session.get(CustomerAgreementsRenewDiscount, wanted) if wanted is not None else None
    )
    if discount is None:
        abort(404)
    agreement = db.session.get(CustomerAgreement, discount.customer_agreement_id)
    form = with_sales_people(
        FollowUpForm(prefix=f"discount-{discount.id}"), _sales_people(fresh=True)
    )
    if form.validate_on_submit():
        before = discount.followed_status
        try:
            renewals.follow_up(
                db.session,
                discount,
                status=form.followed_status.data,
                assigned_user=_user(form.assigned_user_id.data),
                due_on=form.due_on.data,
                note=form.note.data,
                today=istanbul_today(),
            )
        except RenewalError as error:
            db.session.rollback()
            agreement = db.session.get(CustomerAgreement, agreement.id)
            refusal = _refuse(form, error)
            return _renewal_page(
                agreement, 422, follow_up_forms={discount.id: form}, refusal=refusal
            )
        log_event(
            db.session,
            "renewal_discount_followed",
            current_user.id,
            current_origin(),
            agreement_id=agreement.id,
            discount_id=discount.id,
            followed_status=discount.followed_status,
            previous_status=before,
        )
        db.session.commit()
        flash(_("The follow-up is recorded."), "success")
        return htmx.redirect_to(url_for("agreements.operator_renewal", agreement_id=agreement.id))
    return _renewal_page(agreement, 422, follow_up_forms={discount.id: form})
