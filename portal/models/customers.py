"""The B2B side: school companies, their staff and grants, agreements, scores and cards."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.models.base import (
    Base,
    BigId,
    CardTokenMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    bigint_pk,
    money,
    one_of,
    str255,
)
from portal.models.users import User

CUSTOMER_TYPES = ("company", "sole_proprietor")


class Customer(TimestampMixin, SoftDeleteMixin, Base):
    """customers: a school company (or a sole proprietor) that runs schools on the platform."""

    __tablename__ = "customers"
    __table_args__ = (
        one_of("customer_type", CUSTOMER_TYPES),
        # An invoice needs a tax identity: a VKN for a company, a TC Kimlik No for a sole
        # proprietor. The checksums are checked in portal.turkish; the database holds the
        # shape so no import or script can store a malformed one.
        CheckConstraint(
            "(customer_type = 'company' AND tax_number IS NOT NULL) OR "
            "(customer_type = 'sole_proprietor' AND tc_no IS NOT NULL)",
            name="tax_identity_present",
        ),
        CheckConstraint("tax_number IS NULL OR length(tax_number) = 10", name="vkn_length"),
        CheckConstraint("tc_no IS NULL OR length(tc_no) = 11", name="tc_no_length"),
        CheckConstraint("mersis_no IS NULL OR length(mersis_no) = 16", name="mersis_no_length"),
        # The operators' list pages customers by name: read in this order, a page is its 20
        # rows (and their latest scores), not every customer joined and sorted.
        Index(None, "name", "id"),
    )

    id: Mapped[bigint_pk]
    name: Mapped[str255]  # the brand the company is known by
    legal_name: Mapped[str | None] = mapped_column(String(255))  # ticari unvan, for invoices
    customer_type: Mapped[str] = mapped_column(String(16), default="company")
    tc_no: Mapped[str | None] = mapped_column(String(11))
    tax_office: Mapped[str | None] = mapped_column(String(100))  # vergi dairesi
    tax_number: Mapped[str | None] = mapped_column(String(10), index=True)  # VKN
    mersis_no: Mapped[str | None] = mapped_column(String(16))
    erp_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    is_inflation_auto_updated: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(255))
    kep_address: Mapped[str | None] = mapped_column(String(255))  # registered e-mail (KEP)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    website: Mapped[str | None] = mapped_column(String(255))
    address_line: Mapped[str | None] = mapped_column(String(500))
    district: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    country_code: Mapped[str] = mapped_column(String(2), default="TR")
    contact_name: Mapped[str | None] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    iban: Mapped[str | None] = mapped_column(String(34))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str | None] = mapped_column(Text)

    customer_users: Mapped[list["CustomerUser"]] = relationship(back_populates="customer")


class CustomerUserRole(Base):
    """customer_user_roles: config of what a company's staff may do (admin, manager, ...)."""

    __tablename__ = "customer_user_roles"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class CustomerUserTitle(Base):
    """customer_user_titles: config of job titles shown next to a staff member's name."""

    __tablename__ = "customer_user_titles"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class CustomerUser(TimestampMixin, Base):
    """customer_users: a user working for a customer, with a role and a title."""

    __tablename__ = "customer_users"
    __table_args__ = (
        # The pair must match users (id, customer_id): staff belong to their user's company.
        ForeignKeyConstraint(["user_id", "customer_id"], ["users.id", "users.customer_id"]),
    )

    id: Mapped[bigint_pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), unique=True)
    role_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("customer_user_roles.id"), index=True
    )
    title_id: Mapped[int | None] = mapped_column(
        SmallInteger, ForeignKey("customer_user_titles.id"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    customer: Mapped[Customer] = relationship(back_populates="customer_users")
    # Join on user_id alone: the composite key above is a guard, not a second path to the user.
    user: Mapped[User] = relationship(
        back_populates="customer_user",
        primaryjoin="CustomerUser.user_id == User.id",
        foreign_keys=[user_id],
    )
    role: Mapped[CustomerUserRole] = relationship(lazy="joined")
    title: Mapped[CustomerUserTitle | None] = relationship(lazy="joined")
    school_grants: Mapped[list["CustomerUserSchool"]] = relationship(back_populates="customer_user")


class CustomerUserSchool(Base):
    """customer_user_schools: a grant to work on a school, or on one campus of it."""

    __tablename__ = "customer_user_schools"
    __table_args__ = (
        UniqueConstraint("customer_user_id", "school_id", "campus_id"),
        # A campus grant must name a campus of the granted school.
        ForeignKeyConstraint(["campus_id", "school_id"], ["campuses.id", "campuses.school_id"]),
    )

    id: Mapped[bigint_pk]
    customer_user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer_users.id", ondelete="CASCADE")
    )
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id"), index=True)
    # NULL grants the whole school.
    campus_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campuses.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer_user: Mapped[CustomerUser] = relationship(back_populates="school_grants")


class AgreementKind(StrEnum):
    """agreement_texts.kind: which contract a text is a version of (portal.agreements)."""

    COMPANY_SERVICE = "company_service"  # signed by a company's staff
    PARENT_DISTANCE_SALES = "parent_distance_sales"  # mesafeli satış sözleşmesi (Law 6502)
    PARENT_PRE_INFORMATION = "parent_pre_information"  # ön bilgilendirme formu


class AgreementText(Base):
    """agreement_texts: a published version of a contract template, valid from started_at
    until finished_at (NULL: until a newer version starts).

    Never edited once published: a change is a new version (portal.agreements.texts). The
    windows of one kind never overlap, so "the text of this kind at time T" has one answer;
    PostgreSQL also refuses an overlap by an EXCLUDE constraint (migration 0014). `body` is the
    binding Turkish text; `body_en` an optional English translation for English readers.
    """

    __tablename__ = "agreement_texts"
    __table_args__ = (
        UniqueConstraint("kind", "version"),
        one_of("kind", tuple(AgreementKind)),
        CheckConstraint("finished_at IS NULL OR finished_at > started_at", name="validity_ordered"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("length(body_sha256) = 64", name="body_sha256_length"),
    )

    id: Mapped[bigint_pk]
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str255]
    body: Mapped[str] = mapped_column(Text)  # the template, with {placeholders}
    body_sha256: Mapped[str] = mapped_column(String(64))
    title_en: Mapped[str | None] = mapped_column(String(255))
    body_en: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgreementStatus(StrEnum):
    """customer_agreements.status (the life is portal.agreements.agreements)."""

    DRAFT = "draft"
    AWAITING_SIGNATURE = "awaiting_signature"
    SIGNED = "signed"
    DECLINED = "declined"
    VOIDED = "voided"
    EXPIRED = "expired"
    RENEWED = "renewed"


AGREEMENT_STATUSES = tuple(AgreementStatus)


class CustomerAgreement(TimestampMixin, Base):
    """customer_agreements: a contract with a customer; its products are JSON data.

    products: [{"name", "quantity" (int), "unit_price" (decimal string), "period"}].
    document_text is the rendering sent for signature and document_sha256 its SHA-256; both
    are set once, when the agreement is sent, and every signature is of exactly that text.
    """

    __tablename__ = "customer_agreements"
    __table_args__ = (
        one_of("status", AGREEMENT_STATUSES),
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint("total_amount >= 0", name="total_not_negative"),
        CheckConstraint(
            "(document_text IS NULL AND document_sha256 IS NULL) OR "
            "(document_text IS NOT NULL AND document_sha256 IS NOT NULL)",
            name="document_hashed",
        ),
        CheckConstraint(
            "document_sha256 IS NULL OR length(document_sha256) = 64",
            name="document_sha256_length",
        ),
        # A decline or a void says why, when and (ended_by_user_id) who.
        CheckConstraint(
            "status NOT IN ('declined', 'voided') OR "
            "(ended_reason IS NOT NULL AND ended_at IS NOT NULL)",
            name="ending_explained",
        ),
    )

    id: Mapped[bigint_pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    agreement_text_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agreement_texts.id"), index=True
    )
    agreement_no: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(24), default=AgreementStatus.DRAFT)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    products: Mapped[list | None] = mapped_column(JSON)
    total_amount: Mapped[money]
    currency: Mapped[str] = mapped_column(String(3), default="TRY")
    is_inflation_auto_updated: Mapped[bool] = mapped_column(Boolean, default=False)
    # customer_user_roles codes; one signature of each is needed.
    required_roles: Mapped[list] = mapped_column(JSON)
    document_text: Mapped[str | None] = mapped_column(Text)
    # Indexed: the public verification page looks a hash up here (migration 0015).
    document_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    sent_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]  # when the last required role signed
    ended_at: Mapped[datetime | None]  # declined or voided
    ended_reason: Mapped[str | None] = mapped_column(Text)
    ended_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)

    customer: Mapped[Customer] = relationship()
    agreement_text: Mapped[AgreementText | None] = relationship()
    signs: Mapped[list["CustomerUserAgreementSign"]] = relationship(
        back_populates="customer_agreement",
        order_by="CustomerUserAgreementSign.sequence",
        viewonly=True,
    )


