"""URL helpers shared by views."""

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (so it cannot be an open redirect)."""
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    # A control character (CR/LF above all) has no place in a path and would break the
    # Location header it ends up in.
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
