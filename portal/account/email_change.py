"""Changing the account's e-mail address: it changes only once the new address is proven.

A 6-digit code goes to the NEW address (verification_codes, purpose `change_email`, with the
address it was sent to); users.email changes when that code comes back. Nothing here tells
the parent whether the new address already belongs to another account: the answer is the
same, but no code is sent (that account's owner is told instead), so verification can never
succeed. Plain module: the caller passes the session and the Origin, and commits.
"""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import mail
from portal.audit import Origin, log_event
from portal.auth.codes import CodePolicy, issue_code, mail_code, use_code
from portal.auth.login import normalize_email
from portal.auth.registration import VERIFICATION_MAIL
from portal.auth.sign_in import retire_reset_codes
from portal.models import User, VerificationCode

PURPOSE = "change_email"


def address_taken(session: Session, email: str, user: User) -> User | None:
    """The other account (deleted ones too: their address is still theirs) using `email`."""
    other = session.scalar(
        select(User).where(User.email == email).execution_options(include_deleted=True)
    )
    return other if other is not None and other.id != user.id else None


def request_email_change(
    session: Session, policy: CodePolicy, user: User, new_email: str, now: datetime, origin: Origin
) -> str:
    """Mail a code to the new address (if it is free); returns the normalised address.

    One audit row either way, `email_change_requested`; its `code_sent` says for the record
    whether a code went out (the activity page never shows it).
    """
    email = normalize_email(new_email)
    other = address_taken(session, email, user)
    code = None
    if other is None:
        # Scoped by address: a parent who mistyped the address gets a code for the corrected
        # one at once, while the same address still gets at most one code a minute.
        code = issue_code(
            session, VerificationCode, policy, user.id, PURPOSE, now, scope=("email",), email=email
        )
    elif other.deleted_at is None:
        mail.send(
            other.email,
            _("Someone tried to move an account to your address"),
            _(
                "Someone tried to change the e-mail address of another Okul account to this "
                "address, which already has an account. Nothing was changed. If it was not "
                "you, you can ignore this message."
            ),
        )
    if code is not None:
        mail_code(policy, email, code, VERIFICATION_MAIL)
    log_event(session, "email_change_requested", user.id, origin, code_sent=code is not None)
    return email


def confirm_email_change(
    session: Session,
    policy: CodePolicy,
    user: User,
    new_email: str,
    code: str,
    now: datetime,
    origin: Origin,
) -> bool:
    """Change users.email when the code sent to `new_email` is right; False otherwise.

    Wrong, used, expired and never-sent codes look alike. The old address is told of the
    change, so its owner notices if someone else made it.
    """
    email = normalize_email(new_email)
    if not use_code(session, VerificationCode, policy, user.id, PURPOSE, code, now, email=email):
        log_event(session, "email_code_failed", user.id, origin, purpose=PURPOSE)
        return False
    old_email = user.email
    try:
        # Someone may have registered the address since the code was sent: then it stays theirs.
        with session.begin_nested():
            user.email = email
            user.email_verified_at = now
            session.flush()
    except IntegrityError:
        session.refresh(user)
        log_event(session, "email_code_failed", user.id, origin, purpose=PURPOSE)
        return False
    # A reset code sent to the old address must not outlive the change.
    retire_reset_codes(session, user.id, now)
    log_event(session, "email_changed", user.id, origin)
    mail.send(
        old_email,
        _("The e-mail address of your Okul account was changed"),
        _(
            "The e-mail address of your Okul account was changed to %(email)s. From now on "
            "you sign in with that address. If you did not make this change, contact us at "
            "once.",
            email=email,
        ),
    )
    return True
