"""The staff's side of leads: the inbox of the leads their grants cover, and working one.

Every route needs the answer-leads permission (403 without it), then the grant: a lead the
member's grants do not cover is answered 404, the same as an id that names no lead, and the
refusal is logged (a warning naming the member and the lead) and audited as probing. The
grant is asked before any form is read, so nothing of a lead outside the grants is ever
parsed, counted or echoed.

An assignee is a form field naming a colleague: an id that is not one of the colleagues who
may work on the lead (another company's member, one whose grants do not cover the lead, a
deactivated one, a member without the permission, an unknown id) is a 404 too, logged the
same way; a value that is not an id at all is a field error (422).

Working a lead counts towards the member's activity row of the day
(portal.customer.activity), in the same transaction as the step: showing the lead's page is a
view (once a day for each lead in a browser: `_first_view_today`), a note, an assignment or
an ending a reply, an offer an offer.
"""

from datetime import timedelta

from flask import abort, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.access.grants import granted_school_names
from portal.access.permissions import Permission, can
from portal.caching import remembered
from portal.clock import istanbul_today
from portal.core.views.errors import refuse_not_yours
from portal.customer import activity
from portal.extensions import db
from portal.forms import BlankForm, LazyForm, posted_id
from portal.i18n import in_language
from portal.leads import bp, inbox, leads, offers
from portal.leads.staff_forms import (
    CONTACT_PREFERENCE_NAMES,
    EVENT_KIND_NAMES,
    LEAD_STATE_NAMES,
    OFFER_DAYS,
    OFFER_STATUS_NAMES,
    AssignForm,
    EndForm,
    InboxFilterForm,
    NoteForm,
    OfferForm,
)
from portal.models import CustomerUser, Lead
from portal.origin import current_origin
from portal.paging import page_number
from portal.schools.fees import school_year_label

INBOX = "leads/staff/inbox.html"
LEAD = "leads/staff/lead.html"


def _member() -> CustomerUser:
    """The signed-in member, who must be allowed to answer leads.

    :raise 403: for a member whose role does not answer leads.
    """
    customer_user = current_user.customer_user
    if not can(customer_user, Permission.ANSWER_LEADS):
        abort(403)
    return customer_user


def _covered_lead(customer_user: CustomerUser, lead_id: int) -> Lead:
    """The lead, when the member's grants cover it.

    :raise 404: otherwise (logged with the member and the lead, and audited).
    """
    lead = inbox.lead_for_staff(db.session, customer_user, lead_id)
    if lead is None:
        _refuse("lead", lead_id, customer_user)
    return lead


def _refuse(kind: str, object_id, customer_user: CustomerUser):
    current_app.logger.warning(
        "staff lead access refused: user %s (customer_user %s) asked for %s %s outside their "
        "grants",
        customer_user.user_id,
        customer_user.id,
        kind,
        object_id,
    )
    refuse_not_yours(kind, object_id)


# The function is not called `inbox`: that is the domain module it calls.
@bp.route("/customer/leads", endpoint="inbox")
@allow(CUSTOMER_USER)
def inbox_list():
    """The leads the member may work on, newest first, filtered by state, assignee and school,
    a page at a time. htmx swaps the list alone as a filter changes or a page turns; without
    JavaScript the filter form is a plain GET form.

    A filter value that is not one of its choices (an edited address) falls back to its
    default; a school outside the member's grants is not among the choices.

    :raise 403: for a member who may not answer leads.
    """
    customer_user = _member()
    # The schools the inbox may be narrowed to: those the member has a grant on. The list
    # alone (htmx) shows none of them, so it reads them only to check a school chosen.
    schools = (
        granted_school_names(db.session, customer_user)
        if request.args.get("school") or not htmx.wants_fragment()
        else []
    )
    # The filters as the form reads the address, remembered (portal.caching): the form is
    # built only when its kept markup is missing.
    form = LazyForm(lambda: _inbox_filter_form(schools))
    state, assigned, school = remembered(
        "inbox-filters",
        (tuple(request.args.items(multi=True)), tuple(schools)),
        lambda: (form.state.data, form.assigned.data, form.school.data),
    )
    school_id = int(school) if school else None
    page = inbox.inbox_page(
        db.session,
        customer_user,
        state=state,
        assigned=assigned,
        school_id=school_id,
        number=page_number(request.args.get("page", 1)),
    )
    return htmx.render(
        INBOX,
        "lead_list",
        form=form,
        schools_key=tuple(schools),
        page=page,
        lead_state_names=in_language(LEAD_STATE_NAMES),
        filters={"state": state, "assigned": assigned, **({"school": school} if school_id else {})},
    )


