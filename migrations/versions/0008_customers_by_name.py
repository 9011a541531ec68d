"""Customers indexed by name and id, the order the operators' list pages them in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

An index only: no table is copied, so the full-text triggers on users are safe.
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_name_id'), ['name', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_name_id'))
