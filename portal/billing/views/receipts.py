"""Receipts: a printable page for each succeeded payment (a plan's, or a signed agreement's
installment, which names the agreement instead of a plan)."""

from datetime import date, timedelta

from flask import url_for
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, PARENT, allow
from portal.billing import bp
from portal.billing.payments import paid_payment
from portal.billing.periods import charged_period_end
from portal.billing.views.common import current_subscriber, subscription_page_url
from portal.core.views.errors import refuse_not_yours
from portal.extensions import db
from portal.models import Customer, CustomerAgreement, PlanPrice, UserSubscription


@bp.route("/payments/<int:payment_id>/receipt")
@allow(PARENT, CUSTOMER_USER)
def receipt(payment_id: int):
    """A plain HTML receipt of a succeeded payment, printable.

    :raise 404: not the subscriber's payment, not a succeeded one, or staff who may not see
        the company's billing (to them no payment exists).
    """
    access = current_subscriber()
    subscriber = access.subscriber
    payment = paid_payment(db.session, subscriber, payment_id) if access.may_see else None
    if payment is None:
        refuse_not_yours("payment", payment_id)
    if payment.customer_agreement_id is not None:
        return _agreement_receipt(payment, subscriber)
    subscription = db.session.get(UserSubscription, payment.user_subscription_id)
    price = db.session.get(PlanPrice, payment.plan_price_id)
    return htmx.render(
        "billing/receipt.html",
        "content",
        payment=payment,
        subscription=subscription,
        price=price,
        period_last_day=_last_day(
            charged_period_end(
                subscription.anchor_date, price.billing_cycle, payment.charged_period
            )
        ),
        customer=(
            db.session.get(Customer, subscriber.customer_id) if subscriber.customer_id else None
        ),
        buyer=current_user if subscriber.user_id else None,
        subscriber=subscriber,
        subscription_url=subscription_page_url(subscriber),
    )


def _last_day(period_ends_on: date | None) -> date | None:
    # Periods are half-open; a receipt names the last day covered, as people read it.
    return period_ends_on - timedelta(days=1) if period_ends_on else None


def _agreement_receipt(payment, subscriber):
    """The receipt of a signed agreement's installment: the agreement's number and term, and
    the installment's day, where a plan's receipt names the plan and the period."""
    agreement = db.session.get(CustomerAgreement, payment.customer_agreement_id)
    return htmx.render(
        "billing/receipt.html",
        "content",
        payment=payment,
        agreement=agreement,
        customer=db.session.get(Customer, subscriber.customer_id),
        buyer=None,
        subscriber=subscriber,
        subscription_url=url_for("agreements.company_agreement", agreement_id=agreement.id),
    )
