"""The parent's favorites: the page, and the add and remove toggles."""

from flask import Response, abort, flash, get_template_attribute, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp, favorites
from portal.account.forms import FavoriteForm
from portal.clock import istanbul_today
from portal.extensions import db
from portal.origin import current_origin
from portal.paging import page_number
from portal.places import public_target
from portal.schools.fees import school_year_of
from portal.urls import safe_next


@bp.route("/favorites")
@allow(PARENT)
def favorite_list():
    """The parent's favorite schools and campuses, a page at a time (`?page=N`; past the end
    the last page, junk the first), each with its details and a remove button."""
    return _favorites_page(page_number(request.args.get("page")))


@bp.route("/favorites", methods=["POST"])
@allow(PARENT)
def add_favorite():
    """Keep a school or campus; keeping one twice changes nothing.

    Answers htmx with the toggle in its new state (422 with a message at the limit), a plain
    form with a redirect back to `next`.

    :raise 400: when the form does not name a kind and an id.
    :raise 404: when the school or campus is unknown, unpublished or deleted.
    """
    form = _submitted_form()
    # Looked up here and held: the session keeps a loaded object only while something refers
    # to it, so add_favorite()'s own check then finds it without a query; the toggle is drawn
    # from it too.
    target = public_target(db.session, form.kind.data, form.target_id.data)
    try:
        favorites.add_favorite(
            db.session, current_user, form.kind.data, form.target_id.data, current_origin()
        )
    except favorites.FavoriteTargetNotFound:
        abort(404)
    except favorites.FavoritesLimitReached as refused:
        db.session.rollback()  # nothing was written; ends the transaction and its row lock
        message = _(
            "You can keep up to %(limit)d favorites. Remove one, or choose a bigger plan.",
            limit=refused.limit,
        )
        if htmx.wants_fragment():
            return _toggle(form, is_favorite=False, status=422, error=message, target=target)
        flash(message, "upgrade")
        return _back(form)
    if htmx.wants_fragment():
        # Drawn before the commit, while the school or campus checked above is still loaded.
        response = _toggle(form, is_favorite=True, target=target)
        db.session.commit()
        return response
    db.session.commit()
    flash(_("Saved to your favorites."), "success")
    return _back(form)


@bp.route("/favorites/remove", methods=["POST"])
@allow(PARENT)
def remove_favorite():
    """Stop keeping a school or campus; removing one that is not kept changes nothing.

    Answers htmx with the toggle in its new state, or with the recounted list when the
    request came from the favorites page (the page it was on, named by the form's `page`, or
    the one before when that page is now empty); a plain form with a redirect back to `next`.

    :raise 400: when the form does not name a kind and an id.
    """
    form = _submitted_form()
    favorites.remove_favorite(
        db.session, current_user, form.kind.data, form.target_id.data, current_origin()
    )
    db.session.commit()
    if htmx.wants_fragment():
        if form.fragment.data == "favorite_list":
            return _favorites_page(page_number(request.form.get("page")))
        return _toggle(form, is_favorite=False)
    flash(_("Removed from your favorites."), "success")
    return _back(form)


def _favorites_page(number: int) -> Response:
    """The page, or its list for htmx: each favorite with its school's fee range of this
    school year and its compare toggle, in one statement each for the whole page."""
    this_year = school_year_of(istanbul_today())
    return htmx.render(
        "account/favorites.html",
        "favorite_list",
        page=favorites.favorites_page(db.session, current_user.id, this_year, number),
        limit=favorites.favorites_limit(db.session, current_user),
    )


def _submitted_form() -> FavoriteForm:
    """The posted favorite form; any other field (a user id, say) is ignored."""
    form = FavoriteForm()
    if not form.validate_on_submit():
        abort(400)
    return form


def _toggle(
    form: FavoriteForm, is_favorite: bool, status: int = 200, error=None, target=None
) -> Response:
    """The toggle button alone, as htmx swaps it in place of the one that was pressed.

    `target` is the school or campus when the view has it already; else it is looked up.
    """
    kind, target_id = form.kind.data, form.target_id.data
    if target is None:
        target = public_target(db.session, kind, target_id)
    if target is None:
        body = ""  # withdrawn since the page was shown: there is nothing left to toggle
    else:
        toggle = get_template_attribute("account/_favorite_toggle.html", "favorite_toggle")
        body = toggle(kind, target_id, target.name, is_favorite, safe_next(form.next.data), error)
    return htmx.vary(make_response(body, status))


def _back(form: FavoriteForm) -> Response:
    """Post/Redirect/Get to the page the toggle was on, else the favorites page."""
    return htmx.vary(
        htmx.redirect_to(safe_next(form.next.data) or url_for("account.favorite_list"))
    )
