"""Inviting a person to the team, withdrawing an invitation, and accepting one.

The accept page is open to anyone holding the link (a new person has no account yet); what it
offers depends on the address and on who is signed in (portal.customer.invitations.situation).
"""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import ANONYMOUS, CUSTOMER_USER, allow
from portal.clock import utcnow
from portal.customer import bp, invitations, team
from portal.customer.invitations import Acceptance
from portal.customer.team_forms import AcceptForm, InviteForm
from portal.customer.views.team import _manager, roles_and_titles, team_context
from portal.extensions import db
from portal.forms import EmptyForm, posted_id
from portal.origin import current_origin


@bp.route("/team/invite", methods=["POST"])
@allow(CUSTOMER_USER)
def invite():
    """Invite a person by e-mail with a role and a title; the link goes by mail.

    The answer is the same whether or not the address has an account. With the plan's team
    full the form is refused with the reason and the upgrade link.

    :raise 403: the member may not manage the team.
    """
    actor = _manager()
    form = InviteForm().with_choices(*roles_and_titles())
    if form.validate_on_submit():
        email = form.email.data
        try:
            invitations.invite(
                db.session,
                actor,
                email,
                form.role.data,
                form.title_id,
                current_origin(),
                utcnow(),
            )
        except invitations.AlreadyMember:
            db.session.rollback()
            form.email.errors.append(_("This person is already a member of your team."))
        except team.TeamFull as error:
            db.session.rollback()
            form.email.errors.append(
                _(
                    "Your plan allows %(limit)d team members, and they are all taken (pending "
                    "invitations included). Upgrade your plan to invite more.",
                    limit=error.limit,
                )
            )
        except team.TeamError:
            db.session.rollback()
            form.role.errors.append(_("That choice is not available."))
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=email), "success")
            return htmx.redirect_to(url_for("customer.team_list"))
    return htmx.render(
        "customer/team.html",
        "invite_panel",
        status=htmx.form_status(form),
        may_manage=True,
        **team_context(actor, invite_form=form),
    )


@bp.route("/team/invitations/revoke", methods=["POST"])
@allow(CUSTOMER_USER)
def revoke_invitation():
    """Withdraw a pending invitation (the form's `invitation`): its link stops working.

    :raise 403: the member may not manage the team. :raise 404: no such pending invitation
        of the company.
    """
    actor = _manager()
    if not EmptyForm().validate_on_submit():
        abort(400)
    invitation_id = posted_id(request.form.get("invitation"))
    if invitation_id is None:
        abort(404)
    if not invitations.revoke(db.session, actor, invitation_id, current_origin(), utcnow()):
        abort(404)
    db.session.commit()
    flash(_("Invitation withdrawn."), "success")
    return htmx.redirect_to(url_for("customer.team_list"))


def _signed_in_user():
    return current_user if current_user.is_authenticated else None


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@allow(ANONYMOUS)
def accept_invitation(token):
    """Accept an invitation: a new person opens their staff account; a staff account with no
    active membership, signed in, confirms. A parent's account cannot become staff, and the
    page says so.

    :raise 404: the link is unknown, used, withdrawn or expired (one answer for all).
    :raise 403: a POST that this visitor may not make (signed in as another account, ...).
    """
    now = utcnow()
    invitation = invitations.find(db.session, token, now)
    if invitation is None:
        return htmx.render("customer/invitation.html", "accept", status=404, invitation=None)
    situation = invitations.situation(db.session, invitation, _signed_in_user())
    form = None
    if situation.acceptance == Acceptance.NEW_ACCOUNT:
        form = AcceptForm()
        if form.validate_on_submit():
            try:
                invitations.accept_as_new_person(
                    db.session,
                    invitation,
                    form.name.data,
                    form.password.data,
                    current_origin(),
                    now,
                )
            except invitations.InvitationUnavailable:
                db.session.rollback()
                abort(404)
            db.session.commit()
            flash(_("Your account is ready. Sign in with your e-mail and new password."), "success")
            return htmx.redirect_to(url_for("auth.login"))
        status = htmx.form_status(form)
    elif situation.acceptance == Acceptance.CONFIRM:
        form = EmptyForm()
        if form.validate_on_submit():
            try:
                invitations.accept_as_account(
                    db.session,
                    invitation,
                    current_user._get_current_object(),
                    current_origin(),
                    now,
                )
            except invitations.InvitationUnavailable:
                db.session.rollback()
                abort(404)
            db.session.commit()
            flash(_("Welcome to %(company)s.", company=invitation.customer.name), "success")
            return htmx.redirect_to(url_for("customer.index"))
        status = 200
    else:
        status = 403 if request.method == "POST" else 200
    return htmx.render(
        "customer/invitation.html",
        "accept",
        status=status,
        invitation=invitation,
        acceptance=situation.acceptance,
        form=form,
        action_url=url_for("customer.accept_invitation", token=token),
        login_url=url_for("auth.login", next=request.path),
    )
