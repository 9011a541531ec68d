"""A pause with an end, a trial's checkout key, and an upgrade's charge beside the period's
(issue 14, items 1, 3 and 7).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

user_subscriptions gains `pause_until` (the business date the renewal job resumes a paused
subscription; NULL when not paused) and `checkout_key` (the checkout's idempotency key that
started it, unique: a trial makes no payment row to hold the key, so the same checkout sent
twice finds the subscription by it).

payments: an upgrade charges the rest of the current period at the new price, beside the
charge that paid for the period at the old one. Its charged_period is the upgrade's day,
which is the period's first day when the upgrade comes on that day, so "one charge per
subscription and period" becomes "one charge per subscription, period and price":
(user_subscription_id, charged_period) is replaced by (user_subscription_id, charged_period,
plan_price_id). The new constraint is made before the old one is dropped: on MariaDB the old
one's index serves the foreign key on user_subscription_id and cannot go first.

Batch mode: SQLite must copy the tables to change a unique constraint; neither table has
triggers for the copy to lose.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OLD_UNIQUE = ["user_subscription_id", "charged_period"]
NEW_UNIQUE = ["user_subscription_id", "charged_period", "plan_price_id"]


def upgrade():
    with op.batch_alter_table("user_subscriptions") as batch:
        batch.add_column(sa.Column("pause_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("checkout_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_user_subscriptions_checkout_key"), ["checkout_key"])

    with op.batch_alter_table("payments") as batch:
        batch.create_unique_constraint(
            op.f("uq_payments_user_subscription_id_charged_period_plan_price_id"), NEW_UNIQUE
        )
        batch.drop_constraint(
            op.f("uq_payments_user_subscription_id_charged_period"), type_="unique"
        )


def downgrade():
    # Fails while an upgrade's charge shares its period's first day with the period's charge:
    # the old constraint cannot hold both, and which one to drop is not this migration's call.
    with op.batch_alter_table("payments") as batch:
        batch.create_unique_constraint(
            op.f("uq_payments_user_subscription_id_charged_period"), OLD_UNIQUE
        )
        batch.drop_constraint(
            op.f("uq_payments_user_subscription_id_charged_period_plan_price_id"), type_="unique"
        )

    with op.batch_alter_table("user_subscriptions") as batch:
        batch.drop_constraint(op.f("uq_user_subscriptions_checkout_key"), type_="unique")
        batch.drop_column("checkout_key")
        batch.drop_column("pause_until")
