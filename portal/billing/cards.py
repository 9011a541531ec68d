"""Saved cards: keeping the card a gateway saved, and choosing which card a charge uses.

A parent's cards are user_payment_cards, a company's customer_credit_cards; both hold the
gateway's token, brand, last four digits and expiry, never a card number or a CVC. Plain
module: the caller passes the session and commits.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Origin, log_event
from portal.billing.gateway import SavedCard
from portal.billing.subscribers import Subscriber
from portal.models import CustomerCreditCard, UserPaymentCard, UserSubscription
from portal.models.billing import BillingCycle, SubscriptionStatus
from portal.refusal import Refusal

StoredCard = UserPaymentCard | CustomerCreditCard
# The statuses of a subscription that has not ended (portal.billing.subscriptions imports this
# module, so it cannot be imported from there).
_CURRENT = (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED)


class CardOnFile(Protocol):
    """What a charge and its payment row need of a card: a stored card, the gateway's
    SavedCard, or the renewal run's plain row."""

    token: str
    brand: str
    last4: str


def store_card(
    session: Session, owner: Subscriber, saved: SavedCard, holder: str | None = None
) -> StoredCard:
    """Keep a card the gateway saved, as the owner's: the token, never the number.

    `holder` (the name on the card) is kept for a company's card only.
    """
    fields = dict(
        gateway=saved.gateway,
        token=saved.token,
        brand=saved.brand,
        last4=saved.last4,
        exp_month=saved.exp_month,
        exp_year=saved.exp_year,
    )
    if owner.user_id is not None:
        card = UserPaymentCard(user_id=owner.user_id, **fields)
    else:
        card = CustomerCreditCard(customer_id=owner.customer_id, holder_name=holder, **fields)
    session.add(card)
    session.flush()
    return card


def attach_card(subscription: UserSubscription, card: StoredCard) -> None:
    """Make `card` the one the subscription's renewals charge."""
    if isinstance(card, UserPaymentCard):
        subscription.user_payment_card_id = card.id
    else:
        subscription.customer_credit_card_id = card.id


def card_key(subscription) -> tuple[type[StoredCard], int] | None:
    """Which saved card a subscription's charges use, as (model, id); None when it has none.

    `subscription` is a UserSubscription or any row with its two card columns (the renewal
    run reads plain rows).
    """
    if subscription.user_payment_card_id is not None:
        return UserPaymentCard, subscription.user_payment_card_id
    if subscription.customer_credit_card_id is not None:
        return CustomerCreditCard, subscription.customer_credit_card_id
    return None


def saved_card_of(session: Session, subscription: UserSubscription) -> StoredCard | None:
    """The saved card renewals of this subscription charge, or None (removed, or never set)."""
    key = card_key(subscription)
    card = session.get(*key) if key is not None else None
    # The soft-delete filter does not reach an object this session already holds.
    return None if card is None or card.is_deleted else card


# --- The subscriber's cards page: listing, adding, choosing the default, removing ----------
#
# Which card renewals charge is the subscription's card column (card_key() above, which the
# renewal run reads); nothing else says "default". customer_credit_cards.is_default is never
# written: a second answer to the same question could only disagree with the first.


class CardError(Refusal):
    """A change of saved cards that is refused; `code` names why, for the views' messages."""


# CardError codes.
IN_USE_NO_REPLACEMENT = "in_use_no_replacement"  # the only card a subscription can charge
IN_USE_CHOOSE_ANOTHER = "in_use_choose_another"  # make another card the default first
NOTHING_CHARGES = "nothing_charges"  # no subscription that renewals charge


def _model_of(subscriber: Subscriber) -> type[StoredCard]:
    return UserPaymentCard if subscriber.user_id is not None else CustomerCreditCard


def cards_of(session: Session, subscriber: Subscriber) -> list[StoredCard]:
    """The subscriber's saved cards (removed ones left out), newest first: one statement."""
    model = _model_of(subscriber)
    return list(
        session.scalars(
            select(model).where(subscriber.owner_clause(model)).order_by(model.id.desc())
        )
    )


