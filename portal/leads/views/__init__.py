"""The HTTP side of leads: the parent's pages and the staff's inbox.

Importing the modules registers their routes on the blueprint.
"""

from portal.leads.views import parent, staff  # noqa: F401
