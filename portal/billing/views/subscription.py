"""Checkout, the subscriber's subscription page, its actions, and receipts.

A parent's subscription is theirs and shows in the parent's area; a company's belongs to the
company and shows in the customer portal, where staff with a billing role (BILLING_ROLES)
manage it and other staff only read it. The lifecycle rules live in
portal.billing.subscriptions; these views parse the form, call it and render.
"""

from datetime import date, timedelta

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal import htmx
from portal.access import CUSTOMER_USER, PARENT, allow, audience_of_user
from portal.billing import bp, subscriptions
from portal.billing.forms import CardForm, new_idempotency_key
from portal.billing.gateway import CardDetails, PaymentGateway, gateway_named
from portal.billing.money import charge_for
from portal.billing.periods import period_end
from portal.billing.subscriptions import PaymentFailed, Subscriber, SubscriptionError
from portal.clock import istanbul_today
from portal.extensions import db
from portal.forms import EmptyForm
from portal.i18n import BILLING_CYCLE_NAMES, business_date
from portal.models import Customer, Payment, PlanPrice, UserSubscription
from portal.origin import current_origin

# customer_user_roles codes that may choose, change and cancel the company's plan.
BILLING_ROLES = {"admin", "finance"}

FAILURE_MESSAGES = {
    "card_declined": _l("Your card was declined. Nothing was charged; try another card."),
    "expired_card": _l("This card has expired. Nothing was charged; try another card."),
    "insufficient_funds": _l(
        "The card has insufficient funds. Nothing was charged; try another card."
    ),
    "processing_error": _l(
        "The payment could not be processed. Nothing was charged; try again in a few minutes."
    ),
    "no_saved_card": _l("There is no saved card to charge."),
}
REFUSALS = {
    "already_subscribed": _l("You already have a subscription. Change it from this page."),
    "price_unavailable": _l("That plan or price is no longer offered. Choose another one."),
    "same_price": _l("You are already on this plan and billing cycle."),
    "not_allowed_now": _l("That cannot be done in the subscription's current state."),
    "form_already_used": _l(
        "That payment form was already used. Choose a plan again to start a new subscription."
    ),
}


def _failure_message(failed: PaymentFailed) -> str:
    # An unknown code from a future gateway still gets a sentence, the most general one.
    return FAILURE_MESSAGES.get(failed.failure_code, FAILURE_MESSAGES["card_declined"])


def gateway() -> PaymentGateway:
    """The configured payment gateway."""
    return gateway_named(current_app.config["PAYMENT_GATEWAY"])


def current_subscriber() -> tuple[Subscriber, bool]:
    """Who the signed-in user buys for (themselves, or their company), and whether they may
    manage that subscription."""
    if audience_of_user(current_user) == CUSTOMER_USER:
        customer_user = current_user.customer_user
        return (
            Subscriber(customer_id=customer_user.customer_id),
            customer_user.role.code in BILLING_ROLES,
        )
    return Subscriber(user_id=current_user.id), True


def subscription_page_url(subscriber: Subscriber) -> str:
    """The subscriber's page: in the parent's area, or in the customer portal."""
    if subscriber.user_id is not None:
        return url_for("billing.subscription")
    return url_for("billing.company_subscription")


@bp.route("/plans/<int:price_id>/checkout", methods=["GET", "POST"])
@allow(PARENT, CUSTOMER_USER)
def checkout(price_id: int):
    """Pay for a plan price: the total with KDV, then the card.

    A subscriber who already has a subscription is sent to change it instead.

    :raise 403: staff without a billing role.
    :raise 404: the price is archived, unknown, or for the other audience.
    """
    subscriber, may_manage = current_subscriber()
    if not may_manage:
        abort(403)
    # A POST goes on to subscribe(), which knows a form sent twice from one refused anew.
    if request.method == "GET" and subscriptions.current_subscription(db.session, subscriber):
        return htmx.redirect_to(url_for("billing.change", price_id=price_id))
    try:
        price = subscriptions.purchasable_price(db.session, subscriber, price_id)
    except SubscriptionError:
        abort(404)
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
                today=istanbul_today(),
                actor_user_id=current_user.id,
                origin=current_origin(),
            )
            db.session.commit()
        except PaymentFailed as failed:
            db.session.commit()  # keeps the audit row of the attempt; nothing else was written
            error = _failure_message(failed)
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
    offer = subscriptions.quote(db.session, subscriber, price, istanbul_today())
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


