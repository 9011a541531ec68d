"""The parent's activity log (user_logs), as they may read it.

What the page shows of a row is chosen here: a label per event, the time and the address (the
browser is described by portal.user_agents). Of `data` only a few harmless keys are ever
shown, so a value a future writer puts there by mistake does not end up on a page.
"""

import math
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import UserLog

PER_PAGE = 50

EVENT_LABELS = {
    "registered": _l("Account opened"),
    "registration_repeated": _l("Someone tried to open an account with your address"),
    "email_code_sent": _l("Verification code sent"),
    "email_verified": _l("E-mail address verified"),
    "email_code_failed": _l("Wrong or expired code entered"),
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Failed sign-in"),
    "sign_in_limited": _l("Sign-in refused after too many tries"),
    "request_refused": _l("Request refused"),
    "sign_out": _l("Signed out"),
    "consent_given": _l("Consent given"),
    "consent_withdrawn": _l("Consent withdrawn"),
    "password_changed": _l("Password changed"),
    "password_check_failed": _l("Wrong password entered"),
    "profile_changed": _l("Profile changed"),
    "session_ended": _l("Session ended"),
    "favorite_added": _l("Favorite added"),
    "favorite_removed": _l("Favorite removed"),
    "push_token_registered": _l("Device registered for notifications"),
    "push_token_removed": _l("Device removed from notifications"),
    "email_change_requested": _l("E-mail change requested"),
    "email_changed": _l("E-mail address changed"),
    "account_deleted": _l("Account deleted"),
    "subscription_started": _l("Subscription started"),
    "payment_failed": _l("Payment refused"),
    "subscription_cancel_scheduled": _l("Subscription set to end at the period end"),
    "subscription_cancel_undone": _l("Subscription end taken back"),
    "subscription_cancelled": _l("Subscription ended"),
    "subscription_paused": _l("Subscription paused"),
    "subscription_resumed": _l("Subscription resumed"),
    "subscription_change_scheduled": _l("Plan change planned"),
    "subscription_change_cancelled": _l("Planned plan change dropped"),
    "card_added": _l("Card added"),
    "card_default_changed": _l("Card for renewals changed"),
    "card_removed": _l("Card removed"),
}

# The names profile_changed may list, as the profile page calls them.
FIELD_LABELS = {
    "name": _l("Full name"),
    "phone": _l("Phone"),
    "budget": _l("School-fee budget"),
    "budget_min": _l("Lowest yearly fee"),
    "budget_max": _l("Highest yearly fee"),
    "contacts": _l("Contacts"),
    "two_step_enabled": _l("Sign-in code every time"),
}

# What an e-mail code was for (`purpose`), and what a password was asked again for (`action`).
PURPOSE_LABELS = {
    "verify_email": _l("e-mail verification"),
    "change_email": _l("e-mail change"),
    "sign_in": _l("sign-in"),
    "reset_password": _l("password reset"),
}
ACTION_LABELS = {
    "email_change": _l("e-mail change"),
    "account_deletion": _l("account deletion"),
}


@dataclass(frozen=True)
class ActivityPage:
    """One page of the log, newest first."""

    rows: list[UserLog]
    page: int
    pages: int
    total: int


def activity_page(
    session: Session, user_id: int, page: int, per_page: int = PER_PAGE
) -> ActivityPage:
    """The user's own rows for page `page` (from 1); a page past the end is empty."""
    total = session.scalar(
        select(func.count()).select_from(UserLog).where(UserLog.user_id == user_id)
    )
    pages = max(1, math.ceil(total / per_page))
    rows = []
    if page <= pages:  # past the end nothing is asked for (a huge offset overflows bigint)
        rows = session.scalars(
            select(UserLog)
            .where(UserLog.user_id == user_id)
            .order_by(UserLog.created_at.desc(), UserLog.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
    return ActivityPage(list(rows), page, pages, total)


def event_label(event: str) -> str:
    """A human label for an event code; an unknown code shows as itself."""
    return EVENT_LABELS.get(event, event)


def event_details(row: UserLog) -> list[str]:
    """The harmless facts of a row worth showing, each from a fixed list of labels.

    Which profile fields changed, what a code was for, what a password was asked for; any
    other key, or a value not in these lists, is left out.
    """
    data = row.data if isinstance(row.data, dict) else {}
    fields = data.get("fields")
    if row.event == "profile_changed" and isinstance(fields, list):
        return [str(FIELD_LABELS[f]) for f in fields if isinstance(f, str) and f in FIELD_LABELS]
    purpose, action = data.get("purpose"), data.get("action")
    if isinstance(purpose, str) and purpose in PURPOSE_LABELS:
        return [str(PURPOSE_LABELS[purpose])]
    if isinstance(action, str) and action in ACTION_LABELS:
        return [str(ACTION_LABELS[action])]
    return []
