"""Schools, their campuses and the campuses' fees per level and school year."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.models.base import (
    Base,
    BigId,
    SoftDeleteMixin,
    TimestampMixin,
    bigint_pk,
    money,
    one_of,
    str255,
)
from portal.models.customers import Customer
from portal.search_text import fold

# The levels of Turkish schooling, in the order a child goes through them.
SCHOOL_LEVELS = ("preschool", "primary", "middle", "high")


class School(TimestampMixin, SoftDeleteMixin, Base):
    """schools: a school brand run by a customer; parents find, favorite and ask it."""

    __tablename__ = "schools"
    __table_args__ = (
        Index(None, "city", "district"),
        # The catalogue pages schools by name (the id breaks ties): read in this order, a page
        # is its 20 rows, not a sort of every published school.
        Index(None, "name", "id"),
    )

    id: Mapped[bigint_pk]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    name: Mapped[str255]
    # The name as search compares it (portal.search_text.fold), kept in step by the validator
    # below; the full-text index is on this column (migration 0010), never shown.
    name_folded: Mapped[str] = mapped_column(String(255), default="", server_default="")
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    city: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    # How parents reach the school as a whole; each campus has its own address and phone.
    address_line: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(255))
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)

    customer: Mapped[Customer] = relationship()
    campuses: Mapped[list["Campus"]] = relationship(back_populates="school", order_by="Campus.name")
    level_rows: Mapped[list["SchoolLevel"]] = relationship(
        cascade="all, delete-orphan", order_by="SchoolLevel.level"
    )

    @validates("name")
    def set_name_folded(self, _key: str, name: str) -> str:
        """Every change of the name folds it for search, in the same flush."""
        self.name_folded = fold(name)
        return name

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
    # Sort by level in Python (SchoolFee.level_order): the codes' alphabetical order is not
    # the order a child goes through them.
    fees: Mapped[list["SchoolFee"]] = relationship(
        back_populates="campus",
        order_by="SchoolFee.school_year",
        foreign_keys="SchoolFee.campus_id",
        primaryjoin="Campus.id == SchoolFee.campus_id",
    )


class SchoolFee(Base):
    """school_fees: the yearly fee of one level at one campus for one school year.

    Fees belong here, not to the school: a parent asks what primary school costs at the campus
    they would use. A school's fee range is derived from these rows. A campus teaches a level
    when it publishes that level's fee.
    """

    __tablename__ = "school_fees"
    __table_args__ = (
        UniqueConstraint("campus_id", "level", "school_year"),
        one_of("level", SCHOOL_LEVELS),
        CheckConstraint("yearly_fee >= 0", name="yearly_fee_not_negative"),
        CheckConstraint("school_year >= 2000 AND school_year <= 2200", name="school_year_sane"),
        # The campus must be a campus of the school named beside it (school_id is kept on the
        # row so that search filters fees by school without going through campuses).
        ForeignKeyConstraint(["campus_id", "school_id"], ["campuses.id", "campuses.school_id"]),
        # Search: "this level, this school year, within this budget".
        Index(None, "school_year", "level", "yearly_fee"),
        Index(None, "school_id", "school_year"),
    )

    id: Mapped[bigint_pk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id"))
    campus_id: Mapped[int] = mapped_column(BigId, ForeignKey("campuses.id"))
    level: Mapped[str] = mapped_column(String(16))
    # The calendar year the school year starts in: 2026 is the 2026-2027 school year.
    school_year: Mapped[int] = mapped_column(SmallInteger)
    # TRY, KDV included, as a parent would be quoted for the whole year.
    yearly_fee: Mapped[money]

    campus: Mapped[Campus] = relationship(
        back_populates="fees",
        foreign_keys=[campus_id],
        primaryjoin="Campus.id == SchoolFee.campus_id",
    )

    @property
    def level_order(self) -> int:
        """Where the level comes in a child's schooling, youngest first."""
        return SCHOOL_LEVELS.index(self.level)
