"""The sale documents a parent confirmed at checkout (the pre-information form and the
distance sales contract), each exactly as kept with its evidence: only to the parent who
confirmed it; anyone else's, or an unknown id, is the same 404.
"""

from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.agreements import acceptances
from portal.agreements.evidence import instant
from portal.billing import bp
from portal.clock import ISTANBUL
from portal.core.views.errors import refuse_not_yours
from portal.extensions import db
from portal.models import AgreementText


@bp.route("/account/subscription/documents/<int:acceptance_id>")
@allow(PARENT)
def accepted_document(acceptance_id: int):
    """One confirmed document: its title, the text as confirmed, its SHA-256, when (Istanbul
    with its offset, and UTC as the record hash writes it) and the order it belongs to.

    :raise 404: another parent's document, or an unknown id.
    """
    row = acceptances.acceptance_of(db.session, current_user.id, acceptance_id)
    if row is None:
        refuse_not_yours("user_agreement_acceptance", acceptance_id)
    text = db.session.get(AgreementText, row.agreement_text_id)
    return htmx.render(
        "billing/document.html",
        "accepted_document",
        acceptance=row,
        title=text.title,
        version=text.version,
        accepted_istanbul=row.accepted_at.astimezone(ISTANBUL).isoformat(timespec="seconds"),
        accepted_utc=instant(row.accepted_at),
    )
