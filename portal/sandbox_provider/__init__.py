"""The sandbox payment provider's hosted payment page, standing for the provider's own site.

This is the only code that sees a card number or a CVC. Under its own prefix (/sandbox-pay/,
on the portal's origin only because the sandbox runs inside the portal), with its own
templates, it takes the card for a checkout the portal signed, saves it through the sandbox
gateway (the test cards in portal.billing.gateway) and sends the buyer back to the portal with
a sealed answer (encrypted and authenticated): the token, brand, last four and expiry, or
why the card was refused. The portal's own views, forms, logs and database never hold more,
as with iyzico's checkout form or Stripe Checkout. Registered only while PAYMENT_GATEWAY
is "sandbox".
"""

from flask import Blueprint

bp = Blueprint("sandbox_provider", __name__, url_prefix="/sandbox-pay")

from portal.sandbox_provider import views  # noqa: E402,F401
