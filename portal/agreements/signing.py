"""Signing with a fresh one-time code: the code is mailed just before the signature, and the
signature is recorded only with the right code, the document hash the signer was shown and the
Witness of where the request came from.

A signing code is an otp_codes row of purpose "agreement_sign" whose `sign_in_hash` (the column
that binds a code to what it was sent for) holds the SHA-256 of the agreement's id and its
document's SHA-256: a code sent for one agreement signs no other, and none survives a change of
the document. The code policy of sign-in applies (lifetime, tries, the resend interval and the
per-account caps of portal.auth.codes). Plain module: the caller passes the session, the
policy, `now` and the Origin, and commits; a wrong code's spent try is committed too.
"""

from datetime import datetime
from hashlib import sha256

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.agreements import agreements
from portal.agreements.agreements import AgreementError
from portal.agreements.evidence import Witness
from portal.audit import Origin, log_event
from portal.auth.codes import CodePolicy, issue_code, limit_reached, mail_code, use_code
from portal.customer import activity
from portal.models import CustomerAgreement, CustomerUser, CustomerUserAgreementSign, OtpCode

PURPOSE = "agreement_sign"
# How a signer was authenticated: their session (password sign-in) and the code just mailed.
AUTH_METHOD = "password+email_code"
SIGNING_MAIL = (
    _l("Your Okul agreement signing code: %(code)s"),
    _l(
        "You asked to sign an agreement in the Okul company portal. If it is you, enter "
        "%(code)s on the agreement's page; it is valid for %(minutes)d minutes. If it is not "
        "you, do not share the code and change your password."
    ),
)
# What send_code answers besides a CodePolicy cap (codes.CODES_ISSUED / CODE_GUESSES).
SENT = "sent"
TOO_SOON = "too_soon"


def code_scope(agreement: CustomerAgreement) -> str:
    """What a signing code is bound to: this agreement, with exactly this document."""
    return sha256(
        f"customer_agreement:{agreement.id}:{agreement.document_sha256}".encode()
    ).hexdigest()


def send_code(
    session: Session,
    policy: CodePolicy,
    agreement: CustomerAgreement,
    customer_user: CustomerUser,
    origin: Origin,
    now: datetime,
) -> str:
    """Mail a signing code to the member: SENT, TOO_SOON or the account's cap that refused it.

    :raise AgreementError: "cannot_sign" when the member may not sign this agreement now.
    """
    if not agreements.may_sign(session, agreement, customer_user):
        raise AgreementError("cannot_sign")
    user = customer_user.user
    limit = limit_reached(session, OtpCode, policy, user.id, PURPOSE, now)
    if limit is not None:
        return limit
    code = issue_code(
        session,
        OtpCode,
        policy,
        user.id,
        PURPOSE,
        now,
        scope=("sign_in_hash",),
        limited=False,
        sign_in_hash=code_scope(agreement),
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
    )
    if code is None:
        return TOO_SOON
    mail_code(policy, user.email, code, SIGNING_MAIL)
    log_event(
        session, "email_code_sent", user.id, origin, purpose=PURPOSE, agreement_id=agreement.id
    )
    return SENT


class WrongCode(AgreementError):
    """The code is wrong, used, expired, or the account's tries are spent."""

    def __init__(self) -> None:
        super().__init__("wrong_code")


def sign_with_code(
    session: Session,
    policy: CodePolicy,
    agreement: CustomerAgreement,
    customer_user: CustomerUser,
    code: str,
    *,
    seen_sha256: str,
    witness: Witness,
    origin: Origin,
    now: datetime,
) -> CustomerUserAgreementSign:
    """Record the member's signature when the code mailed for this agreement is right.

    The member's right to sign and the document hash are checked before the code, so a
    refusal for those spends no try. :raise WrongCode: the code failed (its spent try stays
    for the caller to commit). :raise AgreementError: agreements.sign's refusals.
    """
    if not agreements.may_sign(session, agreement, customer_user):
        raise AgreementError("cannot_sign")
    if seen_sha256 != agreement.document_sha256:
        raise AgreementError("document_changed")
    user = customer_user.user
    if not use_code(
        session, OtpCode, policy, user.id, PURPOSE, code, now, sign_in_hash=code_scope(agreement)
    ):
        log_event(
            session,
            "email_code_failed",
            user.id,
            origin,
            purpose=PURPOSE,
            agreement_id=agreement.id,
        )
        raise WrongCode()
    record = agreements.sign(
        session, agreement, customer_user, witness, seen_sha256=seen_sha256, now=now
    )
    log_event(
        session,
        "agreement_signed",
        user.id,
        origin,
        agreement_id=agreement.id,
        agreement_no=agreement.agreement_no,
        role=record.signer_role,
        sign_id=record.id,
        record_hash=record.record_hash,
        completed=agreement.status == agreements.SIGNED,
    )
    # The member's day at work counts it, in the transaction that keeps the sign record.
    activity.record(session, customer_user, agreements_signed=1, now=now)
    return record


def decline(
    session: Session,
    agreement: CustomerAgreement,
    customer_user: CustomerUser,
    reason: str,
    origin: Origin,
    now: datetime,
) -> CustomerAgreement:
    """The company refuses the agreement, with a reason; audited. :raise AgreementError."""
    agreements.decline(session, agreement, customer_user, reason, now=now)
    log_event(
        session,
        "agreement_declined",
        customer_user.user_id,
        origin,
        agreement_id=agreement.id,
        agreement_no=agreement.agreement_no,
    )
    return agreement
