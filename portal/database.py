"""Per-dialect connection settings, and the queries that differ between the three databases."""

import sqlite3

from sqlalchemy import event, func, literal_column, select, text
from sqlalchemy.engine import Engine

from portal.models import User


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record) -> None:
    """Make each database keep the same promises on every new connection."""
    cursor = dbapi_connection.cursor()
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys = ON")
    elif type(dbapi_connection).__module__.startswith("pymysql"):
        # Refuse bad data instead of truncating it, and read/write timestamps as UTC.
        cursor.execute(
            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
            "NO_ZERO_DATE,NO_ZERO_IN_DATE,NO_ENGINE_SUBSTITUTION'"
        )
        cursor.execute("SET time_zone = '+00:00'")
    cursor.close()


def users_named(session, words: str, limit: int = 50) -> list[User]:
    """Users whose name matches `words`, through each database's own full-text index.

    PostgreSQL: a GIN index over to_tsvector('simple', name); MariaDB: a FULLTEXT index;
    SQLite: the FTS5 table users_name_fts that triggers keep in step with users.
    """
    words = " ".join(w for w in words.split() if w)
    if not words:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Prefix match on every word, the way people type names into a search box.
        query = " & ".join(_tsquery_word(w) + ":*" for w in words.split())
        condition = func.to_tsvector(literal_column("'simple'"), User.name).op("@@")(
            func.to_tsquery(literal_column("'simple'"), query)
        )
    elif dialect in ("mysql", "mariadb"):
        query = " ".join("+" + _boolean_word(w) + "*" for w in words.split())
        condition = text("MATCH (users.name) AGAINST (:q IN BOOLEAN MODE)").bindparams(q=query)
    else:
        query = " ".join('"' + w.replace('"', '""') + '"*' for w in words.split())
        condition = User.id.in_(
            select(literal_column("rowid"))
            .select_from(text("users_name_fts"))
            .where(text("users_name_fts MATCH :q").bindparams(q=query))
        )
    return list(session.scalars(select(User).where(condition).order_by(User.name).limit(limit)))


def _tsquery_word(word: str) -> str:
    # to_tsquery has its own syntax; keep letters and digits only.
    return "".join(ch for ch in word if ch.isalnum()) or "_"


def _boolean_word(word: str) -> str:
    return "".join(ch for ch in word if ch.isalnum()) or "_"


# The full-text index on users.name is dialect-specific DDL made by the migrations alone (a GIN
# expression index, a FULLTEXT index, or an FTS5 table with its triggers and shadow tables), so
# autogenerate must neither drop it nor ask the models to declare it.
FULLTEXT_OBJECT_PREFIX = "users_name_fts"
FULLTEXT_INDEX_NAME = "ix_users_name_fts"


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: leave the hand-written full-text objects out of comparisons."""
    return not (name or "").startswith((FULLTEXT_OBJECT_PREFIX, FULLTEXT_INDEX_NAME))
