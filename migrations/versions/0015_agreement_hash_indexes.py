"""Agreements and sign records indexed by their documents' SHA-256, for the public
verification page.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29

/agreements/verify looks a hash up in three places in one statement (portal.agreements
.verification): a signed agreement's document, a sign record's document, a sign record's
record hash. The last was indexed (unique); without these two the first two were scans of
their tables: the same work for a hit and a miss, as the page wants, but growing with the
tables. With them every branch is one index lookup.

Plain CREATE INDEX, not a batch operation: on SQLite a batch would copy the sign table and
lose the triggers that refuse changing its rows (migration 0014).
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_customer_agreements_document_sha256": "customer_agreements",
    "ix_customer_user_agreement_signs_document_sha256": "customer_user_agreement_signs",
}


def upgrade():
    for name, table in INDEXES.items():
        op.create_index(name, table, ["document_sha256"], unique=False)


def downgrade():
    for name, table in INDEXES.items():
        op.drop_index(name, table_name=table)
