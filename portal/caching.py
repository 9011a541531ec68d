"""Two process-local caches for what every search page would otherwise redo.

- **Rendered fragments** (`cached_html`): a piece of a page that is a pure function of the
  values it is keyed by, kept as HTML. A school's card on the search, the favorites and the
  comparison is the same markup for every visitor who reads that language; rendering twenty
  of them through Jinja, Babel and `url_for` cost more than the rest of the page together
  (docs/performance.md). The key holds every value the fragment shows, plus the language
  (the app is served under one script root), so an entry can never be stale: a changed
  school is a new key, and the old one falls out of the LRU. Always on.
- **Stamps** (`stamped`): a fragment repeated on every card with only a few values changing
  (the favorite and comparison toggles: the target's id and name, the page to come back to,
  the visitor's CSRF token). It is rendered once per language and key with marked holes, kept
  as its pieces, and each use joins the pieces with its own values, escaped as Jinja would
  escape them. Twenty cards' two toggles cost about as much as the rest of a search page.
- **Remembered answers** (`remembered`): what a pure function of its key answers, where
  working it out costs more than finding it (the search reading its address through its
  form: a quarter of a millisecond a request). Kept with the rendered fragments, by a key
  that holds everything the answer follows from, so it can never be stale either. Always on.
- **Short-lived lookups** (`short_lived`): read-mostly answers that may lag the database by
  `SEARCH_CACHE_SECONDS` (the cities and districts offered by the search, and how many
  schools match a search, and which schools make a page of it). A school published now shows
  in those lists, and in the results, within that time; what a page shows of its schools is
  read afresh on every request (portal.schools.search.search_schools). 0 turns them off
  (tests, unless a test turns them on to check them).

Per process, per app (`app.extensions`): gunicorn's workers each keep their own, which costs
memory, not correctness, and nothing here needs a server. Bounded in entries, so a crawler
asking for every search cannot grow a worker without limit.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Hashable

from cachetools import LRUCache, TTLCache
from flask import Flask, current_app
from jinja2 import Undefined
from markupsafe import Markup, escape

from portal.i18n import locale_name

# About 600 bytes a card: a few MB a worker at most.
RENDERED_ENTRIES = 5_000
LOOKUP_ENTRIES = 2_000


class _Caches:
    def __init__(self, seconds: float, timer: Callable[[], float]):
        self.lock = threading.Lock()  # `flask run` serves with threads
        self.rendered: LRUCache = LRUCache(RENDERED_ENTRIES)
        self.lookups: TTLCache | None = (
            TTLCache(LOOKUP_ENTRIES, ttl=seconds, timer=timer) if seconds > 0 else None
        )


def init_app(app: Flask, timer: Callable[[], float] = time.monotonic) -> None:
    """Give `app` empty caches (`timer` lets a test move time on); `cached_html` for templates."""
    app.extensions["portal.caches"] = _Caches(app.config["SEARCH_CACHE_SECONDS"], timer)
    app.add_template_global(cached_html, "cached_html")
    app.add_template_global(stamped, "stamped")


def _caches() -> _Caches:
    return current_app.extensions["portal.caches"]


def cached_html(*key: Hashable, caller: Callable[[], str]) -> str:
    """The HTML `caller` renders, kept under `key` (with the language).

    Used as a Jinja call block whose body shows only what the key holds:

        {% call cached_html("school-card", school.id, school.name, ...) %}...{% endcall %}

    Lists in the key are taken as tuples. A part the template does not have (Jinja's Undefined,
    which equals every other) is refused: it would give every page the same entry.
    """
    # Not the script root: a deployment serves the app under one root (ProxyFix is not
    # given x_prefix), so the links a kept fragment holds are the same for every request.
    caches = _caches()
    full_key, html = _kept(caches, "cached_html", (), key)
    if html is None:
        # The call block's body, rendered by Jinja with autoescaping: already Markup.
        html = caller()
        with caches.lock:
            caches.rendered[full_key] = html
    return html


def _kept(caches: _Caches, caller: str, kind: tuple, key: tuple) -> tuple[tuple, object]:
    """The full key `key` is kept under (after `kind`, with the language, lists taken as
    tuples) and what is kept there (None: nothing). A part the template does not have
    (Jinja's Undefined, which equals every other) is refused: it would give every page the
    same entry.

    The key as given is tried first, and only a key holding a list (unhashable) is rebuilt:
    twenty cards a page find their stamps here, and a loop over each key's parts cost more
    than the lookup. An Undefined part is looked for only on a miss: none is ever kept, and
    it equals nothing else, so no key holding one finds an entry."""
    full_key = (*kind, locale_name(), *key)
    try:
        found = caches.rendered.get(full_key)
    except TypeError:  # a list in the key
        full_key = tuple(tuple(part) if isinstance(part, list) else part for part in full_key)
        found = caches.rendered.get(full_key)
    if found is None and any(isinstance(part, Undefined) for part in full_key):
        raise ValueError(f"{caller}: a part of the key {key!r} is undefined")
    return full_key, found


# A hole's mark: private-use characters no text of the portal holds, around the hole's number.
_HOLE = re.compile("\ue000([0-9]+)\ue001")


def _hole(number: int) -> Markup:
    return Markup(f"\ue000{number}\ue001")  # nosec B704 -- two fixed characters and an int


def stamped(*key: Hashable, values: tuple, caller: Callable[[Callable[[int], Markup]], str]):
    """What `caller` renders, with `values` (escaped) in the holes it marks with `hole(n)`.

    Used as a Jinja call block taking the hole maker, whose body may branch only on what the
    key holds (never on a value, which it does not see):

        {% call(hole) stamped("favorite-toggle", kind, is_favorite, values=(target_id,)) %}
        <input name="target_id" value="{{ hole(0) }}">{% endcall %}

    The body is rendered once per language and key (lists in the key taken as tuples); a
    hole's value is escaped with markupsafe, as autoescaping would have.
    """
    caches = _caches()
    full_key, pattern = _kept(caches, "stamped", ("stamp",), key)
    if pattern is None:
        # Kept as a format string: the markup between the holes with its braces doubled,
        # each hole a numbered field. One str.format a card beats joining its pieces.
        pattern = "".join(
            f"{{{piece}}}" if place % 2 else piece.replace("{", "{{").replace("}", "}}")
            for place, piece in enumerate(_HOLE.split(str(caller(_hole))))
        )
        with caches.lock:
            caches.rendered[full_key] = pattern
    # The pattern is Jinja's autoescaped output and every value is escaped here.
    return Markup(pattern.format(*map(escape, values)))  # nosec B704


def remembered(namespace: str, key: Hashable, compute: Callable[[], object]):
    """`compute()`, kept under `key` for as long as the LRU keeps it: `compute` must answer
    from `key` alone (not the language, not the time, not the database), and its answer must
    not be changed by the caller."""
    caches = _caches()
    full_key = ("remembered", namespace, key)
    found = caches.rendered.get(full_key)
    if found is None:
        found = compute()
        with caches.lock:
            caches.rendered[full_key] = found
    return found


def keeps_lookups() -> bool:
    """Whether short_lived() keeps answers (SEARCH_CACHE_SECONDS above 0)."""
    return _caches().lookups is not None


def short_lived(namespace: str, key: Hashable, compute: Callable[[], object]):
    """`compute()`, or its answer of less than SEARCH_CACHE_SECONDS ago for the same key.

    The answer must not be changed by the caller (lists are kept as they are returned).
    """
    caches = _caches()
    if caches.lookups is None:
        return compute()
    full_key = (namespace, key)
    with caches.lock:
        found = caches.lookups.get(full_key, _MISSING)
    if found is _MISSING:
        found = compute()
        with caches.lock:
            caches.lookups[full_key] = found
    return found


_MISSING = object()
