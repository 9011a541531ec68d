"""The signed-in user's security page: live sessions, two-step sign-in, password."""

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from portal import htmx
from portal.access import CUSTOMER_USER, OPERATOR, PARENT, allow
from portal.audit import log_event
from portal.auth import bp, failures, sessions, sign_in
from portal.auth.forms import PasswordChangeForm, TwoStepForm
from portal.auth.passwords import verify_password
from portal.clock import utcnow
from portal.core.views.errors import refuse_not_yours
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.origin import current_origin

EVERYONE_SIGNED_IN = (PARENT, CUSTOMER_USER, OPERATOR)


def _render(password_form=None, status=200):
    failed_count, failed_since = failures.unknown_device_failures(
        db.session, current_user.id, utcnow()
    )
    return htmx.render(
        "auth/security.html",
        "password_form",
        status=status,
        live=sessions.live_sessions(db.session, current_user.id),
        current_id=current_user.current_session_id,
        password_form=password_form or PasswordChangeForm(),
        two_step_form=TwoStepForm(two_step_enabled=current_user.two_step_enabled),
        form=EmptyForm(),
        failed_count=failed_count,
        failed_since=failed_since,
    )


@bp.route("/security")
@allow(*EVERYONE_SIGNED_IN)
def security():
    """Sessions (device, IP, last seen), two-step sign-in and the password."""
    return _render()


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
@allow(*EVERYONE_SIGNED_IN)
def end_session(session_id: int):
    """End one of the user's own sessions (another user's id is a 404).

    :raise 404: when the session is not the user's or is already gone.
    """
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not sessions.end_session(db.session, current_user.id, session_id):
        refuse_not_yours("session", session_id)
    log_event(db.session, "session_ended", current_user.id, current_origin(), which="one")
    db.session.commit()
    if session_id == current_user.current_session_id:
        logout_user()
        return htmx.redirect_to(url_for("auth.login"))
    flash(_("The session has ended."), "success")
    return htmx.redirect_to(url_for("auth.security"))


@bp.route("/sessions/end-others", methods=["POST"])
@allow(*EVERYONE_SIGNED_IN)
def end_other_sessions():
    """End every session but this one."""
    if EmptyForm().validate_on_submit():
        ended = sessions.end_sessions(
            db.session, current_user.id, keep_id=current_user.current_session_id
        )
        log_event(
            db.session,
            "session_ended",
            current_user.id,
            current_origin(),
            which="others",
            count=ended,
        )
        db.session.commit()
        flash(_("Your other sessions have ended."), "success")
    return htmx.redirect_to(url_for("auth.security"))


@bp.route("/sessions/end-all", methods=["POST"])
@allow(*EVERYONE_SIGNED_IN)
def sign_out_everywhere():
    """End every session, this one too."""
    if EmptyForm().validate_on_submit():
        user_id = current_user.id
        ended = sessions.end_sessions(db.session, user_id)
        log_event(db.session, "session_ended", user_id, current_origin(), which="all", count=ended)
        db.session.commit()
        logout_user()
        flash(_("You have signed out everywhere."), "info")
    return htmx.redirect_to(url_for("auth.login"))


@bp.route("/two-step", methods=["POST"])
@allow(*EVERYONE_SIGNED_IN)
def two_step():
    """Turn the every-time sign-in code on or off."""
    form = TwoStepForm()
    if form.validate_on_submit():
        current_user.two_step_enabled = bool(form.two_step_enabled.data)
        log_event(
            db.session,
            "profile_changed",
            current_user.id,
            current_origin(),
            fields=["two_step_enabled"],
        )
        db.session.commit()
        flash(_("Your sign-in setting is saved."), "success")
    return htmx.redirect_to(url_for("auth.security"))


@bp.route("/password", methods=["POST"])
@allow(*EVERYONE_SIGNED_IN)
@limiter.limit("10 per hour")
def change_password():
    """A new password; every other session ends, this one goes on."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.current_password.data):
            sign_in.change_password(
                db.session,
                current_user,
                form.new_password.data,
                current_origin(),
                utcnow(),
                keep_session_id=current_user.current_session_id,
            )
            db.session.commit()
            flash(_("Your password is changed. Your other sessions have ended."), "success")
            return htmx.redirect_to(url_for("auth.security"))
        form.current_password.errors.append(_("That is not your current password."))
    return _render(form, status=422)
