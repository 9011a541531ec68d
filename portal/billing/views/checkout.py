"""Checkout: the price with its KDV, then the provider's hosted payment page for the card, then
back here, where a subscription starts once the saved card is paid with.

The portal never sees the card: the checkout form carries only its idempotency key; the hosted
page (portal.sandbox_provider for the sandbox) takes the number, expiry and CVC and sends the
buyer back to checkout_return with a signed answer holding the gateway's token, brand, last
four and expiry, or why the card was refused.

A parent is shown the pre-information form and the distance sales contract of the order
above the button, and must tick the box that confirms them; the confirmation is recorded
(portal.agreements.acceptances) under the attempt's key in the same request that sends them
on to the payment page, so no payment of theirs exists without it. Companies buy under their
own agreements and do not get these consumer documents.

The buyer's invoice identity (portal.billing.invoices) is kept in the same request that sends
them on to the payment page: a parent's as typed into the form, a company's from its details,
shown on the page for confirmation; the subscription is tied to it on the way back.
"""

import re

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal import htmx
from portal.access import CUSTOMER_USER, PARENT, allow
from portal.agreements import acceptances
from portal.agreements.acceptances import AcceptanceError, Buyer
from portal.agreements.evidence import Witness
from portal.billing import bp, invoices, subscriptions
from portal.billing.forms import CheckoutForm, ParentCheckoutForm, new_idempotency_key
from portal.billing.gateway import HostedCheckout, InvalidCheckout
from portal.billing.payments import PaymentFailed, log_failed_attempt
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import SubscriptionError
from portal.billing.views.common import (
    REFUSALS,
    failure_message,
    gateway,
    managing_subscriber,
    subscription_page_url,
)
from portal.clock import istanbul_today, utcnow
from portal.extensions import db
from portal.models import Customer, PlanPrice
from portal.origin import current_origin, peer_address

_KEY = re.compile(r"[0-9a-f]{32}")
# How a parent confirming at checkout was authenticated: by their signed-in session (a
# password, and an e-mailed code where two-step sign-in or a new device asked for one).
AUTH_METHOD = "password_session"
STARTED = _l("Thank you. Your subscription has started.")
# Why the sale's documents cannot be shown or confirmed (AcceptanceError codes).
DOCUMENT_REFUSALS = {
    "no_text": _l(
        "Online purchases are not possible at the moment: the contract documents are being "
        "updated. Nothing was charged; please try again later."
    ),
    "provider_missing": _l(
        "Online purchases are not possible at the moment. Nothing was charged; please try "
        "again later."
    ),
    "documents_changed": _l(
        "The documents changed while you were reading them. Read them again below and confirm."
    ),
    "key_taken": _l("This checkout form could not be used. Nothing was charged; try again."),
}


def _reference(subscriber: Subscriber, price_id: int, idempotency_key: str) -> str:
    # Whose order and for which price, so that an answer brought to another account or to
    # another price's return address is refused; the key makes the attempt idempotent.
    owner = (
        f"user-{subscriber.user_id}"
        if subscriber.user_id is not None
        else f"customer-{subscriber.customer_id}"
    )
    return f"{owner}:price-{price_id}:{idempotency_key}"


def _idempotency_key_of(reference: str, subscriber: Subscriber, price_id: int) -> str:
    """The attempt's key, when the answer is for this subscriber and price.

    :raise InvalidCheckout: the answer belongs to someone else's or another price's checkout.
    """
    prefix, _sep, key = reference.rpartition(":")
    if f"{prefix}:" != _reference(subscriber, price_id, "") or not _KEY.fullmatch(key):
        raise InvalidCheckout("the answer is for another checkout")
    return key


def _form(subscriber: Subscriber) -> CheckoutForm:
    """The checkout form for this buyer: a parent's has the documents' box."""
    return ParentCheckoutForm() if subscriber.user_id is not None else CheckoutForm()


def _sale_documents(offer, order_key: str) -> list[acceptances.SaleDocument]:
    """The parent's pre-information form and contract for this order, rendered now.

    :raise AcceptanceError: no valid text of a kind, or the seller's details missing.
    """
    return acceptances.sale_documents(
        db.session,
        current_app.config["AGREEMENT_PROVIDER"],
        Buyer.of_user(current_user),
        offer,
        order_key=order_key,
        now=utcnow(),
    )


