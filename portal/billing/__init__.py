"""Plans, prices, subscriptions and payments.

The domain lives in plain modules (periods, money, limits, gateway, subscriptions, renewals)
that know nothing of requests; views/ shows the plans, runs checkout, the subscriber's
management page and receipts.
"""

from flask import Blueprint

bp = Blueprint("billing", __name__)

from portal.billing import views  # noqa: E402,F401
