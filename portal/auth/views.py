"""Sign in with e-mail and password; sign out."""

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal import htmx
from portal.access import ANONYMOUS, allow, audience_of_user
from portal.auth import bp
from portal.auth.forms import LoginForm
from portal.auth.login import authenticate
from portal.forms import EmptyForm
from portal.urls import safe_next

HOME_OF = {
    "parent": "account.index",
    "customer_user": "customer.index",
    "operator": "operator.index",
}


@bp.route("/login", methods=["GET", "POST"])
@allow(ANONYMOUS)
def login():
    """Show the sign-in form; on success go to `next` or the user's own area."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return htmx.redirect_to(safe_next(form.next.data) or _home_url())
        # One message for unknown e-mail, wrong password and unverified account.
        form.password.errors.append(_("The e-mail or password is not right."))
    status = 422 if form.is_submitted() else 200
    return htmx.render("auth/login.html", "login_form", status=status, form=form)


@bp.route("/logout", methods=["POST"])
@allow(ANONYMOUS)
def logout():
    """End the session and go home."""
    if EmptyForm().validate_on_submit():
        logout_user()
        flash(_("You have signed out."), "info")
    return htmx.redirect_to(url_for("schools.index"))


def _home_url() -> str:
    return url_for(HOME_OF.get(audience_of_user(current_user), "schools.index"))
