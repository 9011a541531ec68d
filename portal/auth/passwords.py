"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's advice)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this when the account is unknown costs the same time as a real check,
# so response times do not tell who has an account.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """An argon2id hash of the password, with its own salt and parameters."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; spends the same effort when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def spend_hashing_effort(password: str) -> None:
    """Do the work of hash_password and keep nothing: a path that must not be told apart from
    one that hashes (registering a taken address) calls this instead."""
    _hasher.hash(password)