def card_of(
    session: Session, subscriber: Subscriber, card_id: int, *, lock: bool = False
) -> StoredCard | None:
    """The subscriber's own saved card `card_id`; None when it is another's, removed or unknown.

    `lock` reads it FOR UPDATE, which also sees what other transactions committed since this
    one began (a removal racing a change of the default).
    """
    model = _model_of(subscriber)
    query = select(model).where(model.id == card_id, subscriber.owner_clause(model))
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def needs_card(subscription: UserSubscription | None) -> bool:
    """The subscription may still charge a saved card: a trial, active or paused one (a
    cancellation at period end can be taken back, resuming may charge), unless it is a paid
    lifetime one, which never charges again."""
    if subscription is None or subscription.status not in _CURRENT:
        return False
    return not (
        subscription.billing_cycle == BillingCycle.LIFETIME
        and subscription.status != SubscriptionStatus.TRIAL
    )


def add_card(
    session: Session,
    subscriber: Subscriber,
    saved: SavedCard,
    subscription: UserSubscription | None,
    actor_user_id: int,
    origin: Origin,
) -> tuple[StoredCard, bool]:
    """Keep a card the gateway saved from the cards page; returns it and whether it became
    the one renewals charge (it does when the subscription has no card it can charge).

    The same answer brought back twice (a reload) finds the card it stored the first time.
    """
    model = _model_of(subscriber)
    existing = session.scalar(
        select(model)
        .where(model.gateway == saved.gateway, model.token == saved.token)
        .where(subscriber.owner_clause(model))
        .execution_options(include_deleted=True)
    )
    if existing is not None:
        return existing, False
    card = store_card(session, subscriber, saved, saved.holder_name)
    made_default = needs_card(subscription) and saved_card_of(session, subscription) is None
    if made_default:
        attach_card(subscription, card)
    log_event(
        session,
        "card_added",
        actor_user_id,
        origin,
        **_audit_fields(subscriber, card),
        made_default=made_default,
    )
    return card, made_default


def make_default(
    session: Session,
    subscriber: Subscriber,
    subscription: UserSubscription | None,
    card: StoredCard,
    actor_user_id: int,
    origin: Origin,
) -> bool:
    """Make `card` the one the subscription's renewals charge; False when it already is.

    :raise CardError: NOTHING_CHARGES, when there is no subscription that charges a card.
    """
    if not needs_card(subscription):
        raise CardError(NOTHING_CHARGES)
    before = saved_card_of(session, subscription)
    if before is not None and before.id == card.id:
        return False
    attach_card(subscription, card)
    log_event(
        session,
        "card_default_changed",
        actor_user_id,
        origin,
        **_audit_fields(subscriber, card),
        previous_card_id=before.id if before is not None else None,
    )
    return True


def remove_card(
    session: Session,
    subscriber: Subscriber,
    subscription: UserSubscription | None,
    card: StoredCard,
    actor_user_id: int,
    origin: Origin,
    *,
    other_cards: int,
) -> None:
    """Remove (soft-delete) a saved card, unless a subscription still charges it.

    `other_cards` is how many other cards the subscriber keeps. The card the subscription
    charges is never swapped for another behind the subscriber's back: which card pays is
    their choice.

    :raise CardError: IN_USE_CHOOSE_ANOTHER (another card exists: make it the default first),
        IN_USE_NO_REPLACEMENT (no other card: add one first, or end the subscription).
    """
    in_use = needs_card(subscription) and card_key(subscription) == (type(card), card.id)
    if in_use:
        raise CardError(IN_USE_CHOOSE_ANOTHER if other_cards else IN_USE_NO_REPLACEMENT)
    card.soft_delete()
    log_event(session, "card_removed", actor_user_id, origin, **_audit_fields(subscriber, card))


def _audit_fields(subscriber: Subscriber, card: StoredCard) -> dict:
    # The card by id and its last four digits (printed on every receipt anyway); the company
    # it belongs to when staff act for one. Never the token.
    fields = {"card_id": card.id, "last4": card.last4}
    if subscriber.customer_id is not None:
        fields["customer_id"] = subscriber.customer_id
    return fields
