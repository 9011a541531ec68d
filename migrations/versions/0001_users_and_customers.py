"""The Users & Customers schema, schools and campuses, reference data, full-text on users.name.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Timestamps are naive UTC (portal.models.base.UTCDateTime); MariaDB keeps microseconds only
# when asked. Spelled out here so this revision never changes when the app's code does.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agreement_texts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('started_at', TIMESTAMP, nullable=False),
    sa.Column('finished_at', TIMESTAMP, nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint('finished_at IS NULL OR finished_at > started_at', name=op.f('ck_agreement_texts_validity_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_texts')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_agreement_texts_code_version'))
    )
    op.create_table('customer_user_roles',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_user_roles')),
    sa.UniqueConstraint('code', name=op.f('uq_customer_user_roles_code'))
    )
    op.create_table('customer_user_titles',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_user_titles')),
    sa.UniqueConstraint('code', name=op.f('uq_customer_user_titles_code'))
    )
    op.create_table('customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('legal_name', sa.String(length=255), nullable=True),
    sa.Column('customer_type', sa.String(length=16), nullable=False),
    sa.Column('tc_no', sa.String(length=11), nullable=True),
    sa.Column('tax_office', sa.String(length=100), nullable=True),
    sa.Column('tax_number', sa.String(length=10), nullable=True),
    sa.Column('mersis_no', sa.String(length=16), nullable=True),
    sa.Column('erp_code', sa.String(length=32), nullable=True),
    sa.Column('is_inflation_auto_updated', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('kep_address', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('website', sa.String(length=255), nullable=True),
    sa.Column('address_line', sa.String(length=500), nullable=True),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('postal_code', sa.String(length=10), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('contact_name', sa.String(length=255), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('contact_email', sa.String(length=255), nullable=True),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.Column('deleted_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint("(customer_type = 'company' AND tax_number IS NOT NULL) OR (customer_type = 'sole_proprietor' AND tc_no IS NOT NULL)", name=op.f('ck_customers_tax_identity_present')),
    sa.CheckConstraint("customer_type IN ('company', 'sole_proprietor')", name=op.f('ck_customers_customer_type_known')),
    sa.CheckConstraint('mersis_no IS NULL OR length(mersis_no) = 16', name=op.f('ck_customers_mersis_no_length')),
    sa.CheckConstraint('tax_number IS NULL OR length(tax_number) = 10', name=op.f('ck_customers_vkn_length')),
    sa.CheckConstraint('tc_no IS NULL OR length(tc_no) = 11', name=op.f('ck_customers_tc_no_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('erp_code', name=op.f('uq_customers_erp_code'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_tax_number'), ['tax_number'], unique=False)

    op.create_table('users_types',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users_types')),
    sa.UniqueConstraint('code', name=op.f('uq_users_types_code'))
    )
    op.create_table('customer_agreements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agreement_text_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('agreement_no', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('products', sa.JSON(), nullable=True),
    sa.Column('total_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('is_inflation_auto_updated', sa.Boolean(), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("status IN ('draft', 'pending_signature', 'active', 'expired', 'cancelled')", name=op.f('ck_customer_agreements_status_known')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_customer_agreements_period_ordered')),
    sa.CheckConstraint('total_amount >= 0', name=op.f('ck_customer_agreements_total_not_negative')),
    sa.ForeignKeyConstraint(['agreement_text_id'], ['agreement_texts.id'], name=op.f('fk_customer_agreements_agreement_text_id_agreement_texts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_agreements_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_agreements')),
    sa.UniqueConstraint('agreement_no', name=op.f('uq_customer_agreements_agreement_no'))
    )
    with op.batch_alter_table('customer_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_agreements_agreement_text_id'), ['agreement_text_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_agreements_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_credit_cards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gateway', sa.String(length=32), nullable=False),
    sa.Column('token', sa.String(length=255), nullable=False),
    sa.Column('brand', sa.String(length=16), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.SmallInteger(), nullable=False),
    sa.Column('exp_year', sa.SmallInteger(), nullable=False),
    sa.Column('holder_name', sa.String(length=255), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.Column('deleted_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint('exp_month >= 1 AND exp_month <= 12', name=op.f('ck_customer_credit_cards_exp_month_valid')),
    sa.CheckConstraint('exp_year >= 2000', name=op.f('ck_customer_credit_cards_exp_year_valid')),
    sa.CheckConstraint('length(last4) = 4', name=op.f('ck_customer_credit_cards_last4_length')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_credit_cards_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_credit_cards')),
    sa.UniqueConstraint('gateway', 'token', name=op.f('uq_customer_credit_cards_gateway_token'))
    )
    with op.batch_alter_table('customer_credit_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_credit_cards_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_scores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scored_on', sa.Date(), nullable=False),
    sa.Column('demand', sa.SmallInteger(), nullable=False),
    sa.Column('communication', sa.SmallInteger(), nullable=False),
    sa.Column('responsiveness', sa.SmallInteger(), nullable=False),
    sa.Column('payment', sa.SmallInteger(), nullable=False),
    sa.Column('total', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('communication >= 0 AND communication <= 255', name=op.f('ck_customer_scores_communication_0_255')),
    sa.CheckConstraint('demand >= 0 AND demand <= 255', name=op.f('ck_customer_scores_demand_0_255')),
    sa.CheckConstraint('payment >= 0 AND payment <= 255', name=op.f('ck_customer_scores_payment_0_255')),
    sa.CheckConstraint('responsiveness >= 0 AND responsiveness <= 255', name=op.f('ck_customer_scores_responsiveness_0_255')),
    sa.CheckConstraint('total >= 0 AND total <= 255', name=op.f('ck_customer_scores_total_0_255')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_scores_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_scores')),
    sa.UniqueConstraint('customer_id', 'scored_on', name=op.f('uq_customer_scores_customer_id_scored_on'))
    )
    op.create_table('schools',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('slug', sa.String(length=255), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('yearly_fee_min', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('yearly_fee_max', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.Column('deleted_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint('yearly_fee_min <= yearly_fee_max', name=op.f('ck_schools_fee_range_ordered')),
    sa.CheckConstraint('yearly_fee_min >= 0', name=op.f('ck_schools_fee_min_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_schools_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools')),
    sa.UniqueConstraint('slug', name=op.f('uq_schools_slug'))
    )
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schools_city_district'), ['city', 'district'], unique=False)
        batch_op.create_index(batch_op.f('ix_schools_customer_id'), ['customer_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('email_verified_at', TIMESTAMP, nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('user_type_id', sa.SmallInteger(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.Column('deleted_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lowercase')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_users_customer_id_customers')),
    sa.ForeignKeyConstraint(['user_type_id'], ['users_types.id'], name=op.f('fk_users_user_type_id_users_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('id', 'customer_id', name=op.f('uq_users_id_customer_id'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_user_type_id'), ['user_type_id'], unique=False)

    op.create_table('campuses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('school_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=False),
    sa.Column('address_line', sa.String(length=500), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.Column('deleted_at', TIMESTAMP, nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_campuses_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campuses')),
    sa.UniqueConstraint('id', 'school_id', name=op.f('uq_campuses_id_school_id'))
    )
    with op.batch_alter_table('campuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campuses_city_district'), ['city', 'district'], unique=False)
        batch_op.create_index(batch_op.f('ix_campuses_school_id'), ['school_id'], unique=False)

    op.create_table('customer_agreements_renew_discounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('discount_rate', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('discount_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('assigned_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('followed_status', sa.String(length=16), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("followed_status IN ('pending', 'contacted', 'accepted', 'rejected')", name=op.f('ck_customer_agreements_renew_discounts_followed_status_known')),
    sa.CheckConstraint('discount_amount IS NULL OR discount_amount >= 0', name=op.f('ck_customer_agreements_renew_discounts_discount_amount_not_negative')),
    sa.CheckConstraint('discount_rate IS NULL OR (discount_rate >= 0 AND discount_rate <= 100)', name=op.f('ck_customer_agreements_renew_discounts_discount_rate_percent')),
    sa.ForeignKeyConstraint(['assigned_user_id'], ['users.id'], name=op.f('fk_customer_agreements_renew_discounts_assigned_user_id_users')),
    sa.ForeignKeyConstraint(['customer_agreement_id'], ['customer_agreements.id'], name=op.f('fk_customer_agreements_renew_discounts_customer_agreement_id_customer_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_agreements_renew_discounts'))
    )
    with op.batch_alter_table('customer_agreements_renew_discounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_agreements_renew_discounts_assigned_user_id'), ['assigned_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_agreements_renew_discounts_customer_agreement_id'), ['customer_agreement_id'], unique=False)

    op.create_table('customer_agreements_renew_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('previous_ends_on', sa.Date(), nullable=False),
    sa.Column('new_ends_on', sa.Date(), nullable=False),
    sa.Column('previous_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('new_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('inflation_rate', sa.Numeric(precision=7, scale=4), nullable=True),
    sa.Column('renewed_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['customer_agreement_id'], ['customer_agreements.id'], name=op.f('fk_customer_agreements_renew_logs_customer_agreement_id_customer_agreements')),
    sa.ForeignKeyConstraint(['renewed_by_user_id'], ['users.id'], name=op.f('fk_customer_agreements_renew_logs_renewed_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_agreements_renew_logs'))
    )
    with op.batch_alter_table('customer_agreements_renew_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_agreements_renew_logs_customer_agreement_id'), ['customer_agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_agreements_renew_logs_renewed_by_user_id'), ['renewed_by_user_id'], unique=False)

    op.create_table('customer_users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role_id', sa.SmallInteger(), nullable=False),
    sa.Column('title_id', sa.SmallInteger(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_users_customer_id_customers')),
    sa.ForeignKeyConstraint(['role_id'], ['customer_user_roles.id'], name=op.f('fk_customer_users_role_id_customer_user_roles')),
    sa.ForeignKeyConstraint(['title_id'], ['customer_user_titles.id'], name=op.f('fk_customer_users_title_id_customer_user_titles')),
    sa.ForeignKeyConstraint(['user_id', 'customer_id'], ['users.id', 'users.customer_id'], name=op.f('fk_customer_users_user_id_customer_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_customer_users_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_users')),
    sa.UniqueConstraint('user_id', name=op.f('uq_customer_users_user_id'))
    )
    with op.batch_alter_table('customer_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_users_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_users_role_id'), ['role_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_users_title_id'), ['title_id'], unique=False)

    op.create_table('otp_codes',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('expires_at', TIMESTAMP, nullable=False),
    sa.Column('used_at', TIMESTAMP, nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_otp_codes_attempts_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_otp_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_otp_codes'))
    )
    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_otp_codes_user_id'), ['user_id'], unique=False)

    op.create_table('school_levels',
    sa.Column('school_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.CheckConstraint("level IN ('preschool', 'primary', 'middle', 'high')", name=op.f('ck_school_levels_level_known')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_levels_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_id', 'level', name=op.f('pk_school_levels'))
    )
    op.create_table('user_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_type', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=True),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("contact_type IN ('phone', 'email', 'address', 'other')", name=op.f('ck_user_contacts_contact_type_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_contacts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_contacts'))
    )
    with op.batch_alter_table('user_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_contacts_user_id'), ['user_id'], unique=False)

    op.create_table('user_details',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('budget_min', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('budget_max', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('lead_lost_count', sa.Integer(), nullable=False),
    sa.Column('lead_won_count', sa.Integer(), nullable=False),
    sa.Column('lead_closed_count', sa.Integer(), nullable=False),
    sa.Column('lead_open_count', sa.Integer(), nullable=False),
    sa.Column('kvkk_accepted_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint('budget_max >= 0', name=op.f('ck_user_details_budget_max_not_negative')),
    sa.CheckConstraint('budget_min <= budget_max', name=op.f('ck_user_details_budget_range_ordered')),
    sa.CheckConstraint('budget_min >= 0', name=op.f('ck_user_details_budget_min_not_negative')),
    sa.CheckConstraint('lead_lost_count >= 0 AND lead_won_count >= 0 AND lead_closed_count >= 0 AND lead_open_count >= 0', name=op.f('ck_user_details_lead_counts_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_details_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_details'))
    )
    with op.batch_alter_table('user_details', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_details_phone'), ['phone'], unique=False)

    op.create_table('user_favorites',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('favoritable_type', sa.String(length=16), nullable=False),
    sa.Column('favoritable_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("favoritable_type IN ('school', 'campus')", name=op.f('ck_user_favorites_favoritable_type_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_favorites_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_favorites')),
    sa.UniqueConstraint('user_id', 'favoritable_type', 'favoritable_id', name=op.f('uq_user_favorites_user_id_favoritable_type_favoritable_id'))
    )
    with op.batch_alter_table('user_favorites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_favorites_favoritable_type_favoritable_id'), ['favoritable_type', 'favoritable_id'], unique=False)

    op.create_table('user_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_logs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_logs'))
    )
    with op.batch_alter_table('user_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_logs_user_id_created_at'), ['user_id', 'created_at'], unique=False)

    op.create_table('user_notification_ids',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token', sa.String(length=512), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('last_seen_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("platform IN ('ios', 'android', 'web')", name=op.f('ck_user_notification_ids_platform_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_notification_ids_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_notification_ids')),
    sa.UniqueConstraint('token', name=op.f('uq_user_notification_ids_token'))
    )
    with op.batch_alter_table('user_notification_ids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_notification_ids_user_id'), ['user_id'], unique=False)

    op.create_table('user_session_hash',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('last_seen_at', TIMESTAMP, nullable=False),
    sa.Column('expires_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_session_hash_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session_hash')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_user_session_hash_session_hash'))
    )
    with op.batch_alter_table('user_session_hash', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_hash_user_id'), ['user_id'], unique=False)

    op.create_table('verification_codes',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('expires_at', TIMESTAMP, nullable=False),
    sa.Column('used_at', TIMESTAMP, nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_verification_codes_attempts_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_verification_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_codes'))
    )
    with op.batch_alter_table('verification_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_codes_user_id'), ['user_id'], unique=False)

    op.create_table('customer_user_agreement_signs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agreement_text_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=False),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('signed_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['agreement_text_id'], ['agreement_texts.id'], name=op.f('fk_customer_user_agreement_signs_agreement_text_id_agreement_texts')),
    sa.ForeignKeyConstraint(['customer_agreement_id'], ['customer_agreements.id'], name=op.f('fk_customer_user_agreement_signs_customer_agreement_id_customer_agreements')),
    sa.ForeignKeyConstraint(['customer_user_id'], ['customer_users.id'], name=op.f('fk_customer_user_agreement_signs_customer_user_id_customer_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_user_agreement_signs')),
    sa.UniqueConstraint('customer_agreement_id', 'customer_user_id', name=op.f('uq_customer_user_agreement_signs_customer_agreement_id_customer_user_id'))
    )
    with op.batch_alter_table('customer_user_agreement_signs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_user_agreement_signs_agreement_text_id'), ['agreement_text_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_user_agreement_signs_customer_user_id'), ['customer_user_id'], unique=False)

    op.create_table('customer_user_daily_activity_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('activity_date', sa.Date(), nullable=False),
    sa.Column('sign_in_count', sa.Integer(), nullable=False),
    sa.Column('lead_view_count', sa.Integer(), nullable=False),
    sa.Column('lead_reply_count', sa.Integer(), nullable=False),
    sa.Column('offer_count', sa.Integer(), nullable=False),
    sa.Column('last_activity_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint('sign_in_count >= 0 AND lead_view_count >= 0 AND lead_reply_count >= 0 AND offer_count >= 0', name=op.f('ck_customer_user_daily_activity_logs_counts_not_negative')),
    sa.ForeignKeyConstraint(['customer_user_id'], ['customer_users.id'], name=op.f('fk_customer_user_daily_activity_logs_customer_user_id_customer_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_user_daily_activity_logs')),
    sa.UniqueConstraint('customer_user_id', 'activity_date', name=op.f('uq_customer_user_daily_activity_logs_customer_user_id_activity_date'))
    )
    op.create_table('customer_user_schools',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('school_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campus_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['campus_id', 'school_id'], ['campuses.id', 'campuses.school_id'], name=op.f('fk_customer_user_schools_campus_id_school_id_campuses')),
    sa.ForeignKeyConstraint(['campus_id'], ['campuses.id'], name=op.f('fk_customer_user_schools_campus_id_campuses')),
    sa.ForeignKeyConstraint(['customer_user_id'], ['customer_users.id'], name=op.f('fk_customer_user_schools_customer_user_id_customer_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_customer_user_schools_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_user_schools')),
    sa.UniqueConstraint('customer_user_id', 'school_id', 'campus_id', name=op.f('uq_customer_user_schools_customer_user_id_school_id_campus_id'))
    )
    with op.batch_alter_table('customer_user_schools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_user_schools_campus_id'), ['campus_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_user_schools_school_id'), ['school_id'], unique=False)


    _insert_reference_data()
    _create_users_name_fulltext()

def downgrade():
    _drop_users_name_fulltext()
    # Dropping a table drops its indexes; MariaDB would refuse to drop an index a foreign key
    # still needs, so none is dropped on its own.
    op.drop_table('customer_user_schools')
    op.drop_table('customer_user_daily_activity_logs')
    op.drop_table('customer_user_agreement_signs')
    op.drop_table('verification_codes')
    op.drop_table('user_session_hash')
    op.drop_table('user_notification_ids')
    op.drop_table('user_logs')
    op.drop_table('user_favorites')
    op.drop_table('user_details')
    op.drop_table('user_contacts')
    op.drop_table('school_levels')
    op.drop_table('otp_codes')
    op.drop_table('customer_users')
    op.drop_table('customer_agreements_renew_logs')
    op.drop_table('customer_agreements_renew_discounts')
    op.drop_table('campuses')
    op.drop_table('users')
    op.drop_table('schools')
    op.drop_table('customer_scores')
    op.drop_table('customer_credit_cards')
    op.drop_table('customer_agreements')
    op.drop_table('users_types')
    op.drop_table('customers')
    op.drop_table('customer_user_titles')
    op.drop_table('customer_user_roles')
    op.drop_table('agreement_texts')


def _insert_reference_data():
    users_types = sa.table(
        "users_types", sa.column("id", sa.SmallInteger), sa.column("code", sa.String),
        sa.column("name", sa.String),
    )
    op.bulk_insert(users_types, [
        {"id": 1, "code": "parent", "name": "Veli"},
        {"id": 2, "code": "customer_staff", "name": "Okul personeli"},
        {"id": 3, "code": "operator", "name": "Operatör"},
    ])
    roles = sa.table(
        "customer_user_roles", sa.column("id", sa.SmallInteger), sa.column("code", sa.String),
        sa.column("name", sa.String),
    )
    op.bulk_insert(roles, [
        {"id": 1, "code": "admin", "name": "Firma yöneticisi"},
        {"id": 2, "code": "manager", "name": "Okul yöneticisi"},
        {"id": 3, "code": "agent", "name": "Aday temsilcisi"},
        {"id": 4, "code": "finance", "name": "Finans"},
    ])
    titles = sa.table(
        "customer_user_titles", sa.column("id", sa.SmallInteger), sa.column("code", sa.String),
        sa.column("name", sa.String),
    )
    op.bulk_insert(titles, [
        {"id": 1, "code": "founder", "name": "Kurucu"},
        {"id": 2, "code": "principal", "name": "Okul müdürü"},
        {"id": 3, "code": "registrar", "name": "Kayıt sorumlusu"},
        {"id": 4, "code": "accountant", "name": "Muhasebe sorumlusu"},
        {"id": 5, "code": "teacher", "name": "Öğretmen"},
    ])


# The full-text index on users.name, in each database's own form. Autogenerate ignores these
# objects (portal.database.include_object).
SQLITE_FTS = [
    # An external-content FTS5 table: it indexes users.name without a second copy of it.
    # remove_diacritics lets "sahin" find "Şahin", as Turkish users type without the marks.
    """CREATE VIRTUAL TABLE users_name_fts USING fts5(
        name, content='users', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER users_name_fts_insert AFTER INSERT ON users BEGIN
        INSERT INTO users_name_fts(rowid, name) VALUES (new.id, new.name);
    END""",
    """CREATE TRIGGER users_name_fts_delete AFTER DELETE ON users BEGIN
        INSERT INTO users_name_fts(users_name_fts, rowid, name) VALUES ('delete', old.id, old.name);
    END""",
    """CREATE TRIGGER users_name_fts_update AFTER UPDATE OF name ON users BEGIN
        INSERT INTO users_name_fts(users_name_fts, rowid, name) VALUES ('delete', old.id, old.name);
        INSERT INTO users_name_fts(rowid, name) VALUES (new.id, new.name);
    END""",
    # NB: a later batch ("move and copy") migration of users drops these triggers with the old
    # table; such a migration must create them again.
]


def _create_users_name_fulltext():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_users_name_fts ON users USING gin (to_tsvector('simple', name))"
        )
    elif dialect in ("mysql", "mariadb"):
        op.execute("CREATE FULLTEXT INDEX ix_users_name_fts ON users (name)")
    elif dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def _drop_users_name_fulltext():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX ix_users_name_fts")
    elif dialect in ("mysql", "mariadb"):
        op.execute("DROP INDEX ix_users_name_fts ON users")
    elif dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER users_name_fts_{trigger}")
        op.execute("DROP TABLE users_name_fts")
