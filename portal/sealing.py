"""Values sealed for the browser: encrypted and authenticated with a key derived from
SECRET_KEY, so what the session cookie carries between two pages (an e-mail address waiting
for its code) can be neither read nor altered by whoever holds the cookie.

Flask's session cookie is signed, not encrypted: anything put in it in clear is readable by
base64-decoding it.
"""

import base64
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# Kept apart from every other use of SECRET_KEY (the session signature, CSRF tokens).
_PURPOSE = b"okul-portal sealed browser values"
# A sealed address only saves retyping it on the next page; after this it is simply not shown.
LIFETIME = timedelta(hours=1)


def _fernet(secret: str | bytes | None, purpose: bytes) -> Fernet:
    if secret is None:
        secret = current_app.secret_key
    if isinstance(secret, str):
        secret = secret.encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str, *, secret: str | bytes | None = None, purpose: bytes = _PURPOSE) -> str:
    """An opaque token for `value`, under SECRET_KEY unless another `secret` is given.

    A token sealed for one `purpose` does not open for another.
    """
    return _fernet(secret, purpose).encrypt(value.encode()).decode("ascii")


def unseal(
    token: object,
    max_age: timedelta = LIFETIME,
    *,
    secret: str | bytes | None = None,
    purpose: bytes = _PURPOSE,
) -> str | None:
    """The value sealed in `token`, or None when it is missing, altered or older than max_age."""
    if not isinstance(token, str) or not token:
        return None
    try:
        fernet = _fernet(secret, purpose)
        return fernet.decrypt(token.encode("ascii"), ttl=int(max_age.total_seconds())).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None
