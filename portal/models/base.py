"""Declarative base, shared column types and mixins for every model."""

import weakref
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    registry,
    with_loader_criteria,
)
from sqlalchemy.types import TypeDecorator

from portal.clock import utcnow

# Constraint names are part of the schema: fixed names let Alembic drop and compare them on
# all three databases (MariaDB and SQLite do not name constraints the same way otherwise).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime.

    MariaDB and SQLite keep no time zone, so we store one convention everywhere and refuse
    naive values rather than guess what zone they meant.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one (UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# bigint keys everywhere, except that SQLite only autoincrements an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# The largest id: a larger number names no row, and PostgreSQL and MariaDB refuse to compare
# a bigint column with it (an error, not "no row"), so input is checked against it first.
MAX_ID = 2**63 - 1

bigint_pk = Annotated[int, mapped_column(BigId, primary_key=True)]
money = Annotated[Decimal, mapped_column(Numeric(12, 2))]
str255 = Annotated[str, mapped_column(String(255))]
timestamp = Annotated[datetime, mapped_column(UTCDateTime())]


class Base(DeclarativeBase):
    """The declarative base: one metadata with the naming convention."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        # Bare `Mapped[datetime]` is a UTC timestamp and `Mapped[Decimal]` is money.
        type_annotation_map={datetime: UTCDateTime(), Decimal: Numeric(12, 2)},
    )


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """A CHECK that `column` holds one of `values`: the vocabulary lives in one Python tuple."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


class CardTokenMixin:
    """A saved card as the payment gateway's token: brand, last four digits and expiry only.

    PCI: never a card number or a CVV. Shared by companies' and parents' cards.
    """

    gateway: Mapped[str] = mapped_column(String(32))
    token: Mapped[str255]
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(SmallInteger)
    exp_year: Mapped[int] = mapped_column(SmallInteger)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        # Fresh constraint objects per table: a constraint belongs to exactly one table.
        return (
            UniqueConstraint("gateway", "token"),
            CheckConstraint("exp_month >= 1 AND exp_month <= 12", name="exp_month_valid"),
            CheckConstraint("exp_year >= 2000", name="exp_year_valid"),
            CheckConstraint("length(last4) = 4", name="last4_length"),
        )


class TimestampMixin:
    """created_at and updated_at, evaluated per row in UTC (never once at import time)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SoftDeleteMixin:
    """deleted_at marks a row as deleted; ordinary ORM queries do not see it."""

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def soft_delete(self) -> None:
        """Mark deleted now; the caller commits."""
        self.deleted_at = utcnow()


# The criteria, made once: the recipe's per-statement lambda was analysed again on every
# statement.
_NOT_DELETED = with_loader_criteria(
    SoftDeleteMixin, lambda cls: cls.deleted_at.is_(None), include_aliases=True
)
# Each statement with the criteria added, for as long as the statement lives: a statement built
# once (decisions.md, "Statements built once") is then filtered once and its cache key made
# once, instead of on every execution (about a tenth of a statement's cost in the ORM); one
# built per call leaves the map with it.
_with_criteria: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@event.listens_for(Session, "do_orm_execute")
def _hide_soft_deleted(execute_state: ORMExecuteState) -> None:
    """Add `deleted_at IS NULL` for every soft-deletable entity in a SELECT.

    Pass `execution_options(include_deleted=True)` to see deleted rows (audits, KVKK requests).
    This is SQLAlchemy's documented global-filter recipe: the criteria also travel with the
    lazy loads of the objects the query returns.
    """
    if (
        execute_state.is_select
        and not execute_state.is_column_load
        and not execute_state.is_relationship_load
        and not execute_state.execution_options.get("include_deleted", False)
    ):
        statement = execute_state.statement
        filtered = _with_criteria.get(statement)
        if filtered is None:
            filtered = _with_criteria[statement] = statement.options(_NOT_DELETED)
        execute_state.statement = filtered
