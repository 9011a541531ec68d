"""Leads and offers: a parent asks a school (or one campus of it) for information, the staff
granted that school or campus answer with offers, and the parent accepts or declines them.

The parent's pages live under /account/leads, the staff's under /customer/leads; both sides
go through the domain modules here (leads, offers) and the one grant rule of access.grants.
"""

from flask import Blueprint

bp = Blueprint("leads", __name__)

from portal.leads import views  # noqa: E402,F401
