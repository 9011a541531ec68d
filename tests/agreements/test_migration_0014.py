"""Migration 0014 carries existing texts and agreements over, and back."""

from sqlalchemy import text

from portal.extensions import db
from portal.turkish import make_vkn
from tests import dbutil


def test_0014_carries_texts_and_agreements_over_and_back(empty_database):  # noqa: F811
    dbutil.upgrade("0013")
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
                "INSERT INTO agreement_texts (id, code, version, title, body, body_sha256,"
                " started_at, created_at) VALUES (1, 'b2b-service', 1, 'T', 'B', :h, :now, :now)"
            ),
            {"now": now, "h": "0" * 64},
        )
        for id_, status in ((1, "pending_signature"), (2, "active"), (3, "cancelled")):
            connection.execute(
                text(
                    "INSERT INTO customer_agreements (id, customer_id, agreement_text_id,"
                    " agreement_no, status, starts_on, ends_on, total_amount, currency,"
                    " is_inflation_auto_updated, created_at, updated_at) VALUES (:id, 1, 1,"
                    " :no, :status, '2026-01-01', '2026-12-31', 100, 'TRY', false, :now, :now)"
                ),
                {"id": id_, "no": f"A-{id_}", "status": status, "now": now},
            )

    dbutil.upgrade()
    with db.engine.connect() as connection:
        assert (
            connection.execute(  # id 1: 0017 adds the parent's sale texts beside it
                text("SELECT kind, published_at FROM agreement_texts WHERE id = 1")
            ).one()[0]
            == "company_service"
        )
        rows = connection.execute(
            text("SELECT status, ended_reason FROM customer_agreements ORDER BY id")
        ).all()
    assert [row[0] for row in rows] == ["awaiting_signature", "signed", "voided"]
    assert rows[2][1] == "cancelled before migration 0014"

    dbutil.downgrade("0013")
    with db.engine.connect() as connection:
        statuses = (
            connection.execute(text("SELECT status FROM customer_agreements ORDER BY id"))
            .scalars()
            .all()
        )
        code = connection.scalar(text("SELECT code FROM agreement_texts"))
    assert statuses == ["pending_signature", "active", "cancelled"]
    assert code == "company_service"
