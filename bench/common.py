"""What the benchmark scripts share: the app on a bench database, its migrations run quietly,
statements on the database server and a database made for one run.

The scripts run as `python bench/<name>.py`, so this folder is on sys.path and `import common`
finds this module.
"""

import contextlib
import io
import os
import sys
from collections.abc import Iterator

import flask_migrate
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app


def bench_app(url: str) -> Flask:
    """The app on the benchmark's database, with the production settings. It serves no
    requests, so the settings production requires for serving (trusted hosts, a shared
    rate-limit store) are filled with what a single process that serves nothing needs."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-not-secret",
            "TRUSTED_HOSTS": ["bench.invalid"],
            "RATELIMIT_SINGLE_PROCESS": True,
        }
    )


def upgrade_quietly() -> None:
    """The migrations, in the current app context; Alembic's log of every revision is shown
    only when the upgrade fails."""
    migrations_log = io.StringIO()
    try:
        with contextlib.redirect_stderr(migrations_log):
            flask_migrate.upgrade()
    except BaseException:
        print(migrations_log.getvalue(), file=sys.stderr)
        raise


def server_execute(server_url, statement: str) -> None:
    """One statement outside a transaction on the database server (CREATE/DROP DATABASE)."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@contextlib.contextmanager
def scratch_database(server_url, prefix: str, keep: bool = False) -> Iterator[str]:
    """A new database `<prefix>_<pid>` on the server for the block; yields its URL and drops
    it afterwards (`keep`: says its name and leaves it, to look at)."""
    server_url = make_url(server_url)
    name = f"{prefix}_{os.getpid()}"
    server_execute(server_url, f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'")
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
