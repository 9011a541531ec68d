"""The parent's profile: name, phone and school-fee budget (users, user_details).

Plain module: the caller passes the session and the request's Origin, and commits.
"""

from dataclasses import dataclass, fields
from decimal import Decimal

from sqlalchemy.orm import Session

from portal.audit import Origin, log_event
from portal.models import User, UserDetail
from portal.turkish import normalize_phone


@dataclass(frozen=True)
class Profile:
    """What the parent may change about themselves on the profile page."""

    name: str
    phone: str | None
    budget_min: Decimal | None
    budget_max: Decimal | None


def profile_of(user: User) -> Profile:
    """The profile as it is stored now."""
    details = user.details
    return Profile(
        name=user.name,
        phone=details.phone if details else None,
        budget_min=details.budget_min if details else None,
        budget_max=details.budget_max if details else None,
    )


def update_profile(session: Session, user: User, profile: Profile, origin: Origin) -> list[str]:
    """Store the profile; returns the names of the fields that changed.

    The phone is stored as +90XXXXXXXXXX. The user_details row is made if it is missing. The
    audit row names the changed fields, never their values.

    :raise ValueError: when the phone is not a Turkish number or the budget range is not
        ordered (the form checks both first).
    """
    if (
        profile.budget_min is not None
        and profile.budget_max is not None
        and profile.budget_min > profile.budget_max
    ):
        raise ValueError("budget_min > budget_max")
    wanted = Profile(
        name=profile.name.strip(),
        phone=normalize_phone(profile.phone) if profile.phone else None,
        budget_min=profile.budget_min,
        budget_max=profile.budget_max,
    )
    before = profile_of(user)
    changed = [
        f.name for f in fields(Profile) if getattr(before, f.name) != getattr(wanted, f.name)
    ]
    if not changed:
        return []
    details = user.details
    if details is None:
        details = UserDetail(user_id=user.id)
        session.add(details)
        user.details = details
    user.name = wanted.name
    details.phone = wanted.phone
    details.budget_min = wanted.budget_min
    details.budget_max = wanted.budget_max
    log_event(session, "profile_changed", user.id, origin, fields=changed)
    return changed


def remember_language(user: User, language: str) -> bool:
    """Keep the language the user chose on their account: what they are mailed later (a lead
    for the staff, a receipt from the renewal run) and what another browser of theirs shows
    once signed in come in it. Returns whether it changed. Not audited: a preference, not
    personal data or a right."""
    changed = user.locale != language
    user.locale = language
    return changed
