"""Plans, features, feature categories and the KVKK texts in English too (issue 14, item 8).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30

- subscription_plans gains `name_en` (NOT NULL) and `description_en` (nullable, like
  `description`); plan_features gains `name_en` (NOT NULL). Every plan and feature carries
  both names from now on; the rows already there get their Turkish name copied (nobody wrote
  an English one yet), which is what an English reader saw before.
- plan_feature_categories names the categories in both languages, with their order. The
  categories were free strings in plan_features.category; each distinct string becomes a
  category whose code is that string (its names a copy of it), and plan_features.category
  becomes a foreign key to the code (indexed), so the existing rows and their grouping stay as they were.
- consent_texts gains `title_en` and `body_en` (nullable): an English translation for English
  readers; the Turkish `title`/`body` stay the binding text, and consents keep recording the
  SHA-256 of the Turkish body. Version 1 of both texts (inserted by 0002) gets its English
  translation here, matched by its hash so an edited deployment is left alone.

The downgrade drops the columns and the category table (the category codes stay in
plan_features.category, as strings).
"""

# ruff: noqa: E501 -- each paragraph of the English texts is one line, so that the stored text
# wraps where its reader's screen does, not where this file's editor did.

from hashlib import sha256

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FK = "fk_plan_features_category_plan_feature_categories"

# The Turkish texts of 0002, copied to recognise the rows (a migration must not import another).
NOTICE_TR = """Okul Portal Kişisel Verilerin Korunması Kanunu (KVKK) Aydınlatma Metni

Veri sorumlusu: Okul Portal. 6698 sayılı Kişisel Verilerin Korunması Kanunu uyarınca; adınız,
e-posta adresiniz, telefon numaranız, okul ücreti bütçeniz ve portaldaki işlemleriniz, üyelik
sözleşmesinin kurulması ve ifası (KVKK m. 5/2-c) ile hukuki yükümlülüklerimizin yerine
getirilmesi (m. 5/2-ç) amacıyla işlenir. Güvenlik kayıtları (IP adresi, tarayıcı bilgisi, işlem
zamanı) meşru menfaatimiz (m. 5/2-f) kapsamında tutulur.

Bilgileriniz, açık rızanız olmadan bilgi istediğiniz okullar dışında kimseyle paylaşılmaz.
KVKK m. 11 uyarınca verilerinize erişme, düzeltilmesini veya silinmesini isteme ve itiraz etme
haklarına sahipsiniz; bu hakları hesabınızdan veya kvkk@okul-portal.example.com adresinden
kullanabilirsiniz."""

CONSENT_TR = """Açık Rıza Metni

Aydınlatma metnini okudum. Ad, e-posta ve telefon bilgilerimin, bilgi talebinde bulunduğum
okullarla ve bu okulları işleten firmalarla, talebime yanıt verebilmeleri amacıyla paylaşılmasına
açık rızamla onay veriyorum. Bu onayı hesabımdan dilediğim zaman geri alabileceğimi biliyorum."""

NOTICE_EN = """Okul Portal Personal Data Protection Law (KVKK) Information Notice

Data controller: Okul Portal. Under Personal Data Protection Law No. 6698, your name, e-mail address, phone number, school fee budget and your actions on the portal are processed to conclude and perform the membership contract (KVKK art. 5/2-c) and to meet our legal obligations (art. 5/2-ç). Security records (IP address, browser details, time of the action) are kept under our legitimate interest (art. 5/2-f).

Without your explicit consent, your details are shared with nobody except the schools you ask for information. Under KVKK art. 11 you have the right to access your data, to ask for it to be corrected or deleted, and to object; you can use these rights from your account or at kvkk@okul-portal.example.com."""

CONSENT_EN = """Explicit Consent Text

I have read the information notice. With my explicit consent, I agree that my name, e-mail address and phone number are shared with the schools I ask for information and with the companies that run those schools, so that they can answer my request. I know that I can withdraw this consent from my account whenever I wish."""

TRANSLATIONS = (
    ("kvkk_notice", NOTICE_TR, "KVKK Information Notice", NOTICE_EN),
    ("kvkk_consent", CONSENT_TR, "Explicit Consent Text", CONSENT_EN),
)

consent_texts = sa.table(
    "consent_texts",
    sa.column("kind", sa.String),
    sa.column("version", sa.Integer),
    sa.column("body_sha256", sa.String),
    sa.column("title_en", sa.String),
    sa.column("body_en", sa.Text),
)


def upgrade():
    op.create_table(
        "plan_feature_categories",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=False),
        sa.Column("sort_order", sa.SmallInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_feature_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_plan_feature_categories_code")),
    )
    # Sort order 0 for all: the page then orders them by code, as it ordered the strings.
    op.execute(
        "INSERT INTO plan_feature_categories (code, name, name_en, sort_order)"
        " SELECT DISTINCT category, category, category, 0 FROM plan_features"
    )

    for table in ("subscription_plans", "plan_features"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_en", sa.String(length=255), nullable=True))
            if table == "subscription_plans":
                batch.add_column(sa.Column("description_en", sa.Text(), nullable=True))
        op.execute(f"UPDATE {table} SET name_en = name")
        with op.batch_alter_table(table) as batch:
            batch.alter_column("name_en", existing_type=sa.String(length=255), nullable=False)
            if table == "plan_features":
                batch.create_index(op.f("ix_plan_features_category"), ["category"])
                batch.create_foreign_key(
                    op.f(FK), "plan_feature_categories", ["category"], ["code"]
                )

    with op.batch_alter_table("consent_texts") as batch:
        batch.add_column(sa.Column("title_en", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("body_en", sa.Text(), nullable=True))
    for kind, body_tr, title_en, body_en in TRANSLATIONS:
        op.execute(
            consent_texts.update()
            .where(
                consent_texts.c.kind == kind,
                consent_texts.c.version == 1,
                consent_texts.c.body_sha256 == sha256(body_tr.encode()).hexdigest(),
            )
            .values(title_en=title_en, body_en=body_en)
        )


def downgrade():
    with op.batch_alter_table("consent_texts") as batch:
        batch.drop_column("body_en")
        batch.drop_column("title_en")
    with op.batch_alter_table("plan_features") as batch:
        batch.drop_constraint(op.f(FK), type_="foreignkey")
        batch.drop_index(op.f("ix_plan_features_category"))
        batch.drop_column("name_en")
    with op.batch_alter_table("subscription_plans") as batch:
        batch.drop_column("description_en")
        batch.drop_column("name_en")
    op.drop_table("plan_feature_categories")
