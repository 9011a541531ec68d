"""Leads indexed for the staff inbox: one index answers both the counts and the page's ids.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29

(school_id, state, created_at, id, campus_id, assigned_customer_user_id) replaces 0010's
(school_id, state, created_at) and 0011's (school_id, state, campus_id,
assigned_customer_user_id), of which it holds every column. The inbox's page (newest first)
and its counts are then read from the index alone: for a member granted 200 schools (11,700
open leads of the benchmark's 200,000) choosing the page's twenty ids took 73 ms reading and
joining every covered row and takes 3 ms; the counts stay at 2-3 ms.
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

NAME = 'ix_leads_inbox'
COLUMNS = ['school_id', 'state', 'created_at', 'id', 'campus_id', 'assigned_customer_user_id']
OLD = {
    'ix_leads_school_id_state_created_at': ['school_id', 'state', 'created_at'],
    'ix_leads_school_id_state_campus_id_assigned_customer_user_id': [
        'school_id', 'state', 'campus_id', 'assigned_customer_user_id'
    ],
}


def upgrade():
    # Created before the old ones go: on MariaDB the school_id foreign key needs an index
    # whose first column is school_id at every moment.
    op.create_index(NAME, 'leads', COLUMNS, unique=False)
    for name in OLD:
        op.drop_index(name, table_name='leads')


def downgrade():
    for name, columns in OLD.items():
        op.create_index(name, 'leads', columns, unique=False)
    op.drop_index(NAME, table_name='leads')
