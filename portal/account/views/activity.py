"""The parent's activity log page."""

from flask import request
from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import activity_log, bp
from portal.extensions import db


@bp.route("/activity")
@allow(PARENT)
def activity():
    """What happened on the account, newest first, 50 a page (`?page=`)."""
    page = request.args.get("page", 1, type=int) or 1
    result = activity_log.activity_page(db.session, current_user.id, max(page, 1))
    return htmx.render(
        "account/activity.html",
        "activity_log",
        log=result,
        event_label=activity_log.event_label,
        event_details=activity_log.event_details,
    )
