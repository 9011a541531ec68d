"""Migration 0019 (issue 14, item 8): the plans, features and categories already there get
their Turkish name as the English one and keep their grouping, and version 1 of the KVKK
texts gets its English translation; the downgrade gives the free-text categories back."""

from hashlib import sha256

from sqlalchemy import text

from portal.extensions import db
from tests import dbutil

NOW = "2026-11-29 10:00:00"


def rows(sql: str) -> list[tuple]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_0019_copies_the_names_and_makes_a_category_of_each_string(empty_database):
    dbutil.upgrade("0018")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO subscription_plans (id, code, name, description, audience, is_active,"
                " sort_order, created_at, updated_at)"
                " VALUES (1, 'veli', 'Veli Artı', 'Açıklama', 'parents', true, 0, :now, :now)"
            ),
            {"now": NOW},
        )
        for feature_id, code, category in ((1, "a", "Veli"), (2, "b", "Veli"), (3, "c", "Destek")):
            connection.execute(
                text(
                    "INSERT INTO plan_features (id, code, name, icon, category, sort_order)"
                    " VALUES (:id, :code, :name, 'fa-solid fa-star', :category, 0)"
                ),
                {"id": feature_id, "code": code, "name": f"Özellik {code}", "category": category},
            )

    dbutil.upgrade("0019")

    assert rows("SELECT name, name_en, description_en FROM subscription_plans") == [
        ("Veli Artı", "Veli Artı", None)
    ]
    assert rows("SELECT code, name, name_en FROM plan_features ORDER BY id") == [
        ("a", "Özellik a", "Özellik a"),
        ("b", "Özellik b", "Özellik b"),
        ("c", "Özellik c", "Özellik c"),
    ]
    assert rows("SELECT code, name, name_en FROM plan_feature_categories ORDER BY code") == [
        ("Destek", "Destek", "Destek"),
        ("Veli", "Veli", "Veli"),
    ]
    texts = rows(
        "SELECT kind, title_en, body, body_sha256, body_en FROM consent_texts WHERE version = 1"
    )
    assert {kind for kind, *_ in texts} == {"kvkk_notice", "kvkk_consent"}
    for _kind, title_en, body, body_sha256, body_en in texts:
        assert title_en and body_en and body_en != body
        assert sha256(body.encode()).hexdigest() == body_sha256  # the binding text untouched

    dbutil.downgrade("0018")

    assert rows("SELECT code, category FROM plan_features ORDER BY id") == [
        ("a", "Veli"),
        ("b", "Veli"),
        ("c", "Destek"),
    ]
