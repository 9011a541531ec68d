"""The parent's profile page: name, phone and school-fee budget."""

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp
from portal.account.forms import ProfileForm
from portal.account.profile import Profile, profile_of, update_profile
from portal.extensions import db
from portal.origin import current_origin


@bp.route("/profile", methods=["GET", "POST"])
@allow(PARENT)
def profile():
    """Show and save the profile; a refused form keeps what is stored and says what is wrong.

    Only the form's own fields are read: anything else posted (a user type, a company) is
    ignored.
    """
    form = ProfileForm(obj=profile_of(current_user))
    if form.validate_on_submit():
        changed = update_profile(
            db.session,
            current_user,
            Profile(
                name=form.name.data,
                phone=form.phone.data,
                budget_min=form.budget_min.data,
                budget_max=form.budget_max.data,
            ),
            current_origin(),
        )
        db.session.commit()
        flash(_("Your profile is saved.") if changed else _("Nothing changed."), "success")
        return htmx.redirect_to(url_for("account.profile"))
    status = htmx.form_status(form)
    return htmx.render("account/profile.html", "profile_form", status=status, form=form)
