"""The parent's extra contacts (user_contacts): list, add, change and remove their own.

Plain module: the caller passes the session and the request's Origin, and commits. Every
lookup is by the owner as well as the id, so another user's contact is simply not found.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Origin, log_event
from portal.models import User, UserContact
from portal.models.users import CONTACT_TYPES
from portal.turkish import normalize_phone


@dataclass(frozen=True)
class ContactEntry:
    """What the parent typed for one contact."""

    contact_type: str
    label: str | None
    value: str


def contacts_of(session: Session, user_id: int) -> list[UserContact]:
    """The user's contacts, oldest first (the order they were added in)."""
    return list(
        session.scalars(
            select(UserContact)
            .where(UserContact.user_id == user_id)
            .order_by(UserContact.created_at, UserContact.id)
        )
    )


def contact_of(session: Session, user_id: int, contact_id: int) -> UserContact | None:
    """The user's own contact with this id, or None (also when it is someone else's)."""
    return session.scalar(
        select(UserContact).where(UserContact.id == contact_id, UserContact.user_id == user_id)
    )


def _stored(entry: ContactEntry) -> ContactEntry:
    """The entry as it is kept: phones as +90XXXXXXXXXX, text trimmed.

    :raise ValueError: for an unknown type or a phone that is not Turkish (the form checks).
    """
    if entry.contact_type not in CONTACT_TYPES:
        raise ValueError(f"unknown contact type {entry.contact_type!r}")
    value = entry.value.strip()
    if entry.contact_type == "phone":
        value = normalize_phone(value)
    return ContactEntry(entry.contact_type, (entry.label or "").strip() or None, value)


def add_contact(session: Session, user: User, entry: ContactEntry, origin: Origin) -> UserContact:
    """Keep a new contact for the user."""
    entry = _stored(entry)
    contact = UserContact(
        user_id=user.id, contact_type=entry.contact_type, label=entry.label, value=entry.value
    )
    session.add(contact)
    session.flush()
    log_event(session, "profile_changed", user.id, origin, fields=["contacts"])
    return contact


def update_contact(
    session: Session, user: User, contact: UserContact, entry: ContactEntry, origin: Origin
) -> bool:
    """Change one of the user's contacts; True when anything changed."""
    if contact.user_id != user.id:
        raise PermissionError("not the user's contact")
    entry = _stored(entry)
    before = (contact.contact_type, contact.label, contact.value)
    if before == (entry.contact_type, entry.label, entry.value):
        return False
    contact.contact_type, contact.label, contact.value = (
        entry.contact_type,
        entry.label,
        entry.value,
    )
    log_event(session, "profile_changed", user.id, origin, fields=["contacts"])
    return True


def remove_contact(session: Session, user: User, contact: UserContact, origin: Origin) -> None:
    """Remove one of the user's contacts."""
    if contact.user_id != user.id:
        raise PermissionError("not the user's contact")
    session.delete(contact)
    log_event(session, "profile_changed", user.id, origin, fields=["contacts"])