class CustomerAgreementsRenewLog(Base):
    """customer_agreements_renew_logs: each renewal of an agreement, before and after."""

    __tablename__ = "customer_agreements_renew_logs"

    id: Mapped[bigint_pk]
    customer_agreement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer_agreements.id"), index=True
    )
    previous_ends_on: Mapped[date] = mapped_column(Date)
    new_ends_on: Mapped[date] = mapped_column(Date)
    # The next term the renewal made (migration 0016); NULL on rows from before it.
    renewed_agreement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer_agreements.id"), index=True
    )
    previous_amount: Mapped[money]
    new_amount: Mapped[money]
    inflation_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    renewed_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


FOLLOWED_STATUSES = ("pending", "contacted", "accepted", "rejected")


class CustomerAgreementsRenewDiscount(TimestampMixin, Base):
    """customer_agreements_renew_discounts: a discount offered at renewal, and its follow-up."""

    __tablename__ = "customer_agreements_renew_discounts"
    __table_args__ = (
        one_of("followed_status", FOLLOWED_STATUSES),
        CheckConstraint(
            "discount_rate IS NULL OR (discount_rate >= 0 AND discount_rate <= 100)",
            name="discount_rate_percent",
        ),
        CheckConstraint(
            "discount_amount IS NULL OR discount_amount >= 0", name="discount_amount_not_negative"
        ),
    )

    id: Mapped[bigint_pk]
    customer_agreement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer_agreements.id"), index=True
    )
    discount_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    discount_amount: Mapped[Decimal | None]
    # The sales person following the offer.
    assigned_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    followed_status: Mapped[str] = mapped_column(String(16), default="pending")
    valid_until: Mapped[date | None] = mapped_column(Date)  # the offer's end, told the company
    due_on: Mapped[date | None] = mapped_column(Date)  # the sales person's follow-up date (0016)
    note: Mapped[str | None] = mapped_column(Text)


