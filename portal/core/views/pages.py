"""The language switch, the KVKK notice page and the site icon."""

from flask import abort, current_app, request, session, url_for
from flask_login import current_user

from portal import htmx
from portal.access import ANONYMOUS, allow
from portal.account import profile
from portal.auth import registration
from portal.core import bp
from portal.extensions import db
from portal.forms import EmptyForm
from portal.urls import safe_next


@bp.route("/language", methods=["POST"])
@allow(ANONYMOUS)
def set_language():
    """Remember the chosen language and return to the page the visitor was on.

    A plain form post, so it works without JavaScript; the whole page reloads in the new
    language, since every string on it changes. A signed-in user's account keeps it too, so
    the mail they are sent later is in it.

    :raise 400: for an unknown language.
    """
    form = EmptyForm()
    lang = request.form.get("lang", "")
    if not form.validate_on_submit() or lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated and profile.remember_language(current_user, lang):
        db.session.commit()
    return htmx.redirect_to(safe_next(request.form.get("next")) or url_for("schools.index"))


@bp.route("/kvkk")
@allow(ANONYMOUS)
def kvkk_notice():
    """The current KVKK information notice (aydınlatma metni), on its own page."""
    notice = registration.current_text(db.session, "kvkk_notice")
    return htmx.render("core/kvkk_notice.html", "content", notice=notice)


@bp.route("/favicon.ico")
@allow(ANONYMOUS)
def favicon():
    """The site icon at the address browsers ask for by themselves, whatever a page links."""
    return current_app.send_static_file("favicon.ico")
