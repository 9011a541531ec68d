"""The demo service agreement: one agreement text and an active agreement of Bilge Eğitim.

Agreements are drafted by operators and signed by companies in a later issue; until domain
functions make them, the rows are built here directly. Found by code and version (the text)
and by agreement number, and made only when missing.
"""

from datetime import date, datetime
from decimal import Decimal
from hashlib import sha256

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import ISTANBUL
from portal.models import AgreementText, Customer, CustomerAgreement

AGREEMENT_TITLE = "Okul Portal Hizmet Sözleşmesi"
AGREEMENT_BODY = (
    "Okul Portal Hizmet Sözleşmesi\n\n"
    "Bu sözleşme, Okul Portal ile okul firması arasında okul listeleme ve aday yönetimi "
    "hizmetlerinin koşullarını belirler."
)


def make_agreement(session: Session, customer: Customer) -> None:
    """The service agreement text (version 1) and the customer's active 2026 agreement."""
    text = session.scalar(
        select(AgreementText).where(AgreementText.code == "b2b-service", AgreementText.version == 1)
    )
    if text is None:
        text = AgreementText(
            code="b2b-service",
            version=1,
            title=AGREEMENT_TITLE,
            body=AGREEMENT_BODY,
            body_sha256=sha256(AGREEMENT_BODY.encode()).hexdigest(),
            started_at=datetime(2026, 1, 1, tzinfo=ISTANBUL),
        )
        session.add(text)
        session.flush()
    number = f"DEMO-{customer.erp_code}-2026"
    if (
        session.scalar(select(CustomerAgreement.id).where(CustomerAgreement.agreement_no == number))
        is None
    ):
        session.add(
            CustomerAgreement(
                customer_id=customer.id,
                agreement_text_id=text.id,
                agreement_no=number,
                status="active",
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                products=[{"code": "listing", "schools": 3, "amount": "180000.00"}],
                total_amount=Decimal("180000.00"),
                is_inflation_auto_updated=customer.is_inflation_auto_updated,
            )
        )
