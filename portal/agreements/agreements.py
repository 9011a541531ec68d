"""The company service agreement's life: draft, render, send, sign, decline, void.

Plain module: the caller passes the session and `now` (aware UTC, portal.clock) and commits.

    draft ──send_for_signature──► awaiting_signature ──sign (each required role)──► signed
      │                                  │ decline (company, reason)        ▲ the last role
      └──void (operator, reason)──► voided ◄──void──┴─────────────────────────┘
                                                    declined
    signed ──(term ends: renewals)──► expired / renewed      (issue 13 item 5)

An operator drafts from the company_service text valid now, with the products, the term and
the roles that must sign. Sending renders the text once (render()) and keeps that snapshot and
its SHA-256: every signature is of exactly that document, so a newer text version, or a
change of the company's details, changes nothing already sent or signed. A signature needs a
member of the agreement's company with Permission.SIGN_AGREEMENTS whose role is among the
required roles and has not signed yet (one signature per role); the evidence row is
portal.agreements.evidence's. Decline and void need a reason and keep everything readable.

Refusals are AgreementError with a code, for the views' messages; "not_a_member" is for a
404 (another company's agreement is not shown to exist).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access.permissions import Permission, Role, can, roles_with
from portal.agreements import evidence, texts
from portal.agreements.evidence import Witness
from portal.billing.money import charge_for
from portal.models import (
    AgreementText,
    Customer,
    CustomerAgreement,
    CustomerUser,
    CustomerUserAgreementSign,
    User,
)
from portal.models.customers import AgreementKind, AgreementStatus
from portal.models.users import USER_TYPE_OPERATOR
from portal.refusal import Refusal

DRAFT = AgreementStatus.DRAFT
AWAITING_SIGNATURE = AgreementStatus.AWAITING_SIGNATURE
SIGNED = AgreementStatus.SIGNED
DECLINED = AgreementStatus.DECLINED
VOIDED = AgreementStatus.VOIDED

# What a product's unit price is for.
PRODUCT_PERIODS = ("one_time", "monthly", "yearly")
PERIOD_NAMES = {"one_time": "tek sefer", "monthly": "aylık", "yearly": "yıllık"}
NAME_LENGTH = 255
MAX_QUANTITY = 100_000
MAX_UNIT_PRICE = Decimal("9999999.99")
REASON_LENGTH = 2000
VOIDABLE = (DRAFT, AWAITING_SIGNATURE, SIGNED)


class AgreementError(Refusal):
    """A step that is not allowed; `code` names why, for the views' messages."""


@dataclass(frozen=True)
class Product:
    """One line of an agreement: `quantity` × `unit_price` (lira, net of KDV) per `period`."""

    name: str
    quantity: int
    unit_price: Decimal
    period: str

    def __post_init__(self) -> None:
        name = (self.name or "").strip()
        if not name or len(name) > NAME_LENGTH:
            raise AgreementError("product_name_invalid")
        object.__setattr__(self, "name", name)
        if (
            not isinstance(self.quantity, int)
            or isinstance(self.quantity, bool)
            or not 1 <= self.quantity <= MAX_QUANTITY
        ):
            raise AgreementError("product_quantity_invalid", name)
        price = self.unit_price
        if (
            not isinstance(price, Decimal)
            or not price.is_finite()
            or price < 0
            or price > MAX_UNIT_PRICE
            or price != price.quantize(Decimal("0.01"))
        ):
            raise AgreementError("product_price_invalid", name)
        object.__setattr__(self, "unit_price", price.quantize(Decimal("0.01")))
        if self.period not in PRODUCT_PERIODS:
            raise AgreementError("product_period_invalid", name)

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity

    def as_json(self) -> dict:
        """The JSON kept in customer_agreements.products (the price as a decimal string)."""
        return {
            "name": self.name,
            "quantity": self.quantity,
            "unit_price": str(self.unit_price),
            "period": self.period,
        }

    @classmethod
    def from_json(cls, data: dict) -> Product:
        return cls(data["name"], data["quantity"], Decimal(data["unit_price"]), data["period"])


@dataclass(frozen=True)
class Party:
    """A party as the contract names it. The provider (Okul) is passed in by the caller, from
    settings; the company comes from its customers row."""

    name: str
    legal_name: str
    tax_office: str
    tax_id: str
    address: str
    kep_address: str = ""

    @classmethod
    def of_customer(cls, customer: Customer) -> Party:
        address = ", ".join(
            part for part in (customer.address_line, customer.district, customer.city) if part
        )
        return cls(
            name=customer.name,
            legal_name=customer.legal_name or customer.name,
            tax_office=customer.tax_office or "",
            tax_id=customer.tax_number or customer.tc_no or "",
            address=address,
            kep_address=customer.kep_address or "",
        )


def products_of(agreement: CustomerAgreement) -> list[Product]:
    return [Product.from_json(item) for item in agreement.products or []]


