"""The subscriber's subscription page, the actions on it, cancelling now and changing plan.

What may be done to a subscription is subscriptions.allowed_actions(): the page offers those
actions and these views refuse the others. Who may see and manage a company's subscription is
views.common.current_subscriber().
"""

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, PARENT, allow
from portal.agreements import acceptances
from portal.billing import bp, subscriptions
from portal.billing.cards import saved_card_of
from portal.billing.money import charge_for
from portal.billing.payments import PaymentFailed, payments_page
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import Action, SubscriptionError
from portal.billing.views.common import (
    REFUSALS,
    BillingAccess,
    billing_managers,
    current_subscriber,
    failure_message,
    gateway,
    managing_subscriber,
    subscription_page_url,
)
from portal.clock import istanbul_today, utcnow
from portal.customer import school_pages
from portal.extensions import db
from portal.forms import EmptyForm
from portal.i18n import BILLING_CYCLE_NAMES, business_date
from portal.models import Customer, UserSubscription
from portal.origin import current_origin
from portal.paging import page_number


@bp.route("/account/subscription")
@allow(PARENT)
def subscription():
    """The parent's subscription, its payments and what they can do with it."""
    return _subscription_page(current_subscriber())


@bp.route("/customer/subscription")
@allow(CUSTOMER_USER)
def company_subscription():
    """The company's subscription: its payments and card for staff who may see billing, its
    actions for staff who may manage it, and for everyone the plan, its status and whom to
    ask."""
    return _subscription_page(current_subscriber())


def _subscription_page(access: BillingAccess, message: tuple[str, str] | None = None) -> Response:
    subscriber = access.subscriber
    current = subscriptions.current_subscription(db.session, subscriber)
    # Staff who may not see billing are never sent what they may not see: not hidden by the
    # template alone, not read at all.
    shown = current if access.may_see else None
    return htmx.render(
        "billing/subscription.html",
        "subscription_panel",
        message=message,
        subscriber=subscriber,
        may_see=access.may_see,
        may_manage=access.may_manage,
        billing_managers=billing_managers(access),
        subscription=current,
        actions=(
            subscriptions.allowed_actions(current)
            if current is not None and access.may_manage
            else frozenset()
        ),
        resume_preview=(
            subscriptions.resume_preview(shown, istanbul_today())
            if shown is not None and shown.status == subscriptions.PAUSED
            else None
        ),
        card=saved_card_of(db.session, shown) if shown is not None else None,
        scheduled_charge=(
            charge_for(shown.scheduled_price.amount, shown.scheduled_price.kdv_included)
            if shown is not None and shown.scheduled_price is not None
            else None
        ),
        payments=(
            payments_page(db.session, subscriber, page_number(request.args.get("page")))
            if access.may_see
            else None
        ),
        history=(
            [
                s
                for s in subscriptions.subscription_history(db.session, subscriber)
                if current is None or s.id != current.id
            ]
            if access.may_see
            else []
        ),
        customer=(
            db.session.get(Customer, subscriber.customer_id) if subscriber.customer_id else None
        ),
        # The pre-information form and contract the parent confirmed when buying it.
        documents=(
            acceptances.accepted_for(db.session, current)
            if current is not None and subscriber.user_id is not None
            else []
        ),
        form=EmptyForm(),
    )


def _pause(session, subscription, actor_user_id, origin) -> None:
    subscriptions.pause(session, subscription, actor_user_id, origin, now=utcnow())


# The actions on the subscription page that post to /subscription/<action>: the step, and
# what the page says once it is done. Each answers with a redirect back to the page (htmx:
# the panel in place).
ACTIONS = {
    Action.CANCEL_AT_PERIOD_END: (
        subscriptions.cancel_at_period_end,
        _l("Your subscription will end on %(date)s. You can undo this until then."),
    ),
    Action.UNDO_CANCEL: (subscriptions.undo_cancel, _l("Your subscription will renew as before.")),
    Action.PAUSE: (_pause, _l("Your subscription is paused. It will not renew.")),
    Action.CANCEL_CHANGE: (subscriptions.cancel_change, _l("The planned change is dropped.")),
}


@bp.route("/subscription/<action>", methods=["POST"])
@allow(PARENT, CUSTOMER_USER)
def act(action: str):
    """Cancel at period end, undo that, pause, or drop a planned change.

    :raise 403: staff who may not manage the company's billing.
    :raise 404: an unknown action, or no current subscription.
    """
    if action not in ACTIONS:
        abort(404)
    subscriber, subscription = _managed_subscription()
    step, done = ACTIONS[action]
    try:
        subscriptions.require_allowed(subscription, Action(action))
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

    :raise 403: staff who may not manage the company's billing.
    :raise 404: no current subscription.
    """
    subscriber, subscription = _managed_subscription()
    try:
        subscriptions.require_allowed(subscription, Action.RESUME)
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
        return _back_to_page(subscriber, ("error", str(failure_message(failed))))
    db.session.commit()
    return _back_to_page(subscriber, ("success", _("Your subscription is active again.")))


@bp.route("/subscription/cancel", methods=["GET", "POST"])
@allow(PARENT, CUSTOMER_USER)
def cancel_now():
    """Ask, then end the subscription today (nothing is refunded).

    :raise 403: staff who may not manage the company's billing.
    :raise 404: no current subscription.
    """
    subscriber, subscription = _managed_subscription()
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            subscriptions.require_allowed(subscription, Action.CANCEL_NOW)
            subscriptions.cancel_now(
                db.session, subscription, current_user.id, current_origin(), now=utcnow()
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
        actions=subscriptions.allowed_actions(subscription),
        form=form,
    )


@bp.route("/subscription/change/<int:price_id>", methods=["GET", "POST"])
@allow(PARENT, CUSTOMER_USER)
def change(price_id: int):
    """Preview a change of plan or cycle, then confirm it; it takes effect on the next
    billing date and nothing is charged now.

    :raise 403: staff who may not manage the company's billing.
    """
    subscriber = managing_subscriber()
    subscription = _locked_current(subscriber)
    if subscription is None:
        return htmx.redirect_to(url_for("billing.checkout", price_id=price_id))
    try:
        subscriptions.require_allowed(subscription, Action.CHANGE)
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
        # A company listing more schools than the new plan allows is told before confirming
        # (school_pages is imported as a module: it reads plan limits, so it imports billing).
        listed_shortfall=(
            school_pages.listed_shortfall(
                db.session, subscriber.customer_id, preview.price.subscription_plan_id
            )
            if subscriber.customer_id
            else None
        ),
    )


def _managed_subscription() -> tuple[Subscriber, UserSubscription]:
    subscriber = managing_subscriber()
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
        return _subscription_page(current_subscriber(), message=message)
    flash(message[1], message[0])
    return redirect(subscription_page_url(subscriber), code=303)
