"""Refunds, and the billing notices sent once each (issue 14, items 2 and 6).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

payments: the purpose `refund` and `refunded_payment_id`, the charge a refund gives money
back for. A refund is a payment row of its own with positive amounts (net + KDV = gross, as
for every row; its purpose says the money went back): the CHECKs on amounts stay as they are,
and what a charge still has to refund is its gross minus its succeeded refunds' gross
(portal.billing.refunds). A refund row names the charge it refunds, and only a refund does.

billing_notices: one row per billing e-mail sent for an event (a trial about to end, a
renewal that failed, a subscription that expired, a refund made), unique per subscription,
kind and event, so a job run twice, or two runs at once, queue the mail once. The outbox
cannot say it: it deletes delivered mail after a while (MAIL_KEEP_SENT).

Batch mode: SQLite must copy payments to change its CHECKs; the table has no triggers.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

OLD_PURPOSES = ("first_charge", "renewal", "trial_end", "plan_change", "agreement")
PURPOSES = (*OLD_PURPOSES, "refund")
NOTICE_KINDS = ("trial_ending", "renewal_failed", "expired", "refund_made")


def _listed(values):
    return ", ".join(f"'{value}'" for value in values)


def upgrade():
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("refunded_payment_id", BIGID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_payments_refunded_payment_id_payments"),
            "payments",
            ["refunded_payment_id"],
            ["id"],
        )
        batch.create_index(
            op.f("ix_payments_refunded_payment_id"), ["refunded_payment_id"], unique=False
        )
        batch.drop_constraint(op.f("ck_payments_purpose_known"), type_="check")
        batch.create_check_constraint(
            op.f("ck_payments_purpose_known"), f"purpose IN ({_listed(PURPOSES)})"
        )
        batch.create_check_constraint(
            op.f("ck_payments_refund_names_its_charge"),
            "(purpose = 'refund') = (refunded_payment_id IS NOT NULL)",
        )

    op.create_table(
        "billing_notices",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("user_subscription_id", BIGID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            f"kind IN ({_listed(NOTICE_KINDS)})", name=op.f("ck_billing_notices_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_subscription_id"],
            ["user_subscriptions.id"],
            name=op.f("fk_billing_notices_user_subscription_id_user_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_notices")),
        sa.UniqueConstraint(
            "user_subscription_id",
            "kind",
            "event",
            name=op.f("uq_billing_notices_user_subscription_id_kind_event"),
        ),
    )


def downgrade():
    op.drop_table("billing_notices")

    if (
        op.get_bind()
        .execute(sa.text("SELECT COUNT(*) FROM payments WHERE purpose = 'refund'"))
        .scalar()
    ):
        raise RuntimeError("payments holds refunds; the downgrade would lose what they refunded")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint(op.f("ck_payments_refund_names_its_charge"), type_="check")
        batch.drop_constraint(op.f("ck_payments_purpose_known"), type_="check")
        batch.create_check_constraint(
            op.f("ck_payments_purpose_known"), f"purpose IN ({_listed(OLD_PURPOSES)})"
        )
        # The foreign key first: MariaDB will not drop the index a foreign key needs.
        batch.drop_constraint(op.f("fk_payments_refunded_payment_id_payments"), type_="foreignkey")
        batch.drop_index(op.f("ix_payments_refunded_payment_id"))
        batch.drop_column("refunded_payment_id")
