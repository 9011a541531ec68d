"""Who may reach each route: every view declares it, and one hook enforces it.

A view without a declaration is refused (and a test walks app.url_map to catch it), so a new
route cannot be public by accident.
"""

from collections.abc import Callable

from flask import abort, current_app, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access.permissions import Permission, can
from portal.models import CustomerUser

ANONYMOUS = "anonymous"  # anyone, signed in or not
PARENT = "parent"
CUSTOMER_USER = "customer_user"
OPERATOR = "operator"
AUDIENCES = (ANONYMOUS, PARENT, CUSTOMER_USER, OPERATOR)
NO_AUDIENCE = "none"

# Flask's own endpoint for static files: public by nature.
_BUILTIN_PUBLIC = {"static"}


def allow(*audiences: str, api: bool = False) -> Callable:
    """Declare who may reach a view: `@allow(ANONYMOUS)`, `@allow(PARENT, OPERATOR)`.

    `api=True` marks a JSON endpoint: an anonymous caller gets 401 JSON, not the login page.
    """
    unknown = set(audiences) - set(AUDIENCES)
    if not audiences or unknown:
        raise ValueError(f"allow() takes some of {AUDIENCES}, got {audiences}")

    def decorate(view: Callable) -> Callable:
        # Only a mark on the view: enforce_access() reads it before every request.
        view.allowed_audiences = frozenset(audiences)  # type: ignore[attr-defined]
        view.answers_json = api  # type: ignore[attr-defined]
        return view

    return decorate


def audiences_of(endpoint: str) -> frozenset[str] | None:
    """What a view declared, or None when it declared nothing."""
    if endpoint in _BUILTIN_PUBLIC:
        return frozenset({ANONYMOUS})
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "allowed_audiences", None)


def audience_of_user(user) -> str | None:
    """The audience a signed-in user belongs to, or None for an anonymous visitor."""
    if not user.is_authenticated:
        return None
    if user.type_code == "customer_staff" and not (
        user.customer_user is not None and user.customer_user.is_active
    ):
        return NO_AUDIENCE  # staff whose company access was removed reach no staff page
    return {
        "parent": PARENT,
        "customer_staff": CUSTOMER_USER,
        "operator": OPERATOR,
    }.get(user.type_code, NO_AUDIENCE)


def enforce_access():
    """before_request hook: 404s stay 404s; otherwise the view's declaration is applied.

    :raise 403: when the signed-in user's audience is not allowed, or the view declared nothing.
    """
    if request.endpoint is None:
        return None
    allowed = audiences_of(request.endpoint)
    if allowed is None:
        current_app.logger.error("route %s declares no audience; refused", request.endpoint)
        abort(403)
    if ANONYMOUS in allowed:
        return None
    audience = audience_of_user(current_user)
    if audience is None:
        return _send_to_login()
    if audience not in allowed:
        abort(403)
    return None


def _send_to_login():
    # A JSON client (an endpoint declared with api=True, or anything that asks for JSON rather
    # than a page) cannot follow a redirect to a login form: it gets a plain 401 and no flash.
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "answers_json", False) or (
        not htmx.is_htmx()
        and request.accept_mimetypes.best_match(("text/html", "application/json"))
        == "application/json"
    ):
        return jsonify(error="authentication required"), 401
    flash(_("Please sign in to see this page."), "info")
    # For htmx this is HX-Redirect: a login form is never swapped into a small target.
    return htmx.redirect_to(url_for("auth.login", next=request.full_path.rstrip("?")))


def member_who_may(permission: Permission) -> CustomerUser:
    """The signed-in company member, when their role may do `permission`: for a view whose
    route admits every member (CUSTOMER_USER) and whose action needs more.

    :raise 403: for a member whose role may not.
    """
    member = current_user.customer_user
    if not can(member, permission):
        abort(403)
    return member
