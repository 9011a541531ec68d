"""The request's CSRF token, as templates write it into every form."""

from flask import g
from flask_wtf.csrf import generate_csrf


def csrf_token() -> str:
    """The request's CSRF token for templates (Flask-WTF's `csrf_token` global, made cheaper).

    Flask-WTF's generate_csrf reads four settings on every call before finding the token it
    made earlier in the request; a page of twenty cards asks for it forty times.
    """
    token = g.get("portal_csrf_token")
    if token is None:
        token = g.portal_csrf_token = generate_csrf()
    return token
