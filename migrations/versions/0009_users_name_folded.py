"""users.name_folded: the name as search compares it, and the full-text index moved onto it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

"YILMAZ" and "yilmaz" did not find "Yılmaz": the databases fold case with rules that are wrong
for Turkish (I/ı, İ/i). The portal now folds names itself (portal.search_text.fold, copied
below as it was when this migration was written) into a column of their own, and each
database's full-text index (a GIN expression index, a FULLTEXT index, an FTS5 table with its
triggers) indexes that column instead of the name. users is altered by ADD COLUMN only (no
table copy), so the SQLite triggers of other tables are safe; its own FTS triggers are
replaced here.
"""
import unicodedata

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 5000


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(str.maketrans({"ı": "i"})).casefold()


SQLITE_FTS_ON_FOLDED = [
    """CREATE VIRTUAL TABLE users_name_fts USING fts5(
        name_folded, content='users', content_rowid='id', tokenize='unicode61')""",
    """CREATE TRIGGER users_name_fts_insert AFTER INSERT ON users BEGIN
        INSERT INTO users_name_fts(rowid, name_folded) VALUES (new.id, new.name_folded);
    END""",
    """CREATE TRIGGER users_name_fts_delete AFTER DELETE ON users BEGIN
        INSERT INTO users_name_fts(users_name_fts, rowid, name_folded)
            VALUES ('delete', old.id, old.name_folded);
    END""",
    """CREATE TRIGGER users_name_fts_update AFTER UPDATE OF name_folded ON users BEGIN
        INSERT INTO users_name_fts(users_name_fts, rowid, name_folded)
            VALUES ('delete', old.id, old.name_folded);
        INSERT INTO users_name_fts(rowid, name_folded) VALUES (new.id, new.name_folded);
    END""",
    "INSERT INTO users_name_fts(users_name_fts) VALUES ('rebuild')",
]

# As 0001 made them, for the downgrade.
SQLITE_FTS_ON_NAME = [
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
    "INSERT INTO users_name_fts(users_name_fts) VALUES ('rebuild')",
]


def _drop_fulltext(dialect):
    if dialect == "postgresql":
        op.execute("DROP INDEX ix_users_name_fts")
    elif dialect in ("mysql", "mariadb"):
        op.execute("DROP INDEX ix_users_name_fts ON users")
    elif dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER users_name_fts_{trigger}")
        op.execute("DROP TABLE users_name_fts")


def _backfill():
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.BigInteger), sa.column("name", sa.String),
                     sa.column("name_folded", sa.String))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(users.c.id, users.c.name).where(users.c.id > last)
            .order_by(users.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            users.update().where(users.c.id == sa.bindparam("user_id"))
            .values(name_folded=sa.bindparam("folded")),
            [{"user_id": id_, "folded": _fold(name)} for id_, name in rows],
        )
        last = rows[-1][0]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column(
        'users', sa.Column('name_folded', sa.String(length=255), server_default='', nullable=False)
    )
    _backfill()
    _drop_fulltext(dialect)
    if dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_users_name_fts ON users USING gin (to_tsvector('simple', name_folded))"
        )
    elif dialect in ("mysql", "mariadb"):
        op.execute("CREATE FULLTEXT INDEX ix_users_name_fts ON users (name_folded)")
    elif dialect == "sqlite":
        for statement in SQLITE_FTS_ON_FOLDED:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    _drop_fulltext(dialect)
    if dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_users_name_fts ON users USING gin (to_tsvector('simple', name))"
        )
    elif dialect in ("mysql", "mariadb"):
        op.execute("CREATE FULLTEXT INDEX ix_users_name_fts ON users (name)")
    elif dialect == "sqlite":
        for statement in SQLITE_FTS_ON_NAME:
            op.execute(statement)
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('name_folded')
