"""Open a parent account and prove the e-mail address."""

import secrets

from flask import current_app, flash, request, session, url_for
from flask_babel import gettext as _

from portal import htmx
from portal.access import ANONYMOUS, allow
from portal.auth import bp, registration
from portal.auth.codes import current_policy
from portal.auth.forms import (
    RegisterForm,
    ResendForm,
    VerifyForm,
)
from portal.auth.login import normalize_email
from portal.auth.views.sign_in import complete_sign_in
from portal.clock import utcnow
from portal.extensions import db, limiter
from portal.forms import posted_id
from portal.models import ConsentText
from portal.origin import current_origin
from portal.sealing import seal, unseal
from portal.urls import safe_next

# The address this browser registered and where it meant to go: kept in its (signed) session
# from the registration until the address is verified here, which then signs it in.
REGISTERED = "registered"


@bp.route("/register", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit("10 per hour", methods=["POST"])
def register():
    """Open a parent account; the same next page whether or not the address was taken."""
    notice = registration.current_text(db.session, "kvkk_notice")
    consent_text = registration.current_text(db.session, "kvkk_consent")
    form = RegisterForm(consent_text_id=consent_text.id, next=request.args.get("next", ""))
    if form.validate_on_submit():
        shown = _shown_consent_text(form.consent_text_id.data) or consent_text
        registration.register(
            db.session,
            current_policy(),
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
        session["verify_email"] = seal(form.email.data.lower())  # no address in clear
        # Set whether or not the address was taken, so the answer stays the same; only the
        # code mailed to the address can finish it (verify()).
        session[REGISTERED] = {
            "email": seal(normalize_email(form.email.data)),
            "next": safe_next(form.next.data) or "",
        }
        flash(_("We sent a 6-digit code to your e-mail address. Enter it below."), "info")
        return htmx.redirect_to(url_for("auth.verify"))
    status = htmx.form_status(form)
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
    shown = posted_id(value)
    if shown is None:
        return None
    text = db.session.get(ConsentText, shown)
    return text if text is not None and text.kind == "kvkk_consent" else None


@bp.route("/verify", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit("20 per hour", methods=["POST"])
def verify():
    """Enter the e-mailed code. Wrong, used, expired or unknown: one and the same answer."""
    form = VerifyForm(email=unseal(session.get("verify_email")) or "")
    if form.validate_on_submit():
        user = registration.verify_email(
            db.session,
            current_policy(),
            form.email.data,
            form.code.data,
            utcnow(),
            current_origin(),
        )
        db.session.commit()
        if user is not None:
            session.pop("verify_email", None)
            registered = session.get(REGISTERED) or {}
            if unseal(registered.get("email")) == user.email:
                return _sign_in_after_verifying(user, registered.get("next"))
            flash(_("Your e-mail address is verified. You can sign in now."), "success")
            return htmx.redirect_to(url_for("auth.login"))
        form.code.errors.append(_("The code is wrong, used or expired. Ask for a new one below."))
    status = htmx.form_status(form)
    return htmx.render(
        "auth/verify.html",
        "verify_form",
        status=status,
        form=form,
        resend_form=ResendForm(email=form.email.data or ""),
        code_minutes=current_policy().lifetime_minutes,
    )


def _sign_in_after_verifying(user, next_url: str | None):
    """This browser registered the address and has now entered the code mailed to it: sign it
    in as a sign-in with a one-time code would (it just proved the mailbox from here), and go
    where the visitor meant to, else their account's home."""
    device_id = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    response = complete_sign_in(
        user,
        remember=False,
        next_url=next_url,
        device_id=device_id or secrets.token_urlsafe(24),
        new_device=True,
        how="registration",
    )
    # After complete_sign_in, which starts the session afresh.
    flash(_("Your e-mail address is verified, and you are signed in."), "success")
    return response


@bp.route("/verify/resend", methods=["POST"])
@allow(ANONYMOUS)
@limiter.limit("10 per hour")
def resend_code():
    """Send a new code if the address needs one; the answer never says whether it did."""
    form = ResendForm()
    if form.validate_on_submit():
        registration.resend_verification_code(
            db.session,
            current_policy(),
            form.email.data,
            utcnow(),
            current_origin(),
        )
        db.session.commit()
        session["verify_email"] = seal(form.email.data.lower())
    flash(
        _(
            "If that address has an account waiting for verification, a new code is on its way. "
            "A new code can be sent once a minute."
        ),
        "info",
    )
    return htmx.redirect_to(url_for("auth.verify"))
