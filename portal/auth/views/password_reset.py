"""The password reset for those who cannot sign in: a code by e-mail, then a new password."""

from flask import current_app, flash, request, session, url_for
from flask_babel import gettext as _

from portal import htmx
from portal.access import ANONYMOUS, allow
from portal.auth import bp, sign_in
from portal.auth.codes import current_policy
from portal.auth.forms import ResetForm, ResetRequestForm
from portal.auth.login import normalize_email
from portal.clock import utcnow
from portal.extensions import db, limiter
from portal.origin import current_origin
from portal.sealing import seal, unseal


def _address_key() -> str:
    return "reset:" + normalize_email(request.form.get("email") or "")


def _limited(email: str) -> bool:
    # The account's code caps do not apply to its own known devices (see sign_in.py).
    device_id = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    return not sign_in.known_device(db.session, email, device_id)


@bp.route("/reset", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("5 per hour", methods=["POST"], key_func=_address_key)
def reset_request():
    """Ask for a password-reset code; the answer never says whether the address is known.

    An address gets at most five mails an hour, whether it has an account or not.
    """
    form = ResetRequestForm()
    if form.validate_on_submit():
        sign_in.send_reset_code(
            db.session,
            current_policy(),
            form.email.data,
            current_origin(),
            utcnow(),
            limited=_limited(form.email.data),
        )
        db.session.commit()
        session["reset_email"] = seal(form.email.data.lower())  # no address in clear
        flash(_("If the address has an account, a code is on its way."), "info")
        return htmx.redirect_to(url_for("auth.reset"))
    status = htmx.form_status(form)
    return htmx.render("auth/reset_request.html", "reset_request_form", status=status, form=form)


@bp.route("/reset/new-password", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit("20 per hour", methods=["POST"])
def reset():
    """The code and a new password. It signs no one in: the next sign-in goes through the
    password and, from a new device, the one-time code step as always."""
    form = ResetForm(email=unseal(session.get("reset_email")) or "")
    if form.validate_on_submit():
        done = sign_in.reset_password(
            db.session,
            current_policy(),
            form.email.data,
            form.code.data,
            form.new_password.data,
            current_origin(),
            utcnow(),
            limited=_limited(form.email.data),
        )
        db.session.commit()
        if done:
            session.pop("reset_email", None)
            flash(_("Your password is changed. Sign in with it now."), "success")
            return htmx.redirect_to(url_for("auth.login"))
        form.code.errors.append(_("The code is wrong, used or expired. Ask for a new one below."))
    status = htmx.form_status(form)
    return htmx.render("auth/reset.html", "reset_form", status=status, form=form)
