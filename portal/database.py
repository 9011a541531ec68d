"""Per-dialect connection settings, and the queries that differ between the three databases."""

import sqlite3
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Update,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    table,
    true,
    update,
)
from sqlalchemy.dialects.mysql import match
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import User, UserType
from portal.search_text import fold


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record) -> None:
    """Make each database keep the same promises on every new connection."""
    cursor = dbapi_connection.cursor()
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys = ON")
        # Write-ahead logging: readers no longer block the writer nor it them, so a page being
        # read does not hold back the mail a request hands off after its response. A file
        # database keeps the mode; an in-memory one answers "memory" and stays as it is.
        cursor.execute("PRAGMA journal_mode = WAL")
    elif type(dbapi_connection).__module__.startswith("pymysql"):
        # Refuse bad data instead of truncating it, and read/write timestamps as UTC.
        cursor.execute(
            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
            "NO_ZERO_DATE,NO_ZERO_IN_DATE,NO_ENGINE_SUBSTITUTION'"
        )
        cursor.execute("SET time_zone = '+00:00'")
    cursor.close()


# --- A request that only read ends its transaction with COMMIT ---------------------------------
# psycopg prepares a statement on the server at its fifth run on a connection, so PostgreSQL
# stops planning it on every run (1-5 ms of the server's time for the pages' larger
# statements), but forgets every prepared statement at a ROLLBACK. The session's close at the
# end of a request rolls back, so nothing ever stayed prepared. A transaction that wrote
# nothing ends the same with COMMIT, so a request that only read commits; one that wrote and
# did not commit is rolled back as before. (decisions.md, "Performance round: prepared
# statements kept".)
_WROTE = "portal.wrote"


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn, cursor, statement, parameters, context, executemany) -> None:
    # Anything but a SELECT counts as a write: DML, DDL, a SAVEPOINT, a CTE (which may hide
    # one). A SELECT ... FOR UPDATE only locks, and a COMMIT frees its locks as a ROLLBACK does.
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_ended(conn) -> None:
    conn.info.pop(_WROTE, None)


def init_app(app) -> None:
    """End each request's transaction with COMMIT when it wrote nothing. Registered after
    Flask-SQLAlchemy's own teardown, so it runs before the session is removed."""
    app.teardown_appcontext(_commit_if_only_read)


def _commit_if_only_read(exception) -> None:
    if exception is not None or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    if not session.connection().info.get(_WROTE):
        # Without expiring: what the request loaded stays readable after it, as it did
        # when the close rolled back (mail sent after the response reads its objects).
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire


class NamedUser(NamedTuple):
    """A user as the search lists them: no object, only the columns shown."""

    id: int
    name: str
    email: str
    type_name: str


def users_named(session, words: str, limit: int = 50) -> list[NamedUser]:
    """Users whose name matches `words`, through each database's own full-text index.

    PostgreSQL: a GIN index over to_tsvector('simple', name_folded); MariaDB: a FULLTEXT
    index on name_folded; SQLite: the FTS5 table users_name_fts that triggers keep in step
    with users.name_folded (migration 0009). Words and names are folded alike first.

    Plain rows of the listed columns, with the soft-delete rule written in (Core execution
    skips the ORM's global criteria): the database's part is a fraction of a millisecond, and
    building objects would cost several times that on every search (issue 10: at most 0.02 x
    a LIKE scan).
    """
    dialect = session.get_bind().dialect.name
    query = name_query(dialect, words)
    if query is None:
        return []
    # Core execution on the session's connection: rows of columns need none of the ORM's
    # machinery (about a third of the search's cost when the index answers in 0.1 ms).
    rows = session.connection().execute(_name_search(dialect), {"q": query, "limit": limit})
    return [NamedUser(*row) for row in rows]


