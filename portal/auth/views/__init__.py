"""The HTTP side of signing in: one module per page group.

Importing the modules registers their routes on the blueprint.
"""

from portal.auth.views import password_reset, registration, security, sign_in  # noqa: F401
