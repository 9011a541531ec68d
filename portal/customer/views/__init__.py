"""The HTTP side of the customer portal: one module per page.

Importing the modules registers their routes on the blueprint.
"""

from portal.customer.views import (  # noqa: F401
    account,
    activity,
    company,
    home,
    invitations,
    schools,
    scores,
    team,
)
