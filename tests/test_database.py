"""portal.database: a request that only read ends its transaction with COMMIT (so PostgreSQL
keeps the statements psycopg prepared), one that wrote without committing is rolled back."""

import pytest
from sqlalchemy import event, func, select, text

from portal.extensions import db
from portal.models import Customer
from tests import dbutil
from tests.factories import Factories


@pytest.fixture
def transaction_ends(app):
    """How each transaction on the app's engine ended, in order."""
    ends = []

    def committed(conn):
        ends.append("commit")

    def rolled_back(conn):
        ends.append("rollback")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    yield ends
    event.remove(engine, "commit", committed)
    event.remove(engine, "rollback", rolled_back)


def test_a_request_that_only_read_commits(client, transaction_ends):
    assert client.get("/").status_code == 200

    assert transaction_ends == ["commit"]


def test_work_that_wrote_without_committing_is_rolled_back(app, transaction_ends):
    with app.app_context():
        Factories(db.session).customer(name="Never Kept")  # flushed, never committed

    with app.app_context():
        kept = db.session.scalar(select(func.count()).where(Customer.name == "Never Kept"))
    assert kept == 0
    assert transaction_ends[0] == "rollback"


def test_an_error_rolls_back_what_was_read(app, transaction_ends):
    with pytest.raises(RuntimeError), app.app_context():
        db.session.scalar(select(func.count(Customer.id)))
        raise RuntimeError("the request failed")

    assert transaction_ends == ["rollback"]


@pytest.mark.skipif(dbutil.dialect() != "postgresql", reason="psycopg prepares on PostgreSQL")
def test_statements_stay_prepared_from_one_request_to_the_next(app, client):
    # psycopg prepares a statement at its fifth run on a connection; a ROLLBACK would forget it.
    for _ in range(6):
        assert client.get("/").status_code == 200

    with app.app_context():
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM schools" in statement for statement in prepared)
