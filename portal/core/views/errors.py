"""Error pages in the layout, or as a small fragment when htmx asked for a part of a page."""

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal import htmx
from portal.extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see or do this.")),
    404: (_l("Page not found"), _l("There is nothing at this address.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    422: (
        _l("Please check your input"),
        _l("Some of what was sent could not be accepted."),
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


def register(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400, _l("The form had expired or was sent from elsewhere. Please try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        # The failed request may have left the session mid-transaction; never reuse it.
        db.session.rollback()
        return render_error(500)
