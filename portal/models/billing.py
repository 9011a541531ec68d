"""Plans, their prices and features, subscriptions, payments and saved cards."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.i18n import in_reader_language
from portal.models.base import (
    Base,
    BigId,
    CardTokenMixin,
    SoftDeleteMixin,
    TimestampMixin,
    bigint_pk,
    money,
    one_of,
    str255,
)

# The billing vocabularies, defined once: the CHECK constraints below are built from them
# (one_of), and portal.billing's modules compare and store these members.


class BillingCycle(StrEnum):
    """plan_prices.billing_cycle and user_subscriptions.billing_cycle, shortest first; the
    period arithmetic is portal.billing.periods."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMI_ANNUAL = "semi_annual"
    YEARLY = "yearly"
    LIFETIME = "lifetime"


class Audience(StrEnum):
    """subscription_plans.audience: who may buy a plan."""

    PARENTS = "parents"
    COMPANIES = "companies"


class PriceStatus(StrEnum):
    """plan_prices.status: an archived price is never offered again."""

    ACTIVE = "active"
    ARCHIVED = "archived"


class SubscriptionStatus(StrEnum):
    """user_subscriptions.status (the lifecycle is portal.billing.subscriptions)."""

    TRIAL = "trial"
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class PaymentStatus(StrEnum):
    """payments.status: the outcome of one charge."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentPurpose(StrEnum):
    """payments.purpose: what a charge paid for."""

    FIRST_CHARGE = "first_charge"
    RENEWAL = "renewal"
    TRIAL_END = "trial_end"
    PLAN_CHANGE = "plan_change"
    AGREEMENT = "agreement"  # a signed company agreement (customer_agreement_id)
    REFUND = "refund"  # money given back for refunded_payment_id (migration 0021)


class NoticeKind(StrEnum):
    """billing_notices.kind: the billing e-mails sent once per event (migration 0021)."""

    TRIAL_ENDING = "trial_ending"
    RENEWAL_FAILED = "renewal_failed"
    EXPIRED = "expired"
    REFUND_MADE = "refund_made"


class SubscriptionPlan(TimestampMixin, Base):
    """subscription_plans: a plan parents or school companies can subscribe to."""

    __tablename__ = "subscription_plans"
    __table_args__ = (one_of("audience", tuple(Audience)),)

    id: Mapped[bigint_pk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str255]  # Turkish
    description: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str255]
    description_en: Mapped[str | None] = mapped_column(Text)  # None: the Turkish one is shown
    audience: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")

    prices: Mapped[list["PlanPrice"]] = relationship(back_populates="plan")
    feature_rows: Mapped[list["SubscriptionPlanFeature"]] = relationship(back_populates="plan")

    @property
    def display_name(self) -> str:
        """The name in the reader's language (portal.i18n.in_reader_language)."""
        return in_reader_language(self.name, self.name_en)

    @property
    def display_description(self) -> str | None:
        return in_reader_language(self.description, self.description_en)


class PlanPrice(Base):
    """plan_prices: what one billing cycle of a plan costs. Never edited: a new price is a
    new row and the old one is archived, so current subscribers keep what they bought."""

    __tablename__ = "plan_prices"
    __table_args__ = (
        one_of("billing_cycle", tuple(BillingCycle)),
        one_of("status", tuple(PriceStatus)),
        CheckConstraint("currency = 'TRY'", name="currency_try"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("trial_days >= 0", name="trial_days_not_negative"),
    )

    id: Mapped[bigint_pk]
    subscription_plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("subscription_plans.id"), index=True
    )
    billing_cycle: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3), default="TRY", server_default="TRY")
    amount: Mapped[money]
    kdv_included: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    trial_days: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(
        String(16), default=PriceStatus.ACTIVE, server_default=PriceStatus.ACTIVE.value
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    plan: Mapped[SubscriptionPlan] = relationship(back_populates="prices")


class PlanFeatureCategory(Base):
    """plan_feature_categories: a heading of the plans comparison, named in both languages."""

    __tablename__ = "plan_feature_categories"

    id: Mapped[bigint_pk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str255]  # Turkish
    name_en: Mapped[str255]
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")

    @property
    def display_name(self) -> str:
        return in_reader_language(self.name, self.name_en)


class PlanFeature(Base):
    """plan_features: something a plan may include, with its Font Awesome icon."""

    __tablename__ = "plan_features"

    id: Mapped[bigint_pk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str255]  # Turkish
    name_en: Mapped[str255]
    icon: Mapped[str] = mapped_column(String(64))  # e.g. "fa-solid fa-heart"
    category: Mapped[str] = mapped_column(
        String(64), ForeignKey("plan_feature_categories.code"), index=True
    )
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")

    category_row: Mapped[PlanFeatureCategory] = relationship(lazy="joined")

    @property
    def display_name(self) -> str:
        return in_reader_language(self.name, self.name_en)


class SubscriptionPlanFeature(Base):
    """subscription_plan_features: the plan ↔ feature pivot; limit_value NULL is unlimited."""

    __tablename__ = "subscription_plan_features"
    __table_args__ = (
        CheckConstraint("limit_value IS NULL OR limit_value >= 0", name="limit_not_negative"),
    )

    subscription_plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("subscription_plans.id", ondelete="CASCADE"), primary_key=True
    )
    plan_feature_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("plan_features.id"), primary_key=True, index=True
    )
    included: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    limit_value: Mapped[int | None] = mapped_column(Integer)

    plan: Mapped[SubscriptionPlan] = relationship(back_populates="feature_rows")
    feature: Mapped[PlanFeature] = relationship(lazy="joined")


