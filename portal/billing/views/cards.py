"""The payment cards page: a parent's (/account/cards) or a company's (/customer/cards).

Cards are listed masked (brand, last four, expiry: all that is stored), added through the
provider's hosted page as checkout does (nothing is charged; the card is only saved), chosen as
the one renewals charge (the subscription's card column, portal.billing.cards.card_key) and
removed (soft delete), except the card a current subscription charges.

A company's staff see its cards with Permission.SEE_BILLING and change them with
Permission.MANAGE_BILLING. A card is named by its id in the form: another subscriber's card
is a 404, the same answer as an unknown one.
"""

import re

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal import htmx
from portal.access import CUSTOMER_USER, PARENT, allow
from portal.billing import bp, subscriptions
from portal.billing import cards as saved_cards
from portal.billing.card_forms import AddCardForm, DefaultCardForm, RemoveCardForm
from portal.billing.gateway import HostedCheckout, InvalidCheckout
from portal.billing.payments import PaymentFailed
from portal.billing.subscribers import Subscriber
from portal.billing.views.common import (
    BillingAccess,
    billing_managers,
    current_subscriber,
    failure_message,
    gateway,
)
from portal.clock import istanbul_today
from portal.core.views.errors import refuse_not_yours
from portal.extensions import db
from portal.models import Customer
from portal.origin import current_origin

TEMPLATE = "billing/cards.html"
_KEY = re.compile(r"[0-9a-f]{32}")

REFUSALS = {
    saved_cards.IN_USE_CHOOSE_ANOTHER: _l(
        "Renewals charge this card, so it cannot be removed yet. Make another card the one "
        "renewals charge first, then remove this one."
    ),
    saved_cards.IN_USE_NO_REPLACEMENT: _l(
        "Renewals charge this card and it is your only one, so it cannot be removed. Add "
        "another card and make it the one renewals charge first."
    ),
    saved_cards.NOTHING_CHARGES: _l(
        "There is no subscription whose renewals charge a card, so there is no card to choose."
    ),
}


def card_label(card) -> str:
    """A card as people read it: brand, the last four digits and the expiry."""
    return _(
        "%(brand)s ending in %(last4)s, expires %(month)02d/%(year)d",
        brand=card.brand.title(),
        last4=card.last4,
        month=card.exp_month,
        year=card.exp_year,
    )


def _reading_access() -> BillingAccess:
    """Whose cards the signed-in user sees.

    :raise 403: staff who may not see the company's billing.
    """
    access = current_subscriber()
    if not access.may_see:
        abort(403)
    return access


def _managing_access() -> BillingAccess:
    """Whose cards the signed-in user changes.

    :raise 403: staff who may not manage the company's billing.
    """
    access = current_subscriber()
    if not access.may_manage:
        abort(403)
    return access


def cards_page_url(subscriber: Subscriber) -> str:
    """The subscriber's cards page: in the parent's area, or in the customer portal."""
    if subscriber.user_id is not None:
        return url_for("billing.cards")
    return url_for("billing.company_cards")


def _page(
    access: BillingAccess,
    *,
    status: int = 200,
    message: tuple[str, str] | None = None,
    add_form=None,
    default_form=None,
    add_error: str | None = None,
) -> Response:
    subscriber = access.subscriber
    subscription = subscriptions.current_subscription(db.session, subscriber)
    saved = saved_cards.cards_of(db.session, subscriber)
    charged = (
        saved_cards.saved_card_of(db.session, subscription) if subscription is not None else None
    )
    charges_a_card = saved_cards.needs_card(subscription)
    if default_form is None:
        default_form = DefaultCardForm(
            formdata=None, card=str(charged.id) if charged is not None else None
        )
    today = istanbul_today()
    return htmx.render(
        TEMPLATE,
        "cards_panel",
        status=status,
        message=message,
        subscriber=subscriber,
        may_manage=access.may_manage,
        billing_managers=billing_managers(access),
        customer=(
            db.session.get(Customer, subscriber.customer_id) if subscriber.customer_id else None
        ),
        cards=saved,
        charged_id=charged.id if charged is not None else None,
        charges_a_card=charges_a_card,
        expired={c.id for c in saved if (c.exp_year, c.exp_month) < (today.year, today.month)},
        add_form=add_form or AddCardForm(formdata=None),
        default_form=default_form.with_cards(saved, card_label),
        remove_form=RemoveCardForm(formdata=None),
        add_error=add_error,
        card_label=card_label,
    )


@bp.route("/account/cards")
@allow(PARENT)
def cards():
    """The parent's saved cards, the one renewals charge, and adding or removing one."""
    return _page(_reading_access())


@bp.route("/customer/cards")
@allow(CUSTOMER_USER)
def company_cards():
    """The company's saved cards: listed for staff who may see billing, changed by staff who
    may manage it.

    :raise 403: staff who may not see the company's billing.
    """
    return _page(_reading_access())


def _reference(subscriber: Subscriber, idempotency_key: str) -> str:
    # Whose card this is, so that an answer brought to another account is refused.
    owner = (
        f"user-{subscriber.user_id}"
        if subscriber.user_id is not None
        else f"customer-{subscriber.customer_id}"
    )
    return f"{owner}:card:{idempotency_key}"


def _answer_is_for(reference: str, subscriber: Subscriber) -> bool:
    prefix, _sep, key = reference.rpartition(":")
    return f"{prefix}:" == _reference(subscriber, "") and bool(_KEY.fullmatch(key))