def total_of(products: Iterable[Product]) -> Decimal:
    """The agreement's net total: the sum of its lines, each quantity × unit price, exact."""
    return sum((product.amount for product in products), Decimal("0.00"))


def _required_roles(roles: Iterable[str]) -> list[str]:
    signers = {str(role) for role in roles_with(Permission.SIGN_AGREEMENTS)}
    chosen: list[str] = []
    for role in roles:
        role = str(role)
        if role not in signers:
            raise AgreementError("role_cannot_sign", role)
        if role not in chosen:
            chosen.append(role)
    if not chosen:
        raise AgreementError("no_required_roles")
    return chosen


def new_agreement_no(today: date) -> str:
    """A number to quote: the year and 8 random hex digits (unique index; no sequence to
    share between three databases)."""
    return f"OKL-{today.year}-{secrets.token_hex(4).upper()}"


def draft_agreement(
    session: Session,
    customer: Customer,
    products: Sequence[Product],
    *,
    starts_on: date,
    ends_on: date,
    required_roles: Iterable[Role | str],
    now: datetime,
) -> CustomerAgreement:
    """A draft for `customer` from the company_service text valid at `now`. The caller commits."""
    if not products:
        raise AgreementError("no_products")
    if ends_on < starts_on:
        raise AgreementError("term_inverted")
    try:
        text = texts.text_valid_at(session, AgreementKind.COMPANY_SERVICE, now)
    except texts.NoValidText:
        raise AgreementError("no_text") from None
    agreement = CustomerAgreement(
        customer_id=customer.id,
        agreement_text_id=text.id,
        agreement_no=new_agreement_no(starts_on),
        status=DRAFT,
        starts_on=starts_on,
        ends_on=ends_on,
        products=[product.as_json() for product in products],
        total_amount=total_of(products),
        currency="TRY",
        is_inflation_auto_updated=customer.is_inflation_auto_updated,
        required_roles=_required_roles(required_roles),
    )
    session.add(agreement)
    session.flush()
    return agreement


def lira(amount: Decimal) -> str:
    """Money as the contract writes it, whatever the reader's language: 1.234,56 ₺."""
    whole, cents = f"{amount:,.2f}".split(".")
    return f"{whole.replace(',', '.')},{cents} ₺"


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _products_table(products: Sequence[Product]) -> str:
    return "\n".join(
        f"{number}. {product.name}: {product.quantity} × {lira(product.unit_price)} "
        f"({PERIOD_NAMES[product.period]}) = {lira(product.amount)}"
        for number, product in enumerate(products, start=1)
    )


def placeholder_values(agreement: CustomerAgreement, provider: Party) -> dict[str, str]:
    """Every company_service placeholder's text for this agreement."""
    company = Party.of_customer(agreement.customer)
    products = products_of(agreement)
    charge = charge_for(total_of(products), kdv_included=False)
    return {
        "agreement_no": agreement.agreement_no,
        "provider_name": provider.name,
        "provider_legal_name": provider.legal_name,
        "provider_tax_office": provider.tax_office,
        "provider_tax_number": provider.tax_id,
        "provider_address": provider.address,
        "company_name": company.name,
        "company_legal_name": company.legal_name,
        "company_tax_office": company.tax_office,
        "company_tax_id": company.tax_id,
        "company_address": company.address,
        "company_kep_address": company.kep_address,
        "products": _products_table(products),
        "total_net": lira(charge.net),
        "kdv": lira(charge.kdv),
        "total_gross": lira(charge.gross),
        "term_start": _day(agreement.starts_on),
        "term_end": _day(agreement.ends_on),
    }


def render(agreement: CustomerAgreement, provider: Party) -> str:
    """The agreement's document as it would be sent now: its text version filled in.

    Once sent, show `agreement.document_text` instead: that is what is signed.
    """
    text: AgreementText | None = agreement.agreement_text
    if text is None:
        raise AgreementError("no_text")
    return texts.fill(text.body, placeholder_values(agreement, provider))


def send_for_signature(
    session: Session, agreement: CustomerAgreement, provider: Party, *, now: datetime
) -> CustomerAgreement:
    """Render the draft once, keep the snapshot and its SHA-256, and await signatures.

    Refused when the draft's text version is no longer the one valid now (draft again). The
    caller commits and tells the signers (the outbox).
    """
    _lock(session, agreement)
    if agreement.status != DRAFT:
        raise AgreementError("not_draft")
    try:
        current = texts.text_valid_at(session, AgreementKind.COMPANY_SERVICE, now)
    except texts.NoValidText:
        raise AgreementError("text_outdated") from None
    if current.id != agreement.agreement_text_id:
        raise AgreementError("text_outdated")
    document = render(agreement, provider)
    agreement.document_text = document
    agreement.document_sha256 = evidence.document_sha256(document)
    agreement.status = AWAITING_SIGNATURE
    agreement.sent_at = now
    session.flush()
    return agreement


