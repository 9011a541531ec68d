"""KVKK in the parent's area: see the consents given, give one, or withdraw it."""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp
from portal.auth import registration
from portal.clock import utcnow
from portal.extensions import db
from portal.forms import EmptyForm, posted_id
from portal.models import ConsentText, UserConsent
from portal.origin import current_origin


@bp.route("/privacy")
@allow(PARENT)
def privacy():
    """The consents the parent has given, newest first, with the current consent text."""
    consents = db.session.scalars(
        select(UserConsent)
        .where(UserConsent.user_id == current_user.id)
        .order_by(UserConsent.given_at.desc())
    ).all()
    return htmx.render(
        "account/privacy.html",
        "content",
        consents=consents,
        has_live_consent=any(c.withdrawn_at is None for c in consents),
        consent_text=registration.current_text(db.session, "kvkk_consent"),
        form=EmptyForm(),
    )


@bp.route("/privacy/consent", methods=["POST"])
@allow(PARENT)
def give_consent():
    """Give explicit consent against the text the page showed.

    :raise 400: when the form's token is missing or the text is not a consent text.
    """
    form = EmptyForm()
    shown = posted_id(request.form.get("consent_text_id"))
    text = db.session.get(ConsentText, shown) if shown is not None else None
    if not form.validate_on_submit() or text is None or text.kind != "kvkk_consent":
        abort(400)
    already = db.session.scalar(
        select(UserConsent.id).where(
            UserConsent.user_id == current_user.id, UserConsent.withdrawn_at.is_(None)
        )
    )
    if already is None:
        registration.give_consent(
            db.session, current_user, text.id, current_origin(), "account_page", utcnow()
        )
        db.session.commit()
    flash(_("Thank you. Your consent is recorded."), "success")
    return htmx.redirect_to(url_for("account.privacy"))


@bp.route("/privacy/withdraw", methods=["POST"])
@allow(PARENT)
def withdraw_consent():
    """Withdraw consent; the record stays, marked withdrawn, as evidence of what was given."""
    if EmptyForm().validate_on_submit():
        registration.withdraw_consent(db.session, current_user, current_origin(), utcnow())
        db.session.commit()
        flash(_("Your consent is withdrawn. Schools will no longer receive your details."), "info")
    return htmx.redirect_to(url_for("account.privacy"))
