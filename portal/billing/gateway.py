"""The payment gateway interface, and the offline sandbox that is the default gateway.

A gateway does three things: turn card details into a saved-card token (checking the card),
charge a token, and refund (part of) a charge it made, named by the charge's reference. The
card details are typed on the provider's hosted payment page, never on the portal's: the
portal sends the buyer there with a signed HostedCheckout (hosted_page_url) and, when the
buyer comes back, reads the provider's sealed answer (checkout_outcome): a SavedCard
(token, brand, last four digits, expiry) or a failure code. So no card number or CVC ever
reaches the portal's views, forms, logs or database, which keeps the portal out of PCI DSS scope
the way iyzico's checkout form and Stripe's hosted fields do.

The sandbox's hosted page is portal.sandbox_provider, a blueprint under /sandbox-pay/ that
stands for the provider's own site; the portal's code reaches it only through this module.

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
    4000 0000 0000 5126  Visa        saved; every charge succeeds, every refund is refused:
                                     refund_refused

Any other number is refused with card_declined, as a sandbox must never see a real card.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlencode

from flask import url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from portal.sealing import seal, unseal

# How long a hosted payment page, and the answer it sends back, stay valid.
CHECKOUT_MAX_AGE = timedelta(hours=1)
# The sealing purpose of the hosted page's answers, apart from the portal's own sealed values.
_ANSWER = b"sandbox-pay answer"


class FailureCode(StrEnum):
    """Why a card was refused or a charge failed (payments.failure_code); the views turn each
    into a sentence."""

    CARD_DECLINED = "card_declined"
    EXPIRED_CARD = "expired_card"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PROCESSING_ERROR = "processing_error"
    NO_SAVED_CARD = "no_saved_card"  # ours: a renewal found no card to charge
    REFUND_REFUSED = "refund_refused"  # the provider would not give the money back


@dataclass(frozen=True, repr=False)
class CardDetails:
    """What the provider's hosted page collects; never built by the portal's own code (no repr:
    never logged)."""

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
    holder_name: str | None = None  # the name on the card, kept for a company's card


@dataclass(frozen=True)
class HostedCheckout:
    """What the portal asks of the provider's hosted page: collect and save a card for this
    order, then send the buyer to return_url with the outcome (or to cancel_url)."""

    reference: str  # the portal's own: whose order this is; the provider echoes it back
    description: str
    amount: Decimal | None  # charged once the card is saved; None: only saved (a free trial)
    currency: str
    return_url: str
    cancel_url: str


@dataclass(frozen=True)
class CheckoutOutcome:
    """The provider's answer for `reference`: the saved card, or why the card was refused."""

    reference: str
    card: SavedCard | None
    failure_code: str | None = None


class InvalidCheckout(Exception):
    """A hosted checkout or its answer was forged, altered, has expired or cannot be read."""


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
        """Check the card and return its token; raise CardRefused when it cannot be used.

        Called on the provider's side only (its hosted page): the portal never holds a card.
        """
        ...

    def hosted_page_url(self, checkout: HostedCheckout) -> str:
        """Where to send the buyer to type their card for `checkout`."""
        ...

    def checkout_outcome(self, answer: str) -> CheckoutOutcome:
        """Read the answer the hosted page sent back; raise InvalidCheckout when it is forged,
        altered or expired."""
        ...

    def charge(
        self, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Charge `amount` to a saved card, at most once per idempotency key."""
        ...

    def refund(
        self, charge_reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Give `amount` of the charge `charge_reference` back to its card, at most once per
        idempotency key; never more than the charge (the portal checks that, too)."""
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
    "4000000000005126": ("visa", None, None),  # refunds refused (_NO_REFUNDS)
}
_SUCCEEDS = "ok"
# The card whose charges succeed and whose refunds are refused; its charges' references say so
# (a real provider knows the card behind a charge; the sandbox keeps no state).
_NO_REFUNDS = "4000000000005126"
_NO_REFUNDS_BEHAVIOUR = "norefund"
_CHARGE_PREFIX = "sbx_ch_"
_NO_REFUNDS_PREFIX = "sbx_ch_nr_"