def _buyer(subscriber: Subscriber, form: CheckoutForm) -> invoices.BuyerIdentity:
    """Who the invoice is for: the parent as the form gives them, or the company's details."""
    if subscriber.customer_id is not None:
        return invoices.of_company(db.session.get(Customer, subscriber.customer_id))
    return invoices.BuyerIdentity(
        kind="person",
        name=form.invoice_name.data,
        address=form.invoice_address.data,
        tc_no=form.invoice_tc_no.data or None,
    )


def _fill_in_invoice_fields(form: CheckoutForm) -> None:
    """A parent's first view of the form: their name, and the address (and TC Kimlik No)
    they gave at their latest checkout, to be confirmed or corrected."""
    if not isinstance(form, ParentCheckoutForm) or form.is_submitted():
        return
    given = invoices.last_given(db.session, current_user)
    form.invoice_name.data = given.name if given else current_user.name
    if given is not None:
        form.invoice_address.data = given.address
        form.invoice_tc_no.data = given.tc_no


def _checkout_page(subscriber, price: PlanPrice, form: CheckoutForm, error=None, status=None):
    offer = subscriptions.quote(db.session, subscriber, price, istanbul_today())
    _fill_in_invoice_fields(form)
    documents, unavailable = None, None
    if form.idempotency_key.errors:
        # A key that is not one of ours is neither shown in a document nor sent back.
        form.idempotency_key.data = new_idempotency_key()
    if subscriber.user_id is not None:
        try:
            documents = _sale_documents(offer, form.idempotency_key.data)
            form.documents_sha256.data = ":".join(document.sha256 for document in documents)
        except AcceptanceError as refused:
            # Shown instead of the button: nothing can be bought without the documents.
            unavailable = DOCUMENT_REFUSALS[refused.code]
    return htmx.render(
        "billing/checkout.html",
        "checkout_form",
        status=status or htmx.form_status(form, failed=error is not None),
        form=form,
        offer=offer,
        price=price,
        plan=price.plan,
        error=error,
        documents=documents,
        unavailable=unavailable,
        company_buyer=(_buyer(subscriber, form) if subscriber.customer_id is not None else None),
    )


def _accept_documents(subscriber, price: PlanPrice, form: ParentCheckoutForm) -> str | None:
    """Record the parent's confirmation of the order's documents (nothing new for a key
    already confirmed); the reason it cannot be, else None. Commits what it recorded."""
    offer = subscriptions.quote(db.session, subscriber, price, istanbul_today())
    key = form.idempotency_key.data
    try:
        documents = _sale_documents(offer, key)
        shown = form.documents_sha256.data
        if shown and shown != ":".join(document.sha256 for document in documents):
            raise AcceptanceError("documents_changed")
        acceptances.accept(
            db.session,
            Buyer.of_user(current_user),
            documents,
            plan_price_id=price.id,
            idempotency_key=key,
            witness=Witness.of(current_origin(), peer_address(), AUTH_METHOD),
            now=utcnow(),
        )
        db.session.commit()
    except AcceptanceError as refused:
        db.session.rollback()
        return DOCUMENT_REFUSALS.get(refused.code, DOCUMENT_REFUSALS["key_taken"])
    except IntegrityError:
        # The same form sent twice at once: the other request recorded this order's rows.
        db.session.rollback()
    return None


def _price_for_sale(subscriber: Subscriber, price_id: int) -> PlanPrice:
    try:
        return subscriptions.purchasable_price(db.session, subscriber, price_id)
    except SubscriptionError:
        abort(404)


