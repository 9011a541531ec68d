"""The parent's sale texts, version 1: the pre-information form and the distance sales contract.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29

Law 6502 and the distance contracts regulation ask that a consumer buying online is shown the
pre-information form (ön bilgilendirme formu) and the distance sales contract (mesafeli satış
sözleşmesi) and confirms them before paying. Parent checkout renders the version of each kind
valid at the time (portal.agreements.acceptances); without one it refuses to sell, so the
first versions are data every deployment needs, like the reference rows of 0001: inserted
here, valid from 1 January 2026, 00:00 in Istanbul (stored as naive UTC, 2025-12-31 21:00),
published at the same instant.

`body` is the binding Turkish template, `body_en` its English translation; both use only the
placeholders of portal.agreements.texts.PLACEHOLDERS for these kinds, and `body_sha256` is
the SHA-256 of the canonical body (NFC, "\\n" line ends), as texts.publish_text computes it.
The provider (the seller) is not written here: it is filled in from the AGREEMENT_PROVIDER
setting when a document is rendered.

The downgrade deletes these two rows only while no acceptance refers to them: a text someone
confirmed is part of the evidence and stays (the downgrade stops instead).
"""

# ruff: noqa: E501 -- each paragraph of the legal texts is one line, so that the stored text
# wraps where its reader's screen does, not where this file's editor did.

import hashlib
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# 1 January 2026, 00:00 in Istanbul (UTC+3, no daylight saving since 2016), as naive UTC.
STARTED_AT = datetime(2025, 12, 31, 21, 0, 0)

_SELLER_TR = """SATICI
Unvan: {provider_legal_name} ({provider_name})
Adres: {provider_address}
Vergi dairesi / numarası: {provider_tax_office} / {provider_tax_number}
KEP adresi: {provider_kep_address}

ALICI
Ad soyad: {buyer_name}
E-posta: {buyer_email}
Telefon: {buyer_phone}"""

_SELLER_EN = """SELLER
Legal name: {provider_legal_name} ({provider_name})
Address: {provider_address}
Tax office / number: {provider_tax_office} / {provider_tax_number}
Registered e-mail (KEP): {provider_kep_address}

BUYER
Name: {buyer_name}
E-mail: {buyer_email}
Phone: {buyer_phone}"""

_SERVICE_TR = """HİZMET
Okul portalı abonelik planı: {plan_name}
Ödeme dönemi: {billing_cycle}
Süre: {period}

FİYAT (Türk lirası)
KDV hariç: {price_net}
KDV (%{kdv_rate}): {kdv}
KDV dahil toplam: {price_gross}
Ödeme: {payment_schedule}
Ödeme, Satıcı'nın ödeme kuruluşunun güvenli sayfasında kart ile yapılır; kart bilgileri Satıcı'da saklanmaz."""

_SERVICE_EN = """SERVICE
Okul portal subscription plan: {plan_name}
Billing cycle: {billing_cycle}
Term: {period}

PRICE (Turkish lira)
Before KDV: {price_net}
KDV ({kdv_rate}%): {kdv}
Total including KDV: {price_gross}
Payment: {payment_schedule}
Payment is made by card on the secure page of the Seller's payment provider; the Seller does not keep the card details."""

_WITHDRAWAL_TR = """CAYMA HAKKI
Alıcı, sözleşmenin kurulduğu günden başlayarak 14 (on dört) gün içinde hiçbir gerekçe göstermeksizin ve cezai şart ödemeksizin sözleşmeden cayabilir. Cayma bildirimi bu süre içinde Satıcı'ya yazılı olarak veya kalıcı veri saklayıcısı ile (e-posta, KEP) yapılır; Satıcı bildirimi aldığı günden başlayarak 14 gün içinde tahsil ettiği tutarı ödemenin yapıldığı kartla iade eder.
Hizmet, Alıcı'nın bu formu onaylayarak açıkça istemesi üzerine ödeme ile birlikte hemen başlar. Mesafeli Sözleşmeler Yönetmeliği'nin 15. maddesinin (ğ) bendi uyarınca, cayma süresi dolmadan Alıcı'nın onayı ile ifasına başlanan hizmetlerde cayma hakkı kullanılamaz; Alıcı bunu bildiğini onaylar. Ücretsiz deneme süresi içinde hiçbir ücret alınmaz ve Alıcı deneme bitmeden iptal ederek hiçbir bedel ödemez.
Alıcı aboneliğini her zaman abonelik sayfasından iptal edebilir: iptal, ödenmiş dönemin sonunda yürürlüğe girer ve sonraki dönemler için ücret alınmaz."""

