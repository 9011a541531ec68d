"""The subscriber's subscription page, the actions on it, cancelling now and changing plan.

What may be done to a subscription is subscriptions.allowed_actions(): the page offers those
actions and these views refuse the others. Who may see and manage a company's subscription is
views.common.current_subscriber().
"""

from datetime import timedelta
from decimal import Decimal

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, PARENT, allow
from portal.agreements import acceptances
from portal.billing import bp, refunds, subscriptions
from portal.billing.cards import saved_card_of
from portal.billing.forms import ChangeForm, PauseForm, new_idempotency_key
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
from portal.forms import BlankForm, EmptyForm
from portal.i18n import BILLING_CYCLE_NAMES, business_date, money
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


def _subscription_page(
    access: BillingAccess,
    message: tuple[str, str] | None = None,
    pause_form: PauseForm | None = None,
    status: int = 200,
) -> Response:
    subscriber = access.subscriber
    today = istanbul_today()
    # Staff who may not see billing are not sent the earlier subscriptions either: for them,
    # the current one alone is read.
    if access.may_see:
        history = subscriptions.subscription_history(db.session, subscriber)
        current = subscriptions.current_of(history)
    else:
        history = []
        current = subscriptions.current_subscription(db.session, subscriber)
    # Staff who may not see billing are never sent what they may not see: not hidden by the
    # template alone, not read at all.
    shown = current if access.may_see else None
    return htmx.render(
        "billing/subscription.html",
        "subscription_panel",
        status=status,
        message=message,
        pause_form=(
            _with_bounds(pause_form, today)
            if pause_form is not None
            # Blank: built only if its kept field is missing (portal.forms.BlankForm).
            else BlankForm(lambda: _with_bounds(PauseForm(formdata=None), today), ("pause", today))
        ),
        pause_last_day=subscriptions.latest_pause_end(today),
        pause_months=subscriptions.PAUSE_MAX_MONTHS,
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
        history=[s for s in history if s is not current],
        customer=(
            db.session.get(Customer, subscriber.customer_id) if subscriber.customer_id else None
        ),
        # The pre-information form and contract the parent confirmed when buying it.
        documents=(
            acceptances.accepted_for(db.session, current)
            if current is not None and subscriber.user_id is not None
            else []
        ),
    )


# The actions on the subscription page that post to /subscription/<action>: the step, and
# what the page says once it is done. Each answers with a redirect back to the page (htmx:
# the panel in place).
ACTIONS = {
    Action.CANCEL_AT_PERIOD_END: (
        subscriptions.cancel_at_period_end,
        _l("Your subscription will end on %(date)s. You can undo this until then."),
    ),
    Action.UNDO_CANCEL: (subscriptions.undo_cancel, _l("Your subscription will renew as before.")),
    Action.CANCEL_CHANGE: (subscriptions.cancel_change, _l("The planned change is dropped.")),
}


