"""One URL, two representations: the whole page, or a named block of it for htmx.

htmx 4 sends `HX-Request: true` on every request it makes and `HX-Request-Type: partial` when
it swaps into a part of the page; a boosted or history-restore request wants the whole page.
"""

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block

# What a response that branches on htmx depends on, so that no cache serves a fragment for a
# page or the other way round.
VARY_HEADERS = ("HX-Request", "HX-Request-Type", "HX-History-Restore-Request")


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
    return vary(make_response(body, status))


def vary(response: Response) -> Response:
    """Mark a response that branched on htmx as depending on its headers."""
    response.vary.update(VARY_HEADERS)
    return response


def form_status(form, failed: bool = False) -> int:
    """200 for a form shown for the first time; 422 for one sent back with its errors.

    htmx 4 swaps error responses, so the refused form replaces the one that was sent; `failed`
    covers a refusal that is not a field error (a declined card).
    """
    return 422 if failed or form.is_submitted() else 200


def redirect_to(location: str) -> Response:
    """Post/Redirect/Get: 303 for a plain request, 200 with HX-Redirect for htmx.

    htmx follows a 3xx inside fetch and would swap the next page into a small target, so it is
    told to navigate instead.
    """
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return vary(response)
    return vary(redirect(location, code=303))
