"""Demo accounts that no product page opens yet: company staff and the operator.

Staff are added by a company's admin in the company portal and operators by hand, both in
later issues; until a domain function makes them, the users rows are built here directly,
looking as such an account will: a password hash and an address already verified.
"""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.passwords import hash_password
from portal.models import User, UserType
from portal.models.users import USER_TYPE_OPERATOR

DEMO_PASSWORD = "okul-demo-2026"
OPERATOR_EMAIL = "operator@okul-portal.example.com"


class Login(NamedTuple):
    """A demo login as `flask demo-data` prints it."""

    email: str
    password: str
    who: str


def existing_user(session: Session, email: str) -> User | None:
    """The user with this address, deleted or not (a deleted demo user is not made again)."""
    return session.scalar(
        select(User).where(User.email == email).execution_options(include_deleted=True)
    )


def account(
    session: Session,
    email: str,
    name: str,
    user_type: str,
    now: datetime,
    customer_id: int | None = None,
) -> User:
    """The verified account with this address, made when missing."""
    user = existing_user(session, email)
    if user is None:
        user = User(
            email=email,
            name=name,
            user_type=session.scalar(select(UserType).where(UserType.code == user_type)),
            customer_id=customer_id,
            password_hash=hash_password(DEMO_PASSWORD),
            email_verified_at=now,
        )
        session.add(user)
        session.flush()
    return user


def make_operator(session: Session, now: datetime) -> Login:
    """The platform operator."""
    account(session, OPERATOR_EMAIL, "Okul Operatör", USER_TYPE_OPERATOR, now)
    return Login(OPERATOR_EMAIL, DEMO_PASSWORD, "operator")