def _chain_checks() -> list[CheckConstraint]:
    """The CHECKs of an evidence table's rows: a chain of records numbered from 1, the first
    with no previous hash, every hash 64 hexadecimal characters (SHA-256)."""
    return [
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint(
            "(sequence = 1 AND previous_hash IS NULL) OR "
            "(sequence > 1 AND previous_hash IS NOT NULL)",
            name="chain_linked",
        ),
        CheckConstraint("length(document_sha256) = 64", name="document_sha256_length"),
        CheckConstraint("length(record_hash) = 64", name="record_hash_length"),
        CheckConstraint(
            "previous_hash IS NULL OR length(previous_hash) = 64", name="previous_hash_length"
        ),
    ]


class CustomerUserAgreementSign(Base):
    """customer_user_agreement_signs: the evidence of one signature, never updated or deleted.

    The exact document as signed and its SHA-256, the UTC time, the client IP (after the
    trusted proxies) and the peer address, the user agent, how the signer was authenticated,
    and the signer as they were (role, name, e-mail: an account may be anonymised later).
    Each row is a link of its agreement's chain: `sequence` 1, 2, ..., `previous_hash` the
    record_hash of the row before (NULL for the first), `record_hash` the SHA-256 of the
    row's canonical fields (portal.agreements.evidence). Triggers refuse UPDATE and DELETE on
    all three databases (migration 0014); a later batch migration of this table on SQLite must
    create them again.
    """

    __tablename__ = "customer_user_agreement_signs"
    __table_args__ = (
        UniqueConstraint("customer_agreement_id", "customer_user_id"),
        UniqueConstraint("customer_agreement_id", "sequence"),
        *_chain_checks(),
    )

    id: Mapped[bigint_pk]
    customer_agreement_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer_agreements.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    customer_user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer_users.id"), index=True
    )
    agreement_text_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("agreement_texts.id"), index=True
    )
    signer_role: Mapped[str] = mapped_column(String(32))
    signer_name: Mapped[str255]
    signer_email: Mapped[str255]
    document_text: Mapped[str] = mapped_column(Text)  # exactly as signed
    document_sha256: Mapped[str] = mapped_column(String(64), index=True)  # migration 0015
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    client_ip: Mapped[str] = mapped_column(String(45))
    peer_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    auth_method: Mapped[str] = mapped_column(String(32))  # e.g. "password+otp"
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)

    customer_agreement: Mapped[CustomerAgreement] = relationship(back_populates="signs")


PARENT_KINDS = (AgreementKind.PARENT_PRE_INFORMATION, AgreementKind.PARENT_DISTANCE_SALES)


