"""Billing: plans, prices (one row per plan, cycle and currency), features and their pivot,
subscriptions, payments and parents' saved cards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_features',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('icon', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('sort_order', sa.SmallInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_features')),
    sa.UniqueConstraint('code', name=op.f('uq_plan_features_code'))
    )
    op.create_table('subscription_plans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('sort_order', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("audience IN ('parents', 'companies')", name=op.f('ck_subscription_plans_audience_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_plans')),
    sa.UniqueConstraint('code', name=op.f('uq_subscription_plans_code'))
    )
    op.create_table('plan_prices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscription_plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('billing_cycle', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='TRY', nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('kdv_included', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('trial_days', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('archived_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint("billing_cycle IN ('daily', 'weekly', 'monthly', 'quarterly', 'semi_annual', 'yearly', 'lifetime')", name=op.f('ck_plan_prices_billing_cycle_known')),
    sa.CheckConstraint("currency = 'TRY'", name=op.f('ck_plan_prices_currency_try')),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_plan_prices_status_known')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_plan_prices_amount_not_negative')),
    sa.CheckConstraint('trial_days >= 0', name=op.f('ck_plan_prices_trial_days_not_negative')),
    sa.ForeignKeyConstraint(['subscription_plan_id'], ['subscription_plans.id'], name=op.f('fk_plan_prices_subscription_plan_id_subscription_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_prices'))
    )
    with op.batch_alter_table('plan_prices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_prices_subscription_plan_id'), ['subscription_plan_id'], unique=False)

    op.create_table('subscription_plan_features',
    sa.Column('subscription_plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_feature_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('included', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('limit_value', sa.Integer(), nullable=True),
    sa.CheckConstraint('limit_value IS NULL OR limit_value >= 0', name=op.f('ck_subscription_plan_features_limit_not_negative')),
    sa.ForeignKeyConstraint(['plan_feature_id'], ['plan_features.id'], name=op.f('fk_subscription_plan_features_plan_feature_id_plan_features')),
    sa.ForeignKeyConstraint(['subscription_plan_id'], ['subscription_plans.id'], name=op.f('fk_subscription_plan_features_subscription_plan_id_subscription_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_plan_id', 'plan_feature_id', name=op.f('pk_subscription_plan_features'))
    )
    with op.batch_alter_table('subscription_plan_features', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_plan_features_plan_feature_id'), ['plan_feature_id'], unique=False)

    op.create_table('user_payment_cards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gateway', sa.String(length=32), nullable=False),
    sa.Column('token', sa.String(length=255), nullable=False),
    sa.Column('brand', sa.String(length=16), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.SmallInteger(), nullable=False),
    sa.Column('exp_year', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.Column('deleted_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint('exp_month >= 1 AND exp_month <= 12', name=op.f('ck_user_payment_cards_exp_month_valid')),
    sa.CheckConstraint('exp_year >= 2000', name=op.f('ck_user_payment_cards_exp_year_valid')),
    sa.CheckConstraint('length(last4) = 4', name=op.f('ck_user_payment_cards_last4_length')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_payment_cards_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_payment_cards')),
    sa.UniqueConstraint('gateway', 'token', name=op.f('uq_user_payment_cards_gateway_token'))
    )
    with op.batch_alter_table('user_payment_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_payment_cards_user_id'), ['user_id'], unique=False)

    op.create_table('user_subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('subscription_plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_price_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('billing_cycle', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='TRY', nullable=False),
    sa.Column('kdv_included', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('anchor_date', sa.Date(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('trial_end_date', sa.Date(), nullable=True),
    sa.Column('period_index', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('auto_renew', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('cancel_at_period_end', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('next_billing_date', sa.Date(), nullable=True),
    sa.Column('last_payment_date', sa.Date(), nullable=True),
    sa.Column('retry_count', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('cancelled_at', TIMESTAMP, nullable=True),
    sa.Column('paused_at', TIMESTAMP, nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("billing_cycle IN ('daily', 'weekly', 'monthly', 'quarterly', 'semi_annual', 'yearly', 'lifetime')", name=op.f('ck_user_subscriptions_billing_cycle_known')),
    sa.CheckConstraint("status IN ('trial', 'active', 'paused', 'cancelled', 'expired')", name=op.f('ck_user_subscriptions_status_known')),
    sa.CheckConstraint('(user_id IS NULL) <> (customer_id IS NULL)', name=op.f('ck_user_subscriptions_one_subscriber')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_user_subscriptions_amount_not_negative')),
    sa.CheckConstraint('retry_count >= 0', name=op.f('ck_user_subscriptions_retry_count_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_user_subscriptions_customer_id_customers')),
    sa.ForeignKeyConstraint(['plan_price_id'], ['plan_prices.id'], name=op.f('fk_user_subscriptions_plan_price_id_plan_prices')),
    sa.ForeignKeyConstraint(['subscription_plan_id'], ['subscription_plans.id'], name=op.f('fk_user_subscriptions_subscription_plan_id_subscription_plans')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_subscriptions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_subscriptions'))
    )
    with op.batch_alter_table('user_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_subscriptions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_subscriptions_next_billing_date'), ['next_billing_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_subscriptions_plan_price_id'), ['plan_price_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_subscriptions_subscription_plan_id'), ['subscription_plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_subscriptions_user_id'), ['user_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_subscription_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('kdv_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('gross_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='TRY', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('gateway', sa.String(length=32), nullable=False),
    sa.Column('gateway_reference', sa.String(length=64), nullable=True),
    sa.Column('failure_code', sa.String(length=32), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('charged_period', sa.Date(), nullable=True),
    sa.Column('card_brand', sa.String(length=16), nullable=True),
    sa.Column('card_last4', sa.String(length=4), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("purpose IN ('first_charge', 'renewal', 'trial_end', 'plan_change')", name=op.f('ck_payments_purpose_known')),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name=op.f('ck_payments_status_known')),
    sa.CheckConstraint('gross_amount = net_amount + kdv_amount', name=op.f('ck_payments_gross_is_net_plus_kdv')),
    sa.CheckConstraint('net_amount >= 0 AND kdv_amount >= 0', name=op.f('ck_payments_amounts_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payments_customer_id_customers')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payments_user_id_users')),
    sa.ForeignKeyConstraint(['user_subscription_id'], ['user_subscriptions.id'], name=op.f('fk_payments_user_subscription_id_user_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payments_idempotency_key')),
    sa.UniqueConstraint('user_subscription_id', 'charged_period', name=op.f('uq_payments_user_subscription_id_charged_period'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_user_id'), ['user_id'], unique=False)



def downgrade():
    op.drop_table('payments')
    op.drop_table('user_subscriptions')
    op.drop_table('user_payment_cards')
    op.drop_table('subscription_plan_features')
    op.drop_table('plan_prices')
    op.drop_table('subscription_plans')
    op.drop_table('plan_features')