@cache
def _name_search(dialect: str) -> Select:
    """The search's statement for a dialect, built once: only its parameters change."""
    condition = name_matches(
        dialect, User.name_folded, User.id, "users_name_fts", bindparam("q", type_=String)
    )
    return (
        select(User.id, User.name, User.email, UserType.name)
        .join(UserType, UserType.id == User.user_type_id)
        .where(condition, User.deleted_at.is_(None))
        .order_by(User.name, User.id)
        .limit(bindparam("limit", type_=Integer))
    )


# --- Names through the full-text indexes -----------------------------------------------------
# Each searchable name has a `*_folded` column (portal.search_text.fold) under its database's
# full-text index (migrations 0009 and 0010): a GIN expression index over
# to_tsvector('simple', ...) on PostgreSQL, a FULLTEXT index on MariaDB, an FTS5 table whose
# rowid is the row's id on SQLite. Users and schools are searched the same way: the typed
# words, folded, each matched as the start of a word of the name (the way people type names
# into a search box), all of them required.


def name_query(dialect: str, words: str) -> str | None:
    """What `words` become in the dialect's full-text query language; None when nothing
    searchable was typed.

    Folded as the index is (portal.search_text): "YILMAZ", "yilmaz" and "Yılmaz" are one.
    Each language's operators are taken out of the words, so nothing typed is read as syntax.
    """
    folded = fold(words).split()
    if dialect == "postgresql":
        terms = [_alnum(w) + ":*" for w in folded if _alnum(w)]
        return " & ".join(terms) or None
    if dialect in ("mysql", "mariadb"):
        terms = ["+" + _alnum(w) + "*" for w in folded if _alnum(w)]
        return " ".join(terms) or None
    # FTS5: each word a quoted string (quotes doubled), so its own syntax is never parsed.
    return " ".join('"' + w.replace('"', '""') + '"*' for w in folded if _alnum(w)) or None


def name_matches(
    dialect: str, folded_column, id_column, fts_table: str, query
) -> ColumnElement[bool]:
    """The condition "this row's folded name matches `query`" (a name_query() string, bound
    or a bindparam), through the dialect's full-text index on `folded_column`.

    `fts_table` is SQLite's FTS5 table of that column, whose rowid is `id_column`.
    """
    if not isinstance(query, BindParameter):
        query = bindparam(None, query, type_=String)
    if dialect == "postgresql":
        simple = literal_column("'simple'")
        return func.to_tsvector(simple, folded_column).op("@@")(func.to_tsquery(simple, query))
    if dialect in ("mysql", "mariadb"):
        return match(folded_column, against=query).in_boolean_mode()
    return id_column.in_(
        select(literal_column("rowid"))
        .select_from(table(fts_table))
        .where(literal_column(fts_table).op("MATCH")(query))
    )


def _alnum(word: str) -> str:
    # to_tsquery and MariaDB's boolean mode have their own syntax; keep letters and digits.
    return "".join(ch for ch in word if ch.isalnum())


