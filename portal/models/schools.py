"""Schools and their campuses, owned by a customer."""

from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import (
    Base,
    BigId,
    SoftDeleteMixin,
    TimestampMixin,
    bigint_pk,
    one_of,
    str255,
)
from portal.models.customers import Customer

# The levels of Turkish schooling, in the order a child goes through them.
SCHOOL_LEVELS = ("preschool", "primary", "middle", "high")


class School(TimestampMixin, SoftDeleteMixin, Base):
    """schools: a school brand run by a customer; parents find, favorite and ask it."""

    __tablename__ = "schools"
    __table_args__ = (
        CheckConstraint("yearly_fee_min >= 0", name="fee_min_not_negative"),
        CheckConstraint("yearly_fee_min <= yearly_fee_max", name="fee_range_ordered"),
        Index(None, "city", "district"),
        # The catalogue pages schools by name (the id breaks ties): read in this order, a page
        # is its 20 rows, not a sort of every published school.
        Index(None, "name", "id"),
    )

    id: Mapped[bigint_pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    name: Mapped[str255]
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    city: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    # The yearly fee range in TRY, KDV included, as a parent would be quoted.
    yearly_fee_min: Mapped[Decimal | None]
    yearly_fee_max: Mapped[Decimal | None]
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)

    customer: Mapped[Customer] = relationship()
    campuses: Mapped[list["Campus"]] = relationship(back_populates="school", order_by="Campus.name")
    level_rows: Mapped[list["SchoolLevel"]] = relationship(
        cascade="all, delete-orphan", order_by="SchoolLevel.level"
    )

    @hybrid_property
    def is_public(self) -> bool:
        """Shown to parents and visitors, and open to favorites: published and not deleted.

        The one definition, in Python and in SQL (`select(School).where(School.is_public)`).
        Deleted rows are also hidden by the soft-delete filter; saying it here keeps the rule
        true for a query that asks for deleted rows, and for an object already loaded.
        """
        return self.is_published and self.deleted_at is None

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> ColumnElement[bool]:
        return and_(cls.is_published, cls.deleted_at.is_(None))

    @property
    def levels(self) -> list[str]:
        """The level codes the school teaches, youngest first."""
        present = {row.level for row in self.level_rows}
        return [level for level in SCHOOL_LEVELS if level in present]


class SchoolLevel(Base):
    """school_levels: which levels (preschool ... high) a school teaches."""

    __tablename__ = "school_levels"
    __table_args__ = (one_of("level", SCHOOL_LEVELS),)

    school_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(16), primary_key=True)


class Campus(TimestampMixin, SoftDeleteMixin, Base):
    """campuses: one site of a school, with its own address."""

    __tablename__ = "campuses"
    __table_args__ = (
        # Lets a campus grant say which school it belongs to, checked by the database.
        UniqueConstraint("id", "school_id"),
        Index(None, "city", "district"),
    )

    id: Mapped[bigint_pk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id"), index=True)
    name: Mapped[str255]
    city: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100))
    address_line: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(20))

    school: Mapped[School] = relationship(back_populates="campuses")
