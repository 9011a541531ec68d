"""Agreements (issue 13): versioned texts per kind, the agreement's life and snapshot, and
sign rows that are evidence: never updated or deleted, each chained to the one before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

agreement_texts: `code` becomes `kind` (company_service, parent_distance_sales,
parent_pre_information; an older code that is none of them becomes company_service, and two
such codes with the same version stop the migration: an operator must say which is which),
`created_at` becomes `published_at`, and an optional English translation is added. The
validity windows of one kind never overlap: portal.agreements.texts checks it on every
database, and PostgreSQL also refuses it by an EXCLUDE constraint over
tsrange(started_at, finished_at) (btree_gist gives `kind WITH =` a GiST operator class; the
extension is trusted since PostgreSQL 13, so the database owner may create it). The
constraint is made here alone, like the full-text indexes: the models do not declare it and
autogenerate does not see it. The downgrade leaves the extension installed (something else
may use it).

customer_agreements: the statuses of issue 13 (pending_signature becomes awaiting_signature,
active signed, cancelled voided with the reason "cancelled before migration 0014"), the
required signer roles (existing rows: none), the rendered document sent for signature and
its SHA-256, when it was sent and signed, and who ended it (declined or voided), when and why.

customer_user_agreement_signs: the evidence record (portal.agreements.evidence). The old rows
kept only a hash of the text shown, not the text itself, so no evidence record can be made
of them without inventing it: the migration stops if the table has rows (it has none in
practice; nothing signed before this revision). For the same reason the downgrade stops
rather than drop the evidence columns of rows that exist.

Triggers refuse UPDATE and DELETE of a sign row on PostgreSQL (and TRUNCATE), MariaDB and
SQLite. They are made after SQLite's table copy; a later migration that copies the table on
SQLite (batch mode) must make them again (TRIGGERS below).
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Timestamps are naive UTC (portal.models.base.UTCDateTime); spelled out here so this revision
# never changes when the app's code does.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = ("company_service", "parent_distance_sales", "parent_pre_information")
STATUSES = ("draft", "awaiting_signature", "signed", "declined", "voided", "expired", "renewed")
OLD_STATUSES = ("draft", "pending_signature", "active", "expired", "cancelled")
# Old status -> new status, and back (declined and voided were both "cancelled"; renewed
# agreements had ended, "expired").
STATUS_UP = {"pending_signature": "awaiting_signature", "active": "signed", "cancelled": "voided"}
STATUS_DOWN = {
    "awaiting_signature": "pending_signature",
    "signed": "active",
    "declined": "cancelled",
    "voided": "cancelled",
    "renewed": "expired",
}

SIGNS = "customer_user_agreement_signs"
EXCLUDE = "ex_agreement_texts_kind_validity"
REFUSAL = "customer_user_agreement_signs rows are evidence: never updated or deleted"

# Per dialect: the statements that make the triggers, and those that drop them. Also used by
# the tests' clean-up, which must empty the table between tests.
TRIGGERS = {
    "postgresql": (
        [
            f"""CREATE FUNCTION customer_user_agreement_signs_refuse() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
                    MESSAGE = '{REFUSAL} (' || TG_OP || ' refused)';
            END
            $$""",
            f"""CREATE TRIGGER customer_user_agreement_signs_no_change
            BEFORE UPDATE OR DELETE ON {SIGNS}
            FOR EACH ROW EXECUTE FUNCTION customer_user_agreement_signs_refuse()""",
            f"""CREATE TRIGGER customer_user_agreement_signs_no_truncate
            BEFORE TRUNCATE ON {SIGNS}
            FOR EACH STATEMENT EXECUTE FUNCTION customer_user_agreement_signs_refuse()""",
        ],
        [
            f"DROP TRIGGER customer_user_agreement_signs_no_truncate ON {SIGNS}",
            f"DROP TRIGGER customer_user_agreement_signs_no_change ON {SIGNS}",
            "DROP FUNCTION customer_user_agreement_signs_refuse()",
        ],
    ),
    "mysql": (
        [
            f"""CREATE TRIGGER customer_user_agreement_signs_no_{event.lower()}
            BEFORE {event} ON {SIGNS} FOR EACH ROW
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL} ({event} refused)'"""
            for event in ("UPDATE", "DELETE")
        ],
        [f"DROP TRIGGER customer_user_agreement_signs_no_{e}" for e in ("update", "delete")],
    ),
    "sqlite": (
        [
            f"""CREATE TRIGGER customer_user_agreement_signs_no_{event.lower()}
            BEFORE {event} ON {SIGNS}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL} ({event} refused)'); END"""
            for event in ("UPDATE", "DELETE")
        ],
        [f"DROP TRIGGER customer_user_agreement_signs_no_{e}" for e in ("update", "delete")],
    ),
}