# The full-text indexes on users.name_folded and schools.name_folded are dialect-specific DDL
# made by the migrations alone (a GIN expression index, a FULLTEXT index, or an FTS5 table with
# its triggers and shadow tables), so autogenerate must neither drop them nor ask the models to
# declare them.
FULLTEXT_NAMES = ("users_name_fts", "ix_users_name_fts", "schools_name_fts", "ix_schools_name_fts")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: leave the hand-written full-text objects out of comparisons."""
    return not (name or "").startswith(FULLTEXT_NAMES)


def insert_many(session: Session, model, rows: list[dict], **same) -> None:
    """INSERT rows (dicts with the same keys, plus `same` in every row) into a model's table.

    PostgreSQL with psycopg: one INSERT ... SELECT FROM unnest() of an array per column, a
    statement that is short and the same for every batch. executemany would send a VALUES
    list as long as the batch, which costs the server about twice as much and the driver far
    more to build. Elsewhere: executemany.
    """
    if not rows:
        return
    if not _takes_arrays(session):
        session.execute(insert(model), [{**row, **same} for row in rows])
        return
    table = model.__table__
    names = [*rows[0], *same]
    arrays, params = _arrays(session, table, rows, same)
    session.connection().exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})",  # nosec B608 # names are the model's columns, values are bound
        params,
    )


def update_if(session: Session, row, condition: ColumnElement[bool], **values) -> bool:
    """UPDATE `row` with `values` only while `condition` holds on it: a state moving on once
    (a lead out of "open", an offer answered), whichever of two requests at once comes second.
    True when it moved; otherwise the row is read again, as the winner left it, and False."""
    model = type(row)
    moved = session.execute(
        update(model)
        .where(model.id == row.id, condition)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if moved != 1:
        session.refresh(row)
    return moved == 1


def hashed_filter(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition`, an IN (subquery) on a bound parameter, kept as a filter each row is
    checked against.

    PostgreSQL turns an IN at the top of a WHERE into a semi-join, planned with the
    subquery's size as a prepared statement's generic plan guesses it (one row for "this
    member's grants"): for a member with 200 grants it compared every school of the company
    with every grant (40,000 comparisons, 1.7 ms, against 0.5 ms). Written `(... IN ...) IS
    TRUE`, the same truth, it is hashed once and looked up per row whatever the guess (it is
    how an IN under an OR is always run). MariaDB and SQLite read it as the plain IN.
    """
    return condition.is_(true())


def update_or_insert(session: Session, statement: Update, make_row: Callable[[], object]) -> None:
    """Run the UPDATE `statement` on a row that may not exist yet: when it touched none,
    `make_row()` inserts it (with what the update would have done) in a savepoint; when
    another transaction made it meanwhile, the insert is refused by the row's key and the
    update runs again, on that row. Two requests at once never lose a step (counters)."""
    if session.execute(statement).rowcount == 1:
        return
    try:
        with session.begin_nested():
            make_row()
    except IntegrityError:  # made meanwhile by another request: count on it
        session.execute(statement)


def update_many(session: Session, model, rows: list[dict], **same) -> None:
    """UPDATE rows of a model's table by id: each dict holds the id and new values, `same`
    holds values for every row.

    PostgreSQL with psycopg: one UPDATE ... FROM unnest() of an array per column (see
    insert_many). Elsewhere: executemany, an UPDATE per row.
    """
    if not rows:
        return
    if not _takes_arrays(session):
        session.execute(update(model), [{**row, **same} for row in rows])
        return
    table = model.__table__
    names = [*rows[0], *same]
    arrays, params = _arrays(session, table, rows, same)
    assignments = ", ".join(f"{name} = batch.{name}" for name in names if name != "id")
    session.connection().exec_driver_sql(
        f"UPDATE {table.name} SET {assignments} FROM unnest({arrays})"  # nosec B608 # names are the model's columns, values are bound
        f" AS batch ({', '.join(names)}) WHERE {table.name}.id = batch.id",
        params,
    )


def _takes_arrays(session: Session) -> bool:
    # unnest() is PostgreSQL's; binary parameters (%b) are psycopg 3's.
    dialect = session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def _arrays(session: Session, table, rows: list[dict], same: dict) -> tuple[str, dict]:
    # One array per column, converted by the column's own type (UTCDateTime makes aware times
    # naive UTC) and sent in binary (%b): psycopg's text form quotes and escapes each string
    # element, several times slower. The cast names the element type even when all are NULL.
    dialect = session.get_bind().dialect
    casts, params = [], {}
    for name in [*rows[0], *same]:
        column_type = table.c[name].type
        convert = column_type.bind_processor(dialect) or (lambda value: value)
        if name in same:
            params[name] = [convert(same[name])] * len(rows)
        else:
            params[name] = [convert(row[name]) for row in rows]
        casts.append(f"CAST(%({name})b AS {column_type.compile(dialect=dialect)}[])")
    return ", ".join(casts), params