@bp.route("/account/subscription")
@allow(PARENT)
def subscription():
    """The parent's subscription, its payments and what they can do with it."""
    return _subscription_page(*current_subscriber())


@bp.route("/customer/subscription")
@allow(CUSTOMER_USER)
def company_subscription():
    """The company's subscription; staff with a billing role manage it, others read it."""
    return _subscription_page(*current_subscriber())


def _subscription_page(
    subscriber: Subscriber, may_manage: bool, message: tuple[str, str] | None = None
) -> Response:
    current = subscriptions.current_subscription(db.session, subscriber)
    today = istanbul_today()
    return htmx.render(
        "billing/subscription.html",
        "subscription_panel",
        message=message,
        subscriber=subscriber,
        may_manage=may_manage,
        subscription=current,
        resume_preview=(
            subscriptions.resume_preview(current, today)
            if current is not None and current.status == subscriptions.PAUSED
            else None
        ),
        card=subscriptions.saved_card_of(db.session, current) if current else None,
        scheduled_charge=(
            charge_for(current.scheduled_price.amount, current.scheduled_price.kdv_included)
            if current is not None and current.scheduled_price is not None
            else None
        ),
        payments=subscriptions.payments_of(db.session, subscriber),
        history=[
            s
            for s in subscriptions.subscription_history(db.session, subscriber)
            if current is None or s.id != current.id
        ],
        customer=(
            db.session.get(Customer, subscriber.customer_id) if subscriber.customer_id else None
        ),
        form=EmptyForm(),
    )


# The actions on the subscription page: each a plain form posting here, answered with a
# redirect back to the page (htmx: the page's panel in place).
ACTIONS = {
    "cancel-at-period-end": (
        subscriptions.cancel_at_period_end,
        _l("Your subscription will end on %(date)s. You can undo this until then."),
    ),
    "undo-cancel": (subscriptions.undo_cancel, _l("Your subscription will renew as before.")),
    "pause": (subscriptions.pause, _l("Your subscription is paused. It will not renew.")),
    "cancel-change": (subscriptions.cancel_change, _l("The planned change is dropped.")),
}


@bp.route("/subscription/<action>", methods=["POST"])
@allow(PARENT, CUSTOMER_USER)
def act(action: str):
    """Cancel at period end, undo that, pause, or drop a planned change.

    :raise 403: staff without a billing role.
    :raise 404: an unknown action, or no current subscription.
    """
    if action not in ACTIONS:
        abort(404)
    subscriber, subscription = _managed_subscription()
    step, done = ACTIONS[action]
    try:
        step(db.session, subscription, current_user.id, current_origin())
    except SubscriptionError as refused:
        db.session.rollback()
        return _back_to_page(subscriber, ("error", str(REFUSALS[refused.code])))
    db.session.commit()
    return _back_to_page(
        subscriber, ("success", str(done) % {"date": business_date(subscription.end_date)})
    )


@bp.route("/subscription/resume", methods=["POST"])
@allow(PARENT, CUSTOMER_USER)
def resume():
    """Resume a paused subscription; after its paid period this charges a new one now.

    :raise 403: staff without a billing role.
    :raise 404: no current subscription.
    """
    subscriber, subscription = _managed_subscription()
    try:
        subscriptions.resume(
            db.session,
            gateway(),
            subscription,
            istanbul_today(),
            current_user.id,
            current_origin(),
        )
    except SubscriptionError as refused:
        db.session.rollback()
        return _back_to_page(subscriber, ("error", str(REFUSALS[refused.code])))
    except PaymentFailed as failed:
        db.session.commit()  # the failed payment is recorded; the subscription stays paused
        return _back_to_page(subscriber, ("error", str(_failure_message(failed))))
    db.session.commit()
    return _back_to_page(subscriber, ("success", _("Your subscription is active again.")))


