"""Fees per campus, level and school year; leads, their timeline and offers; comparisons;
the schools' contact details and folded names under a full-text index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

A school's single yearly fee range becomes rows of school_fees (campus, level, school year):
the parent needs to know what primary school costs at the campus they would use. The range
already saved is carried over so that nothing a school entered is lost: for the school year
running when the migration runs, each campus gets the range's low end for the youngest level
the school teaches and its high end for the oldest (levels between get no row: the range says
nothing about them; the school fills them in). The downgrade derives the range back from the
rows (their minimum and maximum).

schools.name_folded (portal.search_text.fold, copied below as it was when this migration was
written) gets each database's full-text index, as users.name_folded did in 0009: a GIN
expression index, a FULLTEXT index, or an FTS5 table with triggers. The SQLite triggers are
made after the table copy that dropping the range columns needs, and a later migration that
copies schools on SQLite must make them again.

user_consents may now record consent given on the lead form ("lead_form").
"""
from datetime import UTC, datetime
import unicodedata
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LEVELS = ("preschool", "primary", "middle", "high")
BATCH = 5000
EARLIER_METHODS = ("registration_form", "account_page")
LEAD_FORM_METHODS = ("registration_form", "account_page", "lead_form")


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(str.maketrans({"ı": "i"})).casefold()


def _school_year_now():
    # School years start in September on the Istanbul calendar (portal.schools.fees).
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Istanbul")).date()
    return today.year if today.month >= 9 else today.year - 1


SQLITE_FTS = [
    """CREATE VIRTUAL TABLE schools_name_fts USING fts5(
        name_folded, content='schools', content_rowid='id', tokenize='unicode61')""",
    """CREATE TRIGGER schools_name_fts_insert AFTER INSERT ON schools BEGIN
        INSERT INTO schools_name_fts(rowid, name_folded) VALUES (new.id, new.name_folded);
    END""",
    """CREATE TRIGGER schools_name_fts_delete AFTER DELETE ON schools BEGIN
        INSERT INTO schools_name_fts(schools_name_fts, rowid, name_folded)
            VALUES ('delete', old.id, old.name_folded);
    END""",
    """CREATE TRIGGER schools_name_fts_update AFTER UPDATE OF name_folded ON schools BEGIN
        INSERT INTO schools_name_fts(schools_name_fts, rowid, name_folded)
            VALUES ('delete', old.id, old.name_folded);
        INSERT INTO schools_name_fts(rowid, name_folded) VALUES (new.id, new.name_folded);
    END""",
    "INSERT INTO schools_name_fts(schools_name_fts) VALUES ('rebuild')",
]


def _create_fulltext(dialect):
    if dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_schools_name_fts ON schools "
            "USING gin (to_tsvector('simple', name_folded))"
        )
    elif dialect in ("mysql", "mariadb"):
        op.execute("CREATE FULLTEXT INDEX ix_schools_name_fts ON schools (name_folded)")
    elif dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def _drop_fulltext(dialect):
    if dialect == "postgresql":
        op.execute("DROP INDEX ix_schools_name_fts")
    elif dialect in ("mysql", "mariadb"):
        op.execute("DROP INDEX ix_schools_name_fts ON schools")
    elif dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER schools_name_fts_{trigger}")
        op.execute("DROP TABLE schools_name_fts")


def _allow_consent_method(methods):
    listed = ", ".join(f"'{m}'" for m in methods)
    with op.batch_alter_table('user_consents', schema=None) as batch_op:
        for column in ("method", "withdrawn_method"):
            batch_op.drop_constraint(batch_op.f(f'ck_user_consents_{column}_known'), type_='check')
            batch_op.create_check_constraint(f'{column}_known', f"{column} IN ({listed})")


_schools = sa.table(
    "schools", sa.column("id", sa.BigInteger), sa.column("name", sa.String),
    sa.column("name_folded", sa.String), sa.column("yearly_fee_min", sa.Numeric(12, 2)),
    sa.column("yearly_fee_max", sa.Numeric(12, 2)),
)
_campuses = sa.table(
    "campuses", sa.column("id", sa.BigInteger), sa.column("school_id", sa.BigInteger),
    sa.column("deleted_at", sa.DateTime),
)
_levels = sa.table("school_levels", sa.column("school_id", sa.BigInteger), sa.column("level", sa.String))
_fees = sa.table(
    "school_fees", sa.column("school_id", sa.BigInteger), sa.column("campus_id", sa.BigInteger),
    sa.column("level", sa.String), sa.column("school_year", sa.SmallInteger),
    sa.column("yearly_fee", sa.Numeric(12, 2)),
)


