"""Flask-Login wiring and the one rule for who may sign in."""

from flask_login import LoginManager
from sqlalchemy import select

from portal.auth import sessions
from portal.auth.passwords import verify_password
from portal.clock import utcnow
from portal.email_address import normalize_email  # the one rule; imported from here too
from portal.extensions import db
from portal.models import User


def configure(login_manager: LoginManager) -> None:
    """Teach Flask-Login how to load users."""
    # portal.access sends anonymous visitors to log in; Flask-Login only loads users.
    login_manager.user_loader(load_user)


def load_user(session_token: str) -> User | None:
    """The user of a live session (the cookie holds its token), or None when it has ended."""
    return sessions.load_session_user(
        db.session, sessions.current_policy(), session_token, utcnow()
    )


def authenticate(email: str, password: str) -> User | None:
    """The user these credentials belong to, or None: unknown, wrong and unverified look alike."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or user.email_verified_at is None:
        return None
    return user
