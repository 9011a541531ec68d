"""Receipts: a printable page for each succeeded payment (a plan's, or a signed agreement's
installment, which names the agreement instead of a plan), and the same receipt as an HTML
file to download and keep.

A plan's receipt names buyer and issuer as checkout kept them (portal.billing.invoices);
payments of subscriptions bought before that, and agreements' installments, show the
company's details or the parent's account as they are now, and the issuer's current lines."""

from datetime import date, timedelta

from flask import make_response, render_template, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from portal import htmx
from portal.access import CUSTOMER_USER, PARENT, allow
from portal.billing import bp, invoices, refunds
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
    return htmx.render("billing/receipt.html", "content", **_receipt_context(payment_id))


@bp.route("/payments/<int:payment_id>/receipt/download")
@allow(PARENT, CUSTOMER_USER)
def receipt_download(payment_id: int):
    """The receipt as a self-contained HTML file (its styles inside it), to keep or print
    away from the portal.

    :raise 404: as billing.receipt.
    """
    context = _receipt_context(payment_id)
    # The receipt block of the page, rendered (and escaped) by Jinja: safe to place as it is.
    body = Markup(  # nosec B704 -- Jinja's autoescaped output
        render_block("billing/receipt.html", "receipt", **context, download=True)
    )
    document = render_template(
        "billing/receipt_download.html", receipt=body, payment=context["payment"]
    )
    response = make_response(document)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    # The number is the payment's id, digits only: safe in a file name.
    response.headers["Content-Disposition"] = (
        f'attachment; filename="okul-receipt-{context["payment"].id:08d}.html"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _receipt_context(payment_id: int) -> dict:
    """What the receipt of the signed-in subscriber's payment shows.

    :raise 404: see receipt().
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
    return dict(
        invoice=invoices.of_subscription(db.session, payment.user_subscription_id),
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
        refunds=refunds.succeeded_refunds(db.session, payment),
    )


def _last_day(period_ends_on: date | None) -> date | None:
    # Periods are half-open; a receipt names the last day covered, as people read it.
    return period_ends_on - timedelta(days=1) if period_ends_on else None


def _agreement_receipt(payment, subscriber) -> dict:
    """The receipt of a signed agreement's installment: the agreement's number and term, and
    the installment's day, where a plan's receipt names the plan and the period."""
    agreement = db.session.get(CustomerAgreement, payment.customer_agreement_id)
    return dict(
        invoice=None,
        payment=payment,
        agreement=agreement,
        customer=db.session.get(Customer, subscriber.customer_id),
        buyer=None,
        subscriber=subscriber,
        subscription_url=url_for("agreements.company_agreement", agreement_id=agreement.id),
        refunds=refunds.succeeded_refunds(db.session, payment),
    )