_WITHDRAWAL_EN = """RIGHT OF WITHDRAWAL
The Buyer may withdraw from the contract within 14 (fourteen) days of its conclusion without giving any reason and without penalty. Notice of withdrawal is given to the Seller within that period in writing or on a durable medium (e-mail, KEP); the Seller refunds the amount collected to the card used within 14 days of receiving the notice.
At the Buyer's express request, given by confirming this form, the service starts at once, with the payment. Under article 15 (ğ) of the Distance Contracts Regulation, the right of withdrawal does not apply to services whose performance has begun with the Buyer's consent before the withdrawal period ends; the Buyer confirms knowing this. Nothing is charged during a free trial, and a Buyer who cancels before the trial ends pays nothing.
The Buyer can cancel the subscription at any time from the subscription page: the cancellation takes effect at the end of the period paid for, and later periods are not charged."""

_DISPUTES_TR = """ŞİKAYET VE UYUŞMAZLIKLAR
Alıcı şikayetlerini Satıcı'nın yukarıdaki adreslerine iletebilir. Uyuşmazlıklarda, Ticaret Bakanlığı'nın her yıl ilan ettiği parasal sınırlar içinde Alıcı'nın veya Satıcı'nın yerleşim yerindeki tüketici hakem heyetleri, bu sınırların üzerinde tüketici mahkemeleri yetkilidir."""

_DISPUTES_EN = """COMPLAINTS AND DISPUTES
The Buyer may send complaints to the Seller's addresses above. Disputes go to the consumer arbitration committee of the Buyer's or the Seller's place of residence within the monetary limits the Ministry of Trade announces each year, and to the consumer courts above them."""

PRE_INFORMATION_TR = f"""ÖN BİLGİLENDİRME FORMU

Bu form, 6502 sayılı Tüketicinin Korunması Hakkında Kanun ve Mesafeli Sözleşmeler Yönetmeliği uyarınca, mesafeli satış sözleşmesi kurulmadan önce Alıcı'yı bilgilendirmek için düzenlenmiştir.

{_SELLER_TR}

{_SERVICE_TR}

{_WITHDRAWAL_TR}

{_DISPUTES_TR}

Tarih: {{document_date}}
Sipariş: {{order_key}}
"""

PRE_INFORMATION_EN = f"""PRE-INFORMATION FORM

This form informs the Buyer before the distance sales contract is concluded, as Consumer Protection Law No. 6502 and the Distance Contracts Regulation require.

{_SELLER_EN}

{_SERVICE_EN}

{_WITHDRAWAL_EN}

{_DISPUTES_EN}

Date: {{document_date}}
Order: {{order_key}}
"""

DISTANCE_SALES_TR = f"""MESAFELİ SATIŞ SÖZLEŞMESİ

MADDE 1. TARAFLAR
{_SELLER_TR}

MADDE 2. KONU
Bu sözleşmenin konusu, Alıcı'nın Satıcı'nın internet sitesi üzerinden elektronik ortamda satın aldığı aşağıdaki hizmetin sunulması ve bedelinin ödenmesidir; tarafların hak ve yükümlülükleri 6502 sayılı Kanun ve Mesafeli Sözleşmeler Yönetmeliği hükümlerine göre belirlenir.

MADDE 3. HİZMET VE BEDEL
{_SERVICE_TR}

MADDE 4. İFA VE YENİLEME
Hizmet, ödeme ile (ücretsiz denemede deneme başında) Alıcı'nın hesabında hemen kullanıma açılır. Abonelik, Alıcı iptal edene kadar her dönemin sonunda aynı bedelle yenilenir; tek seferlik (ömür boyu) planlar yenilenmez. Yenileme ücreti, Alıcı'nın kayıtlı kartından dönem başında tahsil edilir.

MADDE 5. {_WITHDRAWAL_TR}

MADDE 6. ÖN BİLGİLENDİRME
Alıcı, bu sözleşmeyi onaylamadan önce aynı siparişe ait ön bilgilendirme formunu okuduğunu ve onayladığını kabul eder.

MADDE 7. {_DISPUTES_TR}

Bu sözleşme, Alıcı'nın elektronik ortamda onayı ile kurulmuş ve onaylanan metin Satıcı tarafından saklanmaktadır.

Tarih: {{document_date}}
Sipariş: {{order_key}}
"""