def _inbox_filter_form(schools: list[tuple[int, str]]) -> InboxFilterForm:
    """The filter form as the address fills it, offering the member's schools; a value that
    is not one of a filter's choices (an edited address) taken as its default."""
    form = InboxFilterForm(request.args)
    form.school.choices = [SelectChoice("", _("All schools"))] + [
        SelectChoice(str(school_id), name) for school_id, name in schools
    ]
    for select in (form.state, form.assigned, form.school):
        if select.data not in {choice.value for choice in select.choices}:
            select.data = select.default
    return form


@bp.route("/customer/leads/<int:lead_id>")
@allow(CUSTOMER_USER)
def staff_lead(lead_id: int):
    """One lead: the parent and how to reach them (as their consent and preference allow),
    the whole timeline with the internal notes, the offers, and the forms to work it.
    The first showing of the day in a browser counts as a lead view in the member's activity
    of the day.

    :raise 403: for a member who may not answer leads.
    :raise 404: for a lead outside the member's grants (or no lead).
    """
    customer_user = _member()
    lead = _covered_lead(customer_user, lead_id)
    viewed = _first_view_today(customer_user, lead)
    if viewed:
        activity.record(db.session, customer_user, lead_views=1)
    response = _lead_page(customer_user, lead, "lead_work")
    if viewed:
        db.session.commit()
    return response


# The leads a browser has shown its member today, newest last: (member id, Istanbul date,
# lead ids). A lead counts as viewed once a day: a reload, or coming back to it after a step
# (without JavaScript every form here returns to the page), is the same view, and costs the
# database nothing. The newest VIEWED_KEPT are kept, which bounds the session cookie.
VIEWED_TODAY = "leads_viewed_today"
VIEWED_KEPT = 40


def _first_view_today(customer_user: CustomerUser, lead: Lead) -> bool:
    """Whether this browser shows `lead` to the member for the first time today (Istanbul);
    notes that it has."""
    today = istanbul_today().isoformat()
    member, day, shown = session.get(VIEWED_TODAY) or (None, None, [])
    if (member, day) != (customer_user.id, today):
        shown = []
    elif lead.id in shown:
        return False
    session[VIEWED_TODAY] = (customer_user.id, today, [*shown, lead.id][-VIEWED_KEPT:])
    return True


@bp.route("/customer/leads/<int:lead_id>/offers", methods=["POST"])
@allow(CUSTOMER_USER)
def staff_offer(lead_id: int):
    """Make an offer to the parent (the fee as Turkish people write it: 150.000 or 150000,50).

    :raise 403: for a member who may not answer leads.
    :raise 404: for a lead outside the member's grants.
    """
    customer_user = _member()
    lead = _covered_lead(customer_user, lead_id)
    form = OfferForm()
    if form.validate_on_submit():
        try:
            offers.make_offer(
                db.session,
                lead,
                customer_user,
                yearly_fee=form.yearly_fee.data,
                discount_percent=form.discount_percent.data or 0,
                valid_until=form.valid_until.data,
                note=form.note.data,
                origin=current_origin(),
            )
        except offers.OfferError as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            activity.record(db.session, customer_user, offers=1)
            return _done(customer_user, lead, _("Offer sent to the parent."))
    return _refused(customer_user, lead, offer_form=form)


