"""Agreements paid, renewed and accepted by parents (issue 13, items 5-7).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29

payments: `customer_agreement_id` (what an `agreement` payment paid for), the purpose
`agreement`, and one succeeded charge per agreement and period (unique with charged_period,
as for subscriptions). Batch mode: SQLite must copy the table to change its CHECK.

customer_agreements_renew_logs: `renewed_agreement_id`, the next term a renewal made (the
row's customer_agreement_id is the term that ended). customer_agreements_renew_discounts:
`due_on`, when the sales person following the offer must next act. Plain ADD COLUMN.

user_agreement_acceptances: a parent's confirmation of the pre-information form and the
distance sales contract before an online sale, with the evidence of a signature
(portal.agreements.evidence). Its rows are evidence: triggers refuse UPDATE and DELETE on
PostgreSQL (and TRUNCATE), MariaDB and SQLite, as for customer_user_agreement_signs (0014).
A later migration that copies the table on SQLite (batch mode) must make them again
(TRIGGERS below).
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

OLD_PURPOSES = ("first_charge", "renewal", "trial_end", "plan_change")
PURPOSES = (*OLD_PURPOSES, "agreement")
ACCEPTANCES = "user_agreement_acceptances"
REFUSAL = "user_agreement_acceptances rows are evidence: never updated or deleted"


def _listed(values):
    return ", ".join(f"'{value}'" for value in values)


# Per dialect: the statements that make the triggers, and those that drop them. Also used by
# the tests' clean-up, which must empty the table between tests.
TRIGGERS = {
    "postgresql": (
        [
            f"""CREATE FUNCTION user_agreement_acceptances_refuse() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
                    MESSAGE = '{REFUSAL} (' || TG_OP || ' refused)';
            END
            $$""",
            f"""CREATE TRIGGER user_agreement_acceptances_no_change
            BEFORE UPDATE OR DELETE ON {ACCEPTANCES}
            FOR EACH ROW EXECUTE FUNCTION user_agreement_acceptances_refuse()""",
            f"""CREATE TRIGGER user_agreement_acceptances_no_truncate
            BEFORE TRUNCATE ON {ACCEPTANCES}
            FOR EACH STATEMENT EXECUTE FUNCTION user_agreement_acceptances_refuse()""",
        ],
        [
            f"DROP TRIGGER user_agreement_acceptances_no_truncate ON {ACCEPTANCES}",
            f"DROP TRIGGER user_agreement_acceptances_no_change ON {ACCEPTANCES}",
            "DROP FUNCTION user_agreement_acceptances_refuse()",
        ],
    ),
    "mysql": (
        [
            f"""CREATE TRIGGER user_agreement_acceptances_no_{event.lower()}
            BEFORE {event} ON {ACCEPTANCES} FOR EACH ROW
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL} ({event} refused)'"""
            for event in ("UPDATE", "DELETE")
        ],
        [f"DROP TRIGGER user_agreement_acceptances_no_{e}" for e in ("update", "delete")],
    ),
    "sqlite": (
        [
            f"""CREATE TRIGGER user_agreement_acceptances_no_{event.lower()}
            BEFORE {event} ON {ACCEPTANCES}
            BEGIN SELECT RAISE(ABORT, '{REFUSAL} ({event} refused)'); END"""
            for event in ("UPDATE", "DELETE")
        ],
        [f"DROP TRIGGER user_agreement_acceptances_no_{e}" for e in ("update", "delete")],
    ),
}


