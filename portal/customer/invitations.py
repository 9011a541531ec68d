"""Invitations to a company's team (customer_user_invitations): made by a member who may
manage the team, mailed through the outbox, accepted once.

Plain module: the caller passes the session, the Origin and the time, and commits.

- **The link** carries a random token (`secrets.token_urlsafe(32)`, 256 bits); the row keeps
  only its SHA-256. A plain hash is enough for a secret that cannot be guessed (a 6-digit
  code would need a keyed hash, portal.auth.codes).
- **Lifetime** INVITATION_LIFETIME (7 days): long enough for a colleague on leave for a week,
  short enough that a forgotten mail stops being a key. Single use: accepting is one
  conditional UPDATE (`WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at >
  now`), so two tabs accepting at once make one member.
- **Inviting an address again** revokes its pending invitation and sends a new link (one
  place held, not two).
- **No account enumeration**: inviting answers the same whether the address has an account or
  not (only a member already active in the inviter's own company is refused: the inviter sees
  their team anyway). What the address is, is told on the accept page only, to whoever holds
  the link (the mailbox's owner).
- **Who may accept**: a person with no account opens one there (name and password; the link
  proves the address, so it is verified). An existing staff account with no active
  membership signs in first and accepts (a membership of the same company, deactivated, comes
  back with the invitation's role and title; a membership of another company cannot move:
  the old company's history stays with it). A parent account cannot become staff (one user,
  one audience: portal.access.audience_of_user), nor can an operator or a member active
  anywhere: the page says so.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal import mail
from portal.access.permissions import ROLE_NAMES, Role
from portal.audit import Origin, log_event
from portal.auth.passwords import hash_password
from portal.billing.receipts import portal_url
from portal.customer.team import (
    check_room,
    lock_company,
    pending_clause,
    require_manager,
    role_and_title,
)
from portal.email_address import normalize_email
from portal.i18n import local_datetime
from portal.models import (
    Customer,
    CustomerUser,
    CustomerUserInvitation,
    User,
    UserType,
)
from portal.models.base import UTCDateTime
from portal.models.users import USER_TYPE_CUSTOMER_STAFF, USER_TYPE_PARENT

INVITATION_LIFETIME = timedelta(days=7)
# The team page lists this many pending invitations, newest first, and counts the rest.
PENDING_SHOWN = 20


class AlreadyMember(Exception):
    """The address is an active member of the inviter's own company."""


class InvitationUnavailable(Exception):
    """The invitation cannot be accepted (any more) by this person."""


class Acceptance(StrEnum):
    """What the accept page offers whoever holds a valid link."""

    NEW_ACCOUNT = "new_account"  # no account has the address: open one here
    SIGN_IN = "sign_in"  # a staff account may accept once signed in as it
    CONFIRM = "confirm"  # signed in as that account: one button
    WRONG_ACCOUNT = "wrong_account"  # signed in as somebody else
    PARENT = "parent"  # the address is a parent's account, which cannot become staff
    UNAVAILABLE = "unavailable"  # an operator, or staff of a company already


