"""What each staff role may do: ONE table from customer_user_roles.code to permissions.

A view, a template or a domain module never compares a role code: it asks
`can(customer_user, Permission.X)`. Grants (portal.access.grants) then narrow the schools and
campuses a permission applies to. A deactivated member has no permissions at all.

The role codes are reference data inserted by migration 0001 with fixed ids; this module and
the migrations are the only places that spell them.
"""

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import CustomerUser, CustomerUserRole, User


class Role(StrEnum):
    """customer_user_roles.code"""

    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    FINANCE = "finance"


class Permission(StrEnum):
    """Something a staff member may do for their company."""

    SEE_BILLING = "see_billing"  # the company's subscription, payments, saved card, tax number
    MANAGE_BILLING = "manage_billing"  # choose, change, pause and cancel the company's plan
    EDIT_COMPANY = "edit_company"  # the company's invoice and contact details
    MANAGE_TEAM = "manage_team"  # invite, grant, deactivate colleagues
    EDIT_SCHOOL_PAGES = "edit_school_pages"  # the public page and fees of granted schools
    ANSWER_LEADS = "answer_leads"  # leads of granted schools and campuses
    SIGN_AGREEMENTS = "sign_agreements"  # the company's service agreements


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset({Permission.EDIT_SCHOOL_PAGES, Permission.ANSWER_LEADS}),
    Role.AGENT: frozenset({Permission.ANSWER_LEADS}),
    Role.FINANCE: frozenset(
        {Permission.SEE_BILLING, Permission.MANAGE_BILLING, Permission.SIGN_AGREEMENTS}
    ),
}

# Display names of the roles, in the visitor's language (the table's `name` is Turkish only).
ROLE_NAMES = {
    Role.ADMIN: _l("Company admin"),
    Role.MANAGER: _l("School manager"),
    Role.AGENT: _l("Admissions agent"),
    Role.FINANCE: _l("Finance"),
}


def permissions_of(customer_user: CustomerUser | None) -> frozenset[Permission]:
    """Everything the member may do; nothing when there is no member or it is deactivated."""
    if customer_user is None or not customer_user.is_active:
        return frozenset()
    try:
        role = Role(customer_user.role.code)
    except ValueError:  # a role added to the table but not yet here grants nothing
        return frozenset()
    return ROLE_PERMISSIONS[role]


def can(customer_user: CustomerUser | None, permission: Permission) -> bool:
    """The member may do `permission` for their company."""
    return permission in permissions_of(customer_user)


def role_name(customer_user: CustomerUser) -> str:
    """The member's role in the visitor's language."""
    return role_label(customer_user.role.code, customer_user.role.name)


def role_label(code: str, stored_name: str) -> str:
    """A role by its code in the visitor's language; a code this release does not know, by
    the name its row stores."""
    try:
        return str(ROLE_NAMES[Role(code)])
    except ValueError:
        return stored_name


def roles_with(permission: Permission) -> list[Role]:
    """The roles that carry `permission`."""
    return [role for role, granted in ROLE_PERMISSIONS.items() if permission in granted]


def members_who_can(session: Session, customer_id: int, permission: Permission) -> list[User]:
    """The company's active members who may do `permission`, by name: whom to ask."""
    return list(
        session.scalars(
            select(User)
            .join(CustomerUser, CustomerUser.user_id == User.id)
            .join(CustomerUserRole, CustomerUserRole.id == CustomerUser.role_id)
            .where(
                CustomerUser.customer_id == customer_id,
                CustomerUser.is_active,
                CustomerUserRole.code.in_([str(role) for role in roles_with(permission)]),
            )
            .order_by(User.name)
        )
    )
