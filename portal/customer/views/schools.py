"""The schools' own pages: the list of schools the member may edit, and each school's editing
page (its own fields, its listing, each campus's fees).

Every route needs Permission.EDIT_SCHOOL_PAGES (403 without it, a deactivated member
included); then the grant: a school outside the member's grants, or another company's, is a
404, the same as an unknown slug, and so is a campus outside them named in a form. The
school's own fields and its listing need the whole school granted (403 for a campus-only
member, who is never offered them). The rules themselves are in portal.customer.school_pages.
"""

from dataclasses import fields

from flask import Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.clock import istanbul_today
from portal.core.views.errors import refuse_not_yours
from portal.customer import bp, school_pages
from portal.customer.school_forms import (
    YEAR_SLOTS,
    CampusFeesForm,
    ListingForm,
    SchoolDetailsForm,
)
from portal.customer.school_pages import EditableSchool, SchoolDetails
from portal.extensions import db
from portal.forms import BlankForm
from portal.i18n import LEVEL_NAMES
from portal.models import CustomerUser
from portal.models.base import MAX_ID
from portal.origin import current_origin
from portal.paging import page_number
from portal.schools.fees import school_year_label, school_years_offered

LIST = "customer/schools.html"
EDIT = "customer/school_edit.html"


def _member() -> CustomerUser:
    """The signed-in member, who must be allowed to edit school pages.

    :raise 403: otherwise (a deactivated member has no permissions).
    """
    customer_user = current_user.customer_user
    if not school_pages.may_edit_school_pages(customer_user):
        abort(403)
    return customer_user


def _editable(customer_user: CustomerUser, slug: str) -> EditableSchool:
    """The school as far as the member may edit it.

    :raise 404: for an unknown school, another company's, or one outside the grants.
    """
    try:
        return school_pages.editable_school(db.session, customer_user, slug)
    except school_pages.NotYours:
        _refuse("school", slug, customer_user)


def _refuse(kind: str, object_id, customer_user: CustomerUser):
    current_app.logger.warning(
        "school page access refused: user %s (customer_user %s) asked for %s %s outside "
        "their grants",
        customer_user.user_id,
        customer_user.id,
        kind,
        object_id,
    )
    refuse_not_yours(kind, object_id)


@bp.route("/schools")
@allow(CUSTOMER_USER)
def schools():
    """The schools the member may edit, a page at a time, each linking to its editing page.

    :raise 403: for a member who may not edit school pages.
    """
    customer_user = _member()
    return htmx.render(
        LIST,
        "school_list",
        grants=school_pages.editable_schools_page(
            db.session, customer_user, page_number(request.args.get("page", 1))
        ),
    )


@bp.route("/schools/<slug>", methods=["GET", "POST"])
@allow(CUSTOMER_USER)
def school_edit(slug: str):
    """A school's editing page; POST saves the school's own fields and levels (whole-school
    members only). htmx gets the details form back (422 with the errors next to the fields).

    :raise 403: for a member who may not edit school pages, or a campus-only member posting.
    :raise 404: for a school outside the member's grants.
    """
    customer_user = _member()
    editable = _editable(customer_user, slug)
    if request.method == "POST" and not editable.whole_school:
        abort(403)
    form = None
    if request.method == "POST":
        # What a field left out of the post keeps: the stored value.
        levels = school_pages.school_levels(db.session, editable.school.id)
        form = SchoolDetailsForm(data=_details_data(editable, levels))
    if form is not None and form.validate_on_submit():
        details = SchoolDetails(
            description=form.description.data,
            address_line=form.address_line.data,
            phone=form.phone.data,
            email=form.email.data,
            website=form.website.data,
        )
        try:
            changed = school_pages.change_school_details(
                db.session,
                customer_user,
                editable,
                details,
                form.levels.data or [],
                current_origin(),
                istanbul_today(),
            )
        except school_pages.LevelStillPriced as refused:
            db.session.rollback()
            editable = _editable(customer_user, slug)  # afresh: the rollback expired it
            form.levels.errors = [
                _(
                    "Campuses still publish fees for: %(levels)s. Remove those fees first.",
                    levels=", ".join(str(LEVEL_NAMES[level]) for level in refused.levels),
                )
            ]
        else:
            db.session.commit()
            flash(_("School page saved.") if changed else _("Nothing changed."), "success")
            return htmx.redirect_to(url_for("customer.school_edit", slug=slug))
    return _page(
        editable,
        "school_details",
        status=htmx.form_status(form) if form else 200,
        details_form=form,
    )