class UserAgreementAcceptance(Base):
    """user_agreement_acceptances: a parent's confirmation of a document shown before an online
    sale (the pre-information form, the distance sales contract; Law 6502), never updated or
    deleted.

    The same evidence as a signature (portal.agreements.evidence): the exact document as
    shown and its SHA-256, the UTC time, the client IP (after the trusted proxies) and the
    peer address, the user agent, how the buyer was authenticated, and the buyer as they were
    (name, e-mail: an account may be anonymised later). The documents confirmed for one
    checkout form a chain: `idempotency_key` is the checkout's (the `payments` row of the
    sale carries the same key), `sequence` 1, 2, ... within it, `previous_hash` the
    record_hash of the one before. Triggers refuse UPDATE and DELETE on all three databases
    (migration 0016).
    """

    __tablename__ = "user_agreement_acceptances"
    __table_args__ = (
        UniqueConstraint("idempotency_key", "sequence"),
        UniqueConstraint("idempotency_key", "kind"),
        one_of("kind", tuple(PARENT_KINDS)),
        *_chain_checks(),
    )

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    agreement_text_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("agreement_texts.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    # What was being bought: the price row, and the checkout's key (payments.idempotency_key).
    plan_price_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("plan_prices.id"), index=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer)
    buyer_name: Mapped[str255]
    buyer_email: Mapped[str255]
    document_text: Mapped[str] = mapped_column(Text)  # exactly as shown
    document_sha256: Mapped[str] = mapped_column(String(64), index=True)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    client_ip: Mapped[str] = mapped_column(String(45))
    peer_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    auth_method: Mapped[str] = mapped_column(String(32))
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)


SCORE_NAMES = ("demand", "communication", "responsiveness", "payment", "total")


def _score_range(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0 AND {column} <= 255", name=f"{column}_0_255")


class CustomerScore(Base):
    """customer_scores: the five 0-255 scores of a customer on a given day."""

    __tablename__ = "customer_scores"
    __table_args__ = (
        UniqueConstraint("customer_id", "scored_on"),
        *(_score_range(name) for name in SCORE_NAMES),
    )

    id: Mapped[bigint_pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    scored_on: Mapped[date] = mapped_column(Date)  # a Europe/Istanbul business date
    demand: Mapped[int] = mapped_column(SmallInteger)
    communication: Mapped[int] = mapped_column(SmallInteger)
    responsiveness: Mapped[int] = mapped_column(SmallInteger)
    payment: Mapped[int] = mapped_column(SmallInteger)
    total: Mapped[int] = mapped_column(SmallInteger)


class CustomerUserDailyActivityLog(Base):
    """customer_user_daily_activity_logs: one row per staff member per business day."""

    __tablename__ = "customer_user_daily_activity_logs"
    __table_args__ = (
        UniqueConstraint("customer_user_id", "activity_date"),
        CheckConstraint(
            "sign_in_count >= 0 AND lead_view_count >= 0 AND lead_reply_count >= 0 "
            "AND offer_count >= 0 AND agreement_sign_count >= 0",
            name="counts_not_negative",
        ),
    )

    id: Mapped[bigint_pk]
    customer_user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer_users.id", ondelete="CASCADE")
    )
    activity_date: Mapped[date] = mapped_column(Date)  # a Europe/Istanbul business date
    sign_in_count: Mapped[int] = mapped_column(default=0)
    lead_view_count: Mapped[int] = mapped_column(default=0)
    lead_reply_count: Mapped[int] = mapped_column(default=0)
    offer_count: Mapped[int] = mapped_column(default=0)
    agreement_sign_count: Mapped[int] = mapped_column(default=0, server_default="0")  # 0018
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CustomerCreditCard(CardTokenMixin, TimestampMixin, SoftDeleteMixin, Base):
    """customer_credit_cards: a gateway's token for a company card, never the number or CVV."""

    __tablename__ = "customer_credit_cards"

    id: Mapped[bigint_pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    holder_name: Mapped[str | None] = mapped_column(String(255))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class CustomerUserInvitation(Base):
    """customer_user_invitations: a company member's invitation of a person to the team.

    The link's token is never stored, only its SHA-256 (token_hash). An invitation is pending
    until it is accepted, revoked or past expires_at; it can be accepted once.
    """

    __tablename__ = "customer_user_invitations"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("expires_at > created_at", name="expiry_after_creation"),
        # The team page lists a company's pending invitations, and an invitation to an address
        # replaces the pending one before it.
        Index(None, "customer_id", "email"),
    )

    id: Mapped[bigint_pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    email: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("customer_user_roles.id"), index=True
    )
    title_id: Mapped[int | None] = mapped_column(
        SmallInteger, ForeignKey("customer_user_titles.id"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_customer_user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer_users.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    role: Mapped[CustomerUserRole] = relationship()
    title: Mapped[CustomerUserTitle | None] = relationship()
    invited_by: Mapped[CustomerUser] = relationship()
