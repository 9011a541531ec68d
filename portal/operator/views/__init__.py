"""The HTTP side of the operators' back office.

Importing the modules registers their routes on the blueprint.
"""

from portal.operator.views import home  # noqa: F401
