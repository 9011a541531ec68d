"""The HTTP side of billing: the plans page, checkout, the subscription page and its actions,
receipts; common.py holds what they share.

Importing the modules registers their routes on the blueprint.
"""

from portal.billing.views import (  # noqa: F401
    cards,  # noqa: F401
    checkout,
    documents,
    plans,
    receipts,
    subscription,
)
