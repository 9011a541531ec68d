"""The schema is made by Alembic alone, and the migrations agree with the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal import create_app
from portal.database import include_object
from portal.extensions import db
from tests import dbutil


@pytest.fixture
def empty_database(tmp_path):
    """A database of the suite's dialect with nothing in it, dropped afterwards."""
    url = dbutil.create_database(dbutil.dialect(), tmp_path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


def differences_from_models() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_from_empty_builds_every_model_table(empty_database):
    dbutil.upgrade()

    assert set(db.metadata.tables) <= table_names()
    assert differences_from_models() == []


def test_downgrade_to_base_then_upgrade_again_gives_the_same_schema(empty_database):
    dbutil.upgrade()
    dbutil.downgrade("base")

    assert table_names() - {"alembic_version"} == set()

    dbutil.upgrade()
    assert set(db.metadata.tables) <= table_names()
    assert differences_from_models() == []


def test_upgrade_loads_the_reference_rows(empty_database):
    dbutil.upgrade()
    with db.engine.connect() as connection:
        codes = {
            table: {row.code for row in connection.execute(db.metadata.tables[table].select())}
            for table in ("users_types", "customer_user_roles", "customer_user_titles")
        }
    assert codes["users_types"] == {"parent", "customer_staff", "operator"}
    assert {"admin", "manager", "agent"} <= codes["customer_user_roles"]
    assert codes["customer_user_titles"]