def token_hash(token: str) -> str:
    """What the database keeps of an invitation link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    session: Session,
    actor: CustomerUser,
    email: str,
    role_id: int,
    title_id: int | None,
    origin: Origin,
    now: datetime,
) -> tuple[CustomerUserInvitation, str]:
    """Invite `email` to the actor's company with a role and title; mail the link. Returns
    the invitation and its token (only the mail carries the link).

    :raise PermissionError: the actor may not manage the team.
    :raise UnknownChoice: an unknown role or title.
    :raise AlreadyMember: the address is an active member of this company.
    :raise TeamFull: the plan's team is full (pending invitations included).
    """
    require_manager(actor)
    role, title = role_and_title(session, role_id, title_id)
    email = normalize_email(email)
    customer_id = actor.customer_id
    lock_company(session, customer_id)
    member = session.scalar(
        select(CustomerUser.id)
        .join(User, User.id == CustomerUser.user_id)
        .where(CustomerUser.customer_id == customer_id, CustomerUser.is_active, User.email == email)
    )
    if member is not None:
        raise AlreadyMember(email)
    replaced = session.execute(
        update(CustomerUserInvitation)
        .where(
            CustomerUserInvitation.customer_id == customer_id,
            CustomerUserInvitation.email == email,
            pending_clause(now),
        )
        .values(revoked_at=now)
    ).rowcount
    check_room(session, customer_id, now)
    token = secrets.token_urlsafe(32)
    invitation = CustomerUserInvitation(
        customer_id=customer_id,
        email=email,
        role_id=role.id,
        title_id=title.id if title is not None else None,
        token_hash=token_hash(token),
        invited_by_customer_user_id=actor.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    customer = session.get(Customer, customer_id)
    inviter = session.get(User, actor.user_id)
    _mail_invitation(invitation, token, customer, inviter, role)
    log_event(
        session,
        "team_invitation_sent",
        actor.user_id,
        origin,
        customer_id=customer_id,
        invitation_id=invitation.id,
        role=role.code,
        replaced=replaced,
    )
    return invitation, token


def _mail_invitation(invitation, token, customer, inviter, role) -> None:
    # The invited person's language is not known: the portal's own (Turkish by default).
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            role_name = str(ROLE_NAMES[Role(role.code)])
        except ValueError:
            role_name = role.name
        link = portal_url("customer.accept_invitation", token=token)
        body = "\n\n".join(
            [
                _(
                    "%(inviter)s invites you to join %(company)s on Okul as %(role)s.",
                    inviter=inviter.name,
                    company=customer.name,
                    role=role_name,
                ),
                _("To accept, open this link: %(link)s", link=link),
                _(
                    "The link can be used once and is valid until %(until)s. If you did not "
                    "expect this invitation, ignore this message.",
                    until=local_datetime(invitation.expires_at),
                ),
            ]
        )
        mail.send(
            invitation.email,
            _("Invitation to %(company)s on Okul", company=customer.name),
            body,
        )


def pending_invitations(
    session: Session, customer_id: int, now: datetime, limit: int = PENDING_SHOWN
) -> list[CustomerUserInvitation]:
    """The company's newest pending invitations with their role and title (one statement)."""
    return list(
        session.scalars(
            _pending_statement(), {"customer_id": customer_id, "now": now, "limit": limit}
        )
    )


@cache
def _pending_statement() -> Select:
    """Built once: the team page asks on every visit (decisions.md, "Statements built once")."""
    return (
        select(CustomerUserInvitation)
        .where(
            CustomerUserInvitation.customer_id == bindparam("customer_id"),
            pending_clause(bindparam("now", type_=UTCDateTime())),
        )
        .options(joinedload(CustomerUserInvitation.role), joinedload(CustomerUserInvitation.title))
        .order_by(CustomerUserInvitation.created_at.desc(), CustomerUserInvitation.id.desc())
        .limit(bindparam("limit"))
    )


def revoke(
    session: Session, actor: CustomerUser, invitation_id: int, origin: Origin, now: datetime
) -> bool:
    """Withdraw a pending invitation of the actor's company; False when there is none such
    (accepted, revoked, expired, another company's, or unknown: all alike).

    :raise PermissionError: the actor may not manage the team.
    """
    require_manager(actor)
    revoked = session.execute(
        update(CustomerUserInvitation)
        .where(
            CustomerUserInvitation.id == invitation_id,
            CustomerUserInvitation.customer_id == actor.customer_id,
            pending_clause(now),
        )
        .values(revoked_at=now)
    ).rowcount
    if revoked:
        log_event(
            session,
            "team_invitation_revoked",
            actor.user_id,
            origin,
            customer_id=actor.customer_id,
            invitation_id=invitation_id,
        )
    return bool(revoked)


