"""Live sessions remember their device and "keep me signed in"; sign-in codes are bound to the
pending sign-in; known devices; the two-step setting.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Adding columns only: SQLite does it with ALTER TABLE, so users keeps its full-text triggers.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_known_devices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('first_seen_at', TIMESTAMP, nullable=False),
    sa.Column('last_seen_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_known_devices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_known_devices')),
    sa.UniqueConstraint('user_id', 'device_hash', name=op.f('uq_user_known_devices_user_id_device_hash'))
    )
    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_in_hash', sa.String(length=64), nullable=True))

    with op.batch_alter_table('user_session_hash', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remember', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('device_hash', sa.String(length=64), nullable=True))

    # Not batch mode for users (see the module docstring): a plain ADD COLUMN keeps its triggers.
    op.add_column('users', sa.Column('two_step_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    # Not batch mode for users: on SQLite it would rebuild the table and drop the full-text
    # triggers; SQLite (3.35+) drops a column in place.
    op.drop_column('users', 'two_step_enabled')

    with op.batch_alter_table('user_session_hash', schema=None) as batch_op:
        batch_op.drop_column('device_hash')
        batch_op.drop_column('remember')

    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        batch_op.drop_column('sign_in_hash')

    op.drop_table('user_known_devices')
