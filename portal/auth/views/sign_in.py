"""Sign in (password, then a one-time code from a new device) and sign out."""

import secrets

from flask import current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal import htmx
from portal.access import ANONYMOUS, allow, audience_of_user
from portal.audit import log_event
from portal.auth import bp, sessions, sign_in
from portal.auth.codes import current_policy
from portal.auth.forms import (
    LoginForm,
    OneTimeCodeForm,
)
from portal.auth.login import authenticate
from portal.clock import utcnow
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.models import User
from portal.origin import current_origin
from portal.urls import safe_next

HOME_OF = {
    "parent": "account.index",
    "customer_user": "customer.index",
    "operator": "operator.index",
}


def _failed(response) -> bool:
    # Rate limits count failed attempts only: a parent who signs in daily is never throttled.
    return response.status_code == 422


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit("20 per 15 minutes", methods=["POST"], deduct_when=_failed)
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_account_key, deduct_when=_failed)
def login():
    """E-mail and password; then a one-time code when the device is new or two-step is on."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            device_id = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
            if not sign_in.needs_code(db.session, user, device_id):
                return _complete_sign_in(user, form.remember.data, form.next.data, device_id)
            return _ask_for_code(user, form.remember.data, form.next.data, device_id)
        # One message for unknown e-mail, wrong password, unverified and deleted accounts.
        form.password.errors.append(_("The e-mail or password is not right."))
    status = htmx.form_status(form)
    return htmx.render("auth/login.html", "login_form", status=status, form=form)


def _ask_for_code(user, remember: bool, next_url: str | None, device_id: str | None):
    pending = sign_in.new_pending_token()
    device_id = device_id or secrets.token_urlsafe(24)
    session["pending_sign_in"] = {
        "user_id": user.id,
        "token": pending,
        "remember": bool(remember),
        "next": safe_next(next_url) or "",
        "device_id": device_id,
    }
    sign_in.send_sign_in_code(
        db.session, current_policy(), user, pending, current_origin(), utcnow()
    )
    db.session.commit()
    return htmx.redirect_to(url_for("auth.one_time_code"))


@bp.route("/one-time-code", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit("20 per 15 minutes", methods=["POST"], deduct_when=_failed)
def one_time_code():
    """The code e-mailed for this browser's pending sign-in."""
    pending = session.get("pending_sign_in")
    if not pending:
        return htmx.redirect_to(url_for("auth.login"))
    form = OneTimeCodeForm()
    if form.validate_on_submit():
        user = sign_in.check_sign_in_code(
            db.session,
            current_policy(),
            pending["user_id"],
            pending["token"],
            form.code.data,
            current_origin(),
            utcnow(),
        )
        if user is not None:
            return _complete_sign_in(
                user, pending["remember"], pending["next"], pending["device_id"], new_device=True
            )
        db.session.commit()  # the spent try
        form.code.errors.append(_("The code is wrong, used or expired. Ask for a new one below."))
    status = htmx.form_status(form)
    return htmx.render(
        "auth/one_time_code.html",
        "code_form",
        status=status,
        form=form,
        code_minutes=current_policy().lifetime_minutes,
    )


@bp.route("/one-time-code/resend", methods=["POST"])
@allow(ANONYMOUS)
@limiter.limit("10 per hour")
def resend_one_time_code():
    """Send a new code for the pending sign-in (at most one a minute)."""
    pending = session.get("pending_sign_in")
    if pending and EmptyForm().validate_on_submit():
        user = db.session.get(User, pending["user_id"])
        if user is not None:
            sign_in.send_sign_in_code(
                db.session,
                current_policy(),
                user,
                pending["token"],
                current_origin(),
                utcnow(),
            )
            db.session.commit()
        flash(
            _("If a new code could be sent, it is on its way. One code a minute at most."), "info"
        )
    return htmx.redirect_to(url_for("auth.one_time_code"))


def _complete_sign_in(
    user, remember: bool, next_url: str | None, device_id: str | None, new_device: bool = False
):
    """A fresh session and a new user_session_hash row for it, then the user's page."""
    lang = session.get("lang")
    session.clear()  # nothing from before the sign-in survives into the signed-in session
    if lang:
        session["lang"] = lang
    session.permanent = True
    origin, now = current_origin(), utcnow()
    sessions.start_session(
        db.session,
        sessions.current_policy(),
        user,
        bool(remember),
        origin,
        device_id,
        now,
    )
    if new_device and device_id:
        sessions.remember_device(db.session, user.id, device_id, origin, now)
    log_event(db.session, "sign_in", user.id, origin)
    db.session.commit()
    login_user(user, remember=bool(remember))
    response = htmx.redirect_to(safe_next(next_url) or _home_url())
    if device_id:
        config = current_app.config
        response.set_cookie(
            config["DEVICE_COOKIE_NAME"],
            device_id,
            max_age=int(config["DEVICE_COOKIE_LIFETIME"].total_seconds()),
            httponly=True,
            secure=config["SESSION_COOKIE_SECURE"],
            samesite="Lax",
        )
    return response


@bp.route("/logout", methods=["POST"])
@allow(ANONYMOUS)
def logout():
    """End this session (its row, so a copied cookie dies too) and go home."""
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            sessions.end_session(db.session, current_user.id, current_user.current_session_id)
            log_event(db.session, "sign_out", current_user.id, current_origin())
            db.session.commit()
        logout_user()
        flash(_("You have signed out."), "info")
    return htmx.redirect_to(url_for("schools.index"))


def _home_url() -> str:
    return url_for(HOME_OF.get(audience_of_user(current_user), "schools.index"))