def _carry_fee_ranges_over():
    connection = op.get_bind()
    year = _school_year_now()
    taught = {}
    for school_id, level in connection.execute(sa.select(_levels.c.school_id, _levels.c.level)):
        taught.setdefault(school_id, set()).add(level)
    ranges = {
        id_: (low, high)
        for id_, low, high in connection.execute(
            sa.select(_schools.c.id, _schools.c.yearly_fee_min, _schools.c.yearly_fee_max)
            .where(_schools.c.yearly_fee_min.is_not(None), _schools.c.yearly_fee_max.is_not(None))
        )
    }
    rows = []
    for campus_id, school_id in connection.execute(
        sa.select(_campuses.c.id, _campuses.c.school_id).where(_campuses.c.deleted_at.is_(None))
    ):
        levels = [level for level in LEVELS if level in taught.get(school_id, ())]
        if school_id not in ranges or not levels:
            continue
        low, high = ranges[school_id]
        rows.append({"school_id": school_id, "campus_id": campus_id, "level": levels[0],
                     "school_year": year, "yearly_fee": low})
        if len(levels) > 1:
            rows.append({"school_id": school_id, "campus_id": campus_id, "level": levels[-1],
                         "school_year": year, "yearly_fee": high})
    for start in range(0, len(rows), BATCH):
        connection.execute(_fees.insert(), rows[start:start + BATCH])


def _derive_fee_ranges():
    connection = op.get_bind()
    for school_id, low, high in connection.execute(
        sa.select(_fees.c.school_id, sa.func.min(_fees.c.yearly_fee), sa.func.max(_fees.c.yearly_fee))
        .group_by(_fees.c.school_id)
    ).all():
        connection.execute(
            _schools.update().where(_schools.c.id == school_id)
            .values(yearly_fee_min=low, yearly_fee_max=high)
        )


