"""The parent's side of leads: asking a school, their leads and the offers on them.

Asking needs the KVKK explicit consent (sharing the parent's details with the school rests on
it): without a live one the form shows the consent text and a required checkbox, and the
consent is recorded (method "lead_form") in the same transaction as the lead. The form carries
a random key made when it is shown, so that a double click is one lead.

On a lead's page the offers and the state are one block (`lead_state`): answering an offer or
withdrawing swaps it with htmx; without JavaScript the same forms redirect back. Another
parent's lead or offer is a 404, the same answer as an unknown one.
"""

import secrets

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal import htmx
from portal.access import PARENT, allow
from portal.auth import registration
from portal.clock import istanbul_today
from portal.core.views.errors import refuse_not_yours
from portal.extensions import db
from portal.forms import EmptyForm, posted_id
from portal.i18n import LEVEL_NAMES
from portal.leads import bp, leads, offers
from portal.leads.forms import AskForm, OfferAnswerForm, names_in_language
from portal.models import Campus, ConsentText, Lead, School, SchoolOffer
from portal.models.base import MAX_ID
from portal.models.schools import SCHOOL_LEVELS
from portal.origin import current_origin
from portal.paging import page_number
from portal.schools import catalogue
from portal.schools.fees import campus_fees, school_year_label, school_years_offered

ASK_TEMPLATE = "leads/ask.html"
LEAD_TEMPLATE = "leads/my_lead.html"
CONSENT_KIND = "kvkk_consent"


@bp.route("/schools/<slug>/ask", methods=["GET", "POST"])
@allow(PARENT)
def ask(slug: str):
    """Ask a published school, or one live campus of it (`?campus=<id>`), for information.

    A refused form comes back with the errors next to its fields (422); success redirects to
    the new lead's page (303, or HX-Redirect for htmx). Sending the same form twice answers
    with the lead the first one made.

    :raise 404: no published school with that slug, or the campus is not a live campus of it.
    """
    school, campus = _school_and_campus(slug)
    today = istanbul_today()
    years = school_years_offered(today)
    levels = _levels_asked(school, campus, years)
    consent = leads.live_consent(db.session, current_user.id)
    consent_text = None if consent else registration.current_text(db.session, CONSENT_KIND)
    form = AskForm()
    form.level.choices = [SelectChoice(level, LEVEL_NAMES[level]) for level in levels]
    form.school_year.choices = [SelectChoice(year, school_year_label(year)) for year in years]
    if request.method == "GET":
        form.request_key.data = secrets.token_urlsafe(24)
        if consent_text is not None:
            form.consent_text_id.data = str(consent_text.id)
    if form.is_submitted():
        shown_text = _shown_consent_text(form) if consent is None else None
        valid = form.validate_on_submit()
        valid = _check_contact(form) and valid
        if consent is None:
            valid = _check_consent(form, shown_text) and valid
        if valid:
            try:
                lead, created = leads.open_lead(
                    db.session,
                    current_user,
                    school=school,
                    campus=campus,
                    level=form.level.data,
                    school_year=form.school_year.data,
                    message=form.message.data,
                    contact_preference=form.contact_preference.data,
                    request_key=form.request_key.data,
                    consent=consent,
                    accepted_text=shown_text,
                    origin=current_origin(),
                )
            except leads.LeadError as refused:
                db.session.rollback()
                form.form_errors.append(str(refused))
            else:
                db.session.commit()
                if created:
                    flash(_("Your request is sent. The school will answer you here."), "success")
                else:
                    flash(_("Your request was already sent; here it is."), "info")
                return htmx.redirect_to(url_for("leads.my_lead", lead_id=lead.id))
    return htmx.render(
        ASK_TEMPLATE,
        "ask_form",
        status=htmx.form_status(form),
        school=school,
        campus=campus,
        form=form,
        consent_text=consent_text,
        ask_url=_ask_url(school, campus),
    )


@bp.route("/account/leads")
@allow(PARENT)
def my_leads():
    """The parent's leads, newest first, paged, with their state and open offers."""
    page = leads.parent_leads_page(
        db.session, current_user.id, page_number(request.args.get("page")), istanbul_today()
    )
    return htmx.render("leads/my_leads.html", "lead_list", page=page, **names_in_language())


@bp.route("/account/leads/<int:lead_id>")
@allow(PARENT)
def my_lead(lead_id: int):
    """One of the parent's leads: its timeline (no internal events) and its offers.

    :raise 404: when the lead is unknown or another parent's.
    """
    return _lead_page(_own_lead(lead_id))


