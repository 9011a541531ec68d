"""The one stored form of an e-mail address, used wherever an address is compared or stored."""

import unicodedata


def normalize_email(email: str) -> str:
    """NFKC-normalised, trimmed and lower-cased, so ｕｓｅｒ＠ｅｘａｍｐｌｅ.com is user@example.com
    and cannot become a second account."""
    return unicodedata.normalize("NFKC", email).strip().lower()
