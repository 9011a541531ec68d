"""The HTTP side of the public catalogue.

Importing the modules registers their routes on the blueprint.
"""

from portal.schools.views import catalogue, comparison, school  # noqa: F401