@bp.route("/account/leads/<int:lead_id>/offers/<int:offer_id>", methods=["POST"])
@allow(PARENT)
def offer_answer(lead_id: int, offer_id: int):
    """Accept (which wins the lead) or decline an offer. A refusal (expired, already
    answered, a closed lead) is shown on the page with 422.

    :raise 404: when the lead is not the parent's, or the offer not one of the lead's.
    """
    lead = _own_lead(lead_id)
    offer = db.session.get(SchoolOffer, offer_id) if offer_id <= MAX_ID else None
    if offer is None or offer.lead_id != lead.id:
        refuse_not_yours("school_offer", offer_id)
    form = OfferAnswerForm()
    if not form.validate_on_submit():
        return _lead_page(lead, status=422, error=_("Choose to accept or decline the offer."))
    answer = offers.accept_offer if form.action.data == "accept" else offers.decline_offer
    try:
        answer(db.session, offer, current_user, origin=current_origin(), today=istanbul_today())
    except offers.OfferError as refused:
        db.session.rollback()
        return _lead_page(_own_lead(lead_id), status=422, error=str(refused))
    db.session.commit()
    if form.action.data == "accept":
        message = _("You accepted the offer. The school is told.")
    else:
        message = _("You declined the offer. The school is told.")
    return _answered(lead, message)


@bp.route("/account/leads/<int:lead_id>/withdraw", methods=["POST"])
@allow(PARENT)
def withdraw(lead_id: int):
    """Withdraw the request: the lead is closed and the school stops working on it.

    :raise 404: when the lead is unknown or another parent's.
    """
    lead = _own_lead(lead_id)
    if not EmptyForm().validate_on_submit():
        return _lead_page(lead, status=422, error=_("The form has expired; please try again."))
    try:
        leads.end_lead(
            db.session, lead, "closed", actor_user_id=current_user.id, origin=current_origin()
        )
    except leads.LeadError as refused:
        db.session.rollback()
        return _lead_page(_own_lead(lead_id), status=422, error=str(refused))
    db.session.commit()
    return _answered(lead, _("Your request is withdrawn."))


def _answered(lead: Lead, message: str):
    """htmx gets the lead's state block again, with the message; a plain form a redirect."""
    if htmx.wants_fragment():
        return _lead_page(_own_lead(lead.id), notice=message)
    flash(message, "success")
    return htmx.redirect_to(url_for("leads.my_lead", lead_id=lead.id))


def _lead_page(lead: Lead, status: int = 200, error: str | None = None, notice: str | None = None):
    today = istanbul_today()
    offer_rows = [
        (
            offer,
            offers.net_fee(offer),
            offers.is_expired(offer, today),
            # 12.50 → "12.5", 10.00 → "10" (normalize alone would write 1E+1)
            format(offer.discount_percent.normalize(), "f"),
        )
        for offer in leads.offers_of(db.session, lead)
    ]
    return htmx.render(
        LEAD_TEMPLATE,
        "lead_state",
        status=status,
        lead=lead,
        timeline=leads.parent_timeline(db.session, lead),
        offer_rows=offer_rows,
        answer_form=OfferAnswerForm(),
        error=error,
        notice=notice,
        **names_in_language(),
    )


def _own_lead(lead_id: int) -> Lead:
    lead = leads.parent_lead(db.session, current_user.id, lead_id) if lead_id <= MAX_ID else None
    if lead is None:
        refuse_not_yours("lead", lead_id)  # unknown, or another parent's: the same answer
    return lead


def _school_and_campus(slug: str) -> tuple[School, Campus | None]:
    school = catalogue.published_school(db.session, slug)
    if school is None:
        abort(404)
    raw = request.args.get("campus")
    if raw is None or raw == "":
        return school, None
    campus = next((c for c in school.campuses if str(c.id) == raw), None)
    if campus is None or campus.deleted_at is not None:
        abort(404)
    return school, campus


def _levels_asked(school: School, campus: Campus | None, years: list[int]) -> list[str]:
    """The levels to offer: those the campus publishes a fee for (this year or next), else
    the school's levels, else every level."""
    if campus is not None:
        priced = {
            fee.level
            for by_campus in campus_fees(db.session, [campus.id], years).values()
            for fee in by_campus[campus.id]
        }
        if priced:
            return [level for level in SCHOOL_LEVELS if level in priced]
    return school.levels or list(SCHOOL_LEVELS)


def _ask_url(school: School, campus: Campus | None) -> str:
    if campus is None:
        return url_for("leads.ask", slug=school.slug)
    return url_for("leads.ask", slug=school.slug, campus=campus.id)


def _check_contact(form: AskForm) -> bool:
    """Asking to be phoned needs a phone number the school can use."""
    if form.contact_preference.data in ("phone", "either") and not leads.has_phone(
        db.session, current_user.id
    ):
        form.contact_preference.errors = [
            *form.contact_preference.errors,
            _("Add a phone number to your profile or contacts first, or choose e-mail."),
        ]
        return False
    return True


def _shown_consent_text(form: AskForm) -> ConsentText | None:
    shown = posted_id(form.consent_text_id.data)
    if shown is None:
        return None
    text = db.session.get(ConsentText, shown)
    return text if text is not None and text.kind == CONSENT_KIND else None


def _check_consent(form: AskForm, shown_text: ConsentText | None) -> bool:
    if shown_text is None:
        form.consent.errors = [
            *form.consent.errors,
            _("The consent text has changed; please read it and tick the box again."),
        ]
        return False
    if not form.consent.data:
        form.consent.errors = [
            *form.consent.errors,
            _("Your consent is needed to send your details to the school."),
        ]
        return False
    return True
