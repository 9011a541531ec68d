"""Six-digit e-mail codes (verification_codes, otp_codes): random, hashed, short-lived, single use.

- drawn from `secrets`, stored only as an HMAC-SHA256 keyed with the app's secret (a million
  possible codes would fall to a plain hash at once);
- valid for CODE_LIFETIME, dead after CODE_MAX_ATTEMPTS wrong tries, used at most once;
- a new code retires the older ones of the same purpose, and is refused while the previous
  one is younger than CODE_RESEND_INTERVAL;
- per account and purpose, at most CODE_ISSUE_LIMIT codes and CODE_GUESS_LIMIT wrong guesses
  in CODE_LIMIT_WINDOW, whatever the number of browsers, pending sign-ins and IPs (counted
  from the code rows themselves, so every process sees the same numbers).

Using a code is one conditional UPDATE, so of many simultaneous tries exactly one succeeds.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256

from flask import current_app
from sqlalchemy import func, select, update
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
    issue_limit: int = 10
    guess_limit: int = 10
    limit_window: timedelta = timedelta(hours=1)

    @property
    def lifetime_minutes(self) -> int:
        """The lifetime as the whole minutes mails and pages tell the user."""
        return int(self.lifetime.total_seconds() // 60)


def _digest(policy: CodePolicy, purpose: str, user_id: int, code: str) -> str:
    message = f"{purpose}:{user_id}:{code}".encode()
    return hmac.new(policy.secret_key.encode(), message, sha256).hexdigest()


# What limit_reached() answers when an account's codes are capped.
CODES_ISSUED = "codes_issued"
CODE_GUESSES = "code_guesses"


def limit_reached(
    session: Session, model, policy: CodePolicy, user_id: int, purpose: str, now: datetime
) -> str | None:
    """CODES_ISSUED or CODE_GUESSES when the account's cap for this purpose is reached; None
    while codes may still be sent and tried."""
    counts = session.execute(
        select(func.count(model.id), func.coalesce(func.sum(model.attempts), 0)).where(
            model.user_id == user_id,
            model.purpose == purpose,
            model.created_at > now - policy.limit_window,
        )
    ).one()
    if counts[1] >= policy.guess_limit:
        return CODE_GUESSES
    if counts[0] >= policy.issue_limit:
        return CODES_ISSUED
    return None


def retire_codes(session: Session, model, user_id: int, purpose: str, now: datetime) -> int:
    """End every live code of the account for `purpose` (e.g. resets, at a password change)."""
    return session.execute(
        update(model)
        .where(
            model.user_id == user_id,
            model.purpose == purpose,
            model.used_at.is_(None),
            model.expires_at > now,
        )
        .values(expires_at=now)
    ).rowcount


def issue_code(
    session: Session,
    model,
    policy: CodePolicy,
    user_id: int,
    purpose: str,
    now: datetime,
    scope: tuple[str, ...] = (),
    limited: bool = True,
    **columns,
) -> str | None:
    """Create a code row and return the code in clear (to mail, never to store).

    `scope` names columns (among `columns`) that set codes apart: a sign-in code belongs to
    one pending sign-in, so another browser's sign-in neither waits for it nor retires it.
    Returns None when the last code in scope is too recent to send another, or (unless
    `limited` is False: the caller has checked limit_reached() itself) when the account's cap
    is reached.
    """
    if limited and limit_reached(session, model, policy, user_id, purpose, now):
        return None
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
    limited: bool = True,
    **where,
) -> bool:
    """True once for the right code; a wrong code spends one of the tries.

    `where` narrows which row may be used (e.g. the e-mail a verification code was sent to).
    Once the account's wrong guesses reach the cap, every code is refused unchecked (unless
    `limited` is False). The caller commits.
    """
    if limited and limit_reached(session, model, policy, user_id, purpose, now) == CODE_GUESSES:
        return False
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
        issue_limit=config.get("CODE_ISSUE_LIMIT", CodePolicy.issue_limit),
        guess_limit=config.get("CODE_GUESS_LIMIT", CodePolicy.guess_limit),
        limit_window=config.get("CODE_LIMIT_WINDOW", CodePolicy.limit_window),
    )


def current_policy() -> CodePolicy:
    """The code rules of the running app: what every view that sends or checks a code uses."""
    return policy_from(current_app.config)
