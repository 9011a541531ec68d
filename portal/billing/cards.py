"""Saved cards: keeping the card a gateway saved, and choosing which card a charge uses.

A parent's cards are user_payment_cards, a company's customer_credit_cards; both hold the
gateway's token, brand, last four digits and expiry, never a card number or a CVC. Plain
module: the caller passes the session and commits.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from portal.billing.gateway import SavedCard
from portal.billing.subscribers import Subscriber
from portal.models import CustomerCreditCard, UserPaymentCard, UserSubscription

StoredCard = UserPaymentCard | CustomerCreditCard


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
