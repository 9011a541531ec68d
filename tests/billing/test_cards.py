"""Saved cards: kept as the gateway's token for a parent or a company, and the one a
subscription's charges use."""

from datetime import date

import pytest
from sqlalchemy import select

from portal.billing.cards import attach_card, card_key, saved_card_of, store_card
from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.subscribers import Subscriber
from portal.models import CustomerCreditCard, UserPaymentCard

TODAY = date(2026, 11, 10)


def saved(number="5555555555554444", exp_month=3, exp_year=2029):
    card = CardDetails(number=number, exp_month=exp_month, exp_year=exp_year, cvc="918")
    return SandboxGateway().save_card(card, TODAY)


def test_a_parents_card_is_kept_as_token_brand_last_four_and_expiry(session, make):
    parent = make.user()
    card = saved()

    stored = store_card(session, Subscriber(user_id=parent.id), card, holder="ignored")
    session.commit()
    session.expire_all()

    (row,) = session.scalars(select(UserPaymentCard)).all()
    assert row.id == stored.id and row.user_id == parent.id
    assert (row.gateway, row.token, row.brand, row.last4) == (
        "sandbox",
        card.token,
        "mastercard",
        "4444",
    )
    assert (row.exp_month, row.exp_year) == (3, 2029)
    assert session.scalars(select(CustomerCreditCard)).all() == []


def test_a_companys_card_keeps_the_name_on_it(session, make):
    customer = make.customer()

    stored = store_card(session, Subscriber(customer_id=customer.id), saved(), "Bilge Eğitim A.Ş.")
    session.commit()

    assert isinstance(stored, CustomerCreditCard)
    assert (stored.customer_id, stored.holder_name, stored.last4) == (
        customer.id,
        "Bilge Eğitim A.Ş.",
        "4444",
    )
    assert session.scalars(select(UserPaymentCard)).all() == []


@pytest.mark.parametrize("owner", ["parent", "company"])
def test_the_attached_card_is_the_one_the_subscription_charges(session, make, owner):
    price = make.price()
    if owner == "parent":
        payer = {"user": make.user()}
        subscriber = Subscriber(user_id=payer["user"].id)
    else:
        payer = {"customer": make.customer()}
        subscriber = Subscriber(customer_id=payer["customer"].id)
    subscription = make.subscription(price, **payer)
    assert card_key(subscription) is None and saved_card_of(session, subscription) is None

    card = store_card(session, subscriber, saved())
    attach_card(subscription, card)
    session.flush()

    assert card_key(subscription) == (type(card), card.id)
    assert saved_card_of(session, subscription) is card
    # Only the column of the subscriber's kind is set.
    assert (subscription.user_payment_card_id is None) == (owner == "company")
    assert (subscription.customer_credit_card_id is None) == (owner == "parent")


def test_a_removed_card_is_no_longer_chosen(session, make):
    parent = make.user()
    subscription = make.subscription(make.price(), user=parent)
    card = store_card(session, Subscriber(user_id=parent.id), saved())
    attach_card(subscription, card)
    card.soft_delete()
    session.commit()

    assert card_key(subscription) == (UserPaymentCard, card.id)  # still named...
    assert saved_card_of(session, subscription) is None  # ...but not charged
    session.expunge_all()  # and in a later request, which reads it afresh
    assert saved_card_of(session, subscription) is None
