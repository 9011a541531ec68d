"""The invoice identities of a sale: the buyer's and the issuer's, kept as they were.

At checkout a parent gives a name, an address and, if they wish, a TC Kimlik No; a company's
identity is read from its details (customers: legal name, tax office, VKN, or a sole
proprietor's TC Kimlik No, address) and shown for confirmation. Whoever the buyer, the
identity is written when the checkout leads to the payment page, under the attempt's
idempotency key, with the issuer's RECEIPT_ISSUER lines (`record()`); the subscription the
attempt starts is then tied to it (`attach()`). Receipts read it back (`of_subscription()`),
so a receipt names buyer and issuer as at the sale, whatever is edited afterwards.

Why the TC Kimlik No is optional for a parent: Turkish invoice rules (VUK art. 230) ask for
the buyer's name and address; a final consumer's TC Kimlik No is written on the e-Arşiv
invoice when known, and GİB's practice for one not given is 11111111111. The portal asks
for no national id number it does not need (KVKK's data minimisation), so the parent decides;
a number typed in must pass its check digits.

Plain module: the caller passes the session and the values, and commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.billing.subscribers import Subscriber
from portal.models import Customer, InvoiceDetails, User, UserSubscription


@dataclass(frozen=True)
class BuyerIdentity:
    """Who an invoice is for, as checkout shows and keeps it."""

    kind: str  # "person", "company" or "sole_proprietor"
    name: str
    address: str | None
    tc_no: str | None = None
    tax_office: str | None = None
    tax_number: str | None = None


def of_company(customer: Customer) -> BuyerIdentity:
    """A company's invoice identity, from its details as they are now."""
    place = " ".join(part for part in (customer.postal_code, customer.district) if part)
    city = f"{place} / {customer.city}" if place and customer.city else place or customer.city
    address = ", ".join(part for part in (customer.address_line, city) if part) or None
    sole = customer.customer_type == "sole_proprietor"
    return BuyerIdentity(
        kind="sole_proprietor" if sole else "company",
        name=customer.legal_name or customer.name,
        address=address,
        tc_no=customer.tc_no if sole else None,
        tax_office=customer.tax_office,
        tax_number=None if sole else customer.tax_number,
    )


def last_given(session: Session, user: User) -> InvoiceDetails | None:
    """The invoice identity the parent gave at their latest checkout (to fill the form in)."""
    return session.scalar(
        select(InvoiceDetails)
        .where(InvoiceDetails.user_id == user.id)
        .order_by(InvoiceDetails.id.desc())
        .limit(1)
    )


def record(
    session: Session,
    subscriber: Subscriber,
    order_key: str,
    buyer: BuyerIdentity,
    issuer: Sequence[str],
    now: datetime,
) -> InvoiceDetails:
    """Keep the identities of the checkout attempt `order_key`.

    The same attempt sent again before it started a subscription (the buyer came back from
    the payment page and corrected the address) replaces what it kept; once a subscription
    is tied to it, the row is the sale's record and stays as it is.
    """
    row = session.scalar(
        select(InvoiceDetails).where(InvoiceDetails.order_key == order_key).with_for_update()
    )
    if row is not None and (row.user_subscription_id is not None or not subscriber.owns(row)):
        return row
    if row is None:
        row = InvoiceDetails(
            order_key=order_key, user_id=subscriber.user_id, customer_id=subscriber.customer_id
        )
        session.add(row)
    row.buyer_kind = buyer.kind
    row.name = buyer.name
    row.address = buyer.address
    row.tc_no = buyer.tc_no
    row.tax_office = buyer.tax_office
    row.tax_number = buyer.tax_number
    row.issuer = "\n".join(str(line) for line in issuer)
    row.created_at = now
    session.flush()
    return row


def attach(
    session: Session, subscriber: Subscriber, order_key: str, subscription: UserSubscription
) -> None:
    """Tie the subscription that checkout attempt `order_key` started to its identities
    (nothing when the attempt kept none, or tied them already)."""
    row = session.scalar(select(InvoiceDetails).where(InvoiceDetails.order_key == order_key))
    if row is None or not subscriber.owns(row) or row.user_subscription_id is not None:
        return
    already = session.scalar(
        select(InvoiceDetails.id).where(InvoiceDetails.user_subscription_id == subscription.id)
    )
    if already is None:
        row.user_subscription_id = subscription.id


def of_subscription(session: Session, subscription_id: int | None) -> InvoiceDetails | None:
    """The identities kept when the subscription was bought, if any (older ones have none)."""
    if subscription_id is None:
        return None
    return session.scalar(
        select(InvoiceDetails).where(InvoiceDetails.user_subscription_id == subscription_id)
    )
