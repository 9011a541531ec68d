"""Who pays: a parent (user_id) or a school company (customer_id), never both.

Subscriptions, payments and saved cards all belong to one of the two, in columns of the same
names; this is the one place that knows how to tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.models.billing import Audience


@dataclass(frozen=True)
class Subscriber:
    """Who a subscription, payment or saved card belongs to: a parent or a company."""

    user_id: int | None = None
    customer_id: int | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.customer_id is None):
            raise ValueError("a subscriber is a parent or a company, exactly one")

    @classmethod
    def of(cls, row) -> Subscriber:
        """The owner of a subscription or a payment."""
        return cls(user_id=row.user_id, customer_id=row.customer_id)

    @property
    def audience(self) -> Audience:
        """The plans' audience this subscriber may buy."""
        return Audience.PARENTS if self.user_id is not None else Audience.COMPANIES

    def owns(self, row) -> bool:
        """The subscription or payment is this subscriber's."""
        if self.user_id is not None:
            return row.user_id == self.user_id
        return row.customer_id == self.customer_id

    def owner_clause(self, model):
        """The WHERE clause for rows of `model` (user_id / customer_id) that are this one's."""
        if self.user_id is not None:
            return model.user_id == self.user_id
        return model.customer_id == self.customer_id
