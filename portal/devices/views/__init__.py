"""The HTTP side of devices: the push-token JSON API.

Importing the modules registers their routes on the blueprint.
"""

from portal.devices.views import push_tokens  # noqa: F401