def _backfill_folded_names():
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_schools.c.id, _schools.c.name).where(_schools.c.id > last)
            .order_by(_schools.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            _schools.update().where(_schools.c.id == sa.bindparam("school_id"))
            .values(name_folded=sa.bindparam("folded")),
            [{"school_id": id_, "folded": _fold(name)} for id_, name in rows],
        )
        last = rows[-1][0]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table('leads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('school_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campus_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('contact_preference', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('user_consent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assigned_customer_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('first_response_at', TIMESTAMP, nullable=True),
    sa.Column('ended_at', TIMESTAMP, nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("contact_preference IN ('email', 'phone', 'either')", name=op.f('ck_leads_contact_preference_known')),
    sa.CheckConstraint("level IN ('preschool', 'primary', 'middle', 'high')", name=op.f('ck_leads_level_known')),
    sa.CheckConstraint("state IN ('open', 'won', 'lost', 'closed')", name=op.f('ck_leads_state_known')),
    sa.ForeignKeyConstraint(['assigned_customer_user_id'], ['customer_users.id'], name=op.f('fk_leads_assigned_customer_user_id_customer_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campus_id', 'school_id'], ['campuses.id', 'campuses.school_id'], name=op.f('fk_leads_campus_id_school_id_campuses')),
    sa.ForeignKeyConstraint(['campus_id'], ['campuses.id'], name=op.f('fk_leads_campus_id_campuses')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_leads_school_id_schools')),
    sa.ForeignKeyConstraint(['user_consent_id'], ['user_consents.id'], name=op.f('fk_leads_user_consent_id_user_consents')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_leads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('user_id', 'request_key', name=op.f('uq_leads_user_id_request_key'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads_assigned_customer_user_id'), ['assigned_customer_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_campus_id'), ['campus_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_school_id_state_created_at'), ['school_id', 'state', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_user_id_created_at'), ['user_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_user_consent_id'), ['user_consent_id'], unique=False)

    op.create_table('school_fees',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('school_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campus_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('yearly_fee', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.CheckConstraint("level IN ('preschool', 'primary', 'middle', 'high')", name=op.f('ck_school_fees_level_known')),
    sa.CheckConstraint('school_year >= 2000 AND school_year <= 2200', name=op.f('ck_school_fees_school_year_sane')),
    sa.CheckConstraint('yearly_fee >= 0', name=op.f('ck_school_fees_yearly_fee_not_negative')),
    sa.ForeignKeyConstraint(['campus_id', 'school_id'], ['campuses.id', 'campuses.school_id'], name=op.f('fk_school_fees_campus_id_school_id_campuses')),
    sa.ForeignKeyConstraint(['campus_id'], ['campuses.id'], name=op.f('fk_school_fees_campus_id_campuses')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_fees_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_fees')),
    sa.UniqueConstraint('campus_id', 'level', 'school_year', name=op.f('uq_school_fees_campus_id_level_school_year'))
    )
    with op.batch_alter_table('school_fees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_fees_school_id_school_year'), ['school_id', 'school_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_fees_school_year_level_yearly_fee'), ['school_year', 'level', 'yearly_fee'], unique=False)

    op.create_table('user_comparisons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('school_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campus_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('target_key', sa.String(length=32), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['campus_id', 'school_id'], ['campuses.id', 'campuses.school_id'], name=op.f('fk_user_comparisons_campus_id_school_id_campuses')),
    sa.ForeignKeyConstraint(['campus_id'], ['campuses.id'], name=op.f('fk_user_comparisons_campus_id_campuses')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_user_comparisons_school_id_schools')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_comparisons_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_comparisons')),
    sa.UniqueConstraint('user_id', 'target_key', name=op.f('uq_user_comparisons_user_id_target_key'))
    )
    with op.batch_alter_table('user_comparisons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_comparisons_campus_id'), ['campus_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_comparisons_school_id'), ['school_id'], unique=False)

    op.create_table('lead_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('is_internal', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("kind IN ('opened', 'assigned', 'note', 'offer_sent', 'offer_accepted', 'offer_declined', 'won', 'lost', 'closed')", name=op.f('ck_lead_events_kind_known')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_lead_events_actor_user_id_users')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_events_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_events'))
    )
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_events_lead_id_created_at'), ['lead_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_events_actor_user_id'), ['actor_user_id'], unique=False)

    op.create_table('school_offers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('yearly_fee', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('answered_at', TIMESTAMP, nullable=True),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.Column('updated_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("status IN ('open', 'accepted', 'declined')", name=op.f('ck_school_offers_status_known')),
    sa.CheckConstraint('discount_percent >= 0 AND discount_percent <= 100', name=op.f('ck_school_offers_discount_in_range')),
    sa.CheckConstraint('yearly_fee >= 0', name=op.f('ck_school_offers_yearly_fee_not_negative')),
    sa.ForeignKeyConstraint(['customer_user_id'], ['customer_users.id'], name=op.f('fk_school_offers_customer_user_id_customer_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_school_offers_lead_id_leads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_offers'))
    )
    with op.batch_alter_table('school_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_offers_customer_user_id'), ['customer_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_offers_lead_id_created_at'), ['lead_id', 'created_at'], unique=False)

    _carry_fee_ranges_over()
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_folded', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('address_line', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('website', sa.String(length=255), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_schools_fee_range_ordered'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_schools_fee_min_not_negative'), type_='check')
        batch_op.drop_column('yearly_fee_max')
        batch_op.drop_column('yearly_fee_min')
    _backfill_folded_names()
    _create_fulltext(dialect)
    _allow_consent_method(LEAD_FORM_METHODS)


def downgrade():
    dialect = op.get_bind().dialect.name
    _allow_consent_method(EARLIER_METHODS)
    _drop_fulltext(dialect)
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('yearly_fee_min', sa.NUMERIC(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('yearly_fee_max', sa.NUMERIC(precision=12, scale=2), nullable=True))
        batch_op.create_check_constraint('fee_min_not_negative', 'yearly_fee_min >= 0')
        batch_op.create_check_constraint('fee_range_ordered', 'yearly_fee_min <= yearly_fee_max')
        batch_op.drop_column('website')
        batch_op.drop_column('email')
        batch_op.drop_column('phone')
        batch_op.drop_column('address_line')
        batch_op.drop_column('name_folded')
    _derive_fee_ranges()

    # Each table's indexes go with it (MariaDB refuses to drop first an index a foreign key uses).
    op.drop_table('school_offers')
    op.drop_table('lead_events')
    op.drop_table('user_comparisons')
    op.drop_table('school_fees')
    op.drop_table('leads')
