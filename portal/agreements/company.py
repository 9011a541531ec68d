"""A company's agreements as its staff see them: the list, one agreement, and the ones
waiting for a member's signature.

Who may read them is a permission rule (may_read): a member who may sign agreements or see
the company's billing. Drafts are the operator's work in progress and are not shown to the
company; an agreement exists for it from the moment it is sent. Plain module: the caller
passes the session.
"""

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from portal.access.permissions import Permission, can
from portal.models import CustomerAgreement, CustomerUser, CustomerUserAgreementSign
from portal.models.customers import AgreementStatus
from portal.paging import Page, paginate

# The permissions that open the company's agreements (any one of them).
READ_PERMISSIONS = (Permission.SIGN_AGREEMENTS, Permission.SEE_BILLING)
# More than any company has waiting at once; the dashboard says so when it is reached.
WAITING_LIMIT = 20


def may_read(customer_user: CustomerUser | None) -> bool:
    """The member may read the company's agreements and their evidence."""
    return any(can(customer_user, permission) for permission in READ_PERMISSIONS)


def _shown(customer_id: int):
    return (
        CustomerAgreement.customer_id == customer_id,
        CustomerAgreement.status != AgreementStatus.DRAFT,
    )


def agreement_of(session: Session, customer_id: int, agreement_id: int) -> CustomerAgreement | None:
    """The company's agreement with this id, or None (another company's, a draft, unknown)."""
    return session.scalar(
        select(CustomerAgreement).where(CustomerAgreement.id == agreement_id, *_shown(customer_id))
    )


@cache
def _waiting_statement() -> Select:
    """The company's agreements awaiting signature that neither the member nor another member
    of their role has signed; built once, as every staff member's home asks (decisions.md,
    "Statements built once")."""
    signed = exists().where(
        CustomerUserAgreementSign.customer_agreement_id == CustomerAgreement.id,
        or_(
            CustomerUserAgreementSign.customer_user_id == bindparam("customer_user_id"),
            CustomerUserAgreementSign.signer_role == bindparam("role"),
        ),
    )
    return (
        select(CustomerAgreement)
        .where(
            CustomerAgreement.customer_id == bindparam("customer_id"),
            CustomerAgreement.status == AgreementStatus.AWAITING_SIGNATURE,
            ~signed,
        )
        .order_by(CustomerAgreement.sent_at, CustomerAgreement.id)
        .limit(WAITING_LIMIT * 4)
    )


@dataclass(frozen=True)
class Row:
    """One line of the list: the agreement and the required roles that have not signed."""

    agreement: CustomerAgreement
    roles_to_sign: list[str]


def agreements_page(session: Session, customer_id: int, number: int) -> Page:
    """A page of the company's agreements, newest first, each with the roles still to sign
    (one statement for the page with its count, one for the signatures of its agreements)."""
    page = paginate(
        session,
        select(CustomerAgreement).where(*_shown(customer_id)).order_by(CustomerAgreement.id.desc()),
        number,
    )
    signed: dict[int, set[str]] = {agreement.id: set() for agreement in page.items}
    if signed:
        for agreement_id, role in session.execute(
            select(
                CustomerUserAgreementSign.customer_agreement_id,
                CustomerUserAgreementSign.signer_role,
            ).where(CustomerUserAgreementSign.customer_agreement_id.in_(signed))
        ):
            signed[agreement_id].add(role)
    rows = [
        Row(
            agreement,
            [role for role in agreement.required_roles if role not in signed[agreement.id]]
            if agreement.status == AgreementStatus.AWAITING_SIGNATURE
            else [],
        )
        for agreement in page.items
    ]
    return Page(rows, page.number, page.per_page, page.total)


def waiting_for(session: Session, customer_user: CustomerUser) -> list[CustomerAgreement]:
    """The agreements awaiting this member's signature (one statement), oldest sent first:
    their role is required and neither they nor another member of their role has signed.
    Empty for a member who may not sign."""
    if not can(customer_user, Permission.SIGN_AGREEMENTS):
        return []
    role = customer_user.role.code
    candidates = session.scalars(
        _waiting_statement(),
        {
            "customer_id": customer_user.customer_id,
            "customer_user_id": customer_user.id,
            "role": role,
        },
    )
    # required_roles is JSON, queried three ways by three databases: compared here.
    return [a for a in candidates if role in (a.required_roles or [])][:WAITING_LIMIT]
