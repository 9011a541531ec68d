"""A company's invoice and contact details (customers), changed by a member who may edit them.

Plain module: the caller passes the session, the acting member and the request's Origin, and
commits.
"""

from dataclasses import dataclass, fields, replace

from sqlalchemy.orm import Session

from portal.access.permissions import Permission, can
from portal.audit import Origin, log_event
from portal.models import Customer, CustomerUser
from portal.models.customers import CUSTOMER_TYPES
from portal.turkish import normalize_phone, normalize_tc_kimlik_no, normalize_vkn


@dataclass(frozen=True)
class CompanyDetails:
    """What a company admin may change about the company on the company page.

    Text values arrive trimmed, an empty one as None (the form does that); identifiers and the
    phone may come as typed and are stored in portal.turkish's one form.
    """

    name: str
    legal_name: str | None
    customer_type: str
    tax_office: str | None
    tax_number: str | None  # VKN, for a company
    tc_no: str | None  # TC Kimlik No, for a sole proprietor
    email: str | None
    phone: str | None
    address_line: str | None
    district: str | None
    city: str | None  # one of portal.turkish.PROVINCES, or what an older record holds
    # Renewals of the company's agreements follow inflation (its terms are issue 13's).
    is_inflation_auto_updated: bool


def company_details_of(customer: Customer) -> CompanyDetails:
    """The details as they are stored now."""
    return CompanyDetails(**{f.name: getattr(customer, f.name) for f in fields(CompanyDetails)})


def change_company_details(
    session: Session, customer_user: CustomerUser, details: CompanyDetails, origin: Origin
) -> list[str]:
    """Store the details on the member's own company; returns the names of the fields changed.

    When something changed, a `company_changed` audit row names the acting user, the company
    and the changed fields, never their values: a TC Kimlik No is personal data, and the log is
    no place for tax identifiers. When nothing changed, nothing is written.

    :raise PermissionError: when the member may not edit the company (Permission.EDIT_COMPANY).
    :raise ValueError: for an unknown customer type, one without the tax identity it needs, or
        an identifier or phone that is not valid (the form checks all of them first).
    """
    if not can(customer_user, Permission.EDIT_COMPANY):
        raise PermissionError("this member may not edit the company's details")
    if details.customer_type not in CUSTOMER_TYPES:
        raise ValueError(f"unknown customer type {details.customer_type!r}")
    if details.customer_type == "company" and not details.tax_number:
        raise ValueError("a company needs its tax number (VKN)")
    if details.customer_type == "sole_proprietor" and not details.tc_no:
        raise ValueError("a sole proprietor needs their TC Kimlik No")
    details = replace(
        details,
        tax_number=normalize_vkn(details.tax_number) if details.tax_number else None,
        tc_no=normalize_tc_kimlik_no(details.tc_no) if details.tc_no else None,
        phone=normalize_phone(details.phone) if details.phone else None,
    )
    customer = customer_user.customer
    before = company_details_of(customer)
    changed = [
        f.name
        for f in fields(CompanyDetails)
        if getattr(before, f.name) != getattr(details, f.name)
    ]
    if not changed:
        return []
    for name in changed:
        setattr(customer, name, getattr(details, name))
    log_event(
        session,
        "company_changed",
        customer_user.user_id,
        origin,
        customer_id=customer.id,
        fields=changed,
    )
    return changed