@bp.route("/cards", methods=["POST"])
@allow(PARENT, CUSTOMER_USER)
def add_card():
    """Send the subscriber to the hosted payment page to save a card; nothing is charged.

    :raise 403: staff who may not manage the company's billing.
    """
    access = _managing_access()
    form = AddCardForm()
    if not form.validate_on_submit():
        return _page(access, status=422, add_form=form)
    subscriber = access.subscriber
    hosted = HostedCheckout(
        reference=_reference(subscriber, form.idempotency_key.data),
        description=_("Save a card for your payments"),
        amount=None,
        currency="TRY",
        return_url=url_for("billing.card_return"),
        cancel_url=cards_page_url(subscriber),
    )
    return htmx.redirect_to(gateway().hosted_page_url(hosted))


@bp.route("/cards/return")
@allow(PARENT, CUSTOMER_USER)
def card_return():
    """Back from the hosted payment page: keep the card it saved, or say why it was refused
    next to the add button (422). The same answer brought back twice keeps one card.

    :raise 400: the answer is missing, forged, expired, or for another account.
    :raise 403: staff who may not manage the company's billing.
    """
    access = _managing_access()
    subscriber = access.subscriber
    try:
        outcome = gateway().checkout_outcome(request.args.get("answer", ""))
        if not _answer_is_for(outcome.reference, subscriber):
            raise InvalidCheckout("the answer is for another account")
    except InvalidCheckout:
        error = _("The payment page's answer could not be checked. No card was saved; try again.")
        return _page(access, status=400, add_error=error)
    if outcome.card is None:
        error = failure_message(PaymentFailed(outcome.failure_code))
        return _page(access, status=422, add_error=error)
    subscription = subscriptions.current_subscription(db.session, subscriber, lock="update")
    try:
        card, made_default = saved_cards.add_card(
            db.session, subscriber, outcome.card, subscription, current_user.id, current_origin()
        )
        db.session.commit()
    except IntegrityError:
        # The same answer brought back twice at once: the other request kept the card.
        db.session.rollback()
        return redirect(cards_page_url(subscriber), code=303)
    if made_default:
        flash(
            _("%(card)s is saved. Renewals charge it from now on.", card=card_label(card)),
            "success",
        )
    else:
        flash(_("%(card)s is saved.", card=card_label(card)), "success")
    return redirect(cards_page_url(subscriber), code=303)


@bp.route("/cards/default", methods=["POST"])
@allow(PARENT, CUSTOMER_USER)
def make_default_card():
    """Make a saved card the one the subscription's renewals charge.

    :raise 403: staff who may not manage the company's billing.
    :raise 404: the card is another subscriber's, removed or unknown.
    """
    access = _managing_access()
    subscriber = access.subscriber
    form = DefaultCardForm()
    if not form.validate_on_submit():
        return _page(access, status=422, default_form=form)
    # The subscription first, then the card, both locked: a removal of the card and this
    # change wait for each other instead of leaving renewals a removed card.
    subscription = subscriptions.current_subscription(db.session, subscriber, lock="update")
    card = _own_card(subscriber, int(form.card.data))
    try:
        changed = saved_cards.make_default(
            db.session, subscriber, subscription, card, current_user.id, current_origin()
        )
    except saved_cards.CardError as refused:
        db.session.rollback()
        return _back(subscriber, ("error", str(REFUSALS[refused.code])))
    db.session.commit()
    if not changed:
        return _back(
            subscriber, ("success", _("Renewals already charge %(card)s.", card=card_label(card)))
        )
    return _back(
        subscriber, ("success", _("Renewals charge %(card)s from now on.", card=card_label(card)))
    )


@bp.route("/cards/remove", methods=["POST"])
@allow(PARENT, CUSTOMER_USER)
def remove_card():
    """Remove a saved card; the card a current subscription charges is refused, with what to
    do instead.

    :raise 403: staff who may not manage the company's billing.
    :raise 404: the card is another subscriber's, removed or unknown.
    """
    access = _managing_access()
    subscriber = access.subscriber
    form = RemoveCardForm()
    if not form.validate_on_submit():
        error = " ".join(str(e) for e in form.card.errors) or _("Choose one of your saved cards.")
        return _page(access, status=422, message=("error", error))
    subscription = subscriptions.current_subscription(db.session, subscriber, lock="update")
    card = _own_card(subscriber, form.card_id)
    others = sum(1 for c in saved_cards.cards_of(db.session, subscriber) if c.id != card.id)
    try:
        saved_cards.remove_card(
            db.session,
            subscriber,
            subscription,
            card,
            current_user.id,
            current_origin(),
            other_cards=others,
        )
    except saved_cards.CardError as refused:
        db.session.rollback()
        return _back(subscriber, ("error", str(REFUSALS[refused.code])), status=422)
    db.session.commit()
    return _back(subscriber, ("success", _("%(card)s is removed.", card=card_label(card))))


def _own_card(subscriber: Subscriber, card_id: int):
    card = saved_cards.card_of(db.session, subscriber, card_id, lock=True)
    if card is None:
        refuse_not_yours("card", card_id)  # another's, removed or unknown: the same answer
    return card


def _back(subscriber: Subscriber, message: tuple[str, str], status: int = 200) -> Response:
    """htmx: the panel in its new state, saying what happened; else flash and redirect."""
    if htmx.wants_fragment():
        return _page(current_subscriber(), status=status, message=message)
    flash(message[1], message[0])
    return redirect(cards_page_url(subscriber), code=303)
