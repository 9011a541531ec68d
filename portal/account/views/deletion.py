"""Deleting the parent's own account, after the current password and an explicit tick."""

from flask import flash, url_for
from flask import session as browser_session
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp, deletion, reauth
from portal.account.forms import DeleteAccountForm
from portal.account.views.email_change import PENDING_KEY
from portal.billing.views.common import gateway
from portal.clock import utcnow
from portal.extensions import db, limiter
from portal.origin import current_origin


@bp.route("/delete", methods=["GET", "POST"])
@allow(PARENT)
@limiter.limit("10 per hour", methods=["POST"])
def delete_account():
    """Ask for the password and a tick; then delete, sign out and go home.

    The page says first what happens to a running subscription (it ends with the account).
    A wrong password changes nothing but the record of the failed try.
    """
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if reauth.confirm_password(
            db.session, current_user, form.password.data, "account_deletion", current_origin()
        ):
            deletion.delete_account(db.session, current_user, current_origin(), utcnow(), gateway())
            db.session.commit()
            logout_user()
            browser_session.pop(PENDING_KEY, None)
            flash(_("Your account is deleted. We are sorry to see you go."), "info")
            return htmx.redirect_to(url_for("schools.index"))
        db.session.commit()  # the failed try is on record
        form.password.errors.append(_("The password is not right."))
    status = htmx.form_status(form)
    return htmx.render(
        "account/delete.html",
        "delete_form",
        status=status,
        form=form,
        fate=deletion.subscription_fate(db.session, current_user, utcnow()),
    )
