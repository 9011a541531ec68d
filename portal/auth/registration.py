"""Opening a parent account, KVKK consent, and proving the e-mail address.

Nothing here tells a visitor whether an address already has an account: registering with a
taken address looks exactly like success, and the address's owner gets an e-mail instead.
Both paths do the same work, so the time taken does not tell either: one argon2 hash (of the
typed password, thrown away for a taken address) and one mail.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import mail
from portal.audit import Origin, log_event
from portal.auth.codes import CodePolicy, issue_code, mail_code, use_code
from portal.auth.login import normalize_email
from portal.auth.passwords import hash_password, spend_hashing_effort
from portal.models import ConsentText, User, UserConsent, UserDetail, UserType, VerificationCode
from portal.models.users import USER_TYPE_PARENT

VERIFY_PURPOSE = "verify_email"
# The mail that carries an address-verification code (also for a changed address).
VERIFICATION_MAIL = (
    _l("Your Okul verification code: %(code)s"),
    _l(
        "Your code is %(code)s. It is valid for %(minutes)d minutes and can be used once. "
        "If you did not ask for it, ignore this message."
    ),
)


@dataclass(frozen=True)
class NewAccount:
    """What the visitor typed on the registration form."""

    name: str
    email: str
    password: str
    consent_given: bool


def current_text(session: Session, kind: str) -> ConsentText:
    """The newest published version of a KVKK text."""
    return session.scalar(
        select(ConsentText).where(ConsentText.kind == kind).order_by(ConsentText.version.desc())
    )


def register(
    session: Session,
    policy: CodePolicy,
    account: NewAccount,
    origin: Origin,
    now: datetime,
    consent_text_id: int,
) -> None:
    """Open the account and mail a verification code, or warn the owner of a taken address.

    `consent_text_id` is the consent text the form showed, so the record names exactly what
    the visitor agreed to even if a new version was published meanwhile. The caller commits.
    """
    email = normalize_email(account.email)
    existing = session.scalar(
        select(User).where(User.email == email).execution_options(include_deleted=True)
    )
    if existing is None:
        user = _create_parent(session, account, email)
        if user is not None:
            if account.consent_given:
                give_consent(session, user, consent_text_id, origin, "registration_form", now)
            log_event(session, "registered", user.id, origin)
            send_verification_code(session, policy, user, now, origin)
            return
        existing = session.scalar(select(User).where(User.email == email))
    else:
        spend_hashing_effort(account.password)
    if existing is not None and existing.deleted_at is None:
        log_event(session, "registration_repeated", existing.id, origin)
        mail.send(
            existing.email,
            _("Someone tried to open an account with your address"),
            _(
                "Someone (perhaps you) tried to register at Okul with this e-mail address, which "
                "already has an account. If it was you, sign in, or reset your password if you "
                "have forgotten it. If it was not you, you can ignore this message."
            ),
        )


def _create_parent(session: Session, account: NewAccount, email: str) -> User | None:
    parent_type = session.scalar(select(UserType).where(UserType.code == USER_TYPE_PARENT))
    user = User(
        name=account.name.strip(),
        email=email,
        user_type_id=parent_type.id,
        password_hash=hash_password(account.password),
    )
    try:
        with session.begin_nested():  # two registrations of one address at once: one wins
            session.add(user)
            session.flush()
    except IntegrityError:
        return None
    session.add(UserDetail(user_id=user.id))
    return user


def give_consent(
    session: Session, user: User, consent_text_id: int, origin: Origin, method: str, now: datetime
) -> UserConsent:
    """Record an explicit consent with its evidence, and set kvkk_accepted_at from it."""
    text = session.get(ConsentText, consent_text_id)
    consent = UserConsent(
        user_id=user.id,
        consent_text_id=text.id,
        text_sha256=text.body_sha256,
        given_at=now,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        method=method,
    )
    session.add(consent)
    details = session.get(UserDetail, user.id) or UserDetail(user_id=user.id)
    details.kvkk_accepted_at = now
    session.add(details)
    log_event(session, "consent_given", user.id, origin, version=text.version, method=method)
    return consent


def withdraw_consent(session: Session, user: User, origin: Origin, now: datetime) -> bool:
    """Withdraw every live consent of the user (the records stay, marked withdrawn)."""
    live = session.scalars(
        select(UserConsent).where(
            UserConsent.user_id == user.id, UserConsent.withdrawn_at.is_(None)
        )
    ).all()
    for consent in live:
        consent.withdrawn_at = now
        consent.withdrawn_method = "account_page"
    if live:
        details = session.get(UserDetail, user.id)
        if details is not None:
            details.kvkk_accepted_at = None
        log_event(session, "consent_withdrawn", user.id, origin)
    return bool(live)


def send_verification_code(
    session: Session, policy: CodePolicy, user: User, now: datetime, origin: Origin
) -> bool:
    """Mail a fresh code to the user's address; False when one was sent too recently."""
    code = issue_code(
        session, VerificationCode, policy, user.id, VERIFY_PURPOSE, now, email=user.email
    )
    if code is None:
        return False
    mail_code(policy, user.email, code, VERIFICATION_MAIL)
    log_event(session, "email_code_sent", user.id, origin, purpose=VERIFY_PURPOSE)
    return True


def resend_verification_code(
    session: Session, policy: CodePolicy, email: str, now: datetime, origin: Origin
) -> None:
    """Send a new code when the address belongs to an unverified account; else nothing."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is not None and user.email_verified_at is None:
        send_verification_code(session, policy, user, now, origin)


def verify_email(
    session: Session, policy: CodePolicy, email: str, code: str, now: datetime, origin: Origin
) -> User | None:
    """Mark the address verified when the code is right; None otherwise (whatever the reason)."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        return None
    if not use_code(
        session, VerificationCode, policy, user.id, VERIFY_PURPOSE, code, now, email=user.email
    ):
        log_event(session, "email_code_failed", user.id, origin, purpose=VERIFY_PURPOSE)
        return None
    user.email_verified_at = now
    log_event(session, "email_verified", user.id, origin)
    return user
