"""Checkout: the price with its KDV, then the card; a subscription starts when it is paid."""

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal import htmx
from portal.access import CUSTOMER_USER, PARENT, allow
from portal.billing import bp, subscriptions
from portal.billing.forms import CardForm, new_idempotency_key
from portal.billing.gateway import CardDetails
from portal.billing.payments import PaymentFailed
from portal.billing.subscriptions import SubscriptionError
from portal.billing.views.common import (
    REFUSALS,
    failure_message,
    gateway,
    managing_subscriber,
    subscription_page_url,
)
from portal.clock import istanbul_today
from portal.extensions import db
from portal.origin import current_origin


@bp.route("/plans/<int:price_id>/checkout", methods=["GET", "POST"])
@allow(PARENT, CUSTOMER_USER)
def checkout(price_id: int):
    """Pay for a plan price: the total with KDV, then the card.

    A subscriber who already has a subscription is sent to change it instead.

    :raise 403: staff who may not manage the company's billing.
    :raise 404: the price is archived, unknown, or for the other audience.
    """
    subscriber = managing_subscriber()
    # A POST goes on to subscribe(), which knows a form sent twice from one refused anew.
    if request.method == "GET" and subscriptions.current_subscription(db.session, subscriber):
        return htmx.redirect_to(url_for("billing.change", price_id=price_id))
    try:
        price = subscriptions.purchasable_price(db.session, subscriber, price_id)
    except SubscriptionError:
        abort(404)
    today = istanbul_today()
    form = CardForm()
    error = None
    if form.validate_on_submit():
        card = CardDetails(
            number=form.number.data,
            exp_month=int(form.exp_month.data),
            exp_year=int(form.exp_year.data),
            cvc=form.cvc.data,
            holder_name=form.holder_name.data,
        )
        try:
            subscriptions.subscribe(
                db.session,
                gateway(),
                subscriber,
                price.id,
                card,
                idempotency_key=form.idempotency_key.data,
                today=today,
                actor_user_id=current_user.id,
                origin=current_origin(),
            )
            db.session.commit()
        except PaymentFailed as failed:
            db.session.commit()  # keeps the audit row of the attempt; nothing else was written
            error = failure_message(failed)
            # A new attempt is a new charge: it gets its own key, and the card is asked again.
            form.idempotency_key.data = new_idempotency_key()
            form.number.data = ""
        except SubscriptionError as refused:
            db.session.rollback()
            flash(REFUSALS[refused.code], "error")
            return htmx.redirect_to(subscription_page_url(subscriber))
        except IntegrityError:
            # The same form posted twice at once: the other request subscribed.
            db.session.rollback()
            return htmx.redirect_to(subscription_page_url(subscriber))
        else:
            flash(_("Thank you. Your subscription has started."), "success")
            return htmx.redirect_to(subscription_page_url(subscriber))
    offer = subscriptions.quote(db.session, subscriber, price, today)
    return htmx.render(
        "billing/checkout.html",
        "checkout_form",
        status=htmx.form_status(form, failed=error is not None),
        form=form,
        offer=offer,
        price=price,
        plan=price.plan,
        error=error,
        sandbox=current_app.config["PAYMENT_GATEWAY"] == "sandbox",
    )
