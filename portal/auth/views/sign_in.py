"""Sign in (password, then a one-time code from a new device) and sign out.

Failed sign-ins slow down the source and the account, never the owner: the per-IP and
per-account limits count and refuse only browsers that are not one of the account's known
devices; a known device has its own limit, which an attacker elsewhere cannot spend.
"""

import secrets

from flask import current_app, flash, g, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal import htmx
from portal.access import ANONYMOUS, allow, audience_of_user
from portal.audit import log_event
from portal.auth import bp, failures, sessions, sign_in
from portal.auth.codes import CODE_GUESSES, CODES_ISSUED, current_policy
from portal.auth.forms import (
    LoginForm,
    OneTimeCodeForm,
)
from portal.auth.login import authenticate, normalize_email
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


def _typed_email() -> str:
    return normalize_email(request.form.get("email") or "")


def _account_key() -> str:
    return "account:" + _typed_email()


def _device_id() -> str | None:
    return request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])


def _known_device_key() -> str:
    return f"account:{_typed_email()}:device:{sessions.token_hash(_device_id() or '')}"


def _from_known_device() -> bool:
    # Asked by several limits in one request; the answer is the same for all of them.
    if "from_known_device" not in g:
        g.from_known_device = sign_in.known_device(db.session, _typed_email(), _device_id())
    return g.from_known_device


def _from_unknown_device() -> bool:
    return not _from_known_device()


def _account_limit_reached(request_limit) -> None:
    """The account's limit for unknown devices refused this try: audit it, tell the owner."""
    g.refusal_audited = True
    failures.record_limit_reached(
        db.session,
        failures.account_of(db.session, _typed_email()),
        _typed_email(),
        failures.PASSWORD_LIMIT,
        current_origin(),
        utcnow(),
        notice_interval=current_app.config["SIGN_IN_ATTACK_NOTICE_INTERVAL"],
    )
    db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit(
    "20 per 15 minutes", methods=["POST"], deduct_when=_failed, exempt_when=_from_known_device
)
@limiter.limit(
    "10 per 15 minutes",
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_failed,
    exempt_when=_from_known_device,
    on_breach=_account_limit_reached,
)
@limiter.limit(
    "10 per 15 minutes",
    methods=["POST"],
    key_func=_known_device_key,
    deduct_when=_failed,
    exempt_when=_from_unknown_device,
)
def login():
    """E-mail and password; then a one-time code when the device is new or two-step is on.

    :raise 429: too many failed tries from this source or, from unknown devices, for this
        account (whose known devices are still let in).
    """
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        device_id = _device_id()
        if user is not None:
            if not sign_in.needs_code(db.session, user, device_id):
                return complete_sign_in(user, form.remember.data, form.next.data, device_id)
            return _ask_for_code(user, form.remember.data, form.next.data, device_id)
        failures.record_failed_sign_in(
            db.session, form.email.data, _from_known_device(), current_origin(), utcnow()
        )
        db.session.commit()
        # One message for unknown e-mail, wrong password, unverified and deleted accounts.
        form.password.errors.append(_("The e-mail or password is not right."))
    status = htmx.form_status(form)
    return htmx.render("auth/login.html", "login_form", status=status, form=form)


def _code_limit_message(outcome: str) -> str | None:
    if outcome == CODES_ISSUED:
        return _("Too many codes were sent for this account in the last hour. Try again later.")
    if outcome == CODE_GUESSES:
        return _(
            "Too many wrong codes were entered for this account in the last hour. Try again later."
        )
    return None


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
    outcome = sign_in.send_sign_in_code(
        db.session,
        current_policy(),
        user,
        pending,
        current_origin(),
        utcnow(),
        limited=not sessions.is_known_device(db.session, user.id, device_id),
    )
    db.session.commit()
    message = _code_limit_message(outcome)
    if message:
        flash(message, "error")
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
            limited=not sessions.is_known_device(
                db.session, pending["user_id"], pending["device_id"]
            ),
        )
        if user is not None:
            return complete_sign_in(
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
        message = None
        if user is not None:
            outcome = sign_in.send_sign_in_code(
                db.session,
                current_policy(),
                user,
                pending["token"],
                current_origin(),
                utcnow(),
                limited=not sessions.is_known_device(db.session, user.id, pending["device_id"]),
            )
            db.session.commit()
            message = _code_limit_message(outcome)
        if message:
            flash(message, "error")
        else:
            flash(
                _("If a new code could be sent, it is on its way. One code a minute at most."),
                "info",
            )
    return htmx.redirect_to(url_for("auth.one_time_code"))


def complete_sign_in(
    user,
    remember: bool,
    next_url: str | None,
    device_id: str | None,
    new_device: bool = False,
    **audit,
):
    """A fresh session and a new user_session_hash row for it, then the user's page.

    The one way a browser gets signed in: after the password (and a one-time code), and after
    the e-mail code of a registration made in the same browser (views.registration.verify).
    `new_device`: the browser just proved the mailbox with a code, so it becomes one of the
    account's known devices. `audit`: details for the sign_in event (e.g. how="registration").
    """
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
    log_event(db.session, "sign_in", user.id, origin, **audit)
    if user.customer_id is not None and user.customer_user and user.customer_user.is_active:
        # Imported here: portal.customer's views import much of the portal, auth among it.
        from portal.customer import activity

        activity.record(db.session, user.customer_user, sign_ins=1, now=now)  # the day's row
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
