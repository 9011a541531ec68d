"""What the billing views share: whose subscription the signed-in user acts on and what they
may do with it, the gateway, and the sentences for refusals and failed payments.

A parent's subscription is theirs. A company's belongs to the company: its staff see its
payments, saved card and tax number with Permission.SEE_BILLING, and choose, change or cancel
its plan with Permission.MANAGE_BILLING (portal.access.permissions); other staff see which
plan the company is on and who handles its billing.
"""

from dataclasses import dataclass

from flask import abort, current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import CUSTOMER_USER, audience_of_user
from portal.access.permissions import Permission, can, members_who_can
from portal.billing.gateway import FailureCode, PaymentGateway, gateway_named
from portal.billing.payments import PaymentFailed
from portal.billing.subscribers import Subscriber
from portal.extensions import db
from portal.models import User

FAILURE_MESSAGES = {
    FailureCode.CARD_DECLINED: _l("Your card was declined. Nothing was charged; try another card."),
    FailureCode.EXPIRED_CARD: _l("This card has expired. Nothing was charged; try another card."),
    FailureCode.INSUFFICIENT_FUNDS: _l(
        "The card has insufficient funds. Nothing was charged; try another card."
    ),
    FailureCode.PROCESSING_ERROR: _l(
        "The payment could not be processed. Nothing was charged; try again in a few minutes."
    ),
    FailureCode.NO_SAVED_CARD: _l("There is no saved card to charge."),
    FailureCode.REFUND_REFUSED: _l("The payment provider refused the refund."),
}
# portal.billing.subscriptions.SubscriptionError codes.
REFUSALS = {
    "already_subscribed": _l("You already have a subscription. Change it from this page."),
    "price_unavailable": _l("That plan or price is no longer offered. Choose another one."),
    "same_price": _l("You are already on this plan and billing cycle."),
    "not_allowed_now": _l("That cannot be done in the subscription's current state."),
    "form_already_used": _l(
        "That payment form was already used. Choose a plan again to start a new subscription."
    ),
}


def failure_message(failed: PaymentFailed) -> str:
    """The sentence for a refused card or a failed charge."""
    # An unknown code from a future gateway still gets a sentence, the most general one.
    return FAILURE_MESSAGES.get(failed.failure_code, FAILURE_MESSAGES[FailureCode.CARD_DECLINED])


def gateway() -> PaymentGateway:
    """The configured payment gateway, signing its hosted checkouts with the app's secret."""
    return gateway_named(current_app.config["PAYMENT_GATEWAY"], secret=current_app.secret_key)


@dataclass(frozen=True)
class BillingAccess:
    """Whose subscription the signed-in user acts on, and what they may do with it."""

    subscriber: Subscriber
    may_see: bool  # the payments, the saved card and the company's tax number
    may_manage: bool  # choose, change, pause, resume and cancel the plan


def current_subscriber() -> BillingAccess:
    """A parent acts on their own subscription; staff on their company's, as far as their
    permissions go."""
    if audience_of_user(current_user) == CUSTOMER_USER:
        customer_user = current_user.customer_user
        return BillingAccess(
            Subscriber(customer_id=customer_user.customer_id),
            may_see=can(customer_user, Permission.SEE_BILLING),
            may_manage=can(customer_user, Permission.MANAGE_BILLING),
        )
    return BillingAccess(Subscriber(user_id=current_user.id), may_see=True, may_manage=True)


def managing_subscriber() -> Subscriber:
    """The subscriber the signed-in user may manage.

    :raise 403: staff without Permission.MANAGE_BILLING.
    """
    access = current_subscriber()
    if not access.may_manage:
        abort(403)
    return access.subscriber


def billing_managers(access: BillingAccess) -> list[User]:
    """Whom to ask: the colleagues who may manage the company's billing (none for a reader
    who may manage it, or for a parent)."""
    if access.may_manage or access.subscriber.customer_id is None:
        return []
    return members_who_can(db.session, access.subscriber.customer_id, Permission.MANAGE_BILLING)


def subscription_page_url(subscriber: Subscriber) -> str:
    """The subscriber's page: in the parent's area, or in the customer portal."""
    if subscriber.user_id is not None:
        return url_for("billing.subscription")
    return url_for("billing.company_subscription")
