"""Live sessions (user_session_hash): one row per signed-in browser; no row, no session.

The session cookie and the remember-me cookie carry a random token; the row keeps only its
SHA-256. Deleting the row ends the session, and its remember-me cookie, on the next request.
"""

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.models import UserSessionHash


def end_sessions(session: Session, user_id: int, keep_id: int | None = None) -> int:
    """End every live session of the user, except `keep_id`; returns how many ended."""
    query = delete(UserSessionHash).where(UserSessionHash.user_id == user_id)
    if keep_id is not None:
        query = query.where(UserSessionHash.id != keep_id)
    return session.execute(query).rowcount