def _dialect():
    name = op.get_bind().dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def _listed(values):
    return ", ".join(f"'{value}'" for value in values)


def _count(table):
    return op.get_bind().scalar(sa.text(f"SELECT COUNT(*) FROM {table}"))  # nosec B608 # a fixed name


def upgrade():
    if _count(SIGNS):
        raise RuntimeError(
            f"{SIGNS} has rows signed before revision 0014: they keep no copy of the document "
            "signed, so no evidence record can be made of them. Export them and decide first."
        )
    _upgrade_texts()
    _upgrade_agreements()
    _upgrade_signs()


def _upgrade_texts():
    op.execute(
        f"UPDATE agreement_texts SET code = 'company_service' WHERE code NOT IN ({_listed(KINDS)})"
    )
    with op.batch_alter_table("agreement_texts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_agreement_texts_code_version"), type_="unique")
        batch_op.alter_column(
            "code",
            new_column_name="kind",
            existing_type=sa.String(length=64),
            type_=sa.String(length=32),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "created_at",
            new_column_name="published_at",
            existing_type=TIMESTAMP,
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("title_en", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("body_en", sa.Text(), nullable=True))
    # A second batch: SQLite's copy loses a constraint on a column renamed in the same batch.
    with op.batch_alter_table("agreement_texts", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            op.f("uq_agreement_texts_kind_version"), ["kind", "version"]
        )
        batch_op.create_check_constraint(
            op.f("ck_agreement_texts_kind_known"), f"kind IN ({_listed(KINDS)})"
        )
        batch_op.create_check_constraint(
            op.f("ck_agreement_texts_version_positive"), "version >= 1"
        )
        batch_op.create_check_constraint(
            op.f("ck_agreement_texts_body_sha256_length"), "length(body_sha256) = 64"
        )
    if _dialect() == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            f"ALTER TABLE agreement_texts ADD CONSTRAINT {EXCLUDE} EXCLUDE USING gist "
            "(kind WITH =, tsrange(started_at, finished_at, '[)') WITH &&)"
        )


