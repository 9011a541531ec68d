"""The company's team: the members list and a member's page (role, title, grants, active).

Every route needs Permission.MANAGE_TEAM, except that the list tells a member without it who
manages the team. A member of another company, or an id that does not exist, is a 404.
"""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow, member_who_may
from portal.access.permissions import Permission, can, members_who_can
from portal.caching import short_lived
from portal.clock import utcnow
from portal.core.views.errors import refuse_not_yours
from portal.customer import bp, team
from portal.customer.invitations import pending_invitations
from portal.customer.team_forms import GrantForm, GrantSchoolForm, InviteForm, MemberRoleForm
from portal.extensions import db
from portal.forms import BlankForm, EmptyForm, posted_id
from portal.origin import current_origin
from portal.paging import page_number


def _manager():
    """The signed-in member, who must be allowed to manage the team.

    :raise 403: when they may not.
    """
    return member_who_may(Permission.MANAGE_TEAM)


def _member(actor, member_id: str):
    """The actor's company's member named in the URL.

    :raise 404: for anything else (another company's member, an unknown id, not a number).
    """
    wanted = posted_id(member_id)
    if wanted is None:
        abort(404)
    member = team.member_of(db.session, actor.customer_id, wanted)
    if member is None:
        refuse_not_yours("customer_user", member_id)
    return member


def roles_and_titles() -> tuple:
    """The roles and titles to choose from. Configuration tables that change with a release,
    not with a request: kept SEARCH_CACHE_SECONDS (two statements fewer on every team page).
    A choice is still checked against the tables when it is saved (team.role_and_title)."""
    return (
        short_lived("team-roles", None, lambda: team.roles(db.session)),
        short_lived("team-titles", None, lambda: team.titles(db.session)),
    )


def team_context(actor, invite_form=None) -> dict:
    """What the team page shows: the members (paged), the plan's places and the invitations."""
    now = utcnow()
    roles, titles = roles_and_titles()
    members, usage = team.team_page(
        db.session, actor.customer_id, page_number(request.args.get("page", 1)), now
    )
    return {
        "customer": actor.customer,
        "members": members,
        "usage": usage,
        "invitations": pending_invitations(db.session, actor.customer_id, now),
        # A blank form shows nothing but its choices: the template keeps it rendered by them,
        # and builds it only when that rendering is missing.
        "invite_form": invite_form
        or BlankForm(
            lambda: InviteForm(formdata=None).with_choices(roles, titles), ("invite", roles, titles)
        ),
        "blank_invite_key": (roles, titles) if invite_form is None else None,
        "actor": actor,
    }


@bp.route("/team")
@allow(CUSTOMER_USER)
def team_list():
    """The members, their roles, titles and grants, the pending invitations and the invite
    form (or, with the plan's team full, why not and where to upgrade). A member who may not
    manage the team is told who can."""
    actor = current_user.customer_user
    if not can(actor, Permission.MANAGE_TEAM):
        return htmx.render(
            "customer/team.html",
            "team_members",
            may_manage=False,
            customer=actor.customer,
            managers=members_who_can(db.session, actor.customer_id, Permission.MANAGE_TEAM),
        )
    return htmx.render("customer/team.html", "team_members", may_manage=True, **team_context(actor))


def member_context(actor, member, **forms) -> dict:
    roles, titles = roles_and_titles()
    role_form = forms.get("role_form") or MemberRoleForm(
        formdata=None, role=member.role_id, title=member.title_id or ""
    ).with_choices(roles, titles)
    schools = team.grant_schools(db.session, actor.customer_id)
    grant_form = forms.get("grant_form")
    chosen = forms.get("grant_target")
    if grant_form is None:
        grant_form = GrantForm(formdata=None).with_target(chosen)
    school_form = GrantSchoolForm(
        formdata=None, grant_school=str(chosen.school.id) if chosen else ""
    ).with_choices(schools)
    return {
        "member": member,
        "grants": team.member_grants(db.session, member),
        "role_form": role_form,
        "school_form": school_form,
        # The school select shows nothing but its choices and the one chosen: kept rendered.
        "schools_key": (tuple(schools), school_form.grant_school.data),
        "grant_form": grant_form,
        "refusal": forms.get("refusal"),
        "is_self": member.id == actor.id,
    }


def _member_page(actor, member, status: int = 200, **forms):
    return htmx.render(
        "customer/member.html",
        "member_work",
        status=status,
        **member_context(actor, member, **forms),
    )


def _back_to(member_id):
    return htmx.redirect_to(url_for("customer.member", member_id=member_id))


def _refusal_message(error: team.TeamError) -> str:
    if isinstance(error, team.LastManager):
        return _(
            "Somebody must be able to manage the team: give another active member a role "
            "that can, then try again."
        )
    if isinstance(error, team.TeamFull):
        return _(
            "Your plan allows %(limit)d team members, and they are all taken (pending "
            "invitations included).",
            limit=error.limit,
        )
    return _("That choice is not available.")