@bp.route("/plans/<int:price_id>/checkout", methods=["GET", "POST"])
@allow(PARENT, CUSTOMER_USER)
def checkout(price_id: int):
    """The total with KDV; its button sends the buyer to the hosted payment page.

    A subscriber who already has a subscription is sent to change it instead.

    :raise 403: staff who may not manage the company's billing.
    :raise 404: the price is archived, unknown, or for the other audience.
    """
    subscriber = managing_subscriber()
    if subscriptions.current_subscription(db.session, subscriber):
        if request.method == "GET":
            return htmx.redirect_to(url_for("billing.change", price_id=price_id))
        # The same form sent again after it worked (a double click, a retried request): the
        # first answer again. Another form (another tab): refused, and no card is asked for.
        key = request.form.get("idempotency_key", "")
        if _KEY.fullmatch(key) and subscriptions.started_by(db.session, subscriber, key):
            flash(STARTED, "success")
        else:
            flash(REFUSALS["already_subscribed"], "error")
        return htmx.redirect_to(subscription_page_url(subscriber))
    price = _price_for_sale(subscriber, price_id)
    form = _form(subscriber)
    if form.validate_on_submit():
        if isinstance(form, ParentCheckoutForm):
            refusal = _accept_documents(subscriber, price, form)
            if refusal is not None:
                form.accept_documents.data = False  # confirmed again, once read again
                return _checkout_page(subscriber, price, form, error=refusal, status=422)
        try:
            invoices.record(
                db.session,
                subscriber,
                form.idempotency_key.data,
                _buyer(subscriber, form),
                current_app.config["RECEIPT_ISSUER"],
                utcnow(),
            )
            db.session.commit()
        except IntegrityError:
            # The same form sent twice at once: the other request kept the same identities.
            db.session.rollback()
        offer = subscriptions.quote(db.session, subscriber, price, istanbul_today())
        hosted = HostedCheckout(
            reference=_reference(subscriber, price.id, form.idempotency_key.data),
            description=price.plan.name,
            amount=None if offer.trial_days else offer.charge.gross,
            currency=price.currency,
            return_url=url_for("billing.checkout_return", price_id=price.id),
            cancel_url=url_for("billing.checkout", price_id=price.id),
        )
        return htmx.redirect_to(gateway().hosted_page_url(hosted))
    return _checkout_page(subscriber, price, form)


@bp.route("/plans/<int:price_id>/checkout/return")
@allow(PARENT, CUSTOMER_USER)
def checkout_return(price_id: int):
    """Back from the hosted payment page: subscribe with the card it saved, or show why not
    next to the checkout's button (422), with a new key for the next attempt.

    The same answer brought back twice (a reload, the back button) gives the first result.

    :raise 400: the answer is missing, forged, expired, or for another account or price.
    :raise 403: staff who may not manage the company's billing.
    :raise 404: the price is archived, unknown, or for the other audience.
    """
    subscriber = managing_subscriber()
    price = _price_for_sale(subscriber, price_id)
    try:
        outcome = gateway().checkout_outcome(request.args.get("answer", ""))
        key = _idempotency_key_of(outcome.reference, subscriber, price.id)
    except InvalidCheckout:
        error = _("The payment page's answer could not be checked. Nothing was charged; try again.")
        return _checkout_page(subscriber, price, _form(subscriber), error=error, status=400)
    try:
        if outcome.card is None:
            # The provider refused the card: nothing to create, but the attempt is kept.
            log_failed_attempt(
                db.session,
                current_user.id,
                current_origin(),
                outcome.failure_code,
                plan_price_id=price.id,
            )
            raise PaymentFailed(outcome.failure_code)
        first_time = subscriptions.current_subscription(db.session, subscriber) is None
        subscription = subscriptions.subscribe(
            db.session,
            gateway(),
            subscriber,
            price.id,
            outcome.card,
            idempotency_key=key,
            today=istanbul_today(),
            actor_user_id=current_user.id,
            origin=current_origin(),
        )
        invoices.attach(db.session, subscriber, key, subscription)
        if (
            first_time
            and subscriber.user_id is not None
            and subscription.status == subscriptions.TRIAL
        ):
            # A paid start mails the documents with its receipt; a free trial has no receipt.
            accepted = acceptances.acceptances_of_order(db.session, key)
            acceptances.mail_documents(db.session, accepted, current_user.email)
        db.session.commit()
    except PaymentFailed as failed:
        db.session.commit()  # keeps the audit row of the attempt; nothing else was written
        # A new attempt is a new charge: the form that leads to the hosted page gets a new key.
        return _checkout_page(subscriber, price, _form(subscriber), error=failure_message(failed))
    except SubscriptionError as refused:
        db.session.rollback()
        flash(REFUSALS[refused.code], "error")
        return htmx.redirect_to(subscription_page_url(subscriber))
    except IntegrityError:
        # The same answer brought back twice at once: the other request subscribed.
        db.session.rollback()
        return htmx.redirect_to(subscription_page_url(subscriber))
    flash(STARTED, "success")
    return htmx.redirect_to(subscription_page_url(subscriber))
