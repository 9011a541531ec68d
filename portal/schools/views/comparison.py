"""The parent's comparison of schools and campuses, side by side: the page, and the add and
remove toggles that the result cards, the school page and the favorites page show."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    get_template_attribute,
    make_response,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import HiddenField, IntegerField
from wtforms.validators import AnyOf, InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from portal import htmx
from portal.access import PARENT, allow
from portal.clock import istanbul_today
from portal.extensions import db
from portal.forms import Form
from portal.models.base import MAX_ID
from portal.places import public_target
from portal.schools import bp, comparison
from portal.schools.fees import school_year_label, school_years_offered
from portal.urls import safe_next


class CompareForm(Form):
    """Which school or campus to add or remove; the user is always the one signed in.

    Every field is hidden: the form is a toggle button, so a failure means a tampered or
    stale request (400), not a typing mistake to show next to a field.
    """

    kind = HiddenField(validators=[InputRequired(), AnyOf(comparison.KINDS)])
    target_id = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)]
    )
    # Where a plain request returns to (checked with portal.urls.safe_next before use).
    next = HiddenField()
    # What an htmx request wants back: the toggle (default) or "compare_table".
    fragment = HiddenField()


@bp.route("/compare")
@allow(PARENT)
def compare():
    """The parent's comparison side by side, with the fees of the chosen school year
    (`?year=2026`, this one or the next; anything else is this one)."""
    years = school_years_offered(istanbul_today())
    year = request.args.get("year", type=int)
    return _compare_page(year if year in years else years[0])


@bp.route("/compare", methods=["POST"])
@allow(PARENT)
def add_to_comparison():
    """Put a school or campus in the comparison; adding one twice changes nothing.

    Answers htmx with the toggle in its new state (422 with a message at the limit), a plain
    form with a redirect back to `next` (at the limit: with the message and the upgrade link).

    :raise 400: when the form does not name a kind and an id.
    :raise 404: when the school or campus is unknown, unpublished or deleted.
    """
    form = _submitted_form()
    target = public_target(db.session, form.kind.data, form.target_id.data)
    try:
        comparison.add_to_comparison(db.session, current_user, form.kind.data, form.target_id.data)
    except comparison.ComparisonTargetNotFound:
        abort(404)
    except comparison.ComparisonLimitReached as refused:
        db.session.rollback()  # nothing was written; ends the transaction and its row lock
        message = _limit_message(refused.limit)
        if htmx.wants_fragment():
            return _toggle(form, is_compared=False, status=422, error=message, target=target)
        flash(message, "upgrade")
        return _back(form)
    if htmx.wants_fragment():
        # Drawn before the commit, while the school or campus checked above is still loaded.
        response = _toggle(form, is_compared=True, target=target)
        db.session.commit()
        return response
    db.session.commit()
    flash(_("Added to your comparison."), "success")
    return _back(form)


@bp.route("/compare/remove", methods=["POST"])
@allow(PARENT)
def remove_from_comparison():
    """Take a school or campus out of the comparison; removing one not there changes nothing.

    Answers htmx with the toggle in its new state, or with the redrawn table when the request
    came from the comparison page; a plain form with a redirect back to `next`.

    :raise 400: when the form does not name a kind and an id.
    """
    form = _submitted_form()
    comparison.remove_from_comparison(db.session, current_user, form.kind.data, form.target_id.data)
    db.session.commit()
    if htmx.wants_fragment():
        if form.fragment.data == "compare_table":
            years = school_years_offered(istanbul_today())
            year = request.form.get("year", type=int)
            return _compare_page(year if year in years else years[0])
        return _toggle(form, is_compared=False)
    flash(_("Removed from your comparison."), "success")
    return _back(form)


def _limit_message(limit: int) -> str:
    if limit == 0:
        return _("Comparing schools is not part of your plan. Choose a plan that includes it.")
    return _(
        "You can compare up to %(limit)d schools or campuses at once. Remove one, or choose"
        " a bigger plan.",
        limit=limit,
    )


def _compare_page(year: int) -> Response:
    columns = comparison.comparison(db.session, current_user.id, year)
    years = school_years_offered(istanbul_today())
    return htmx.render(
        "schools/compare.html",
        "compare_table",
        columns=columns,
        levels=comparison.comparison_levels(columns),
        year=year,
        year_label=school_year_label(year),
        years=[(y, school_year_label(y)) for y in years],
        limit=comparison.comparison_limit(db.session, current_user.id),
        # The ask form belongs to the leads feature; until its route exists, no link to it.
        can_ask="leads.ask" in current_app.view_functions,
    )


def _submitted_form() -> CompareForm:
    """The posted toggle form; any other field (a user id, say) is ignored."""
    form = CompareForm()
    if not form.validate_on_submit():
        abort(400)
    return form


def _toggle(
    form: CompareForm, is_compared: bool, status: int = 200, error=None, target=None
) -> Response:
    """The toggle alone, as htmx swaps it in place of the one that was pressed.

    `target` is the school or campus when the view has it already; else it is looked up.
    """
    kind, target_id = form.kind.data, form.target_id.data
    if target is None:
        target = public_target(db.session, kind, target_id)
    if target is None:
        body = ""  # withdrawn since the page was shown: there is nothing left to toggle
    else:
        toggle = get_template_attribute("schools/_compare_toggle.html", "compare_toggle")
        name = target.name if kind == "school" else f"{target.school.name} – {target.name}"
        body = toggle(kind, target_id, name, is_compared, safe_next(form.next.data), error)
    return htmx.vary(make_response(body, status))


def _back(form: CompareForm) -> Response:
    """Post/Redirect/Get to the page the toggle was on, else the comparison page."""
    return htmx.vary(htmx.redirect_to(safe_next(form.next.data) or url_for("schools.compare")))
