"""The payment gateway interface, and the offline sandbox that is the default gateway.

A gateway does two things: turn card details into a saved-card token (checking the card), and
charge a token. Card numbers and CVCs pass through memory on their way to the gateway and are
never stored or logged; the portal keeps only the token, brand, last four digits and expiry.

Every charge carries an idempotency key. A real gateway remembers keys and answers a repeated
key with the first result instead of charging again; the sandbox gets the same property by
deriving its reference and result from the key and the token alone. The renewal job builds
its keys from the subscription, the period and the attempt, so a run that dies after the
gateway charged but before the database committed charges nothing more when it runs again.

The sandbox's test cards (any future expiry, any 3-digit CVC):

    4242 4242 4242 4242  Visa        saved; every charge succeeds
    5555 5555 5555 4444  Mastercard  saved; every charge succeeds
    4000 0000 0000 0002  Visa        refused when saved: card_declined
    4000 0000 0000 0069  Visa        refused when saved: expired_card
    4000 0000 0000 9995  Visa        saved; every charge fails: insufficient_funds
    4000 0000 0000 0341  Visa        saved; every charge fails: card_declined
    4000 0000 0000 0119  Visa        saved; every charge fails: processing_error

Any other number is refused with card_declined, as a sandbox must never see a real card.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class FailureCode(StrEnum):
    """Why a card was refused or a charge failed (payments.failure_code); the views turn each
    into a sentence."""

    CARD_DECLINED = "card_declined"
    EXPIRED_CARD = "expired_card"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PROCESSING_ERROR = "processing_error"
    NO_SAVED_CARD = "no_saved_card"  # ours: a renewal found no card to charge


@dataclass(frozen=True, repr=False)
class CardDetails:
    """What the card form collects; held only for the gateway call (no repr: never logged)."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    holder_name: str | None = None


@dataclass(frozen=True)
class SavedCard:
    """A card the gateway keeps for us: the only card data the portal stores."""

    gateway: str
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    """The gateway's answer to one charge."""

    succeeded: bool
    reference: str
    failure_code: str | None = None


class CardRefused(Exception):
    """The gateway would not save the card."""

    def __init__(self, failure_code: str):
        super().__init__(failure_code)
        self.failure_code = failure_code


class PaymentGateway(Protocol):
    """What the portal needs from a payment gateway."""

    name: str

    def save_card(self, card: CardDetails, today: date) -> SavedCard:
        """Check the card and return its token; raise CardRefused when it cannot be used."""
        ...

    def charge(
        self, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Charge `amount` to a saved card, at most once per idempotency key."""
        ...


# number: (brand, refused when saved with, every charge fails with)
SANDBOX_CARDS: dict[str, tuple[str, str | None, str | None]] = {
    "4242424242424242": ("visa", None, None),
    "5555555555554444": ("mastercard", None, None),
    "4000000000000002": ("visa", FailureCode.CARD_DECLINED, None),
    "4000000000000069": ("visa", FailureCode.EXPIRED_CARD, None),
    "4000000000009995": ("visa", None, FailureCode.INSUFFICIENT_FUNDS),
    "4000000000000341": ("visa", None, FailureCode.CARD_DECLINED),
    "4000000000000119": ("visa", None, FailureCode.PROCESSING_ERROR),
}
_SUCCEEDS = "ok"


class SandboxGateway:
    """The offline gateway: test cards only, no network, deterministic answers.

    The token carries the card's behaviour (`sbx_<behaviour>_<random>`), standing in for the
    card a real gateway would keep on its side.
    """

    name = "sandbox"

    def save_card(self, card: CardDetails, today: date) -> SavedCard:
        """Save a test card, refusing it as the table in the module docstring says."""
        number = "".join(card.number.split())
        if number not in SANDBOX_CARDS:
            raise CardRefused(FailureCode.CARD_DECLINED)
        brand, refused_with, charges_fail_with = SANDBOX_CARDS[number]
        if refused_with:
            raise CardRefused(refused_with)
        if (card.exp_year, card.exp_month) < (today.year, today.month):
            raise CardRefused(FailureCode.EXPIRED_CARD)
        behaviour = charges_fail_with or _SUCCEEDS
        return SavedCard(
            gateway=self.name,
            token=f"sbx_{behaviour}_{secrets.token_hex(12)}",
            brand=brand,
            last4=number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )

    def charge(
        self, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Succeed or fail as the token's card does; the same key gives the same reference."""
        if not isinstance(amount, Decimal) or amount <= 0:
            raise ValueError(f"a charge needs a positive Decimal amount, not {amount!r}")
        digest = hashlib.sha256(f"{idempotency_key}|{token}".encode()).hexdigest()[:24]
        reference = f"sbx_ch_{digest}"
        behaviour = token.removeprefix("sbx_").rsplit("_", 1)[0]
        if behaviour == _SUCCEEDS:
            return ChargeResult(succeeded=True, reference=reference)
        if behaviour not in tuple(FailureCode):
            return ChargeResult(
                succeeded=False, reference=reference, failure_code=FailureCode.CARD_DECLINED
            )
        return ChargeResult(succeeded=False, reference=reference, failure_code=behaviour)


GATEWAYS = {"sandbox": SandboxGateway}


def gateway_named(name: str) -> PaymentGateway:
    """The gateway the PAYMENT_GATEWAY setting names."""
    try:
        return GATEWAYS[name]()
    except KeyError:
        raise ValueError(f"Unknown payment gateway {name!r}; known: {sorted(GATEWAYS)}") from None


def luhn_valid(number: str) -> bool:
    """The card number's check digit is right (catches most typos before the gateway does)."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) != len(number) or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0
