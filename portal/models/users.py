"""The D2C side: users, their details, activity, favorites, sessions, devices and codes."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.clock import utcnow
from portal.models.base import (
    Base,
    BigId,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    bigint_pk,
    one_of,
    str255,
)
from portal.search_text import fold

if TYPE_CHECKING:
    from portal.models.customers import Customer, CustomerUser

# The codes of users_types; the rows themselves are reference data made by the migration.
USER_TYPE_PARENT = "parent"
USER_TYPE_CUSTOMER_STAFF = "customer_staff"
USER_TYPE_OPERATOR = "operator"


class UserType(Base):
    """users_types: what kind of account a user is (reference data)."""

    __tablename__ = "users_types"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class User(UserMixin, TimestampMixin, SoftDeleteMixin, Base):
    """users: every person who signs in, parent, school staff or operator.

    UserMixin only adds Flask-Login's read-only properties (is_authenticated, get_id, ...).
    """

    __tablename__ = "users"
    __table_args__ = (
        # E-mail is stored in its normalised (lower-case) form and the database holds us to it,
        # so `A@x.com` and `a@x.com` can never be two accounts (MariaDB's case-insensitive
        # collation makes the unique index itself refuse them as well).
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        # Lets customer_users point at (user_id, customer_id), so a staff row can only belong to
        # the company the user belongs to.
        UniqueConstraint("id", "customer_id"),
    )

    id: Mapped[bigint_pk]
    name: Mapped[str255]
    # The name as search compares it (portal.search_text.fold), kept in step by set_name_folded
    # below; the full-text index is on this column, never shown.
    name_folded: Mapped[str] = mapped_column(String(255), default="", server_default="")
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    user_type_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("users_types.id"), index=True
    )
    locale: Mapped[str | None] = mapped_column(String(5))
    # Ask for an e-mailed one-time code at every sign-in, not only from a new device.
    two_step_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user_type: Mapped[UserType] = relationship(lazy="joined")
    details: Mapped["UserDetail | None"] = relationship(back_populates="user")
    customer: Mapped["Customer | None"] = relationship()
    customer_user: Mapped["CustomerUser | None"] = relationship(
        back_populates="user", foreign_keys="CustomerUser.user_id", viewonly=True
    )

    # The token of the live session this object was loaded for (portal.auth.sessions); never
    # stored on the row, only its hash in user_session_hash.
    session_token = None
    current_session_id = None

    @validates("name")
    def set_name_folded(self, _key: str, name: str) -> str:
        """Every change of the name folds it for search, in the same flush."""
        self.name_folded = fold(name)
        return name

    @property
    def type_code(self) -> str:
        return self.user_type.code

    def get_id(self) -> str | None:
        """Flask-Login keeps this in the session and the remember cookie: the session token,
        so both die when the user_session_hash row is deleted."""
        return self.session_token


class UserDetail(Base):
    """user_details: the parent's profile, budget range, lead counters and KVKK consent time."""

    __tablename__ = "user_details"
    __table_args__ = (
        CheckConstraint("budget_min >= 0", name="budget_min_not_negative"),
        CheckConstraint("budget_max >= 0", name="budget_max_not_negative"),
        CheckConstraint("budget_min <= budget_max", name="budget_range_ordered"),
        CheckConstraint(
            "lead_lost_count >= 0 AND lead_won_count >= 0 AND lead_closed_count >= 0 "
            "AND lead_open_count >= 0",
            name="lead_counts_not_negative",
        ),
    )

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    budget_min: Mapped[Decimal | None]
    budget_max: Mapped[Decimal | None]
    lead_lost_count: Mapped[int] = mapped_column(default=0)
    lead_won_count: Mapped[int] = mapped_column(default=0)
    lead_closed_count: Mapped[int] = mapped_column(default=0)
    lead_open_count: Mapped[int] = mapped_column(default=0)
    kvkk_accepted_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="details")


class UserLog(Base):
    """user_logs: the audit trail of what a user did and what was done to their account."""

    __tablename__ = "user_logs"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    id: Mapped[bigint_pk]
    # Kept when the account is deleted: the trail outlives the person's data (KVKK art. 7).
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    event: Mapped[str] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


FAVORITABLE_TYPES = ("school", "campus")


class UserFavorite(Base):
    """user_favorites: a school or a campus a user keeps (polymorphic by favoritable_type)."""

    __tablename__ = "user_favorites"
    __table_args__ = (
        UniqueConstraint("user_id", "favoritable_type", "favoritable_id"),
        one_of("favoritable_type", FAVORITABLE_TYPES),
        Index(None, "favoritable_type", "favoritable_id"),
    )

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    # Polymorphic, so no foreign key: the favorites service checks the target exists, and
    # schools and campuses are soft-deleted, so an id never points at a reused row.
    favoritable_type: Mapped[str] = mapped_column(String(16))
    favoritable_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Whether the school or campus is public now: kept by portal.account.favorites on every
    # flush that changes a school's or campus's visibility or adds a favorite, so the
    # favorites page counts and chooses its rows without looking up each target.
    is_visible: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


CONTACT_TYPES = ("phone", "email", "address", "other")


class UserContact(TimestampMixin, Base):
    """user_contacts: extra ways to reach a user (a second phone, a work e-mail, ...)."""

    __tablename__ = "user_contacts"
    __table_args__ = (one_of("contact_type", CONTACT_TYPES),)

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    contact_type: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str255]


class UserSessionHash(Base):
    """user_session_hash: one row per live session; deleting the row ends the session."""

    __tablename__ = "user_session_hash"

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the random token in the cookie: a database leak gives no usable session.
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # "Keep me signed in": a longer lifetime and idle timeout, and a remember-me cookie.
    remember: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    device_hash: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class UserKnownDevice(Base):
    """user_known_devices: browsers that completed a one-time-code sign-in for the user, or
    entered the code of the registration they made (portal.auth.views.registration).

    A sign-in from a device not listed here asks for a code. The device is a random id in a
    long-lived cookie; only its SHA-256 is kept.
    """

    __tablename__ = "user_known_devices"
    __table_args__ = (UniqueConstraint("user_id", "device_hash"),)

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    device_hash: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


PLATFORMS = ("ios", "android", "web")


class UserNotificationId(Base):
    """user_notification_ids: push-notification tokens of a user's devices."""

    __tablename__ = "user_notification_ids"
    __table_args__ = (one_of("platform", PLATFORMS),)

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # A device token identifies one device, so it belongs to one user at a time.
    token: Mapped[str] = mapped_column(String(512), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class _OneTimeCode:
    """Columns shared by e-mail verification codes and sign-in codes: hash only, short-lived."""

    id: Mapped[bigint_pk]
    code_hash: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VerificationCode(_OneTimeCode, Base):
    """verification_codes: proves that a user controls an e-mail address."""

    __tablename__ = "verification_codes"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str255]


class OtpCode(_OneTimeCode, Base):
    """otp_codes: one-time sign-in (and password-reset) codes, with where they were asked for."""

    __tablename__ = "otp_codes"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the pending sign-in's token, kept in that browser's session: the code works
    # only to finish the sign-in it was sent for.
    sign_in_hash: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