class UserSubscription(TimestampMixin, Base):
    """user_subscriptions: a parent's or a company's subscription to a plan.

    It points at the price row it bought and keeps a copy of the amount. Periods are computed
    from anchor_date (portal.billing.periods), never from the previous period.
    """

    __tablename__ = "user_subscriptions"
    __table_args__ = (
        one_of("billing_cycle", tuple(BillingCycle)),
        one_of("status", tuple(SubscriptionStatus)),
        # A parent's subscription or a company's, never both, never neither.
        CheckConstraint("(user_id IS NULL) <> (customer_id IS NULL)", name="one_subscriber"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("retry_count >= 0", name="retry_count_not_negative"),
    )

    id: Mapped[bigint_pk]
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    subscription_plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("subscription_plans.id"), index=True
    )
    plan_price_id: Mapped[int] = mapped_column(BigId, ForeignKey("plan_prices.id"), index=True)
    billing_cycle: Mapped[str] = mapped_column(String(16))
    amount: Mapped[money]  # copied from the price row at purchase
    currency: Mapped[str] = mapped_column(String(3), default="TRY", server_default="TRY")
    kdv_included: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    anchor_date: Mapped[date] = mapped_column(Date)  # Europe/Istanbul business dates below
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)  # end of the current period
    trial_end_date: Mapped[date | None] = mapped_column(Date)
    period_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16))
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    cancel_at_period_end: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    next_billing_date: Mapped[date | None] = mapped_column(Date, index=True)
    last_payment_date: Mapped[date | None] = mapped_column(Date)
    retry_count: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    cancelled_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    # The business date the renewal job resumes a paused subscription on.
    pause_until: Mapped[date | None] = mapped_column(Date)
    # The checkout's idempotency key that started it: a trial has no payment row to hold it.
    checkout_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A change of plan or cycle the subscriber confirmed; it takes effect on the next billing
    # date, when this price is charged (portal.billing.subscriptions.schedule_change).
    scheduled_plan_price_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("plan_prices.id"), index=True
    )
    # The saved card renewals charge: a parent's or a company's, matching the subscriber.
    user_payment_card_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_payment_cards.id"), index=True
    )
    customer_credit_card_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer_credit_cards.id"), index=True
    )

    plan: Mapped[SubscriptionPlan] = relationship()
    price: Mapped[PlanPrice] = relationship(foreign_keys=[plan_price_id])
    scheduled_price: Mapped[PlanPrice | None] = relationship(foreign_keys=[scheduled_plan_price_id])


class Payment(Base):
    """payments: one charge through the gateway, for a subscription or a signed agreement.

    idempotency_key is unique, so a double click or a retried request never charges twice;
    charged_period is set only on a succeeded charge of a period, and unique per
    subscription and price and per agreement, so no period is ever paid twice at one price
    (an upgrade pays the rest of a period at the new price, from its own day).
    """

    __tablename__ = "payments"
    __table_args__ = (
        one_of("status", tuple(PaymentStatus)),
        one_of("purpose", tuple(PaymentPurpose)),
        # An upgrade's charge shares its period with the period's own charge at the old price
        # (migration 0020): one charge per subscription, period and price.
        UniqueConstraint("user_subscription_id", "charged_period", "plan_price_id"),
        UniqueConstraint("customer_agreement_id", "charged_period"),
        # ROUND: SQLite keeps NUMERIC as a binary float, where 49.92 + 9.98 is not 59.90.
        CheckConstraint(
            "ROUND(net_amount + kdv_amount, 2) = gross_amount", name="gross_is_net_plus_kdv"
        ),
        CheckConstraint("net_amount >= 0 AND kdv_amount >= 0", name="amounts_not_negative"),
        # A refund's amounts are positive too; it names the charge it refunds, and only a
        # refund does (migration 0021).
        CheckConstraint(
            "(purpose = 'refund') = (refunded_payment_id IS NOT NULL)",
            name="refund_names_its_charge",
        ),
    )

    id: Mapped[bigint_pk]
    user_subscription_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_subscriptions.id")
    )
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    # What an `agreement` payment paid for (migration 0016).
    customer_agreement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer_agreements.id"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    # The price row this payment bought, so a receipt names it after a later plan change.
    plan_price_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("plan_prices.id"), index=True
    )
    net_amount: Mapped[money]
    kdv_amount: Mapped[money]
    gross_amount: Mapped[money]
    currency: Mapped[str] = mapped_column(String(3), default="TRY", server_default="TRY")
    status: Mapped[str] = mapped_column(String(16))
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_reference: Mapped[str | None] = mapped_column(String(64))
    failure_code: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    charged_period: Mapped[date | None] = mapped_column(Date)  # start of the period paid for
    card_brand: Mapped[str | None] = mapped_column(String(16))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What a `refund` gives money back for: a succeeded charge of the same payer.
    refunded_payment_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("payments.id"), index=True
    )


class BillingNotice(Base):
    """billing_notices: a billing e-mail sent for one event of a subscription, at most once
    (unique per subscription, kind and event; portal.billing.notices)."""

    __tablename__ = "billing_notices"
    __table_args__ = (
        one_of("kind", tuple(NoticeKind)),
        UniqueConstraint("user_subscription_id", "kind", "event"),
    )

    id: Mapped[bigint_pk]
    user_subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("user_subscriptions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # What the notice is about, so a later event of the same kind is told again: the trial's
    # end date, the failed payment's id, the period's end, the refund's payment id.
    event: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserPaymentCard(CardTokenMixin, TimestampMixin, SoftDeleteMixin, Base):
    """user_payment_cards: a parent's saved card as the gateway's token (the same rule as
    customer_credit_cards: never a card number or a CVV)."""

    __tablename__ = "user_payment_cards"

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
