"""Fixtures for the whole suite: an app on a fresh database of the chosen dialect.

OKUL_TEST_DATABASE picks the database: sqlite (default), postgresql or mariadb. Each test
session creates its own database on the server, builds it with the Alembic migrations, and
drops it at the end; every test starts from empty tables (reference data kept).
"""

import os

os.environ.setdefault("PORTAL_ENV", "test")

import jinja2  # noqa: E402
import pytest  # noqa: E402
from flask import has_app_context  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from werkzeug.routing import Rule  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests import dbutil  # noqa: E402
from tests.factories import Factories  # noqa: E402
from tests.helpers import AuthActions  # noqa: E402

# The fixtures through which a test reaches the chosen database server.
_DATABASE_FIXTURES = {"database_url", "empty_database"}


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL or MariaDB, run only the tests that reach the database.

    The others (pure functions, headers, static checks of the code, a quarter of the suite)
    ran on SQLite in the same CI run, and a server cannot change what they see.
    """
    if dbutil.dialect() == "sqlite":
        return
    kept, dropped = [], []
    for item in items:
        reaches = _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (kept if reaches else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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


class _TemplatesCompiledOnce(jinja2.BytecodeCache):
    """Compiled templates kept for the whole test process.

    Every test makes its own app, and so its own Jinja environment; compiling every template
    again for each test was about a sixth of the suite's time. The key is the template's name
    and the checksum of its source, so an edited template is compiled afresh; every test app
    has the same environment settings (create_app makes them), so the code fits all of them.
    """

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _TemplatesCompiledOnce()

# Werkzeug writes each rule's URL builders as Python source and compiles them (two per rule,
# about 120 rules) for every app: a fifth of the suite's time once templates were kept. A
# builder is a function of the rule's parsed parts and defaults only (it reaches the rule's
# converters through the rule it is bound to), so rules alike in those share one. Private to
# Werkzeug: if it renames _compile_builder, this fails at import; then delete it.
_build_functions: dict[tuple, object] = {}
_compile_builder = Rule._compile_builder


def _compile_builder_once(self: Rule, append_unknown: bool = True):
    key = (
        self.rule,
        tuple(self._trace),
        repr(sorted((self.defaults or {}).items())),
        append_unknown,
    )
    function = _build_functions.get(key)
    if function is None:
        function = _build_functions[key] = _compile_builder(self, append_unknown)
    return function


Rule._compile_builder = _compile_builder_once


@pytest.fixture
def empty_database(tmp_path):
    """A database of the suite's dialect with nothing in it (no migration run), dropped
    afterwards: for the tests of the migrations themselves."""
    url = dbutil.create_database(dbutil.dialect(), tmp_path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


@pytest.fixture
def app(request, database_url):
    """The app on the session's database; `@pytest.mark.config(KEY=value)` overrides settings."""
    settings = {"SQLALCHEMY_DATABASE_URI": database_url}
    for marker in request.node.iter_markers("config"):
        settings.update(marker.kwargs)
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
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
