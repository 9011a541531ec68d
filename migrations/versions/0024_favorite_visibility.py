"""Each favorite knows whether its school or campus is public (issue 10, item 4).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30

The favorites page counted a parent's favorites by looking up each one's school (and campus)
to leave out those withdrawn since: 1,000 primary-key probes for a parent with 500 favorites,
1.7 of the page statement's 2.2 ms. user_favorites.is_visible keeps that answer, moved by
portal.account.favorites whenever a school's or campus's visibility changes; filled here for
the favorites of schools and campuses that are not public (published, not deleted; a campus's
school too), the rest keeping the default, true.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

HIDDEN_SCHOOLS = "SELECT id FROM schools WHERE NOT is_published OR deleted_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table("user_favorites") as batch:
        batch.add_column(
            sa.Column("is_visible", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.execute(
        "UPDATE user_favorites SET is_visible = false"
        f" WHERE (favoritable_type = 'school' AND favoritable_id IN ({HIDDEN_SCHOOLS}))"
        " OR (favoritable_type = 'campus' AND favoritable_id IN ("
        "  SELECT id FROM campuses"
        f"  WHERE deleted_at IS NOT NULL OR school_id IN ({HIDDEN_SCHOOLS})))"
    )


def downgrade():
    with op.batch_alter_table("user_favorites") as batch:
        batch.drop_column("is_visible")