@bp.route("/subscription/cancel", methods=["GET", "POST"])
@allow(PARENT, CUSTOMER_USER)
def cancel_now():
    """Ask, then end the subscription today (nothing is refunded).

    :raise 403: staff without a billing role.
    :raise 404: no current subscription.
    """
    subscriber, subscription = _managed_subscription()
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            subscriptions.cancel_now(
                db.session, subscription, istanbul_today(), current_user.id, current_origin()
            )
        except SubscriptionError as refused:
            db.session.rollback()
            flash(REFUSALS[refused.code], "error")
        else:
            db.session.commit()
            flash(_("Your subscription has ended."), "success")
        return htmx.redirect_to(subscription_page_url(subscriber))
    return htmx.render(
        "billing/cancel.html",
        "content",
        subscription=subscription,
        subscriber=subscriber,
        subscription_url=subscription_page_url(subscriber),
        form=form,
    )


@bp.route("/subscription/change/<int:price_id>", methods=["GET", "POST"])
@allow(PARENT, CUSTOMER_USER)
def change(price_id: int):
    """Preview a change of plan or cycle, then confirm it; it takes effect on the next
    billing date and nothing is charged now.

    :raise 403: staff without a billing role.
    """
    subscriber, may_manage = current_subscriber()
    if not may_manage:
        abort(403)
    subscription = _locked_current(subscriber)
    if subscription is None:
        return htmx.redirect_to(url_for("billing.checkout", price_id=price_id))
    try:
        preview = subscriptions.preview_change(db.session, subscriber, subscription, price_id)
    except SubscriptionError as refused:
        db.session.rollback()
        flash(REFUSALS[refused.code], "error")
        return htmx.redirect_to(subscription_page_url(subscriber))
    form = EmptyForm()
    if form.validate_on_submit():
        subscriptions.schedule_change(
            db.session, subscriber, subscription, price_id, current_user.id, current_origin()
        )
        db.session.commit()
        flash(
            _(
                "Done. From %(date)s you will be on %(plan)s, billed %(cycle)s.",
                date=business_date(preview.takes_effect_on),
                plan=preview.price.plan.name,
                cycle=str(BILLING_CYCLE_NAMES[preview.price.billing_cycle]).lower(),
            ),
            "success",
        )
        return htmx.redirect_to(subscription_page_url(subscriber))
    return htmx.render(
        "billing/change.html",
        "content",
        subscription=subscription,
        subscriber=subscriber,
        preview=preview,
        form=form,
    )


@bp.route("/payments/<int:payment_id>/receipt")
@allow(PARENT, CUSTOMER_USER)
def receipt(payment_id: int):
    """A plain HTML receipt of a succeeded payment, printable.

    :raise 404: not the subscriber's payment, or not a succeeded one.
    """
    subscriber, _may_manage = current_subscriber()
    payment = db.session.get(Payment, payment_id)
    if payment is None or not subscriber.owns(payment) or payment.status != "succeeded":
        abort(404)
    subscription = db.session.get(UserSubscription, payment.user_subscription_id)
    price = db.session.get(PlanPrice, payment.plan_price_id)
    return htmx.render(
        "billing/receipt.html",
        "content",
        payment=payment,
        subscription=subscription,
        price=price,
        period_last_day=_last_day(period_end(payment.charged_period, price.billing_cycle, 0)),
        customer=(
            db.session.get(Customer, subscriber.customer_id) if subscriber.customer_id else None
        ),
        buyer=current_user if subscriber.user_id else None,
        subscriber=subscriber,
        subscription_url=subscription_page_url(subscriber),
    )


def _managed_subscription() -> tuple[Subscriber, UserSubscription]:
    subscriber, may_manage = current_subscriber()
    if not may_manage:
        abort(403)
    subscription = _locked_current(subscriber)
    if subscription is None:
        abort(404)
    return subscriber, subscription


def _locked_current(subscriber: Subscriber) -> UserSubscription | None:
    # Locked for the request, so a double click cannot apply one step twice and a step cannot
    # interleave with the renewal job (which locks the same row).
    return subscriptions.current_subscription(db.session, subscriber, lock="update")


def _back_to_page(subscriber: Subscriber, message: tuple[str, str]) -> Response:
    """htmx: the panel in its new state, saying what happened; else flash and redirect."""
    if htmx.wants_fragment():
        return _subscription_page(*current_subscriber(), message=message)
    flash(message[1], message[0])
    return redirect(subscription_page_url(subscriber), code=303)


def _last_day(period_ends_on: date | None) -> date | None:
    # Periods are half-open; a receipt names the last day covered, as people read it.
    return period_ends_on - timedelta(days=1) if period_ends_on else None
