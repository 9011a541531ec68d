"""The staff member's own account, in the company portal: profile and e-mail address.

The parent's area (/account/...) stays the parents'. These pages call the same domain
functions as the parent's profile and e-mail pages (portal.account.profile,
portal.account.email_change, portal.account.reauth) with the same forms' fields; only what a
parent has and staff have not (the school-fee budget, favorites, leads, consent, the parent's
subscription) is left out. Password, sessions and the two-step setting are /auth/security,
which already serves everyone signed in and is linked from here.
"""

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.access.permissions import role_name
from portal.account.forms import ProfileForm
from portal.account.profile import Profile, profile_of, update_profile
from portal.account.views import email_change as email_pages
from portal.customer import bp
from portal.extensions import db, limiter
from portal.forms import Form
from portal.origin import current_origin

STAFF_EMAIL_PAGES = email_pages.EmailPages(
    "customer.account_email", "customer.account_verify_email"
)


class StaffProfileForm(Form):
    """The parent's profile fields that staff have too: the same fields, checks and labels."""

    name = ProfileForm.name
    phone = ProfileForm.phone


@bp.route("/account", methods=["GET", "POST"])
@allow(CUSTOMER_USER)
def account():
    """The member's name and phone, and where to change their address and password.

    Only the form's own fields are read: a budget, a user type or a company posted is ignored.
    """
    stored = profile_of(current_user)
    form = StaffProfileForm(obj=stored)
    if form.validate_on_submit():
        changed = update_profile(
            db.session,
            current_user,
            # The parent-only fields are carried over as stored, so they never change here.
            Profile(
                name=form.name.data,
                phone=form.phone.data,
                budget_min=stored.budget_min,
                budget_max=stored.budget_max,
            ),
            current_origin(),
        )
        db.session.commit()
        flash(_("Your profile is saved.") if changed else _("Nothing changed."), "success")
        return htmx.redirect_to(url_for("customer.account"))
    customer_user = current_user.customer_user
    return htmx.render(
        "customer/account.html",
        "profile_form",
        status=htmx.form_status(form),
        form=form,
        customer=customer_user.customer,
        role=role_name(customer_user),
        title=customer_user.title,
    )


@bp.route("/account/email", methods=["GET", "POST"])
@allow(CUSTOMER_USER)
@limiter.limit("10 per hour", methods=["POST"])
def account_email():
    """Ask to change the address: the current password, then a code goes to the new address
    (the parent's two steps, portal.account.views.email_change, in the company portal's
    menu). Whether the new address is free or not, the answer is the same."""
    return email_pages.change_email(STAFF_EMAIL_PAGES)


@bp.route("/account/email/verify", methods=["POST"])
@allow(CUSTOMER_USER)
@limiter.limit("20 per hour")
def account_verify_email():
    """Confirm the change with the code; wrong, used, expired or never sent look alike."""
    return email_pages.verify_email(STAFF_EMAIL_PAGES)