@bp.route("/customer/leads/<int:lead_id>/notes", methods=["POST"])
@allow(CUSTOMER_USER)
def staff_note(lead_id: int):
    """Add an internal note to the timeline; the parent never sees it.

    :raise 403: for a member who may not answer leads.
    :raise 404: for a lead outside the member's grants.
    """
    customer_user = _member()
    lead = _covered_lead(customer_user, lead_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _refused(customer_user, lead, note_form=form)
    leads.add_event(
        db.session,
        lead,
        "note",
        actor_user_id=customer_user.user_id,
        body=form.body.data,
        internal=True,
    )
    activity.record(db.session, customer_user, lead_replies=1)
    return _done(customer_user, lead, _("Note added."))


@bp.route("/customer/leads/<int:lead_id>/assign", methods=["POST"])
@allow(CUSTOMER_USER)
def staff_assign(lead_id: int):
    """Give the lead to a colleague who may work on it, or to nobody.

    :raise 403: for a member who may not answer leads.
    :raise 404: for a lead outside the member's grants, or an assignee who is not one of the
        colleagues who may work on it.
    """
    customer_user = _member()
    lead = _covered_lead(customer_user, lead_id)
    members = inbox.assignable_members(db.session, lead)
    form = _assign_form(members)
    raw = (request.form.get("assignee") or "").strip()
    wanted = posted_id(raw)
    if raw and wanted is None:  # not an id at all: the form's error, not another's object
        form.validate_on_submit()  # the CSRF check and the base form's refusals
        form.assignee.errors = [*form.assignee.errors, _("Choose a colleague from the list.")]
        return _refused(customer_user, lead, assign_form=form)
    assignee = next((m for m in members if m.id == wanted), None)
    if wanted is not None and assignee is None:
        _refuse("customer_user", wanted, customer_user)
    if not form.validate_on_submit():
        return _refused(customer_user, lead, assign_form=form)
    if not lead.is_open:
        form.form_errors.append(_("This request is no longer open."))
        return _refused(customer_user, lead, assign_form=form)
    if wanted == lead.assigned_customer_user_id:
        return _done(customer_user, lead, _("Nothing changed."))
    leads.assign(
        db.session, lead, assignee, actor_user_id=customer_user.user_id, origin=current_origin()
    )
    activity.record(db.session, customer_user, lead_replies=1)
    message = (
        _("Assigned to %(name)s.", name=assignee.user.name)
        if assignee is not None
        else _("Nobody follows this request now.")
    )
    return _done(customer_user, lead, message)


@bp.route("/customer/leads/<int:lead_id>/end", methods=["POST"])
@allow(CUSTOMER_USER)
def staff_end(lead_id: int):
    """End an open lead as lost or closed, with the reason on the timeline.

    :raise 403: for a member who may not answer leads.
    :raise 404: for a lead outside the member's grants.
    """
    customer_user = _member()
    lead = _covered_lead(customer_user, lead_id)
    form = EndForm()
    if form.validate_on_submit():
        try:
            leads.end_lead(
                db.session,
                lead,
                form.state.data,
                actor_user_id=customer_user.user_id,
                origin=current_origin(),
                body=form.reason.data,
            )
        except leads.LeadError as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            activity.record(db.session, customer_user, lead_replies=1)
            return _done(customer_user, lead, _("The request is ended."))
    return _refused(customer_user, lead, end_form=form)


# --- Answers --------------------------------------------------------------------------------


def _done(customer_user: CustomerUser, lead: Lead, message: str):
    """A step was taken: commit; htmx gets the work area again, a plain form the lead's page
    (Post/Redirect/Get)."""
    db.session.commit()
    if htmx.wants_fragment():
        lead = inbox.lead_for_staff(db.session, customer_user, lead.id)
        return _lead_page(customer_user, lead, "lead_work", done=message)
    flash(message, "success")
    return htmx.redirect_to(url_for("leads.staff_lead", lead_id=lead.id))


def _refused(customer_user: CustomerUser, lead: Lead, **forms):
    """A refused form: the work area (or the whole page) with its errors, 422; nothing of it
    was written."""
    db.session.rollback()
    lead = inbox.lead_for_staff(db.session, customer_user, lead.id)
    return _lead_page(customer_user, lead, "lead_work", status=422, **forms)


def _assign_form(members: list[CustomerUser], **kwargs) -> AssignForm:
    form = AssignForm(**kwargs)
    form.assignee.choices = [SelectChoice("", _("Nobody"))] + [
        SelectChoice(str(member.id), member.user.name) for member in members
    ]
    return form


def _lead_page(
    customer_user: CustomerUser,
    lead: Lead,
    block: str,
    status: int = 200,
    done: str | None = None,
    offer_form: OfferForm | None = None,
    note_form: NoteForm | None = None,
    assign_form: AssignForm | None = None,
    end_form: EndForm | None = None,
):
    """The lead's page, or its work area for htmx; fresh forms where none carry errors (built
    only if their kept fields are missing: portal.forms.BlankForm)."""
    today = istanbul_today()
    members = inbox.assignable_members(db.session, lead)
    if offer_form is None:
        offer_form = BlankForm.of(OfferForm, valid_until=today + timedelta(days=OFFER_DAYS))
    if assign_form is None:
        assignee = str(lead.assigned_customer_user_id or "")
        assign_form = BlankForm(
            lambda: _assign_form(members, formdata=None, data={"assignee": assignee}),
            (AssignForm.__qualname__, assignee, tuple((m.id, m.user.name) for m in members)),
        )
    return htmx.render(
        LEAD,
        block,
        status=status,
        lead=lead,
        contact=inbox.parent_contact(lead),
        offers=[
            (offer, offers.net_fee(offer), offers.is_expired(offer, today))
            for offer in inbox.offers_of(lead)
        ],
        done=done,
        offer_form=offer_form,
        note_form=note_form or BlankForm.of(NoteForm),
        assign_form=assign_form,
        end_form=end_form or BlankForm.of(EndForm),
        school_year_label=school_year_label,
        lead_state_names=in_language(LEAD_STATE_NAMES),
        event_kind_names=in_language(EVENT_KIND_NAMES),
        offer_status_names=in_language(OFFER_STATUS_NAMES),
        contact_preference_names=in_language(CONTACT_PREFERENCE_NAMES),
    )
