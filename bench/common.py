"""What the benchmark scripts share: the app on a bench database, its migrations run quietly,
and statements on the database server.

The scripts run as `python bench/<name>.py`, so this folder is on sys.path and `import common`
finds this module.
"""

import contextlib
import io
import os
import sys

import flask_migrate
from flask import Flask
from sqlalchemy import create_engine, text

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
