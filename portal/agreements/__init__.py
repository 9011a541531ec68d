"""Agreements (issue 13): versioned texts, the company service agreement's life, and the
evidence kept of every signature.

Domain modules: `texts` (versions and validity windows), `agreements` (draft, render, send,
sign, decline, void), `evidence` (canonical documents, SHA-256, the hash chain of sign records
and its check), `company` (a company's agreements as its staff see them) and `signing` (the
one-time code mailed just before a signature). They know nothing of requests: the caller
passes the session, `now` (aware UTC) and, for a signature, the Witness of where it came from,
and commits.

The blueprint `agreements` serves the HTTP side, `views/`: the staff's pages under
/customer/agreements (views/staff.py). It has no URL prefix, so the operator's pages can live
under /operator when they come.
"""

from flask import Blueprint

bp = Blueprint("agreements", __name__)

from portal.agreements import views  # noqa: E402,F401