DISTANCE_SALES_EN = f"""DISTANCE SALES CONTRACT

ARTICLE 1. PARTIES
{_SELLER_EN}

ARTICLE 2. SUBJECT
This contract covers the provision of the service below, bought by the Buyer electronically on the Seller's website, and its payment; the parties' rights and obligations follow Consumer Protection Law No. 6502 and the Distance Contracts Regulation.

ARTICLE 3. SERVICE AND PRICE
{_SERVICE_EN}

ARTICLE 4. PERFORMANCE AND RENEWAL
The service opens on the Buyer's account at once, with the payment (with a free trial, when the trial starts). The subscription renews at the end of each period for the same price until the Buyer cancels it; one-time (lifetime) plans do not renew. A renewal is charged to the Buyer's saved card at the start of the period.

ARTICLE 5. {_WITHDRAWAL_EN}

ARTICLE 6. PRE-INFORMATION
The Buyer confirms having read and confirmed the pre-information form of the same order before confirming this contract.

ARTICLE 7. {_DISPUTES_EN}

This contract was concluded by the Buyer's electronic confirmation, and the confirmed text is kept by the Seller.

Date: {{document_date}}
Order: {{order_key}}
"""

TEXTS = (
    {
        "kind": "parent_pre_information",
        "version": 1,
        "title": "Ön Bilgilendirme Formu",
        "title_en": "Pre-information form",
        "body": PRE_INFORMATION_TR,
        "body_en": PRE_INFORMATION_EN,
    },
    {
        "kind": "parent_distance_sales",
        "version": 1,
        "title": "Mesafeli Satış Sözleşmesi",
        "title_en": "Distance sales contract",
        "body": DISTANCE_SALES_TR,
        "body_en": DISTANCE_SALES_EN,
    },
)

agreement_texts = sa.table(
    "agreement_texts",
    sa.column("id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("version", sa.Integer),
    sa.column("title", sa.String),
    sa.column("body", sa.Text),
    sa.column("body_sha256", sa.String),
    sa.column("title_en", sa.String),
    sa.column("body_en", sa.Text),
    sa.column("started_at", sa.DateTime),
    sa.column("finished_at", sa.DateTime),
    sa.column("published_at", sa.DateTime),
)


def _canonical(text: str) -> str:
    # portal.agreements.evidence.canonical_document, copied: a migration must not change when
    # the application's code does.
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def rows() -> list[dict]:
    """The rows this migration inserts (also used by the tests to put them back)."""
    made = []
    for text in TEXTS:
        body, body_en = _canonical(text["body"]), _canonical(text["body_en"])
        made.append(
            {
                **text,
                "body": body,
                "body_en": body_en,
                "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
                "started_at": STARTED_AT,
                "finished_at": None,
                "published_at": STARTED_AT,
            }
        )
    return made


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Rows inserted with explicit ids (an import, a test's fixture) leave the id sequence
        # behind them; start after the highest id so these inserts cannot collide with one.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('agreement_texts', 'id'),"
            " COALESCE(MAX(id), 0) + 1, false) FROM agreement_texts"
        )
    op.bulk_insert(agreement_texts, rows())


def downgrade():
    bind = op.get_bind()
    ours = sa.and_(
        agreement_texts.c.version == 1,
        agreement_texts.c.kind.in_([text["kind"] for text in TEXTS]),
        agreement_texts.c.published_at == STARTED_AT,
    )
    ids = [row.id for row in bind.execute(sa.select(agreement_texts.c.id).where(ours))]
    if not ids:
        return
    acceptances = sa.table("user_agreement_acceptances", sa.column("agreement_text_id"))
    accepted = bind.execute(
        sa.select(sa.func.count())
        .select_from(acceptances)
        .where(acceptances.c.agreement_text_id.in_(ids))
    ).scalar()
    if accepted:
        raise RuntimeError("parents confirmed these texts; the downgrade would drop evidence")
    bind.execute(sa.delete(agreement_texts).where(agreement_texts.c.id.in_(ids)))
