"""The staff's daily activity counts agreements signed (issue 12 item 6, issue 13).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29

customer_user_daily_activity_logs gains `agreement_sign_count` (NOT NULL, 0 for the days
already kept: nobody's signature was counted before), and the CHECK that counters are not
negative covers it. Batch mode: SQLite must copy the table to change a CHECK.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLE = "customer_user_daily_activity_logs"
CHECK = "ck_customer_user_daily_activity_logs_counts_not_negative"
OLD = "sign_in_count >= 0 AND lead_view_count >= 0 AND lead_reply_count >= 0 AND offer_count >= 0"
NEW = f"{OLD} AND agreement_sign_count >= 0"


def upgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(
            sa.Column("agreement_sign_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), NEW)


def downgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), OLD)
        batch.drop_column("agreement_sign_count")