def _dialect():
    name = op.get_bind().dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def upgrade():
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("customer_agreement_id", BIGID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_payments_customer_agreement_id_customer_agreements"),
            "customer_agreements",
            ["customer_agreement_id"],
            ["id"],
        )
        batch.create_index(
            op.f("ix_payments_customer_agreement_id"), ["customer_agreement_id"], unique=False
        )
        batch.create_unique_constraint(
            op.f("uq_payments_customer_agreement_id_charged_period"),
            ["customer_agreement_id", "charged_period"],
        )
        batch.drop_constraint(op.f("ck_payments_purpose_known"), type_="check")
        batch.create_check_constraint(
            op.f("ck_payments_purpose_known"), f"purpose IN ({_listed(PURPOSES)})"
        )

    with op.batch_alter_table("customer_agreements_renew_logs") as batch:
        batch.add_column(sa.Column("renewed_agreement_id", BIGID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_customer_agreements_renew_logs_renewed_agreement_id_customer_agreements"),
            "customer_agreements",
            ["renewed_agreement_id"],
            ["id"],
        )
        batch.create_index(
            op.f("ix_customer_agreements_renew_logs_renewed_agreement_id"),
            ["renewed_agreement_id"],
            unique=False,
        )
    op.add_column(
        "customer_agreements_renew_discounts", sa.Column("due_on", sa.Date(), nullable=True)
    )

    op.create_table(
        ACCEPTANCES,
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("agreement_text_id", BIGID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("plan_price_id", BIGID, nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("buyer_name", sa.String(length=255), nullable=False),
        sa.Column("buyer_email", sa.String(length=255), nullable=False),
        sa.Column("document_text", sa.Text(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", TIMESTAMP, nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        sa.Column("peer_ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("auth_method", sa.String(length=32), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=True),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('parent_pre_information', 'parent_distance_sales')",
            name=op.f("ck_user_agreement_acceptances_kind_known"),
        ),
        sa.CheckConstraint(
            "sequence >= 1", name=op.f("ck_user_agreement_acceptances_sequence_positive")
        ),
        sa.CheckConstraint(
            "(sequence = 1 AND previous_hash IS NULL) OR "
            "(sequence > 1 AND previous_hash IS NOT NULL)",
            name=op.f("ck_user_agreement_acceptances_chain_linked"),
        ),
        sa.CheckConstraint(
            "length(document_sha256) = 64",
            name=op.f("ck_user_agreement_acceptances_document_sha256_length"),
        ),
        sa.CheckConstraint(
            "length(record_hash) = 64",
            name=op.f("ck_user_agreement_acceptances_record_hash_length"),
        ),
        sa.CheckConstraint(
            "previous_hash IS NULL OR length(previous_hash) = 64",
            name=op.f("ck_user_agreement_acceptances_previous_hash_length"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_agreement_acceptances_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["agreement_text_id"],
            ["agreement_texts.id"],
            name=op.f("fk_user_agreement_acceptances_agreement_text_id_agreement_texts"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_price_id"],
            ["plan_prices.id"],
            name=op.f("fk_user_agreement_acceptances_plan_price_id_plan_prices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_agreement_acceptances")),
        sa.UniqueConstraint(
            "idempotency_key",
            "sequence",
            name=op.f("uq_user_agreement_acceptances_idempotency_key_sequence"),
        ),
        sa.UniqueConstraint(
            "idempotency_key",
            "kind",
            name=op.f("uq_user_agreement_acceptances_idempotency_key_kind"),
        ),
        sa.UniqueConstraint("record_hash", name=op.f("uq_user_agreement_acceptances_record_hash")),
    )
    for column in ("user_id", "agreement_text_id", "plan_price_id", "document_sha256"):
        op.create_index(op.f(f"ix_{ACCEPTANCES}_{column}"), ACCEPTANCES, [column], unique=False)
    for statement in TRIGGERS[_dialect()][0]:
        op.execute(statement)


def downgrade():
    if op.get_bind().execute(sa.text(f"SELECT COUNT(*) FROM {ACCEPTANCES}")).scalar():  # nosec B608
        raise RuntimeError(f"{ACCEPTANCES} holds evidence; the downgrade would drop it")
    for statement in TRIGGERS[_dialect()][1]:
        op.execute(statement)
    op.drop_table(ACCEPTANCES)

    op.drop_column("customer_agreements_renew_discounts", "due_on")
    with op.batch_alter_table("customer_agreements_renew_logs") as batch:
        # The foreign key first: MariaDB will not drop the index a foreign key needs.
        batch.drop_constraint(
            op.f("fk_customer_agreements_renew_logs_renewed_agreement_id_customer_agreements"),
            type_="foreignkey",
        )
        batch.drop_index(op.f("ix_customer_agreements_renew_logs_renewed_agreement_id"))
        batch.drop_column("renewed_agreement_id")

    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint(op.f("ck_payments_purpose_known"), type_="check")
        batch.create_check_constraint(
            op.f("ck_payments_purpose_known"), f"purpose IN ({_listed(OLD_PURPOSES)})"
        )
        batch.drop_constraint(
            op.f("fk_payments_customer_agreement_id_customer_agreements"), type_="foreignkey"
        )
        batch.drop_constraint(
            op.f("uq_payments_customer_agreement_id_charged_period"), type_="unique"
        )
        batch.drop_index(op.f("ix_payments_customer_agreement_id"))
        batch.drop_column("customer_agreement_id")
