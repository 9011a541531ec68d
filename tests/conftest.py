"""Fixtures for the whole suite: an app on a fresh database of the chosen dialect.

OKUL_TEST_DATABASE picks the database: sqlite (default), postgresql or mariadb. Each test
session creates its own database on the server, builds it with the Alembic migrations, and
drops it at the end; every test starts from empty tables (reference data kept).
"""

import os

os.environ.setdefault("PORTAL_ENV", "test")

import pytest  # noqa: E402
from flask import has_app_context  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests import dbutil  # noqa: E402
from tests.factories import Factories  # noqa: E402
from tests.helpers import AuthActions  # noqa: E402


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A freshly created database on the chosen server, migrated to head."""
    url = dbutil.create_database(dbutil.dialect(), tmp_path_factory.mktemp("db"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        dbutil.upgrade()
        db.engine.dispose()
    yield url
    dbutil.drop_database(url)


@pytest.fixture
def app(request, database_url):
    """The app on the session's database; `@pytest.mark.config(KEY=value)` overrides settings."""
    settings = {"SQLALCHEMY_DATABASE_URI": database_url}
    for marker in request.node.iter_markers("config"):
        settings.update(marker.kwargs)
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    yield app
    with app.app_context():
        db.session.remove()
        dbutil.empty_tables(db.engine, db.metadata)
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production.

    Otherwise a request made while a test holds an app context (the `session` fixture) would
    share that context's `g` and database session, and stale objects could hide bugs.
    """

    def open(self, *args, **kwargs):
        # Read the whole body, then close the response, as a server does: what runs on close
        # (mail committed by the request is delivered then) has run when the test looks.
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            # The test's own session must see what the request committed: end its transaction
            # (MariaDB's REPEATABLE READ would keep showing the snapshot from before), which
            # also expires the objects it holds.
            db.session.commit()
        return response


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """db.session inside an app context, for arranging data and reading what views wrote."""
    with app.app_context():
        yield db.session


@pytest.fixture
def make(session):
    """Factories that build valid rows (see tests/factories.py)."""
    return Factories(session)


@pytest.fixture
def parent(make, session):
    """A verified parent (tests may override this with their own)."""
    user = make.user("parent")
    session.commit()
    return user


@pytest.fixture
def signed_in(parent, auth):
    """The parent, signed in on `client`."""
    auth.login(parent.email)
    return parent


@pytest.fixture
def auth(client):
    return AuthActions(client)
