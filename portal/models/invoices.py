"""invoice_details: the buyer's invoice identity and the issuer's, as they were at a sale."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.models.base import Base, BigId, UTCDateTime, bigint_pk, one_of

BUYER_KINDS = ("person", "company", "sole_proprietor")


class InvoiceDetails(Base):
    """invoice_details: who bought (a parent's name, TC Kimlik No and address, or a company's
    legal name, tax office, VKN or TC Kimlik No and address) and who sold (the RECEIPT_ISSUER
    lines), written at checkout under the attempt's idempotency key and tied to the
    subscription it started. Never edited afterwards: a receipt shows the sale as it was."""

    __tablename__ = "invoice_details"
    __table_args__ = (
        one_of("buyer_kind", BUYER_KINDS),
        CheckConstraint("(user_id IS NULL) <> (customer_id IS NULL)", name="one_buyer"),
        CheckConstraint("tc_no IS NULL OR length(tc_no) = 11", name="tc_no_length"),
        CheckConstraint("tax_number IS NULL OR length(tax_number) = 10", name="vkn_length"),
    )

    id: Mapped[bigint_pk]
    order_key: Mapped[str] = mapped_column(String(64), unique=True)  # the checkout's key
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    user_subscription_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_subscriptions.id"), unique=True
    )
    buyer_kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    tc_no: Mapped[str | None] = mapped_column(String(11))
    tax_office: Mapped[str | None] = mapped_column(String(100))
    tax_number: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(1000))
    issuer: Mapped[str] = mapped_column(Text)  # the RECEIPT_ISSUER lines, one per line
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def issuer_lines(self) -> list[str]:
        return self.issuer.splitlines()