@bp.route("/subscription/<action>", methods=["POST"])
@allow(PARENT, CUSTOMER_USER)
def act(action: str):
    """Cancel at period end, undo that, or drop a planned change.

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


def _with_bounds(form: PauseForm, today) -> PauseForm:
    # The browser's date picker offers only the days allowed; the view checks them anyway.
    form.until.render_kw = {
        "min": (today + timedelta(days=1)).isoformat(),
        "max": subscriptions.latest_pause_end(today).isoformat(),
    }
    return form


# Why a pause cannot end on the date chosen (subscriptions.pause_until_refusal codes).
PAUSE_REFUSALS = {
    "pause_until_not_after_today": _l("Choose a day after today."),
    "pause_until_too_far": _l(
        "A pause can last at most %(months)d months: choose %(date)s or an earlier day."
    ),
}


@bp.route("/subscription/pause", methods=["POST"])
@allow(PARENT, CUSTOMER_USER)
def pause():
    """Pause renewals until the day chosen, when the renewal job resumes them; a day that is
    not after today or too far ahead comes back next to the field (422).

    :raise 403: staff who may not manage the company's billing.
    :raise 404: no current subscription.
    """
    subscriber, subscription = _managed_subscription()
    try:
        subscriptions.require_allowed(subscription, Action.PAUSE)
    except SubscriptionError as refused:
        db.session.rollback()
        return _back_to_page(subscriber, ("error", str(REFUSALS[refused.code])))
    form = PauseForm()
    now = utcnow()
    today = istanbul_today(now)
    if form.validate_on_submit():
        refused = subscriptions.pause_until_refusal(today, form.until.data)
        if refused is not None:
            form.until.errors = [
                str(PAUSE_REFUSALS[refused])
                % {
                    "months": subscriptions.PAUSE_MAX_MONTHS,
                    "date": business_date(subscriptions.latest_pause_end(today)),
                }
            ]
    if not form.is_submitted() or form.errors:
        db.session.rollback()
        return _subscription_page(current_subscriber(), pause_form=form, status=422)
    try:
        subscriptions.pause(
            db.session,
            subscription,
            current_user.id,
            current_origin(),
            now=now,
            until=form.until.data,
        )
    except SubscriptionError as refused:
        db.session.rollback()
        return _back_to_page(subscriber, ("error", str(REFUSALS[refused.code])))
    db.session.commit()
    return _back_to_page(
        subscriber,
        (
            "success",
            _(
                "Your subscription is paused. Renewals resume by themselves on %(date)s.",
                date=business_date(form.until.data),
            ),
        ),
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
    """Ask, saying what will be refunded (the charges within the withdrawal period) or that
    nothing will and why, then end the subscription today and refund that.

    :raise 403: staff who may not manage the company's billing.
    :raise 404: no current subscription.
    """
    subscriber, subscription = _managed_subscription()
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            subscriptions.require_allowed(subscription, Action.CANCEL_NOW)
            made = subscriptions.cancel_now(
                db.session,
                subscription,
                current_user.id,
                current_origin(),
                now=utcnow(),
                refund_with=gateway(),
            )
        except SubscriptionError as refused:
            db.session.rollback()
            flash(REFUSALS[refused.code], "error")
        else:
            db.session.commit()
            flash(_("Your subscription has ended."), "success")
            _flash_refunds(made)
        return htmx.redirect_to(subscription_page_url(subscriber))
    today = istanbul_today()
    due = refunds.withdrawal_refunds(db.session, subscription, today)
    return htmx.render(
        "billing/cancel.html",
        "content",
        refunds=due,
        refund_total=sum((r.left.gross for r in due), Decimal(0)),
        withdrawal_days=refunds.WITHDRAWAL_DAYS,
        subscription=subscription,
        subscriber=subscriber,
        subscription_url=subscription_page_url(subscriber),
        actions=subscriptions.allowed_actions(subscription),
        form=form,
    )


@bp.route("/subscription/change/<int:price_id>", methods=["GET", "POST"])
@allow(PARENT, CUSTOMER_USER)
def change(price_id: int):
    """Preview a change of plan or cycle, then confirm it. An upgrade takes effect now and
    charges the prorated difference shown; any other change takes effect on the next billing
    date and charges nothing now. A refused charge comes back next to the button (422) and
    changes nothing.

    :raise 403: staff who may not manage the company's billing.
    """
    subscriber = managing_subscriber()
    subscription = _locked_current(subscriber)
    if subscription is None:
        return htmx.redirect_to(url_for("billing.checkout", price_id=price_id))
    form = ChangeForm()
    submitted = form.validate_on_submit()
    if form.idempotency_key.errors:
        form.idempotency_key.data = new_idempotency_key()  # not one of ours: never sent back
    if submitted:
        # The same confirmation again (a double click): what the first one did, not a refusal
        # for being on the new price already.
        done = subscriptions.upgraded_by(db.session, subscription, form.idempotency_key.data)
        if done is not None:
            return _upgraded(subscriber, done)
    today = istanbul_today()
    try:
        subscriptions.require_allowed(subscription, Action.CHANGE)
        preview = subscriptions.preview_change(
            db.session, subscriber, subscription, price_id, today=today
        )
    except SubscriptionError as refused:
        db.session.rollback()
        flash(REFUSALS[refused.code], "error")
        return htmx.redirect_to(subscription_page_url(subscriber))
    if not submitted:
        form.shown_amount.data = f"{preview.charge.gross:.2f}" if preview.upgrade else ""
        return _change_page(subscriber, subscription, preview, form, status=htmx.form_status(form))
    if not preview.upgrade:
        subscriptions.schedule_change(
            db.session,
            subscriber,
            subscription,
            price_id,
            current_user.id,
            current_origin(),
            today=today,
        )
        db.session.commit()
        flash(
            _(
                "Done. From %(date)s you will be on %(plan)s, billed %(cycle)s.",
                date=business_date(preview.takes_effect_on),
                plan=preview.price.plan.display_name,
                cycle=str(BILLING_CYCLE_NAMES[preview.price.billing_cycle]).lower(),
            ),
            "success",
        )
        return htmx.redirect_to(subscription_page_url(subscriber))
    shown = form.shown_amount.data
    if shown and Decimal(shown) != preview.charge.gross:
        # The page was shown on another day (or before the price changed): nothing is charged
        # that the subscriber did not see.
        form.shown_amount.data = f"{preview.charge.gross:.2f}"
        error = _("The amount has changed since the page was shown. Check it and confirm again.")
        return _change_page(subscriber, subscription, preview, form, error=error, status=422)
    try:
        done = subscriptions.upgrade(
            db.session,
            gateway(),
            subscriber,
            subscription,
            price_id,
            idempotency_key=form.idempotency_key.data,
            today=today,
            actor_user_id=current_user.id,
            origin=current_origin(),
        )
    except PaymentFailed as failed:
        db.session.commit()  # the failed payment is kept; the subscription did not change
        # Trying again is a new charge: a new key for the form.
        form.idempotency_key.data = new_idempotency_key()
        return _change_page(
            subscriber, subscription, preview, form, error=failure_message(failed), status=422
        )
    db.session.commit()
    return _upgraded(subscriber, done)


def _upgraded(subscriber: Subscriber, done) -> Response:
    flash(
        _(
            "Done. You are on %(plan)s from today: %(amount)s was charged for the rest of the "
            "period. From %(date)s it renews at %(full)s.",
            plan=done.price.plan.display_name,
            amount=money(done.charge.gross),
            date=business_date(done.period_ends_on),
            full=money(done.full_charge.gross),
        ),
        "success",
    )
    return htmx.redirect_to(subscription_page_url(subscriber))


def _change_page(subscriber, subscription, preview, form, error=None, status=200) -> Response:
    return htmx.render(
        "billing/change.html",
        "content",
        status=status,
        subscription=subscription,
        subscriber=subscriber,
        preview=preview,
        form=form,
        error=error,
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


def _flash_refunds(made) -> None:
    refunded = sum((r.gross_amount for r in made if r.status == "succeeded"), Decimal(0))
    if refunded:
        flash(
            _(
                "%(amount)s is refunded to your card; your bank may take a few days to show it.",
                amount=money(refunded),
            ),
            "success",
        )
    if any(r.status != "succeeded" for r in made):
        flash(
            _(
                "The payment provider refused the refund. We will refund it another way "
                "within 14 days; nothing more is needed from you."
            ),
            "error",
        )


def _managed_subscription() -> tuple[Subscriber, UserSubscription]:
    subscriber = managing_subscriber()
    subscription = _locked_current(subscriber)
    if subscription is None:
        abort(404)
    return subscriber, subscription


def _locked_current(subscriber: Subscriber) -> UserSubscription | None:
    # Locked for a request that changes it, so a double click cannot apply one step twice and
    # a step cannot interleave with the renewal job (which locks the same row). A GET only
    # shows a preview or a question: locked, it waited for any other request of the same
    # subscriber to finish rendering (and wrote the row's lock for nothing), so two tabs
    # or a renewal run queued page views one behind the other.
    lock = "update" if request.method == "POST" else None
    return subscriptions.current_subscription(db.session, subscriber, lock=lock)


def _back_to_page(subscriber: Subscriber, message: tuple[str, str]) -> Response:
    """htmx: the panel in its new state, saying what happened; else flash and redirect."""
    if htmx.wants_fragment():
        return _subscription_page(current_subscriber(), message=message)
    flash(message[1], message[0])
    return redirect(subscription_page_url(subscriber), code=303)
