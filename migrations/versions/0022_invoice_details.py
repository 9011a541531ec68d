"""The buyer's invoice identity and the issuer's, kept at checkout (issue 14, item 5).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

invoice_details: one row per checkout attempt that reached the payment page, under its
idempotency key (`order_key`), holding the buyer as they gave themselves (a parent: name,
optional TC Kimlik No, address) or as their company's details stood (legal name, tax office,
VKN or a sole proprietor's TC Kimlik No, address), and the issuer's RECEIPT_ISSUER lines.
The subscription the checkout started is written into it on the way back
(`user_subscription_id`, unique: one checkout starts one subscription). A receipt shows these,
so it says who sold to whom as it was at the sale, whatever is edited later.

A new table only: nothing to copy, nothing to fill in for older payments (their receipts show
the company's current details or the parent's account, as before).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "invoice_details",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("order_key", sa.String(length=64), nullable=False),
        sa.Column("user_id", BIGID, nullable=True),
        sa.Column("customer_id", BIGID, nullable=True),
        sa.Column("user_subscription_id", BIGID, nullable=True),
        sa.Column("buyer_kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tc_no", sa.String(length=11), nullable=True),
        sa.Column("tax_office", sa.String(length=100), nullable=True),
        sa.Column("tax_number", sa.String(length=10), nullable=True),
        sa.Column("address", sa.String(length=1000), nullable=True),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "buyer_kind IN ('person', 'company', 'sole_proprietor')",
            name=op.f("ck_invoice_details_buyer_kind_known"),
        ),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (customer_id IS NULL)",
            name=op.f("ck_invoice_details_one_buyer"),
        ),
        sa.CheckConstraint(
            "tc_no IS NULL OR length(tc_no) = 11", name=op.f("ck_invoice_details_tc_no_length")
        ),
        sa.CheckConstraint(
            "tax_number IS NULL OR length(tax_number) = 10",
            name=op.f("ck_invoice_details_vkn_length"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_invoice_details_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_invoice_details_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["user_subscription_id"],
            ["user_subscriptions.id"],
            name=op.f("fk_invoice_details_user_subscription_id_user_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_details")),
        sa.UniqueConstraint("order_key", name=op.f("uq_invoice_details_order_key")),
        sa.UniqueConstraint(
            "user_subscription_id", name=op.f("uq_invoice_details_user_subscription_id")
        ),
    )
    with op.batch_alter_table("invoice_details") as batch:
        batch.create_index(batch.f("ix_invoice_details_user_id"), ["user_id"], unique=False)
        batch.create_index(batch.f("ix_invoice_details_customer_id"), ["customer_id"], unique=False)


def downgrade():
    op.drop_table("invoice_details")
