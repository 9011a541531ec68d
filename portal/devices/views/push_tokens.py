"""Push tokens of the signed-in user's devices: a small JSON API for the mobile app.

    POST   /api/push-tokens  {"token": "...", "platform": "ios" | "android" | "web"}
           201 {"token", "platform"}  the token is now the user's (new, or moved to this user
                                      from the device's previous owner: see devices.tokens)
           200 {"token", "platform"}  the user already had it; last_seen_at is refreshed
    DELETE /api/push-tokens  {"token": "..."}
           204  removed
           404  the user has no such token (someone else's token gets the same answer)

Errors are JSON: 400 when the body is not a JSON object, 422 {"errors": {field: message}}
when a field is wrong, 401 {"error": "authentication required"} without a live session
(portal.access), 403 for an account that may not use the app.

The app authenticates with the portal's own session cookie: it signs in through /auth/login
as a browser does, keeps the cookie, and reads the CSRF token of that session from a page it
loaded in it (the hidden `csrf_token` field, or the X-CSRFToken in `hx-headers` on <body>).
It sends the token in an `X-CSRFToken` header. CSRFProtect checks it before anything else,
so a missing or wrong token gets the portal's ordinary 400 page, in HTML, not JSON.
"""

import re

from flask import jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.access import CUSTOMER_USER, OPERATOR, PARENT, allow
from portal.devices import bp
from portal.devices.push_tokens import register_token, remove_token
from portal.extensions import db
from portal.models import UserNotificationId
from portal.models.users import PLATFORMS
from portal.origin import current_origin

TOKEN_MAX_LENGTH = UserNotificationId.__table__.c.token.type.length
# APNs (hex), FCM ([A-Za-z0-9_:-]) and Web Push endpoints (URLs) are all printable ASCII.
# Holding tokens to it also keeps MariaDB's accent-insensitive collation from matching two
# different tokens as one.
_TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]+")


@bp.route("", methods=["POST"])
@allow(PARENT, CUSTOMER_USER, OPERATOR, api=True)
def register():
    """Register a push token for the signed-in user's device; registering again is harmless.

    :raise 400: the body is not a JSON object.
    :raise 422: the token or the platform is missing or malformed.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _not_a_json_object()
    errors = {}
    token = body.get("token")
    platform = body.get("platform")
    if message := _token_error(token):
        errors["token"] = message
    if platform not in PLATFORMS:
        errors["platform"] = f"must be one of: {', '.join(PLATFORMS)}"
    if errors:
        return jsonify(errors=errors), 422

    registration = register_token(db.session, current_user.id, token, platform, current_origin())
    answer = {"token": registration.row.token, "platform": registration.row.platform}
    db.session.commit()
    return jsonify(answer), 201 if registration.created else 200


@bp.route("", methods=["DELETE"])
@allow(PARENT, CUSTOMER_USER, OPERATOR, api=True)
def remove():
    """Remove one of the signed-in user's push tokens (the app signs out, or push is off).

    :raise 400: the body is not a JSON object.
    :raise 404: the user has no such token, whether unknown or someone else's.
    :raise 422: the token is missing or malformed.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _not_a_json_object()
    token = body.get("token")
    if message := _token_error(token):
        return jsonify(errors={"token": message}), 422

    if not remove_token(db.session, current_user.id, token, current_origin()):
        return jsonify(error="no such token"), 404
    db.session.commit()
    return "", 204


@bp.errorhandler(HTTPException)
def http_error_as_json(error: HTTPException):
    """A JSON client gets JSON errors (e.g. 403 from portal.access), not an HTML page.

    CSRF failures keep the app's own 400 page: the app-level CSRFError handler is matched by
    status code, and Flask looks at code-specific handlers before this catch-all. Routing
    errors (404 for an unknown URL, 405) happen before Flask knows the blueprint, so they are
    the app's HTML pages too.
    """
    if error.code is None or error.code < 400:
        return error
    return jsonify(error=(error.name or "error").lower()), error.code


@bp.errorhandler(InternalServerError)
def server_error_as_json(error: InternalServerError):
    """As the app's own 500 handler: the failed request's session is never reused."""
    db.session.rollback()
    return jsonify(error="internal server error"), 500


def _token_error(token) -> str | None:
    if token is None:
        return "required"
    if not isinstance(token, str):
        return "must be a string"
    if not token:
        return "must not be empty"
    if len(token) > TOKEN_MAX_LENGTH:
        return f"must be at most {TOKEN_MAX_LENGTH} characters"
    if not _TOKEN_CHARACTERS.fullmatch(token):
        return "must be printable ASCII without spaces or control characters"
    return None


def _not_a_json_object():
    return jsonify(errors={"body": "must be a JSON object (Content-Type: application/json)"}), 400
