"""The HTTP side of billing: the plans page, checkout, the subscription page, receipts.

Importing the modules registers their routes on the blueprint.
"""

from portal.billing.views import plans, subscription  # noqa: F401
