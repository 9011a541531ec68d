"""Flask-Login wiring and the one rule for who may sign in."""

from flask_login import LoginManager
from sqlalchemy import select

from portal.auth.passwords import verify_password
from portal.extensions import db
from portal.models import User


def configure(login_manager: LoginManager) -> None:
    """Teach Flask-Login how to load users."""
    # portal.access sends anonymous visitors to log in; Flask-Login only loads users.
    login_manager.user_loader(load_user)


def load_user(user_id: str) -> User | None:
    """The signed-in user for a session, or None when deleted or unknown."""
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def authenticate(email: str, password: str) -> User | None:
    """The user these credentials belong to, or None: unknown, wrong and unverified look alike."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or user.email_verified_at is None:
        return None
    return user


def normalize_email(email: str) -> str:
    """The one stored form of an address: trimmed and lower-cased."""
    return email.strip().lower()
