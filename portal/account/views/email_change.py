"""The e-mail address page: ask for a change, then confirm it with the code from the new address."""

from dataclasses import dataclass

from flask import flash, url_for
from flask import session as browser_session
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp, email_change, reauth
from portal.account.forms import EmailChangeForm, EmailCodeForm
from portal.auth.codes import current_policy
from portal.auth.login import normalize_email
from portal.auth.sessions import end_sessions
from portal.clock import utcnow
from portal.extensions import db, limiter
from portal.origin import current_origin
from portal.sealing import seal, unseal

TEMPLATE = "account/email.html"
# The address waiting for its code, kept sealed in the browser's session with the user it is for.
PENDING_KEY = "email_change"


@dataclass(frozen=True)
class EmailPages:
    """The endpoints of one audience's e-mail page and of its code form: the parent's here,
    the staff member's in the company portal (portal.customer.views.account), which runs the
    same two steps through change_email() and verify_email()."""

    page: str
    verify: str


PARENT_PAGES = EmailPages("account.email", "account.verify_email_change")


@bp.route("/email", methods=["GET", "POST"])
@allow(PARENT)
@limiter.limit("10 per hour", methods=["POST"])
def email():
    """Ask to change the address: the current password, then a code goes to the new address.

    Whether the new address is free or not, the answer is the same.
    """
    return change_email(PARENT_PAGES)


@bp.route("/email/verify", methods=["POST"])
@allow(PARENT)
@limiter.limit("20 per hour")
def verify_email_change():
    """Confirm the change with the code; wrong, used, expired or never sent look alike."""
    return verify_email(PARENT_PAGES)


def change_email(pages: EmailPages):
    """The e-mail page, and its request form posted: the password checked, then the code
    mailed to the new address."""
    form = EmailChangeForm()
    if form.validate_on_submit():
        if not reauth.confirm_password(
            db.session, current_user, form.password.data, "email_change", current_origin()
        ):
            db.session.commit()  # the failed try is on record
            form.password.errors.append(_("The password is not right."))
        elif normalize_email(form.new_email.data) == current_user.email:
            form.new_email.errors.append(_("This is already your address."))
        else:
            new_email = email_change.request_email_change(
                db.session,
                current_policy(),
                current_user,
                form.new_email.data,
                utcnow(),
                current_origin(),
            )
            db.session.commit()
            browser_session[PENDING_KEY] = {"user_id": current_user.id, "email": seal(new_email)}
            flash(
                _(
                    "We sent a 6-digit code to %(email)s. Enter it below to confirm the change.",
                    email=new_email,
                ),
                "info",
            )
            return htmx.redirect_to(url_for(pages.page))
    status = htmx.form_status(form)
    return _page(pages, "email_form", status=status, form=form)


def verify_email(pages: EmailPages):
    """The code form posted: the address changes, and every other session of the account
    ends; wrong, used, expired or never sent look alike."""
    code_form = EmailCodeForm()
    pending = _pending()
    if code_form.validate_on_submit():
        changed = pending is not None and email_change.confirm_email_change(
            db.session,
            current_policy(),
            current_user,
            pending,
            code_form.code.data,
            utcnow(),
            current_origin(),
        )
        if changed:
            # Like a new password, a new address ends every other session of the account.
            end_sessions(db.session, current_user.id, keep_id=current_user.current_session_id)
        db.session.commit()  # a used code, or a spent try, is kept either way
        if changed:
            browser_session.pop(PENDING_KEY, None)
            flash(_("Your e-mail address is changed. Sign in with it from now on."), "success")
            return htmx.redirect_to(url_for(pages.page))
        code_form.code.errors.append(
            _("The code is wrong, used or expired. You can ask for a new one above.")
        )
    return _page(pages, "code_form", status=422, code_form=code_form)


def _pending() -> str | None:
    """The new address waiting for its code, if this browser asked for one for this user."""
    pending = browser_session.get(PENDING_KEY)
    if isinstance(pending, dict) and pending.get("user_id") == current_user.id:
        return unseal(pending.get("email"))
    return None


def _page(pages: EmailPages, block: str, status: int = 200, form=None, code_form=None):
    return htmx.render(
        TEMPLATE,
        block,
        status=status,
        pages=pages,
        form=form or EmailChangeForm(formdata=None),
        code_form=code_form or EmailCodeForm(formdata=None),
        pending=_pending(),
        code_minutes=current_policy().lifetime_minutes,
    )
