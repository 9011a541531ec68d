"""The HTTP side of the pages that belong to no feature, and the error pages.

Importing the modules registers their routes on the blueprint.
"""

from portal.core.views import errors, pages  # noqa: F401
