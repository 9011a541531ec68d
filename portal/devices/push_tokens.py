"""A user's push-notification tokens: register and remove, never touching another user's row.

A device token names one physical device (one app install), and the unique index on
user_notification_ids.token lets it belong to one user at a time. So when a different user
signs in on that device and registers the same token, the device has changed hands: the row
moves to the new user, and pushes meant for the previous owner stop going to a device they
no longer hold. Nothing here lets anyone read or remove a token that is not theirs; a move
only follows the device whose token the caller holds.

Plain module: the caller passes the session and the request's Origin, and commits.
"""

import hashlib
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Origin, log_event
from portal.clock import utcnow
from portal.models import UserNotificationId


class Registration(NamedTuple):
    """The user's row for the token, and whether it is new for this user (201) or not (200)."""

    row: UserNotificationId
    created: bool


def register_token(
    session: Session, user_id: int, token: str, platform: str, origin: Origin
) -> Registration:
    """Make `token` the user's: create it, refresh it, or move it from the device's last owner.

    Registering the user's own token again only refreshes last_seen_at (and the platform) and
    writes no audit row, so an app may register on every launch.
    """
    now = utcnow()
    row = _row_for(session, token)
    if row is None:
        row = UserNotificationId(
            user_id=user_id, token=token, platform=platform, created_at=now, last_seen_at=now
        )
        try:
            # Two requests registering one token at once: the unique index lets one win.
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            # The locking read sees the winner's committed row even under MariaDB's
            # REPEATABLE READ, whose plain reads keep showing this transaction's snapshot.
            row = _row_for(session, token, lock=True)
            if row is None:
                raise  # not the token after all (a user that no longer exists, say)
        else:
            log_event(
                session, "push_token_registered", user_id, origin, **_described(token, platform)
            )
            return Registration(row, created=True)

    if row.user_id == user_id:
        row.platform = platform
        row.last_seen_at = now
        return Registration(row, created=False)

    previous_owner = row.user_id
    log_event(
        session,
        "push_token_removed",
        previous_owner,
        origin,
        reason="registered_by_another_user",
        **_described(token, row.platform),
    )
    row.user_id = user_id
    row.platform = platform
    row.created_at = now
    row.last_seen_at = now
    log_event(
        session,
        "push_token_registered",
        user_id,
        origin,
        moved_from_another_user=True,
        **_described(token, platform),
    )
    return Registration(row, created=True)


def remove_token(session: Session, user_id: int, token: str, origin: Origin) -> bool:
    """Delete the user's own row for `token`; False when the user has no such token.

    Another user's token and an unknown token look alike: False, and nothing changes.
    """
    row = session.scalar(
        select(UserNotificationId).where(
            UserNotificationId.user_id == user_id, UserNotificationId.token == token
        )
    )
    if row is None:
        return False
    platform = row.platform
    # A statement rather than session.delete(): if a concurrent request removed or moved the
    # row meanwhile, zero rows match and the answer is False instead of a stale-data error.
    deleted = session.execute(
        delete(UserNotificationId).where(
            UserNotificationId.id == row.id, UserNotificationId.user_id == user_id
        )
    ).rowcount
    if deleted != 1:
        return False
    log_event(session, "push_token_removed", user_id, origin, **_described(token, platform))
    return True


def token_fingerprint(token: str) -> str:
    """A short hash that tells audit rows about one token apart without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _described(token: str, platform: str) -> dict:
    # The token itself is a credential for pushing to someone's phone: never in a log.
    return {"platform": platform, "token_sha256": token_fingerprint(token)}


def _row_for(session: Session, token: str, lock: bool = False) -> UserNotificationId | None:
    query = select(UserNotificationId).where(UserNotificationId.token == token)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)
