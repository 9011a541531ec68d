"""Invitations to a company's team: customer_user_invitations.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

A company member who may manage the team invites a person by e-mail with a role and a title;
the link's token is kept only as its SHA-256. An invitation is single use (accepted_at,
accepted_user_id), may be revoked (revoked_at) and expires (expires_at).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('customer_user_invitations',
    sa.Column('id', BIGID, nullable=False),
    sa.Column('customer_id', BIGID, nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('role_id', sa.SmallInteger(), nullable=False),
    sa.Column('title_id', sa.SmallInteger(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_customer_user_id', BIGID, nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('expires_at', TIMESTAMP, nullable=False),
    sa.Column('accepted_at', TIMESTAMP, nullable=True),
    sa.Column('accepted_user_id', BIGID, nullable=True),
    sa.Column('revoked_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_customer_user_invitations_email_lowercase')),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_customer_user_invitations_expiry_after_creation')),
    sa.ForeignKeyConstraint(['accepted_user_id'], ['users.id'], name=op.f('fk_customer_user_invitations_accepted_user_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_user_invitations_customer_id_customers')),
    sa.ForeignKeyConstraint(['invited_by_customer_user_id'], ['customer_users.id'], name=op.f('fk_customer_user_invitations_invited_by_customer_user_id_customer_users')),
    sa.ForeignKeyConstraint(['role_id'], ['customer_user_roles.id'], name=op.f('fk_customer_user_invitations_role_id_customer_user_roles')),
    sa.ForeignKeyConstraint(['title_id'], ['customer_user_titles.id'], name=op.f('fk_customer_user_invitations_title_id_customer_user_titles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_user_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_customer_user_invitations_token_hash'))
    )
    with op.batch_alter_table('customer_user_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_user_invitations_customer_id_email'), ['customer_id', 'email'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_user_invitations_role_id'), ['role_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_user_invitations_title_id'), ['title_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_user_invitations_invited_by_customer_user_id'), ['invited_by_customer_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_user_invitations_accepted_user_id'), ['accepted_user_id'], unique=False)


def downgrade():
    op.drop_table('customer_user_invitations')
