"""The HTTP side of the benchmark's reference routes.

Importing the modules registers their routes on the blueprint.
"""

from portal.bench.views import reference  # noqa: F401
