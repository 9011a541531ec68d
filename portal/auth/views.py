"""Register, verify the e-mail address, sign in and out."""

import secrets

from flask import current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal import htmx
from portal.access import ANONYMOUS, allow, audience_of_user
from portal.audit import log_event
from portal.auth import bp, registration, sessions, sign_in
from portal.auth.codes import policy_from
from portal.auth.forms import (
    LoginForm,
    OneTimeCodeForm,
    RegisterForm,
    ResendForm,
    VerifyForm,
)
from portal.auth.login import authenticate
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.models import ConsentText, User, utcnow
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
    status = 422 if form.is_submitted() else 200
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
        db.session, policy_from(current_app.config), user, pending, current_origin(), utcnow()
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
            policy_from(current_app.config),
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
    status = 422 if form.is_submitted() else 200
    return htmx.render(
        "auth/one_time_code.html",
        "code_form",
        status=status,
        form=form,
        code_minutes=policy_from(current_app.config).lifetime_minutes,
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
                policy_from(current_app.config),
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
        sessions.policy_from(current_app.config),
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


@bp.route("/register", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit("10 per hour", methods=["POST"])
def register():
    """Open a parent account; the same next page whether or not the address was taken."""
    notice = registration.current_text(db.session, "kvkk_notice")
    consent_text = registration.current_text(db.session, "kvkk_consent")
    form = RegisterForm(consent_text_id=consent_text.id)
    if form.validate_on_submit():
        shown = _shown_consent_text(form.consent_text_id.data) or consent_text
        registration.register(
            db.session,
            policy_from(current_app.config),
            registration.NewAccount(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                consent_given=form.kvkk_consent.data,
            ),
            current_origin(),
            utcnow(),
            consent_text_id=shown.id,
        )
        db.session.commit()
        session["verify_email"] = form.email.data.lower()
        flash(_("We sent a 6-digit code to your e-mail address. Enter it below."), "info")
        return htmx.redirect_to(url_for("auth.verify"))
    status = 422 if form.is_submitted() else 200
    return htmx.render(
        "auth/register.html",
        "register_form",
        status=status,
        form=form,
        notice=notice,
        consent_text=consent_text,
    )


def _shown_consent_text(value: str | int | None) -> ConsentText | None:
    # The version the form displayed, so consent names what the visitor actually read.
    if not str(value or "").isdigit():
        return None
    text = db.session.get(ConsentText, int(value))
    return text if text is not None and text.kind == "kvkk_consent" else None


@bp.route("/verify", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit("20 per hour", methods=["POST"])
def verify():
    """Enter the e-mailed code. Wrong, used, expired or unknown: one and the same answer."""
    form = VerifyForm(email=session.get("verify_email", ""))
    if form.validate_on_submit():
        user = registration.verify_email(
            db.session,
            policy_from(current_app.config),
            form.email.data,
            form.code.data,
            utcnow(),
            current_origin(),
        )
        db.session.commit()
        if user is not None:
            session.pop("verify_email", None)
            flash(_("Your e-mail address is verified. You can sign in now."), "success")
            return htmx.redirect_to(url_for("auth.login"))
        form.code.errors.append(_("The code is wrong, used or expired. Ask for a new one below."))
    status = 422 if form.is_submitted() else 200
    return htmx.render(
        "auth/verify.html",
        "verify_form",
        status=status,
        form=form,
        resend_form=ResendForm(email=form.email.data or ""),
        code_minutes=policy_from(current_app.config).lifetime_minutes,
    )


@bp.route("/verify/resend", methods=["POST"])
@allow(ANONYMOUS)
@limiter.limit("10 per hour")
def resend_code():
    """Send a new code if the address needs one; the answer never says whether it did."""
    form = ResendForm()
    if form.validate_on_submit():
        registration.resend_verification_code(
            db.session,
            policy_from(current_app.config),
            form.email.data,
            utcnow(),
            current_origin(),
        )
        db.session.commit()
        session["verify_email"] = form.email.data.lower()
    flash(
        _(
            "If that address has an account waiting for verification, a new code is on its way. "
            "A new code can be sent once a minute."
        ),
        "info",
    )
    return htmx.redirect_to(url_for("auth.verify"))
