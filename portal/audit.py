"""The one writer of user_logs: every security and business event goes through log_event().

Plain module: the caller passes where the request came from (portal.origin.Origin), so a CLI
command or a job can log too. Never put a password or a code in `data`.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.models import UserLog

# The events the portal records; a typo in an event name fails loudly instead of silently
# creating a new kind of row nobody reads.
EVENTS = frozenset(
    {
        "registered",
        "registration_repeated",
        "email_code_sent",
        "email_verified",
        "email_code_failed",
        "sign_in",
        "sign_in_failed",
        "sign_out",
        "consent_given",
        "consent_withdrawn",
        "password_changed",
        "profile_changed",
        "company_changed",
        "session_ended",
        "favorite_added",
        "favorite_removed",
        "push_token_registered",
        "push_token_removed",
        "account_deleted",
        "email_change_requested",
        "email_changed",
        "password_check_failed",
        "subscription_started",
        "payment_failed",
        "subscription_cancel_scheduled",
        "subscription_cancel_undone",
        "subscription_cancelled",
        "subscription_paused",
        "subscription_resumed",
        "subscription_change_scheduled",
        "subscription_change_cancelled",
    }
)


# Every user_agent column (user_logs, sessions, consents, ...) is this long.
USER_AGENT_LENGTH = UserLog.__table__.c.user_agent.type.length


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as far as we can tell.

    The user agent is cut to what the columns keep, and an empty one is None, so every row that
    records an Origin can store it as it is.
    """

    ip_address: str | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        # A browser may send any length; a frozen dataclass is set through object.
        object.__setattr__(self, "user_agent", (self.user_agent or "")[:USER_AGENT_LENGTH] or None)


# Events with no request behind them (a flask command, a job).
NO_ORIGIN = Origin()


def log_event(
    session: Session,
    event: str,
    user_id: int | None,
    origin: Origin = Origin(),
    **data,
) -> UserLog:
    """Add a user_logs row (the caller commits with the change it describes)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}; add it to portal.audit.EVENTS")
    row = UserLog(
        user_id=user_id,
        event=event,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        data=data or None,
    )
    session.add(row)
    return row
