"""The D2C flow: a parent asks a school (leads), the school answers (school_offers), and a
parent puts schools side by side (user_comparisons)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
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
    TimestampMixin,
    UTCDateTime,
    bigint_pk,
    money,
    one_of,
)
from portal.models.consents import UserConsent
from portal.models.customers import CustomerUser
from portal.models.schools import SCHOOL_LEVELS, Campus, School
from portal.models.users import User

# open → won, lost or closed (closed: withdrawn by the parent or ended without an outcome).
LEAD_STATES = ("open", "won", "lost", "closed")
LEAD_END_STATES = ("won", "lost", "closed")
CONTACT_PREFERENCES = ("email", "phone", "either")

# What a lead's timeline records. `note` events are the staff's internal notes, never shown
# to the parent (LeadEvent.is_internal).
LEAD_EVENT_KINDS = (
    "opened",
    "assigned",
    "note",
    "offer_sent",
    "offer_accepted",
    "offer_declined",
    "won",
    "lost",
    "closed",
)

# An offer is open until the parent accepts or declines it; past its valid_until date it is
# expired (derived from the date, so no job has to run for it to be true).
OFFER_STATUSES = ("open", "accepted", "declined")


class Lead(TimestampMixin, Base):
    """leads: a parent's request for information to a school, or to one campus of it."""

    __tablename__ = "leads"
    __table_args__ = (
        one_of("state", LEAD_STATES),
        one_of("level", SCHOOL_LEVELS),
        one_of("contact_preference", CONTACT_PREFERENCES),
        # A double click sends the form's key twice; the second insert is refused here.
        UniqueConstraint("user_id", "request_key"),
        # A campus lead must name a campus of the school it names.
        ForeignKeyConstraint(["campus_id", "school_id"], ["campuses.id", "campuses.school_id"]),
        # The staff inbox: its counts (open, unassigned) and its page's ids (a school's leads
        # by state, newest first, with what the grant and the filters read) from the index
        # alone (migration 0013).
        Index(
            "ix_leads_inbox",
            "school_id",
            "state",
            "created_at",
            "id",
            "campus_id",
            "assigned_customer_user_id",
        ),
        # The same for a whole company, newest first: the inbox's page of a member granted
        # many schools is its first twenty entries (migration 0023), where the index above
        # gives each school's leads in order but not the company's.
        Index(
            "ix_leads_company_inbox",
            "customer_id",
            "state",
            "created_at",
            "id",
            "school_id",
            "campus_id",
            "assigned_customer_user_id",
        ),
        # The parent's own leads, newest first.
        Index(None, "user_id", "created_at"),
    )

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id"))
    # The school's company, copied when the lead is opened (a school never changes company;
    # `flask leads repair-counters` sets it right if one ever did): the inbox orders a
    # company's leads by date from one index (ix_leads_company_inbox).
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    # NULL asks the school as a whole; a campus narrows it (and who on the staff sees it).
    campus_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campuses.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    school_year: Mapped[int] = mapped_column(SmallInteger)
    message: Mapped[str] = mapped_column(Text)
    contact_preference: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8), default="open")
    # The random key the form carried: one lead per key and parent, however often it is sent.
    request_key: Mapped[str] = mapped_column(String(64))
    # The explicit KVKK consent the parent's details were shared under.
    user_consent_id: Mapped[int] = mapped_column(BigId, ForeignKey("user_consents.id"), index=True)
    assigned_customer_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer_users.id", ondelete="SET NULL"), index=True
    )
    # The first answer from the school's staff (an offer); the responsiveness score reads it.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    school: Mapped[School] = relationship()
    # On campus_id alone: the composite key with school_id is a guard, not a second path.
    campus: Mapped[Campus | None] = relationship(
        foreign_keys=[campus_id], primaryjoin="Campus.id == Lead.campus_id"
    )
    assignee: Mapped[CustomerUser | None] = relationship()
    # The KVKK consent it was sent under: the staff see the parent's details while it stands.
    user_consent: Mapped[UserConsent] = relationship()
    events: Mapped[list["LeadEvent"]] = relationship(
        back_populates="lead", order_by="(LeadEvent.created_at, LeadEvent.id)"
    )
    offers: Mapped[list["SchoolOffer"]] = relationship(
        back_populates="lead", order_by="(SchoolOffer.created_at, SchoolOffer.id)"
    )

    @property
    def is_open(self) -> bool:
        return self.state == "open"


