"""URL helpers shared by views."""

from urllib.parse import urlsplit

from flask import url_for


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


# An id no row has (ids are positive and below 2**53): marks where the id goes in a built URL.
_HOLE_ID = 987654321987654321


class IdUrls:
    """The URLs of one endpoint for many ids, built once: a list of twenty rows links each row
    with url_for, about thirty-five calls each; this builds the URL once with a marker id and
    puts each row's id in its place (`urls(id)`). For endpoints whose only varying value is an
    integer id (an `<int:...>` part of the path)."""

    def __init__(self, endpoint: str, id_name: str, **values):
        built = url_for(endpoint, **{id_name: _HOLE_ID}, **values)
        if str(_HOLE_ID) not in built.partition("?")[0]:
            raise ValueError(f"{endpoint}: {id_name} is not a part of its path")
        self._before, _hole, self._after = built.partition(str(_HOLE_ID))

    def __call__(self, id_: int) -> str:
        return f"{self._before}{int(id_)}{self._after}"
