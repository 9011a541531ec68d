"""The one writer of user_logs: every security and business event goes through log_event().

Plain module: the caller passes where the request came from (portal.origin.Origin), so a CLI
command or a job can log too. Never put a password or a code in `data`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
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
        "sign_in_limited",
        "request_refused",
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
        "payment_refunded",
        "refund_failed",
        "subscription_cancel_scheduled",
        "subscription_cancel_undone",
        "subscription_cancelled",
        "subscription_paused",
        "subscription_resumed",
        "subscription_change_scheduled",
        "subscription_change_cancelled",
        "subscription_upgraded",
        # Saved cards (portal/billing/cards.py): added, chosen for renewals, removed.
        "card_added",
        "card_default_changed",
        "card_removed",
        # Leads and offers (portal/leads): the parent's and the staff's steps on a lead.
        "lead_opened",
        "lead_ended",
        "lead_assigned",
        "offer_made",
        "offer_accepted",
        "offer_declined",
        "lead_digest_sent",
        # The schools' own pages (portal/customer/school_pages.py).
        "school_page_changed",
        "school_fees_changed",
        "school_listed",
        "school_unlisted",
        # The company's team (portal/customer/team.py, invitations.py): who changed whom.
        "team_invitation_sent",
        "team_invitation_revoked",
        "team_invitation_accepted",
        "team_member_changed",
        "team_member_deactivated",
        "team_member_reactivated",
        "team_grant_added",
        "team_grant_revoked",
        # Agreements (portal/agreements/signing.py): a member's signature or the decline.
        "agreement_signed",
        "agreement_declined",
        # The operators' steps (portal/agreements/views/operator.py).
        "agreement_text_published",
        "agreement_drafted",
        "agreement_sent",
        "agreement_voided",
        # Renewals (portal/agreements/views/renewals.py).
        "agreement_renewed",
        "renewal_discount_offered",
        "renewal_discount_followed",
        # A signed agreement's installment paid (portal/agreements/payments.py).
        "agreement_paid",
    }
)


# Failures are kept as one row per event, account, source (IP) and target in this window, with
# a count: enough to see brute force and probing, never a row per attempt an attacker can send.
FAILURE_WINDOW = timedelta(minutes=15)

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


def log_once(
    session: Session,
    event: str,
    user_id: int | None,
    origin: Origin,
    target: str,
    now: datetime,
    window: timedelta = FAILURE_WINDOW,
    **data,
) -> UserLog:
    """One row per event, account, source and target within `window`; a repeat adds to its
    `count` (and `last_at`) instead of adding a row. The caller commits."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}; add it to portal.audit.EVENTS")
    # The (user_id, created_at) index serves this, NULL user included; the target is compared
    # here rather than in SQL, because the three databases query JSON in three ways.
    recent = session.scalars(
        select(UserLog)
        .where(
            UserLog.user_id.is_(None) if user_id is None else UserLog.user_id == user_id,
            UserLog.created_at > now - window,
            UserLog.event == event,
            UserLog.ip_address.is_(None)
            if origin.ip_address is None
            else UserLog.ip_address == origin.ip_address,
        )
        .order_by(UserLog.id.desc())
        .limit(50)
    )
    for row in recent:
        if (row.data or {}).get("target") == target:
            # A new dict: the JSON column notices reassignment, not changes inside it.
            row.data = {
                **row.data,
                "count": row.data.get("count", 1) + 1,
                "last_at": now.isoformat(),
            }
            return row
    row = log_event(session, event, user_id, origin, target=target, count=1, **data)
    row.created_at = now
    return row


def refused(
    session: Session, user_id: int | None, origin: Origin, status: int, target: str, now: datetime
) -> UserLog:
    """Record a refused request (403, 429, or a 404 for an object outside the caller's reach),
    once per caller, source and target in the window."""
    return log_once(session, "request_refused", user_id, origin, target, now, status=status)
