"""Six-digit e-mail codes (verification_codes, otp_codes): random, hashed, short-lived, single use.

- drawn from `secrets`, stored only as an HMAC-SHA256 keyed with the app's secret (a million
  possible codes would fall to a plain hash at once);
- valid for CODE_LIFETIME, dead after CODE_MAX_ATTEMPTS wrong tries, used at most once;
- a new code retires the older ones of the same purpose, and is refused while the previous
  one is younger than CODE_RESEND_INTERVAL.

Using a code is one conditional UPDATE, so of many simultaneous tries exactly one succeeds.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import mail

CODE_DIGITS = 6


@dataclass(frozen=True)
class CodePolicy:
    """The rules a code lives by (from settings)."""

    secret_key: str
    lifetime: timedelta
    max_attempts: int
    resend_interval: timedelta

    @property
    def lifetime_minutes(self) -> int:
        """The lifetime as the whole minutes mails and pages tell the user."""
        return int(self.lifetime.total_seconds() // 60)


def _digest(policy: CodePolicy, purpose: str, user_id: int, code: str) -> str:
    message = f"{purpose}:{user_id}:{code}".encode()
    return hmac.new(policy.secret_key.encode(), message, sha256).hexdigest()


def issue_code(
    session: Session,
    model,
    policy: CodePolicy,
    user_id: int,
    purpose: str,
    now: datetime,
    scope: tuple[str, ...] = (),
    **columns,
) -> str | None:
    """Create a code row and return the code in clear (to mail, never to store).

    `scope` names columns (among `columns`) that set codes apart: a sign-in code belongs to
    one pending sign-in, so another browser's sign-in neither waits for it nor retires it.
    Returns None when the last code in scope is too recent to send another.
    """
    in_scope = (
        model.user_id == user_id,
        model.purpose == purpose,
        *(getattr(model, name) == columns[name] for name in scope),
    )
    last = session.scalar(
        select(model.created_at).where(*in_scope).order_by(model.created_at.desc()).limit(1)
    )
    if last is not None and now - last < policy.resend_interval:
        return None
    session.execute(
        update(model)
        .where(*in_scope, model.used_at.is_(None), model.expires_at > now)
        .values(expires_at=now)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(
        model(
            user_id=user_id,
            purpose=purpose,
            code_hash=_digest(policy, purpose, user_id, code),
            attempts=0,
            expires_at=now + policy.lifetime,
            created_at=now,
            **columns,
        )
    )
    return code


def use_code(
    session: Session,
    model,
    policy: CodePolicy,
    user_id: int,
    purpose: str,
    code: str,
    now: datetime,
    **where,
) -> bool:
    """True once for the right code; a wrong code spends one of the tries.

    `where` narrows which row may be used (e.g. the e-mail a verification code was sent to).
    The caller commits.
    """
    live = (
        model.user_id == user_id,
        model.purpose == purpose,
        model.used_at.is_(None),
        model.expires_at > now,
        model.attempts < policy.max_attempts,
        *(getattr(model, name) == value for name, value in where.items()),
    )
    row = session.execute(
        select(model.id, model.code_hash).where(*live).order_by(model.created_at.desc()).limit(1)
    ).first()
    if row is None:
        return False
    candidate = code.strip() if code else ""
    if candidate.isdigit() and hmac.compare_digest(
        row.code_hash, _digest(policy, purpose, user_id, candidate)
    ):
        used = session.execute(update(model).where(model.id == row.id, *live).values(used_at=now))
        return used.rowcount == 1
    session.execute(update(model).where(model.id == row.id).values(attempts=model.attempts + 1))
    return False


def mail_code(policy: CodePolicy, to: str, code: str, message: tuple) -> None:
    """Mail a code. `message` is (subject, body), lazy msgids that may use %(code)s and
    %(minutes)d (the code's lifetime)."""
    values = {"code": code, "minutes": policy.lifetime_minutes}
    subject, body = message
    mail.send(to, str(subject) % values, str(body) % values)


def policy_from(config) -> CodePolicy:
    """The code rules from the app's settings."""
    return CodePolicy(
        secret_key=config["SECRET_KEY"],
        lifetime=config["CODE_LIFETIME"],
        max_attempts=config["CODE_MAX_ATTEMPTS"],
        resend_interval=config["CODE_RESEND_INTERVAL"],
    )


def current_policy() -> CodePolicy:
    """The code rules of the running app: what every view that sends or checks a code uses."""
    return policy_from(current_app.config)