def _upgrade_agreements():
    with op.batch_alter_table("customer_agreements", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_customer_agreements_status_known"), type_="check")
        batch_op.add_column(sa.Column("required_roles", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("document_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("document_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sent_at", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("signed_at", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("ended_at", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("ended_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("ended_by_user_id", BIGID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_customer_agreements_ended_by_user_id_users"),
            "users",
            ["ended_by_user_id"],
            ["id"],
        )
        batch_op.create_index(
            op.f("ix_customer_agreements_ended_by_user_id"), ["ended_by_user_id"], unique=False
        )

    for old, new in STATUS_UP.items():
        op.execute(f"UPDATE customer_agreements SET status = '{new}' WHERE status = '{old}'")
    op.execute(
        "UPDATE customer_agreements SET ended_reason = 'cancelled before migration 0014', "
        "ended_at = updated_at WHERE status = 'voided'"
    )
    agreements = sa.table("customer_agreements", sa.column("required_roles", sa.JSON()))
    op.get_bind().execute(
        agreements.update().where(agreements.c.required_roles.is_(None)).values(required_roles=[])
    )

    with op.batch_alter_table("customer_agreements", schema=None) as batch_op:
        batch_op.alter_column("required_roles", existing_type=sa.JSON(), nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_customer_agreements_status_known"), f"status IN ({_listed(STATUSES)})"
        )
        batch_op.create_check_constraint(
            op.f("ck_customer_agreements_document_hashed"),
            "(document_text IS NULL AND document_sha256 IS NULL) OR "
            "(document_text IS NOT NULL AND document_sha256 IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            op.f("ck_customer_agreements_document_sha256_length"),
            "document_sha256 IS NULL OR length(document_sha256) = 64",
        )
        batch_op.create_check_constraint(
            op.f("ck_customer_agreements_ending_explained"),
            "status NOT IN ('declined', 'voided') OR "
            "(ended_reason IS NOT NULL AND ended_at IS NOT NULL)",
        )


def _upgrade_signs():
    with op.batch_alter_table(SIGNS, schema=None) as batch_op:
        batch_op.alter_column(
            "text_sha256",
            new_column_name="document_sha256",
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "ip_address",
            new_column_name="client_ip",
            existing_type=sa.String(length=45),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("signer_role", sa.String(length=32), nullable=False))
        batch_op.add_column(sa.Column("signer_name", sa.String(length=255), nullable=False))
        batch_op.add_column(sa.Column("signer_email", sa.String(length=255), nullable=False))
        batch_op.add_column(sa.Column("document_text", sa.Text(), nullable=False))
        batch_op.add_column(sa.Column("peer_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("auth_method", sa.String(length=32), nullable=False))
        batch_op.add_column(sa.Column("previous_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("record_hash", sa.String(length=64), nullable=False))
        batch_op.create_unique_constraint(
            op.f("uq_customer_user_agreement_signs_record_hash"), ["record_hash"]
        )
        batch_op.create_unique_constraint(
            op.f("uq_customer_user_agreement_signs_customer_agreement_id_sequence"),
            ["customer_agreement_id", "sequence"],
        )
        batch_op.create_check_constraint(
            op.f("ck_customer_user_agreement_signs_sequence_positive"), "sequence >= 1"
        )
        batch_op.create_check_constraint(
            op.f("ck_customer_user_agreement_signs_chain_linked"),
            "(sequence = 1 AND previous_hash IS NULL) OR (sequence > 1 AND previous_hash IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            op.f("ck_customer_user_agreement_signs_document_sha256_length"),
            "length(document_sha256) = 64",
        )
        batch_op.create_check_constraint(
            op.f("ck_customer_user_agreement_signs_record_hash_length"), "length(record_hash) = 64"
        )
        batch_op.create_check_constraint(
            op.f("ck_customer_user_agreement_signs_previous_hash_length"),
            "previous_hash IS NULL OR length(previous_hash) = 64",
        )
    for statement in TRIGGERS[_dialect()][0]:
        op.execute(statement)


def downgrade():
    if _count(SIGNS):
        raise RuntimeError(
            f"{SIGNS} has evidence records; downgrading would drop the documents signed. "
            "Export them first."
        )
    for statement in TRIGGERS[_dialect()][1]:
        op.execute(statement)
    _downgrade_signs()
    _downgrade_agreements()
    _downgrade_texts()


def _downgrade_signs():
    with op.batch_alter_table(SIGNS, schema=None) as batch_op:
        for name in (
            "previous_hash_length",
            "record_hash_length",
            "document_sha256_length",
            "chain_linked",
            "sequence_positive",
        ):
            batch_op.drop_constraint(
                op.f(f"ck_customer_user_agreement_signs_{name}"), type_="check"
            )
        batch_op.drop_constraint(
            op.f("uq_customer_user_agreement_signs_customer_agreement_id_sequence"), type_="unique"
        )
        batch_op.drop_constraint(
            op.f("uq_customer_user_agreement_signs_record_hash"), type_="unique"
        )
        for column in (
            "record_hash",
            "previous_hash",
            "auth_method",
            "peer_ip",
            "document_text",
            "signer_email",
            "signer_name",
            "signer_role",
            "sequence",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column(
            "client_ip",
            new_column_name="ip_address",
            existing_type=sa.String(length=45),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "document_sha256",
            new_column_name="text_sha256",
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )


def _downgrade_agreements():
    with op.batch_alter_table("customer_agreements", schema=None) as batch_op:
        for name in (
            "ending_explained",
            "document_sha256_length",
            "document_hashed",
            "status_known",
        ):
            batch_op.drop_constraint(op.f(f"ck_customer_agreements_{name}"), type_="check")
    for new, old in STATUS_DOWN.items():
        op.execute(f"UPDATE customer_agreements SET status = '{old}' WHERE status = '{new}'")
    with op.batch_alter_table("customer_agreements", schema=None) as batch_op:
        # The key before its index: MariaDB keeps an index its foreign key needs.
        batch_op.drop_constraint(
            op.f("fk_customer_agreements_ended_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(op.f("ix_customer_agreements_ended_by_user_id"))
        for column in (
            "ended_by_user_id",
            "ended_reason",
            "ended_at",
            "signed_at",
            "sent_at",
            "document_sha256",
            "document_text",
            "required_roles",
        ):
            batch_op.drop_column(column)
        batch_op.create_check_constraint(
            op.f("ck_customer_agreements_status_known"), f"status IN ({_listed(OLD_STATUSES)})"
        )


def _downgrade_texts():
    if _dialect() == "postgresql":
        op.execute(f"ALTER TABLE agreement_texts DROP CONSTRAINT {EXCLUDE}")
    with op.batch_alter_table("agreement_texts", schema=None) as batch_op:
        for name in ("body_sha256_length", "version_positive", "kind_known"):
            batch_op.drop_constraint(op.f(f"ck_agreement_texts_{name}"), type_="check")
        batch_op.drop_constraint(op.f("uq_agreement_texts_kind_version"), type_="unique")
        batch_op.drop_column("body_en")
        batch_op.drop_column("title_en")
        batch_op.alter_column(
            "published_at",
            new_column_name="created_at",
            existing_type=TIMESTAMP,
            existing_nullable=False,
        )
        batch_op.alter_column(
            "kind",
            new_column_name="code",
            existing_type=sa.String(length=32),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
        batch_op.create_unique_constraint(
            op.f("uq_agreement_texts_code_version"), ["code", "version"]
        )
