"""One URL, two representations: the whole page, or a named block of it for htmx.

htmx 4 sends `HX-Request: true` on every request it makes and `HX-Request-Type: partial` when
it swaps into a part of the page; a boosted or history-restore request wants the whole page.
"""

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block

VARY_HEADERS = "HX-Request, HX-Request-Type, HX-History-Restore-Request"


def is_htmx() -> bool:
    """The request was made by htmx."""
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """htmx is swapping a part of the page, so a fragment answers it."""
    return (
        is_htmx()
        and request.headers.get("HX-Request-Type", "partial") == "partial"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str, status: int = 200, **context) -> Response:
    """Render the page, or only `block` of it when htmx asks for a fragment."""
    if wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.update(h.strip() for h in VARY_HEADERS.split(","))
    return response


def redirect_to(location: str) -> Response:
    """Post/Redirect/Get: 303 for a plain request, 200 with HX-Redirect for htmx.

    htmx follows a 3xx inside fetch and would swap the next page into a small target, so it is
    told to navigate instead.
    """
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)