class SandboxGateway:
    """The offline gateway: test cards only, no network, deterministic answers.

    The token carries the card's behaviour (`sbx_<behaviour>_<random>`), standing in for the
    card a real gateway would keep on its side.
    """

    name = "sandbox"

    def __init__(self, secret: str | None = None):
        # The secret the portal and the sandbox provider share, as a merchant and a real
        # provider share an API key: it signs the checkouts and the answers. Charging and
        # saving cards need none (the renewal run and the demo data pass none).
        self._secret = secret

    def _secret_for(self, purpose: str) -> str:
        if not self._secret:
            raise RuntimeError(f"the sandbox's hosted {purpose} needs the shared secret")
        return self._secret

    def _signer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret_for(purpose), salt=f"sandbox-pay {purpose}")

    # The portal's side: send the buyer to the hosted page, read the answer.

    def hosted_page_url(self, checkout: HostedCheckout) -> str:
        """The sandbox's hosted page for `checkout`, which travels signed in the address."""
        fields = {
            "reference": checkout.reference,
            "description": checkout.description,
            "amount": None if checkout.amount is None else str(checkout.amount),
            "currency": checkout.currency,
            "return_url": checkout.return_url,
            "cancel_url": checkout.cancel_url,
        }
        return url_for("sandbox_provider.checkout", checkout=self._signer("checkout").dumps(fields))

    def checkout_outcome(self, answer: str) -> CheckoutOutcome:
        """The saved card or the refusal the sandbox's hosted page sealed."""
        opened = unseal(
            answer, CHECKOUT_MAX_AGE, secret=self._secret_for("answer"), purpose=_ANSWER
        )
        try:
            if opened is None:
                raise BadData("the answer is not one this provider sealed, or it is too old")
            fields = json.loads(opened)
            card = fields["card"]
            return CheckoutOutcome(
                reference=fields["reference"],
                card=None if card is None else SavedCard(gateway=self.name, **card),
                failure_code=fields["failure_code"],
            )
        except (BadData, KeyError, TypeError) as bad:
            raise InvalidCheckout(str(bad)) from None

    # The provider's side, used only by portal.sandbox_provider (its hosted page).

    def open_checkout(self, signed: str) -> HostedCheckout:
        """The checkout a portal signed for the hosted page; raise InvalidCheckout otherwise."""
        try:
            fields = self._signer("checkout").loads(
                signed, max_age=int(CHECKOUT_MAX_AGE.total_seconds())
            )
            amount = fields.pop("amount")
            return HostedCheckout(amount=None if amount is None else Decimal(amount), **fields)
        except (BadData, InvalidOperation, KeyError, TypeError) as bad:
            raise InvalidCheckout(str(bad)) from None

    def answer_url(self, checkout: HostedCheckout, card: CardDetails, today: date) -> str:
        """Save the card and send the buyer back to the portal with the sealed outcome: the
        token, brand, last four and expiry, or the failure code; never the number or CVC."""
        try:
            saved = self.save_card(card, today)
        except CardRefused as refused:
            fields = {"card": None, "failure_code": refused.failure_code}
        else:
            fields = {
                "card": {
                    "token": saved.token,
                    "brand": saved.brand,
                    "last4": saved.last4,
                    "exp_month": saved.exp_month,
                    "exp_year": saved.exp_year,
                    "holder_name": saved.holder_name,
                },
                "failure_code": None,
            }
        fields["reference"] = checkout.reference
        # Sealed, not only signed: the buyer's address bar and the portal's access log see an
        # opaque token, not the card's brand, last four digits, expiry or holder.
        answer = seal(json.dumps(fields), secret=self._secret_for("answer"), purpose=_ANSWER)
        separator = "&" if "?" in checkout.return_url else "?"
        return f"{checkout.return_url}{separator}{urlencode({'answer': answer})}"

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
        behaviour = charges_fail_with or (
            _NO_REFUNDS_BEHAVIOUR if number == _NO_REFUNDS else _SUCCEEDS
        )
        return SavedCard(
            gateway=self.name,
            token=f"sbx_{behaviour}_{secrets.token_hex(12)}",
            brand=brand,
            last4=number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            holder_name=card.holder_name,
        )

    def charge(
        self, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Succeed or fail as the token's card does; the same key gives the same reference."""
        if not isinstance(amount, Decimal) or amount <= 0:
            raise ValueError(f"a charge needs a positive Decimal amount, not {amount!r}")
        digest = hashlib.sha256(f"{idempotency_key}|{token}".encode()).hexdigest()[:24]
        reference = f"{_CHARGE_PREFIX}{digest}"
        behaviour = token.removeprefix("sbx_").rsplit("_", 1)[0]
        if behaviour == _SUCCEEDS:
            return ChargeResult(succeeded=True, reference=reference)
        if behaviour == _NO_REFUNDS_BEHAVIOUR:
            return ChargeResult(succeeded=True, reference=f"{_NO_REFUNDS_PREFIX}{digest}")
        if behaviour not in tuple(FailureCode):
            return ChargeResult(
                succeeded=False, reference=reference, failure_code=FailureCode.CARD_DECLINED
            )
        return ChargeResult(succeeded=False, reference=reference, failure_code=behaviour)

    def refund(
        self, charge_reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Refund a sandbox charge, or refuse it for the refund-refusing card; the same key
        gives the same reference. The sandbox keeps no state, so "never more than the charge"
        is the portal's check alone here (portal.billing.refunds)."""
        if not isinstance(amount, Decimal) or amount <= 0:
            raise ValueError(f"a refund needs a positive Decimal amount, not {amount!r}")
        if not charge_reference.startswith(_CHARGE_PREFIX):
            raise ValueError(f"{charge_reference!r} is not a sandbox charge")
        digest = hashlib.sha256(f"{idempotency_key}|{charge_reference}".encode()).hexdigest()[:24]
        reference = f"sbx_re_{digest}"
        if charge_reference.startswith(_NO_REFUNDS_PREFIX):
            return ChargeResult(
                succeeded=False, reference=reference, failure_code=FailureCode.REFUND_REFUSED
            )
        return ChargeResult(succeeded=True, reference=reference)


GATEWAYS = {"sandbox": SandboxGateway}


def gateway_named(name: str, secret: str | None = None) -> PaymentGateway:
    """The gateway the PAYMENT_GATEWAY setting names; `secret` signs its hosted checkouts."""
    try:
        return GATEWAYS[name](secret)
    except KeyError:
        raise ValueError(f"Unknown payment gateway {name!r}; known: {sorted(GATEWAYS)}") from None


def luhn_valid(number: str) -> bool:
    """The card number's check digit is right (catches most typos before the gateway does)."""
    digits = [int(c) for c in number if c in "0123456789"]  # isdigit() takes "²" too
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