def _lock(session: Session, agreement: CustomerAgreement) -> None:
    # FOR UPDATE: two signatures (or a signature and a void) at once take turns, and the
    # second sees the first's row and chain. SQLite has one writer and ignores the clause.
    session.refresh(agreement, with_for_update=True)


def _member_of(agreement: CustomerAgreement, customer_user: CustomerUser) -> None:
    if customer_user.customer_id != agreement.customer_id or not customer_user.is_active:
        raise AgreementError("not_a_member")
    if not can(customer_user, Permission.SIGN_AGREEMENTS):
        raise AgreementError("not_permitted")


def signs_of(session: Session, agreement: CustomerAgreement) -> list[CustomerUserAgreementSign]:
    return list(
        session.scalars(
            select(CustomerUserAgreementSign)
            .where(CustomerUserAgreementSign.customer_agreement_id == agreement.id)
            .order_by(CustomerUserAgreementSign.sequence)
        )
    )


def roles_to_sign(session: Session, agreement: CustomerAgreement) -> list[str]:
    """The required roles that have not signed yet, in the agreement's order."""
    signed = {sign.signer_role for sign in signs_of(session, agreement)}
    return [role for role in agreement.required_roles if role not in signed]


def may_sign(session: Session, agreement: CustomerAgreement, customer_user: CustomerUser) -> bool:
    """The member may sign this agreement now (the page shows the button exactly then)."""
    try:
        _check_signer(session, agreement, customer_user)
    except AgreementError:
        return False
    return True


def _check_signer(
    session: Session, agreement: CustomerAgreement, customer_user: CustomerUser
) -> str:
    _member_of(agreement, customer_user)
    if agreement.status != AWAITING_SIGNATURE:
        raise AgreementError("not_awaiting_signature")
    role = customer_user.role.code
    if role not in agreement.required_roles:
        raise AgreementError("role_not_required")
    signs = signs_of(session, agreement)
    if any(sign.customer_user_id == customer_user.id for sign in signs):
        raise AgreementError("already_signed")
    if any(sign.signer_role == role for sign in signs):
        raise AgreementError("role_already_signed")
    return role


def sign(
    session: Session,
    agreement: CustomerAgreement,
    customer_user: CustomerUser,
    witness: Witness,
    *,
    seen_sha256: str,
    now: datetime,
) -> CustomerUserAgreementSign:
    """Record `customer_user`'s signature of the document whose SHA-256 they were shown.

    `witness` carries the client IP, the peer, the user agent and how they authenticated (a
    fresh one-time code is the view's business). The agreement becomes signed when every
    required role has signed. The caller commits.
    """
    _lock(session, agreement)
    role = _check_signer(session, agreement, customer_user)
    if seen_sha256 != agreement.document_sha256:
        # Sent again (or changed) between showing and signing: sign what was read, or nothing.
        raise AgreementError("document_changed")
    user: User = customer_user.user
    record = evidence.append_sign(
        session,
        agreement,
        customer_user_id=customer_user.id,
        signer_role=role,
        signer_name=user.name,
        signer_email=user.email,
        witness=witness,
        now=now,
    )
    if not roles_to_sign(session, agreement):
        agreement.status = SIGNED
        agreement.signed_at = now
        # The next term of a renewal, signed, makes the term it renews `renewed`.
        from portal.agreements import renewals

        renewals.term_signed(session, agreement)
    session.flush()
    return record


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise AgreementError("reason_required")
    if len(reason) > REASON_LENGTH:
        raise AgreementError("reason_too_long")
    return reason


def decline(
    session: Session,
    agreement: CustomerAgreement,
    customer_user: CustomerUser,
    reason: str,
    *,
    now: datetime,
) -> CustomerAgreement:
    """The company refuses to sign: a member who may sign agreements, with a reason. The
    document and any signatures already given stay as they are. The caller commits."""
    reason = _reason(reason)
    _lock(session, agreement)
    _member_of(agreement, customer_user)
    if agreement.status != AWAITING_SIGNATURE:
        raise AgreementError("not_awaiting_signature")
    agreement.status = DECLINED
    agreement.ended_reason = reason
    agreement.ended_at = now
    agreement.ended_by_user_id = customer_user.user_id
    session.flush()
    return agreement


def void(
    session: Session, agreement: CustomerAgreement, operator: User, reason: str, *, now: datetime
) -> CustomerAgreement:
    """An operator annuls a draft, an agreement awaiting signatures or a signed one, with a
    reason. Nothing is deleted: the document and its signatures stay readable and verifiable.
    The caller commits."""
    reason = _reason(reason)
    if operator.type_code != USER_TYPE_OPERATOR:
        raise AgreementError("not_operator")
    _lock(session, agreement)
    if agreement.status not in VOIDABLE:
        raise AgreementError("cannot_void")
    agreement.status = VOIDED
    agreement.ended_reason = reason
    agreement.ended_at = now
    agreement.ended_by_user_id = operator.id
    session.flush()
    return agreement
