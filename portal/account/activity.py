"""The parent's activity log page."""

from flask import request
from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp, user_logs
from portal.extensions import db


@bp.route("/activity")
@allow(PARENT)
def activity():
    """What happened on the account, newest first, 50 a page (`?page=`)."""
    page = request.args.get("page", 1, type=int) or 1
    result = user_logs.activity_page(db.session, current_user.id, max(page, 1))
    return htmx.render(
        "account/activity.html",
        "activity_log",
        log=result,
        event_label=user_logs.event_label,
        event_details=user_logs.event_details,
        short_user_agent=user_logs.short_user_agent,
    )
