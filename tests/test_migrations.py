"""The schema is made by Alembic alone, and the migrations agree with the models."""

from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from portal.database import include_object
from portal.extensions import db
from portal.turkish import make_vkn
from tests import dbutil


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


def test_0010_carries_a_school_fee_range_over_to_fee_rows_and_back(empty_database):
    """The range a school entered is not lost: the youngest level gets its low end and the
    oldest its high end at every live campus; the downgrade derives the range back."""
    dbutil.upgrade("0009")
    now = "2026-11-29 10:00:00"
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, name, customer_type, is_inflation_auto_updated,"
                " country_code, is_active, tax_number, created_at, updated_at)"
                " VALUES (1, 'Bilge', 'company', false, 'TR', true, :vkn, :now, :now)"
            ),
            {"now": now, "vkn": make_vkn("123456789")},
        )
        connection.execute(
            text(
                "INSERT INTO schools (id, customer_id, name, slug, city, district,"
                " yearly_fee_min, yearly_fee_max, is_published, created_at, updated_at)"
                " VALUES (1, 1, 'IŞIK Koleji', 'isik', 'İstanbul', 'Kadıköy', 100000, 300000,"
                " true, :now, :now)"
            ),
            {"now": now},
        )
        for level in ("preschool", "primary", "high"):
            connection.execute(
                text("INSERT INTO school_levels (school_id, level) VALUES (1, :level)"),
                {"level": level},
            )
        for campus_id, deleted in ((1, None), (2, now)):
            connection.execute(
                text(
                    "INSERT INTO campuses (id, school_id, name, city, district, created_at,"
                    " updated_at, deleted_at) VALUES (:id, 1, 'Kampüs', 'İstanbul', 'Kadıköy',"
                    " :now, :now, :deleted)"
                ),
                {"id": campus_id, "now": now, "deleted": deleted},
            )

    dbutil.upgrade()
    with db.engine.connect() as connection:
        fees = connection.execute(
            text("SELECT campus_id, level, yearly_fee FROM school_fees ORDER BY yearly_fee")
        ).all()
        folded = connection.scalar(text("SELECT name_folded FROM schools WHERE id = 1"))
    assert [(campus, level, Decimal(fee)) for campus, level, fee in fees] == [
        (1, "preschool", Decimal("100000")),
        (1, "high", Decimal("300000")),
    ]
    assert folded == "isik koleji"

    dbutil.downgrade("0009")
    with db.engine.connect() as connection:
        low, high = connection.execute(
            text("SELECT yearly_fee_min, yearly_fee_max FROM schools WHERE id = 1")
        ).one()
    assert (Decimal(low), Decimal(high)) == (Decimal("100000"), Decimal("300000"))
