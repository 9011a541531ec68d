"""The HTTP side of the parent's area: one module per page.

Importing the modules registers their routes on the blueprint.
"""

from portal.account.views import (  # noqa: F401
    activity,
    contacts,
    deletion,
    email_change,
    favorites,
    home,
    privacy,
    profile,
)
