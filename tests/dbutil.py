"""Create and drop throwaway databases on SQLite, PostgreSQL and MariaDB for the tests."""

import functools
import importlib.util
import os
import uuid
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import create_engine, delete, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

SERVER_URLS = {
    "postgresql": os.environ.get(
        "OKUL_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get("OKUL_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/"),
}


def dialect() -> str:
    """The database the suite runs on (OKUL_TEST_DATABASE, default sqlite)."""
    name = os.environ.get("OKUL_TEST_DATABASE", "sqlite")
    if name not in ("sqlite", "postgresql", "mariadb"):
        raise pytest.UsageError(f"OKUL_TEST_DATABASE must be sqlite, postgresql or mariadb: {name}")
    return name


def unavailable(reason: str):
    """Skip on a developer's machine; in CI a missing service is a failure, not a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: nothing may be skipped)", pytrace=False)
    pytest.skip(reason)


def create_database(name: str, folder: Path) -> str:
    """A new, empty database; returns its URL."""
    if name == "sqlite":
        return f"sqlite:///{folder / ('okul_' + uuid.uuid4().hex[:8] + '.db')}"
    server = make_url(SERVER_URLS[name])
    database = f"okul_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if name == "postgresql":
                connection.execute(text(f"CREATE DATABASE \"{database}\" ENCODING 'UTF8'"))
            else:
                connection.execute(
                    text(
                        f"CREATE DATABASE `{database}` "
                        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                )
    except OperationalError as error:
        unavailable(f"{name} is not reachable at {server.render_as_string()}: {error.orig}")
    finally:
        engine.dispose()
    url = server.set(database=database)
    if name == "mariadb":
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url.render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database made by create_database (a SQLite file is left to tmp_path)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    name = "postgresql" if parsed.get_backend_name() == "postgresql" else "mariadb"
    engine = create_engine(SERVER_URLS[name], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if name == "postgresql":
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        else:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
    engine.dispose()


def upgrade(revision: str = "head") -> None:
    """`flask db upgrade` in the current app context."""
    flask_migrate.upgrade(revision=revision)


def downgrade(revision: str = "base") -> None:
    """`flask db downgrade` in the current app context."""
    flask_migrate.downgrade(revision=revision)


# Rows made by the migrations themselves; tests may rely on them.
REFERENCE_TABLES = {"users_types", "customer_user_roles", "customer_user_titles", "consent_texts"}


# Sign rows and parents' acceptances are evidence: triggers refuse deleting them (migrations
# 0014 and 0016). Between tests they are deleted with the triggers dropped and made again, by
# the migrations' own statements.
_VERSIONS = Path(__file__).resolve().parent.parent / "migrations/versions"
EVIDENCE_TABLES = {
    "customer_user_agreement_signs": _VERSIONS / "0014_agreements.py",
    "user_agreement_acceptances": _VERSIONS / "0016_agreement_payments_renewals_acceptances.py",
}


def evidence_triggers(
    dialect_name: str, table: str = "customer_user_agreement_signs"
) -> tuple[list[str], list[str]]:
    """The statements that make and drop an evidence table's triggers on this dialect."""
    module = _migration(EVIDENCE_TABLES[table])
    return module.TRIGGERS["mysql" if dialect_name in ("mysql", "mariadb") else dialect_name]


@functools.cache
def _migration(path: Path):
    """A migration's module, loaded once a test process (every test's clean-up reads two)."""
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _purge_evidence(connection, filled: set[str]) -> None:
    for table in EVIDENCE_TABLES:
        if table not in filled:
            continue
        create, drop = evidence_triggers(connection.dialect.name, table)
        for statement in drop:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"DELETE FROM {table}")  # nosec B608 # a fixed name
        for statement in create:
            connection.exec_driver_sql(statement)


# The parent's sale texts, version 1, made by migration 0017: parent checkout sells nothing
# without them, so like reference data every test starts with them: the clean-up deletes every
# agreement text and puts these back as the migration made them (new ids, windows open).
# Tests about texts that need a kind without any version use remove_sale_texts().
_SALE_TEXTS = _VERSIONS / "0017_parent_sale_texts.py"


def _sale_texts_migration():
    return _migration(_SALE_TEXTS)


def restore_sale_texts(connection) -> None:
    """Insert migration 0017's rows (through its own table, which takes naive UTC)."""
    migration = _sale_texts_migration()
    connection.execute(insert(migration.agreement_texts), migration.rows())


def remove_sale_texts(connection) -> None:
    """Delete the parent's sale texts (nothing may refer to them yet)."""
    migration = _sale_texts_migration()
    table = migration.agreement_texts
    connection.execute(
        delete(table).where(table.c.kind.in_([text["kind"] for text in migration.TEXTS]))
    )


def empty_tables(engine, metadata) -> None:
    """Delete every row a test made, children first, keeping the migrations' reference data.

    Only the tables that hold rows are touched, found in one statement: a test fills a few of
    the sixty, and a DELETE for each of the others was a fifth of a server pass's time.
    """
    with engine.begin() as connection:
        filled = _tables_with_rows(connection, metadata)
        _purge_evidence(connection, filled)
        if "payments" in filled:
            # Refunds first: MariaDB checks the self-reference (payments.refunded_payment_id)
            # row by row, and one DELETE may reach a charge before its refund.
            connection.exec_driver_sql("DELETE FROM payments WHERE refunded_payment_id IS NOT NULL")
        for table in reversed(metadata.sorted_tables):
            if table.name in filled:
                connection.execute(delete(table))
        restore_sale_texts(connection)


def _tables_with_rows(connection, metadata) -> set[str]:
    """The names of the tables (reference tables aside) that hold at least one row."""
    quote = connection.dialect.identifier_preparer.quote
    # Each probe a derived table of at most one row: a form all three databases take.
    probes = [
        f"SELECT '{table.name}' AS name FROM (SELECT 1 AS one FROM {quote(table.name)} LIMIT 1) q"
        for table in metadata.sorted_tables
        if table.name not in REFERENCE_TABLES
    ]
    return set(connection.exec_driver_sql(" UNION ALL ".join(probes)).scalars())  # nosec B608