class SchoolLeadCount(Base):
    """school_lead_counts: how many of a school's leads (to the school as a whole or to any
    campus of it) are open, and how many of those nobody on the staff follows.

    Moved with each lead in the same transaction (portal.leads.leads), checked and repaired by
    `flask leads repair-counters`; read by the staff's dashboard and inbox, where counting a
    big company's open leads row by row cost more than the rest of the page (migration 0023).
    A row is made with the school's first lead.
    """

    __tablename__ = "school_lead_counts"
    __table_args__ = (
        CheckConstraint("open_count >= 0 AND unassigned_count >= 0", name="counts_not_negative"),
    )

    school_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    open_count: Mapped[int] = mapped_column(default=0)
    unassigned_count: Mapped[int] = mapped_column(default=0)


class CampusLeadCount(Base):
    """campus_lead_counts: the same for the leads sent to one campus, which a grant naming
    that campus covers (a whole-school grant reads its school's row instead)."""

    __tablename__ = "campus_lead_counts"
    __table_args__ = (
        CheckConstraint("open_count >= 0 AND unassigned_count >= 0", name="counts_not_negative"),
    )

    campus_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campuses.id", ondelete="CASCADE"), primary_key=True
    )
    open_count: Mapped[int] = mapped_column(default=0)
    unassigned_count: Mapped[int] = mapped_column(default=0)


class LeadEvent(Base):
    """lead_events: the timeline of a lead, oldest first: what happened, when and by whom."""

    __tablename__ = "lead_events"
    __table_args__ = (one_of("kind", LEAD_EVENT_KINDS), Index(None, "lead_id", "created_at"))

    id: Mapped[bigint_pk]
    lead_id: Mapped[int] = mapped_column(BigId, ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # Who did it: the parent, a staff member, or NULL for the portal itself (an expiry).
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    # Internal notes and assignments are the school's business; the parent never sees them.
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class SchoolOffer(TimestampMixin, Base):
    """school_offers: a school's answer to a lead: a yearly fee, a discount, until when."""

    __tablename__ = "school_offers"
    __table_args__ = (
        one_of("status", OFFER_STATUSES),
        CheckConstraint("yearly_fee >= 0", name="yearly_fee_not_negative"),
        CheckConstraint(
            "discount_percent >= 0 AND discount_percent <= 100", name="discount_in_range"
        ),
        Index(None, "lead_id", "created_at"),
    )

    id: Mapped[bigint_pk]
    lead_id: Mapped[int] = mapped_column(BigId, ForeignKey("leads.id"))
    # The staff member who made it.
    customer_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer_users.id", ondelete="SET NULL"), index=True
    )
    yearly_fee: Mapped[money]  # TRY, KDV included, before the discount
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    # The last Europe/Istanbul date on which the parent may accept it.
    valid_until: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="open")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lead: Mapped[Lead] = relationship(back_populates="offers")


class UserComparison(Base):
    """user_comparisons: the schools and campuses a parent has put side by side.

    campus_id NULL compares the school as a whole. `target_key` ("school:12" or "campus:34")
    carries the uniqueness, because a unique constraint over a NULL campus_id would not hold
    on every database.
    """

    __tablename__ = "user_comparisons"
    __table_args__ = (
        UniqueConstraint("user_id", "target_key"),
        ForeignKeyConstraint(["campus_id", "school_id"], ["campuses.id", "campuses.school_id"]),
    )

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id"), index=True)
    campus_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campuses.id"), index=True)
    target_key: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