@bp.route("/team/<member_id>")
@allow(CUSTOMER_USER)
def member(member_id):
    """A member's role, title, grants and status, each with its form.

    :raise 403: the reader may not manage the team. :raise 404: not a member of their company.
    """
    actor = _manager()
    member = _member(actor, member_id)
    # The grant form's first step (?grant_school=): the school chosen, its campuses offered.
    # An id that is not a live school of the company offers nothing, as if none was chosen.
    school_id = posted_id(request.args.get("grant_school"))
    chosen = None
    if school_id is not None:
        chosen = team.grant_target(db.session, actor.customer_id, "school", school_id)
    if "grant_school" in request.args and htmx.wants_fragment():
        # htmx asks for the second step alone when a school is chosen (or unchosen): it shows
        # the member and that school, so nothing else of the page is read.
        return htmx.render(
            "customer/member.html",
            "grant_choice",
            member=member,
            grant_form=GrantForm(formdata=None).with_target(chosen),
        )
    return _member_page(actor, member, grant_target=chosen)


@bp.route("/team/<member_id>/role", methods=["POST"])
@allow(CUSTOMER_USER)
def member_role(member_id):
    """Give the member a role and a title from the config tables.

    :raise 403, 404: as member().
    """
    actor = _manager()
    member = _member(actor, member_id)
    form = MemberRoleForm().with_choices(*roles_and_titles())
    if form.validate_on_submit():
        try:
            changed = team.set_role(
                db.session, actor, member, form.role.data, form.title_id, current_origin()
            )
        except team.TeamError as error:
            db.session.rollback()
            member = _member(actor, member_id)
            form.role.errors.append(_refusal_message(error))
        else:
            db.session.commit()
            flash(_("Role and title saved.") if changed else _("Nothing changed."), "success")
            return _back_to(member_id)
    return _member_page(actor, member, status=htmx.form_status(form), role_form=form)


@bp.route("/team/<member_id>/grants", methods=["POST"])
@allow(CUSTOMER_USER)
def member_grant(member_id):
    """Let the member work on a whole school of the company or one campus of it.

    :raise 403, 404: as member().
    """
    actor = _manager()
    member = _member(actor, member_id)
    parsed = team.parse_target(request.form.get("target"))
    chosen = team.grant_target(db.session, actor.customer_id, *parsed) if parsed else None
    form = GrantForm().with_target(chosen)
    if not form.target.choices:  # the target names no live school or campus of the company
        form.target.errors = [_("Choose a school of your company, then whole or one campus.")]
    elif form.validate_on_submit():
        kind, target_id = parsed
        try:
            added = team.grant(db.session, actor, member, kind, target_id, current_origin())
        except team.TeamError as error:
            db.session.rollback()
            member = _member(actor, member_id)
            form.target.errors.append(_refusal_message(error))
        else:
            db.session.commit()
            flash(
                _("Access granted.") if added else _("An existing grant already covers that."),
                "success",
            )
            return _back_to(member_id)
    return _member_page(
        actor, member, status=htmx.form_status(form), grant_form=form, grant_target=chosen
    )


@bp.route("/team/<member_id>/grants/revoke", methods=["POST"])
@allow(CUSTOMER_USER)
def member_revoke_grant(member_id):
    """Take one grant (the form's `grant`) of the member away.

    :raise 403, 404: as member(); 404 too for a grant the member does not hold.
    """
    actor = _manager()
    member = _member(actor, member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    grant_id = posted_id(request.form.get("grant"))
    if grant_id is None:
        abort(404)
    if not team.revoke_grant(db.session, actor, member, grant_id, current_origin()):
        refuse_not_yours("customer_user_school", grant_id)
    db.session.commit()
    flash(_("Access revoked."), "success")
    return _back_to(member_id)


@bp.route("/team/<member_id>/deactivate", methods=["POST"])
@allow(CUSTOMER_USER)
def member_deactivate(member_id):
    """Take the member's access away (refused for the last member who can manage the team).

    :raise 403, 404: as member().
    """
    return _switch(
        member_id,
        lambda actor, member: team.deactivate(db.session, actor, member, current_origin()),
        lambda name: _("%(name)s is deactivated.", name=name),
    )


@bp.route("/team/<member_id>/reactivate", methods=["POST"])
@allow(CUSTOMER_USER)
def member_reactivate(member_id):
    """Give a deactivated member their access back (refused when the plan's team is full).

    :raise 403, 404: as member().
    """
    return _switch(
        member_id,
        lambda actor, member: team.reactivate(
            db.session, actor, member, current_origin(), utcnow()
        ),
        lambda name: _("%(name)s is active again.", name=name),
    )


def _switch(member_id, step, done):
    """Deactivate or reactivate: `step(actor, member)` changes the member (False when it was
    so already); a refusal of the domain comes back on the member's page (422)."""
    actor = _manager()
    member = _member(actor, member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = member.user.name
    try:
        changed = step(actor, member)
    except team.TeamError as error:
        db.session.rollback()
        member = _member(actor, member_id)
        return _member_page(actor, member, status=422, refusal=_refusal_message(error))
    db.session.commit()
    if changed:
        flash(done(name), "success")
    if member.id == actor.id and not member.is_active:  # they no longer reach the portal
        return htmx.redirect_to(url_for("schools.index"))
    return _back_to(member_id)
