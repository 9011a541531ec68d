"""The HTTP side of agreements: one module per audience.

Importing the modules registers their routes on the blueprint.
"""

from portal.agreements.views import operator, payments, renewals, staff, verify  # noqa: F401
