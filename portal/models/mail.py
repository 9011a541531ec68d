"""mail_outbox: every e-mail, written in the transaction of the change that causes it."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.models.base import Base, bigint_pk

# The worker's search for due mail and the purge of old delivered mail both read this index.
DUE_INDEX = ("sent_at", "next_try_at")


class MailOutbox(Base):
    """mail_outbox: one e-mail, queued until delivered, then kept briefly as a bare record.

    Personal data is the least that sending needs: the address, subject and body. Once the
    mail is delivered its subject and body (which may carry a code) are blanked, and the
    worker deletes the row MAIL_KEEP_SENT after delivery. portal/outbox.py has the life cycle.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index(None, *DUE_INDEX),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[bigint_pk]
    recipient: Mapped[str] = mapped_column(String(320))  # 64 + @ + 255, RFC 5321's limits
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a worker may next try it: now when queued, later while claimed or after a failure.
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The kind of the last failure (an exception class), never the server's text, which may
    # quote the address.
    last_error: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
