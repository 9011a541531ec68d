"""KVKK texts (information notice, explicit consent) and the consents users give.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

"""
from datetime import datetime, timezone
from hashlib import sha256

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_texts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('published_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("kind IN ('kvkk_notice', 'kvkk_consent')", name=op.f('ck_consent_texts_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_texts')),
    sa.UniqueConstraint('kind', 'version', name=op.f('uq_consent_texts_kind_version'))
    )
    op.create_table('user_consents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consent_text_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('given_at', TIMESTAMP, nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('withdrawn_at', TIMESTAMP, nullable=True),
    sa.Column('withdrawn_method', sa.String(length=32), nullable=True),
    sa.CheckConstraint("method IN ('registration_form', 'account_page')", name=op.f('ck_user_consents_method_known')),
    sa.CheckConstraint("withdrawn_method IN ('registration_form', 'account_page')", name=op.f('ck_user_consents_withdrawn_method_known')),
    sa.ForeignKeyConstraint(['consent_text_id'], ['consent_texts.id'], name=op.f('fk_user_consents_consent_text_id_consent_texts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_consents_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_consents'))
    )
    with op.batch_alter_table('user_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_consents_consent_text_id'), ['consent_text_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_consents_user_id'), ['user_id'], unique=False)
    _insert_first_texts()


def downgrade():
    op.drop_table('user_consents')
    op.drop_table('consent_texts')


NOTICE = """Okul Portal Kişisel Verilerin Korunması Kanunu (KVKK) Aydınlatma Metni

Veri sorumlusu: Okul Portal. 6698 sayılı Kişisel Verilerin Korunması Kanunu uyarınca; adınız,
e-posta adresiniz, telefon numaranız, okul ücreti bütçeniz ve portaldaki işlemleriniz, üyelik
sözleşmesinin kurulması ve ifası (KVKK m. 5/2-c) ile hukuki yükümlülüklerimizin yerine
getirilmesi (m. 5/2-ç) amacıyla işlenir. Güvenlik kayıtları (IP adresi, tarayıcı bilgisi, işlem
zamanı) meşru menfaatimiz (m. 5/2-f) kapsamında tutulur.

Bilgileriniz, açık rızanız olmadan bilgi istediğiniz okullar dışında kimseyle paylaşılmaz.
KVKK m. 11 uyarınca verilerinize erişme, düzeltilmesini veya silinmesini isteme ve itiraz etme
haklarına sahipsiniz; bu hakları hesabınızdan veya kvkk@okul-portal.example.com adresinden
kullanabilirsiniz."""

CONSENT = """Açık Rıza Metni

Aydınlatma metnini okudum. Ad, e-posta ve telefon bilgilerimin, bilgi talebinde bulunduğum
okullarla ve bu okulları işleten firmalarla, talebime yanıt verebilmeleri amacıyla paylaşılmasına
açık rızamla onay veriyorum. Bu onayı hesabımdan dilediğim zaman geri alabileceğimi biliyorum."""


def _insert_first_texts():
    texts = sa.table(
        "consent_texts", sa.column("kind", sa.String), sa.column("version", sa.Integer),
        sa.column("title", sa.String), sa.column("body", sa.Text),
        sa.column("body_sha256", sa.String), sa.column("published_at", TIMESTAMP),
    )
    published = datetime(2026, 11, 1, tzinfo=timezone.utc).replace(tzinfo=None)  # naive UTC
    op.bulk_insert(texts, [
        {"kind": "kvkk_notice", "version": 1, "title": "KVKK Aydınlatma Metni", "body": NOTICE,
         "body_sha256": sha256(NOTICE.encode()).hexdigest(), "published_at": published},
        {"kind": "kvkk_consent", "version": 1, "title": "Açık Rıza Metni", "body": CONSENT,
         "body_sha256": sha256(CONSENT.encode()).hexdigest(), "published_at": published},
    ])
