"""Subscriptions remember the saved card renewals charge (a parent's or a company's) and a
confirmed change of plan or cycle that takes effect on the next billing date; payments
remember the price row they bought, and their gross = net + KDV check rounds (SQLite).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

Batch mode is safe here: neither user_subscriptions nor payments has triggers for a table copy to lose.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_plan_price_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('user_payment_card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('customer_credit_card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_subscriptions_customer_credit_card_id'), ['customer_credit_card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_subscriptions_scheduled_plan_price_id'), ['scheduled_plan_price_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_subscriptions_user_payment_card_id'), ['user_payment_card_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_user_subscriptions_customer_credit_card_id_customer_credit_cards'), 'customer_credit_cards', ['customer_credit_card_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_user_subscriptions_scheduled_plan_price_id_plan_prices'), 'plan_prices', ['scheduled_plan_price_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_user_subscriptions_user_payment_card_id_user_payment_cards'), 'user_payment_cards', ['user_payment_card_id'], ['id'])


    with op.batch_alter_table('payments', schema=None) as batch_op:
        # SQLite keeps NUMERIC as a binary float, where 49.92 + 9.98 is not 59.90.
        batch_op.drop_constraint(batch_op.f('ck_payments_gross_is_net_plus_kdv'), type_='check')
        batch_op.create_check_constraint(
            'gross_is_net_plus_kdv', 'ROUND(net_amount + kdv_amount, 2) = gross_amount'
        )
        batch_op.add_column(sa.Column('plan_price_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_payments_plan_price_id'), ['plan_price_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payments_plan_price_id_plan_prices'), 'plan_prices', ['plan_price_id'], ['id'])


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payments_plan_price_id_plan_prices'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payments_plan_price_id'))
        batch_op.drop_column('plan_price_id')
        batch_op.drop_constraint(batch_op.f('ck_payments_gross_is_net_plus_kdv'), type_='check')
        batch_op.create_check_constraint(
            'gross_is_net_plus_kdv', 'gross_amount = net_amount + kdv_amount'
        )

    with op.batch_alter_table('user_subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_subscriptions_user_payment_card_id_user_payment_cards'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_user_subscriptions_scheduled_plan_price_id_plan_prices'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_user_subscriptions_customer_credit_card_id_customer_credit_cards'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_subscriptions_user_payment_card_id'))
        batch_op.drop_index(batch_op.f('ix_user_subscriptions_scheduled_plan_price_id'))
        batch_op.drop_index(batch_op.f('ix_user_subscriptions_customer_credit_card_id'))
        batch_op.drop_column('customer_credit_card_id')
        batch_op.drop_column('user_payment_card_id')
        batch_op.drop_column('scheduled_plan_price_id')
