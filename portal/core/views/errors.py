"""Error pages in the layout, or as a small fragment when htmx asked for a part of a page."""

from typing import NoReturn
from urllib.parse import unquote_to_bytes

from flask import Flask, Request, abort, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal import audit, htmx, origin
from portal.clock import utcnow
from portal.extensions import db
from portal.forms import text_problem

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see or do this.")),
    404: (_l("Page not found"), _l("There is nothing at this address.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    422: (
        _l("Please check your input"),
        _l("Some of what was sent could not be accepted."),
    ),
    413: (
        _l("Too much was sent"),
        _l("What was sent is larger than any form of this site takes. Nothing was saved."),
    ),
    429: (_l("Too many requests"), _l("Please wait a moment and try again.")),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error happened on our side. Nothing you saved was lost."),
    ),
}


def render_error(code: int, detail: str | None = None):
    """The error page for `code`, as a page or an htmx fragment."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    return htmx.render(
        "errors/error.html",
        "error",
        status=code,
        code=code,
        title=title,
        message=detail or message,
    )


class PortalRequest(Request):
    """Keeps the raw body of a URL-encoded form, so that it can be checked for escapes that are
    not UTF-8: Werkzeug hands such an escape to the form as the literal text `%FF`, which would
    then pass for what the person typed."""

    def _load_form_data(self) -> None:
        if self.mimetype == "application/x-www-form-urlencoded":
            self.get_data(cache=True)  # parsing then reads the cached copy
        super()._load_form_data()


def unreadable_form_body() -> bool:
    """The URL-encoded body carries a %-escape that is not UTF-8."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return False
    try:
        unquote_to_bytes(request.get_data(cache=True).replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def refuse_unreadable_address():
    """Answer 400 when the address (query string or path) carries what no link of ours does.

    Forms refuse such text next to the field (portal.forms.Form); an address has no field, so
    the request stops here, before a view hands a NUL or a lone surrogate to the database.
    """
    values = [value for _, value in request.args.items(multi=True)]
    values += (request.view_args or {}).values()
    try:
        # Werkzeug keeps a %-escape that is not UTF-8 as literal text; refuse it instead.
        unquote_to_bytes(request.query_string).decode("utf-8")
    except UnicodeDecodeError:
        values.append("\ufffd")
    if any(isinstance(value, str) and text_problem(value) for value in values):
        return render_error(
            400, _l("The address has characters that cannot be used. Please check the link.")
        )
    if unreadable_form_body():
        return render_error(
            400, _l("What was sent has characters that could not be read. Nothing was saved.")
        )
    return None


def refuse_not_yours(kind: str, object_id) -> NoReturn:
    """Answer 404 for an object outside the caller's reach (or unknown: the same answer), and
    have the refusal audited as probing.

    :raise 404: always.
    """
    g.refused_target = f"{kind}:{object_id}"
    abort(404)


def _audit_refusal(code: int) -> None:
    # 403s, 429s and the "not yours" 404s: one request_refused row per caller, source and
    # target in the window (portal.audit.log_once). Plain 404s are not probing of anyone's data.
    target = g.pop("refused_target", None)
    if g.get("refusal_audited") or (code == 404 and target is None) or code not in (403, 404, 429):
        return
    try:
        db.session.rollback()  # the refused request's own changes never persist
        user_id = current_user.id if current_user.is_authenticated else None
        audit.refused(
            db.session,
            user_id,
            origin.current_origin(),
            code,
            target or f"path:{request.path[:200]}",
            utcnow(),
        )
        db.session.commit()
    except Exception:  # the refusal stands even when its audit row cannot be written
        db.session.rollback()
        current_app.logger.exception("could not audit a refused request")


def register(app: Flask) -> None:
    """Install the handlers on the app."""
    app.request_class = PortalRequest
    app.before_request(refuse_unreadable_address)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400, _l("The form had expired or was sent from elsewhere. Please try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        _audit_refusal(error.code)
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        # The failed request may have left the session mid-transaction; never reuse it.
        db.session.rollback()
        return render_error(500)