@bp.route("/schools/<slug>/fees", methods=["POST"])
@allow(CUSTOMER_USER)
def save_campus_fees(slug: str):
    """Save one campus's fees (the campus is a form field). htmx gets the campus's form back,
    saved (200) or with its errors (422); a plain form a redirect to the page, or the page
    with the errors.

    :raise 403: for a member who may not edit school pages.
    :raise 404: for a school or a campus outside the member's grants.
    """
    customer_user = _member()
    editable = _editable(customer_user, slug)
    form = CampusFeesForm()
    # The campus is asked before the form is validated or shown: nothing sent for a campus
    # outside the grants is checked, counted or echoed.
    campus_id = None if form.campus_id.process_errors else form.campus_id.data
    if campus_id is None or not 0 < campus_id <= MAX_ID:
        return _page(editable, "content", status=422)
    try:
        campus = editable.campus(campus_id)
    except school_pages.NotYours:
        _refuse("campus", campus_id, customer_user)
    today = istanbul_today()
    if form.validate_on_submit():
        try:
            changes = school_pages.change_campus_fees(
                db.session,
                customer_user,
                editable,
                campus.id,
                form.fees(),
                current_origin(),
                today,
            )
        except school_pages.StaleSchoolYears:
            db.session.rollback()
            editable = _editable(customer_user, slug)  # afresh: the rollback expired it
            form.school_year.errors = [
                _(
                    "The school years have moved on since this page was loaded. Check the fees "
                    "and save again."
                )
            ]
            # The form comes back for the years offered now, the amounts as typed.
            form.school_year.data = school_years_offered(today)[0]
            form.school_year.raw_data = [str(form.school_year.data)]
        else:
            db.session.commit()
            message = _("Fees saved.") if changes else _("Nothing changed.")
            if htmx.wants_fragment():
                return _campus_fragment(editable, campus.id, message=message)
            flash(message, "success")
            return htmx.redirect_to(
                url_for("customer.school_edit", slug=slug, _anchor=f"campus-{campus.id}")
            )
    if htmx.wants_fragment():
        return _campus_fragment(editable, campus.id, form=form, status=422)
    return _page(editable, "content", status=422, fee_forms={campus.id: form})


@bp.route("/schools/<slug>/listing", methods=["POST"])
@allow(CUSTOMER_USER)
def set_school_listing(slug: str):
    """List the school on the portal or take it off (whole-school members only). Listing one
    school more than the plan allows is refused with the upgrade link (422).

    :raise 403: for a member who may not edit school pages, or a campus-only member.
    :raise 404: for a school outside the member's grants.
    """
    customer_user = _member()
    editable = _editable(customer_user, slug)
    if not editable.whole_school:
        abort(403)
    form = ListingForm()
    if not form.validate_on_submit():
        return _page(editable, "listing", status=422)
    listed = form.listed.data == "yes"
    try:
        school_pages.set_listed(db.session, customer_user, editable, listed, current_origin())
    except school_pages.ListedLimitReached as refused:
        db.session.rollback()
        editable = _editable(customer_user, slug)  # afresh: the rollback expired it
        return _page(editable, "listing", status=422, listing_refused=refused)
    db.session.commit()
    flash(
        _("The school is listed: parents find it now.")
        if listed
        else _("The school is no longer listed: parents do not find it."),
        "success",
    )
    return htmx.redirect_to(url_for("customer.school_edit", slug=slug))


def _details_data(editable: EditableSchool, levels: list[str]) -> dict:
    # Not obj=school: School.levels would read the levels through a relationship not loaded.
    # Hashable values, so that the blank form's kept fields can be found by them.
    school = editable.school
    return {
        **{f.name: getattr(school, f.name) for f in fields(SchoolDetails)},
        "levels": tuple(levels),
    }


def _fee_forms(editable: EditableSchool, years: list[int]) -> dict[int, BlankForm]:
    """A fee form per campus, filled from the stored fees (one statement for all campuses);
    each built only if its kept fields are missing (portal.forms.BlankForm)."""
    stored = school_pages.fees_of(db.session, [c.id for c in editable.campuses], years)
    forms = {}
    for campus in editable.campuses:
        values = {"campus_id": campus.id, "school_year": years[0]}
        for (level, school_year), amount in stored[campus.id].items():
            values[f"{level}_{YEAR_SLOTS[years.index(school_year)]}"] = amount
        forms[campus.id] = BlankForm.of(CampusFeesForm, **values)
    return forms


def _page(
    editable: EditableSchool,
    block: str,
    status: int = 200,
    details_form: SchoolDetailsForm | None = None,
    fee_forms: dict | None = None,
    listing_refused=None,
) -> Response:
    """The editing page, or one of its blocks for htmx; `fee_forms` replaces the stored fees
    of the campuses it names (a form sent back with its errors)."""
    years = school_years_offered(istanbul_today())
    forms = _fee_forms(editable, years)
    forms.update(fee_forms or {})
    if details_form is None and editable.whole_school:
        levels = school_pages.school_levels(db.session, editable.school.id)
        details_form = BlankForm.of(SchoolDetailsForm, **_details_data(editable, levels))
    # What the listing switch says (listed x of y): for a whole-school grant only.
    listed_count, listed_limit = (
        school_pages.listing_usage(db.session, editable.school.customer_id)
        if editable.whole_school
        else (None, None)
    )
    return htmx.render(
        EDIT,
        block,
        status=status,
        editable=editable,
        school=editable.school,
        details_form=details_form,
        fee_forms=forms,
        year_labels=[school_year_label(year) for year in years],
        year_slots=YEAR_SLOTS,
        listing_refused=listing_refused,
        listed_count=listed_count,
        listed_limit=listed_limit,
        saved_campus=None,
        saved_message=None,
    )


def _campus_fragment(
    editable: EditableSchool,
    campus_id: int,
    form: CampusFeesForm | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    """One campus's fee form, for htmx: saved (with `message`) or with its errors."""
    years = school_years_offered(istanbul_today())
    campus = editable.campus(campus_id)
    if form is None:
        form = _fee_forms(EditableSchool(editable.school, editable.whole_school, [campus]), years)[
            campus.id
        ]
    return htmx.render(
        EDIT,
        "campus_fees",
        status=status,
        editable=editable,
        school=editable.school,
        campus=campus,
        form=form,
        year_labels=[school_year_label(year) for year in years],
        year_slots=YEAR_SLOTS,
        saved_message=message,
    )
