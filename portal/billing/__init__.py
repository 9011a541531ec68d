"""Plans, prices, subscriptions and payments.

The domain lives in plain modules that know nothing of requests: periods, money, limits,
catalogue, gateway, subscribers (a parent or a company), cards (saved cards), payments (payment
rows, settled through the gateway), subscriptions (the lifecycle) and renewals (the daily run).
views/ shows the plans, runs checkout, the subscriber's management page and receipts.
"""

from flask import Blueprint

bp = Blueprint("billing", __name__)

from portal.billing import views  # noqa: E402,F401