def find(session: Session, token: str, now: datetime) -> CustomerUserInvitation | None:
    """The pending invitation whose link carries `token`, or None (unknown, used, revoked and
    expired are alike)."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(CustomerUserInvitation)
        .where(CustomerUserInvitation.token_hash == token_hash(token), pending_clause(now))
        .options(
            joinedload(CustomerUserInvitation.customer),
            joinedload(CustomerUserInvitation.role),
            joinedload(CustomerUserInvitation.title),
        )
    )


@dataclass(frozen=True)
class Situation:
    """What the accept page offers, and the account the address belongs to (if any)."""

    acceptance: Acceptance
    account: User | None


def situation(
    session: Session, invitation: CustomerUserInvitation, signed_in: User | None
) -> Situation:
    """What whoever holds the link may do, given who is signed in (None: nobody)."""
    account = session.scalar(
        select(User).where(User.email == invitation.email).execution_options(include_deleted=True)
    )
    if account is None:
        if signed_in is not None:
            return Situation(Acceptance.WRONG_ACCOUNT, None)
        return Situation(Acceptance.NEW_ACCOUNT, None)
    if account.deleted_at is not None:
        return Situation(Acceptance.UNAVAILABLE, account)
    if account.type_code == USER_TYPE_PARENT:
        return Situation(Acceptance.PARENT, account)
    if not _may_join(account, invitation):
        return Situation(Acceptance.UNAVAILABLE, account)
    if signed_in is None:
        return Situation(Acceptance.SIGN_IN, account)
    if signed_in.id != account.id:
        return Situation(Acceptance.WRONG_ACCOUNT, account)
    return Situation(Acceptance.CONFIRM, account)


def _may_join(account: User, invitation: CustomerUserInvitation) -> bool:
    """A staff account with no active membership, and none in another company."""
    if account.type_code != USER_TYPE_CUSTOMER_STAFF:
        return False
    member = account.customer_user
    if member is not None:
        return not member.is_active and member.customer_id == invitation.customer_id
    return True


def _claim(
    session: Session, invitation: CustomerUserInvitation, user_id: int, now: datetime
) -> None:
    """Mark the invitation used by `user_id`, if nobody did first.

    :raise InvitationUnavailable: it was accepted, revoked or expired meanwhile.
    """
    claimed = session.execute(
        update(CustomerUserInvitation)
        .where(CustomerUserInvitation.id == invitation.id, pending_clause(now))
        .values(accepted_at=now, accepted_user_id=user_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise InvitationUnavailable("the invitation was used, revoked or expired meanwhile")


def accept_as_new_person(
    session: Session,
    invitation: CustomerUserInvitation,
    name: str,
    password: str,
    origin: Origin,
    now: datetime,
) -> User:
    """Open a staff account for the invited address and make it a member of the company.

    The caller commits; on InvitationUnavailable it rolls back (nothing is kept).

    :raise InvitationUnavailable: the address has an account by now, or the invitation was
        used, revoked or expired meanwhile.
    """
    staff_type = session.scalar(select(UserType).where(UserType.code == USER_TYPE_CUSTOMER_STAFF))
    user = User(
        name=name.strip(),
        email=invitation.email,
        user_type_id=staff_type.id,
        customer_id=invitation.customer_id,
        password_hash=hash_password(password),
        email_verified_at=now,  # the link came to this address
    )
    try:
        with session.begin_nested():  # the address taken meanwhile: refused, not a 500
            session.add(user)
            session.flush()
    except IntegrityError as error:
        raise InvitationUnavailable("the address has an account by now") from error
    _claim(session, invitation, user.id, now)
    member = CustomerUser(
        customer_id=invitation.customer_id,
        user_id=user.id,
        role_id=invitation.role_id,
        title_id=invitation.title_id,
        is_active=True,
    )
    session.add(member)
    session.flush()
    _log_accepted(session, invitation, user.id, member.id, origin)
    return user


def accept_as_account(
    session: Session,
    invitation: CustomerUserInvitation,
    user: User,
    origin: Origin,
    now: datetime,
) -> CustomerUser:
    """Make the signed-in staff account `user` (the invited address's) a member.

    :raise InvitationUnavailable: the account may not join (see `situation`), or the
        invitation was used, revoked or expired meanwhile.
    """
    if user.email != invitation.email or not _may_join(user, invitation):
        raise InvitationUnavailable("this account may not accept the invitation")
    lock_company(session, invitation.customer_id)
    _claim(session, invitation, user.id, now)
    member = user.customer_user
    if member is None:
        # A staff account without a membership row: it may take the inviting company.
        user.customer_id = invitation.customer_id
        session.flush()
        member = CustomerUser(
            customer_id=invitation.customer_id,
            user_id=user.id,
            role_id=invitation.role_id,
            title_id=invitation.title_id,
            is_active=True,
        )
        session.add(member)
    else:
        member.role_id, member.title_id, member.is_active = (
            invitation.role_id,
            invitation.title_id,
            True,
        )
    session.flush()
    _log_accepted(session, invitation, user.id, member.id, origin)
    return member


def _log_accepted(session, invitation, user_id, member_id, origin) -> None:
    log_event(
        session,
        "team_invitation_accepted",
        user_id,
        origin,
        customer_id=invitation.customer_id,
        invitation_id=invitation.id,
        customer_user_id=member_id,
        invited_by_customer_user_id=invitation.invited_by_customer_user_id,
    )
