"""The parent's confirmation of the pre-information form and the distance sales contract
before an online sale (Law 6502, the distance contracts regulation), kept as evidence.

Plain module: the caller passes the session, the seller's details (settings), the buyer, what
is being bought, `now` (aware UTC) and the Witness of the request, and commits.

At checkout a parent is shown both documents of the sale, each the version of its kind valid
now (portal.agreements.texts) filled in for this order: the seller, the buyer as their account
holds them, the plan, the price with KDV (net + KDV = gross by portal.billing.money), the
period and the payment schedule, the day and the order's key. Confirming them (the ticked box)
records one acceptance row per document in `user_agreement_acceptances`, with the evidence of
a signature (portal.agreements.evidence): the exact document as rendered and its SHA-256, the
UTC time, the client IP and the peer address, the user agent, how the buyer signed in, and a
copy of the buyer's name and e-mail. The two rows of one order are a chain keyed by the
checkout's idempotency key (the payment of the sale carries the same key): the
pre-information form is sequence 1, the contract sequence 2 with the form's record_hash as
its previous_hash. The same key confirmed again (a double click, a retried POST) records
nothing new: the rows already kept are the confirmation.

`record_hash` is evidence.record_hash over ACCEPTANCE_FIELDS with the record name
"user_agreement_acceptance", so an acceptance can never pass for a company's sign record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from portal import mail

# The module, not its names: billing's checkout imports this module while the agreements
# module may be half-imported (it imports billing.money, whose package imports the views).
from portal.agreements import agreements as agreement_life
from portal.agreements import texts
from portal.agreements.evidence import (
    Mismatch,
    Witness,
    canonical_document,
    document_sha256,
    instant,
    record_hash,
)
from portal.billing.money import KDV_RATE
from portal.clock import ISTANBUL
from portal.models import AgreementText, Payment, User, UserAgreementAcceptance, UserSubscription
from portal.models.base import UTCDateTime
from portal.models.billing import PaymentPurpose
from portal.models.customers import AgreementKind
from portal.refusal import Refusal

if TYPE_CHECKING:  # for the annotation only: billing's views import this module
    from portal.billing.subscriptions import Quote

ACCEPTANCE_RECORD = "user_agreement_acceptance"
# The columns of an acceptance row that its record_hash covers (the document by its hash).
ACCEPTANCE_FIELDS = (
    "user_id",
    "agreement_text_id",
    "kind",
    "plan_price_id",
    "idempotency_key",
    "sequence",
    "buyer_name",
    "buyer_email",
    "document_sha256",
    "accepted_at",
    "client_ip",
    "peer_ip",
    "user_agent",
    "auth_method",
    "previous_hash",
)
# The order of the chain: the form informs before the contract is concluded.
SALE_KINDS = (AgreementKind.PARENT_PRE_INFORMATION, AgreementKind.PARENT_DISTANCE_SALES)
# The rendered documents are Turkish whatever the reader's language (the binding text).
CYCLE_NAMES = {
    "daily": "günlük",
    "weekly": "haftalık",
    "monthly": "aylık",
    "quarterly": "üç aylık",
    "semi_annual": "altı aylık",
    "yearly": "yıllık",
    "lifetime": "tek seferlik (ömür boyu)",
}


class AcceptanceError(Refusal):
    """The documents cannot be shown or confirmed as asked; `code` names why."""


@dataclass(frozen=True)
class Buyer:
    """The parent as the documents name them, from their account."""

    user_id: int
    name: str
    email: str
    phone: str

    @classmethod
    def of_user(cls, user: User) -> Buyer:
        phone = user.details.phone if user.details is not None and user.details.phone else ""
        return cls(user.id, user.name, user.email, phone)


@dataclass(frozen=True)
class SaleDocument:
    """One document of the sale as shown: its text version and the filled-in document."""

    text: AgreementText
    document: str
    sha256: str

    @property
    def kind(self) -> str:
        return self.text.kind


def lira(amount) -> str:
    """Money as the documents write it: 1.234,56 ₺ (the company agreements' rule)."""
    return agreement_life.lira(amount)


def _day(value) -> str:
    return value.strftime("%d.%m.%Y")


def _provider_value(provider: Mapping[str, str], key: str) -> str:
    return (provider.get(key) or "").strip()


def sale_values(
    provider: Mapping[str, str], buyer: Buyer, sale: Quote, *, order_key: str, now: datetime
) -> dict[str, str]:
    """Every placeholder of the parent's sale documents for the checkout's quote, in Turkish."""
    cycle = sale.price.billing_cycle
    charge = sale.charge
    today = now.astimezone(ISTANBUL).date()
    if cycle == "lifetime":
        period = f"{_day(sale.first_charge_on)} tarihinden başlayarak süresiz; yenilenmez."
        schedule = f"{lira(charge.gross)} bir kez, {_day(sale.first_charge_on)} tarihinde."
    else:
        period = (
            f"{CYCLE_NAMES.get(cycle, cycle)} dönemler; ilk ödenen dönem "
            f"{_day(sale.first_charge_on)} – {_day(sale.period_ends_on)}; "
            "iptal edilene kadar her dönem sonunda yenilenir."
        )
        schedule = (
            f"{lira(charge.gross)}, ilk olarak {_day(sale.first_charge_on)} tarihinde, "
            "sonra her dönem başında kayıtlı karttan."
        )
    if sale.trial_days:
        schedule = f"{sale.trial_days} gün ücretsiz deneme; bugün ücret alınmaz. " + schedule
    return {
        "provider_name": _provider_value(provider, "name"),
        "provider_legal_name": _provider_value(provider, "legal_name"),
        "provider_tax_office": _provider_value(provider, "tax_office"),
        "provider_tax_number": _provider_value(provider, "tax_id"),
        "provider_address": _provider_value(provider, "address"),
        "provider_kep_address": _provider_value(provider, "kep_address") or "-",
        "buyer_name": buyer.name,
        "buyer_email": buyer.email,
        "buyer_phone": buyer.phone or "-",
        "plan_name": sale.price.plan.name,
        "billing_cycle": CYCLE_NAMES.get(cycle, cycle),
        "period": period,
        "price_net": lira(charge.net),
        "kdv_rate": str((KDV_RATE * 100).quantize(Decimal(1))),
        "kdv": lira(charge.kdv),
        "price_gross": lira(charge.gross),
        "payment_schedule": schedule,
        "document_date": _day(today),
        "order_key": order_key,
    }


def sale_documents(
    session: Session,
    provider: Mapping[str, str],
    buyer: Buyer,
    sale: Quote,
    *,
    order_key: str,
    now: datetime,
) -> list[SaleDocument]:
    """The pre-information form and the distance sales contract of this order, in that
    order, each from the version of its kind valid at `now`.

    :raise AcceptanceError: "provider_missing" (the seller's name or legal name is not set),
        "no_text" (a kind has no version valid now).
    """
    if not _provider_value(provider, "name") or not _provider_value(provider, "legal_name"):
        raise AcceptanceError("provider_missing")
    values = sale_values(provider, buyer, sale, order_key=order_key, now=now)
    documents = []
    for kind in SALE_KINDS:
        try:
            text = texts.text_valid_at(session, kind, now)
        except texts.NoValidText:
            raise AcceptanceError("no_text", kind) from None
        document = texts.fill(text.body, values)
        documents.append(SaleDocument(text, document, document_sha256(document)))
    return documents


def acceptance_fields(row: UserAgreementAcceptance) -> dict[str, object]:
    """The fields of an acceptance row that its record_hash covers."""
    return {name: getattr(row, name) for name in ACCEPTANCE_FIELDS}


def acceptance_record_hash(row: UserAgreementAcceptance) -> str:
    """What an acceptance row's record_hash must be, computed from its fields."""
    return record_hash(ACCEPTANCE_RECORD, acceptance_fields(row))


def acceptances_of_order(session: Session, idempotency_key: str) -> list[UserAgreementAcceptance]:
    """The acceptances recorded for one checkout (its idempotency key), in chain order."""
    return list(
        session.scalars(
            select(UserAgreementAcceptance)
            .where(UserAgreementAcceptance.idempotency_key == idempotency_key)
            .order_by(UserAgreementAcceptance.sequence)
        )
    )


def accept(
    session: Session,
    buyer: Buyer,
    documents: Sequence[SaleDocument],
    *,
    plan_price_id: int,
    idempotency_key: str,
    witness: Witness,
    now: datetime,
) -> list[UserAgreementAcceptance]:
    """Record the buyer's confirmation of `documents` (sale_documents()'s, in order) for the
    checkout `idempotency_key`; the caller commits.

    The key already confirmed by this buyer gives back the rows kept then, adding nothing.
    The unique (idempotency_key, sequence) refuses the same order recorded twice at once;
    the caller treats that IntegrityError as "already recorded".

    :raise AcceptanceError: "key_taken" (the key is another buyer's order), "documents_missing"
        (not the sale's two documents in order), "document_changed" (a document's text no
        longer matches its hash).
    """
    if [document.kind for document in documents] != [str(kind) for kind in SALE_KINDS]:
        raise AcceptanceError("documents_missing")
    kept = acceptances_of_order(session, idempotency_key)
    if kept:
        if any(row.user_id != buyer.user_id for row in kept):
            raise AcceptanceError("key_taken")
        return kept
    accepted_at = now.astimezone(UTC)
    rows: list[UserAgreementAcceptance] = []
    previous: str | None = None
    for sequence, document in enumerate(documents, start=1):
        text = canonical_document(document.document)
        if document_sha256(text) != document.sha256:
            raise AcceptanceError("document_changed", document.kind)
        row = UserAgreementAcceptance(
            user_id=buyer.user_id,
            agreement_text_id=document.text.id,
            kind=document.kind,
            plan_price_id=plan_price_id,
            idempotency_key=idempotency_key,
            sequence=sequence,
            buyer_name=buyer.name,
            buyer_email=buyer.email,
            document_text=text,
            document_sha256=document.sha256,
            accepted_at=accepted_at,
            client_ip=witness.client_ip,
            peer_ip=witness.peer_ip,
            user_agent=witness.user_agent,
            auth_method=witness.auth_method,
            previous_hash=previous,
        )
        row.record_hash = acceptance_record_hash(row)
        previous = row.record_hash
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def check_order(rows: Sequence[UserAgreementAcceptance]) -> list[Mismatch]:
    """Everything wrong with one order's acceptances (any order): a document that does not
    match its hash, a gap in the sequence, a broken link, a record that does not match its
    hash. `Mismatch.agreement_id` is 0 (an acceptance belongs to no company agreement) and
    `sign_id` the acceptance's id."""
    found: list[Mismatch] = []
    previous: str | None = None
    for expected, row in enumerate(sorted(rows, key=lambda r: r.sequence), start=1):
        if document_sha256(row.document_text) != row.document_sha256:
            found.append(Mismatch(0, row.id, "document_hash", "the document does not match"))
        if row.sequence != expected:
            found.append(Mismatch(0, row.id, "sequence_gap", f"expected {expected}"))
        if row.previous_hash != previous:
            found.append(Mismatch(0, row.id, "chain_broken", "previous_hash is not the one before"))
        if acceptance_record_hash(row) != row.record_hash:
            found.append(Mismatch(0, row.id, "record_hash", "the fields do not match the hash"))
        previous = row.record_hash
    return found


def verify_all_orders(session: Session, batch: int = 500) -> list[Mismatch]:
    """The mismatches of every order's acceptances (check_order), read in batches of `batch`
    rows in (key, sequence) order, so memory stays flat however many. An order is checked
    once its last row is read (the next key begins, or the rows end)."""
    found: list[Mismatch] = []
    after: tuple[str, int] = ("", 0)
    order: list[UserAgreementAcceptance] = []
    while True:
        rows = session.scalars(
            select(UserAgreementAcceptance)
            .where(
                (UserAgreementAcceptance.idempotency_key > after[0])
                | (
                    (UserAgreementAcceptance.idempotency_key == after[0])
                    & (UserAgreementAcceptance.sequence > after[1])
                )
            )
            .order_by(UserAgreementAcceptance.idempotency_key, UserAgreementAcceptance.sequence)
            .limit(batch)
        ).all()
        for row in rows:
            if order and order[0].idempotency_key != row.idempotency_key:
                found.extend(check_order(order))
                order = []
            order.append(row)
        if len(rows) < batch:
            if order:
                found.extend(check_order(order))
            return found
        after = (rows[-1].idempotency_key, rows[-1].sequence)


def acceptance_of(
    session: Session, user_id: int, acceptance_id: int
) -> UserAgreementAcceptance | None:
    """The user's own acceptance with this id; None for anyone else's or an unknown id."""
    row = session.get(UserAgreementAcceptance, acceptance_id)
    if row is None or row.user_id != user_id:
        return None
    return row


def accepted_for(session: Session, subscription: UserSubscription) -> list[UserAgreementAcceptance]:
    """The documents a parent confirmed when buying `subscription`, in chain order; [] for a
    company's subscription or one bought before the documents existed.

    Found by the key of its first charge (the checkout's); a trial has no first charge, so
    then by the newest order of its price confirmed before the subscription was made (a card
    refused at an earlier attempt left its own, older order).
    """
    if subscription.user_id is None:
        return []
    return list(
        session.scalars(
            _accepted_for_statement(),
            {
                "subscription_id": subscription.id,
                "user_id": subscription.user_id,
                "plan_price_id": subscription.plan_price_id,
                "created_at": subscription.created_at,
            },
        )
    )


@cache
def _accepted_for_statement() -> Select:
    """`accepted_for` as one statement, built once: the subscription page asks on every view
    (decisions.md, "Statements built once"). The order's key is the first charge's, or else
    the newest confirmed for the price before the subscription was made."""
    first_charge_key = (
        select(Payment.idempotency_key)
        .where(
            Payment.user_subscription_id == bindparam("subscription_id"),
            Payment.purpose == PaymentPurpose.FIRST_CHARGE,
        )
        .order_by(Payment.id)
        .limit(1)
        .scalar_subquery()
    )
    earlier = aliased(UserAgreementAcceptance)
    newest_confirmed_key = (
        select(earlier.idempotency_key)
        .where(
            earlier.user_id == bindparam("user_id"),
            earlier.plan_price_id == bindparam("plan_price_id"),
            earlier.accepted_at <= bindparam("created_at", type_=UTCDateTime()),
        )
        .order_by(earlier.accepted_at.desc(), earlier.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(UserAgreementAcceptance)
        .where(
            UserAgreementAcceptance.idempotency_key
            == func.coalesce(first_charge_key, newest_confirmed_key),
            UserAgreementAcceptance.user_id == bindparam("user_id"),
        )
        .order_by(UserAgreementAcceptance.sequence)
    )


def documents_text(session: Session, rows: Sequence[UserAgreementAcceptance]) -> str:
    """The confirmed documents for a mail, in the current language around the Turkish texts:
    each with its title, SHA-256 and when it was confirmed, then the text exactly as kept."""
    if not rows:
        return ""
    parts = [
        _(
            "The documents you confirmed before buying, as we keep them. The SHA-256 of each "
            "text lets you check that it is the one you confirmed."
        )
    ]
    for row in rows:
        parts += [
            "",
            "=" * 60,
            session.get(AgreementText, row.agreement_text_id).title,
            f"SHA-256: {row.document_sha256}",
            _("Confirmed at: %(time)s (UTC)", time=instant(row.accepted_at)),
            "=" * 60,
            "",
            row.document_text,
        ]
    return "\n".join(parts)


def mail_documents(session: Session, rows: Sequence[UserAgreementAcceptance], to: str) -> None:
    """Mail the confirmed documents on their own (a free trial starts without a payment, so
    without a receipt to carry them); queued in the caller's transaction."""
    if rows:
        mail.send(to, _("Your Okul contract documents"), documents_text(session, rows))
