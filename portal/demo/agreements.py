"""The demo service agreement: the company service text (version 1) and Bilge Eğitim's
agreement for the next year, sent and awaiting its admin's signature.

Made through portal.agreements, as an operator would (the text as published on 1 January
2026); found by kind and version (the text) and by the customer (the agreement), and made
only when missing.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access.permissions import Role
from portal.agreements import agreements, texts
from portal.agreements.agreements import Party, Product
from portal.clock import ISTANBUL, utcnow
from portal.models import AgreementText, Customer, CustomerAgreement
from portal.models.customers import AgreementKind

AGREEMENT_TITLE = "Okul Portal Hizmet Sözleşmesi"
AGREEMENT_BODY = """Okul Portal Hizmet Sözleşmesi
Sözleşme no: {agreement_no}

1. Taraflar
Hizmet veren: {provider_legal_name} ({provider_name})
  {provider_tax_office} V.D. {provider_tax_number}, {provider_address}
Müşteri: {company_legal_name} ({company_name})
  {company_tax_office} V.D. {company_tax_id}, {company_address}

2. Konu
Bu sözleşme, müşterinin okullarının Okul Portal'da listelenmesi ve velilerden gelen bilgi
taleplerinin yönetimi hizmetlerinin koşullarını belirler.

3. Hizmetler ve bedel
{products}
Toplam (KDV hariç): {total_net}
KDV: {kdv}
Toplam (KDV dahil): {total_gross}

4. Süre
{term_start} ile {term_end} arasıdır.
"""

# Okul as the contract names it (demo values; production reads them from settings).
PROVIDER = Party(
    name="Okul",
    legal_name="Okul Bilişim Hizmetleri A.Ş.",
    tax_office="Kadıköy",
    tax_id="1234567890",
    address="Moda Caddesi 1, Kadıköy, İstanbul",
)


def make_agreement(session: Session, customer: Customer) -> None:
    """The text (version 1, from 1 January 2026) and the customer's 2027 agreement, sent."""
    text = session.scalar(
        select(AgreementText).where(
            AgreementText.kind == AgreementKind.COMPANY_SERVICE, AgreementText.version == 1
        )
    )
    if text is None:
        published = datetime(2026, 1, 1, tzinfo=ISTANBUL)
        texts.publish_text(
            session,
            AgreementKind.COMPANY_SERVICE,
            title=AGREEMENT_TITLE,
            body=AGREEMENT_BODY,
            started_at=published,
            now=published,
        )
    if session.scalar(
        select(CustomerAgreement.id).where(CustomerAgreement.customer_id == customer.id)
    ):
        return
    now = utcnow()
    agreement = agreements.draft_agreement(
        session,
        customer,
        [
            Product("Okul listeleme", 3, Decimal("60000.00"), "yearly"),
            Product("Anında aday bildirimi", 1, Decimal("12000.00"), "yearly"),
        ],
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
        required_roles=(Role.ADMIN,),
        now=now,
    )
    agreements.send_for_signature(session, agreement, PROVIDER, now=now)
