"""The one table from staff role to permissions, and the questions asked of it."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.access.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    can,
    members_who_can,
    permissions_of,
    role_name,
    roles_with,
)
from portal.models import CustomerUserRole

# What was decided for each role; a change to the table must change this too.
DECIDED = {
    Role.ADMIN: set(Permission),
    Role.MANAGER: {Permission.EDIT_SCHOOL_PAGES, Permission.ANSWER_LEADS},
    Role.AGENT: {Permission.ANSWER_LEADS},
    Role.FINANCE: {
        Permission.SEE_BILLING,
        Permission.MANAGE_BILLING,
        Permission.SIGN_AGREEMENTS,
    },
}


def test_the_table_gives_each_role_what_was_decided():
    assert {role: set(granted) for role, granted in ROLE_PERMISSIONS.items()} == DECIDED


def test_every_role_in_the_database_is_in_the_table_and_no_other(session):
    codes = set(session.scalars(select(CustomerUserRole.code)))

    assert codes == {str(role) for role in Role} == {str(role) for role in ROLE_PERMISSIONS}


@pytest.mark.parametrize("role", list(Role))
def test_an_active_member_may_do_exactly_what_their_role_carries(session, make, role):
    member = make.customer_user(role=role)

    assert permissions_of(member) == DECIDED[role]
    assert {p for p in Permission if can(member, p)} == DECIDED[role]


@pytest.mark.parametrize("role", list(Role))
def test_a_deactivated_member_may_do_nothing(session, make, role):
    member = make.customer_user(role=role, is_active=False)

    assert permissions_of(member) == frozenset()
    assert not any(can(member, p) for p in Permission)


def test_no_member_may_do_nothing():
    assert permissions_of(None) == frozenset()
    assert not can(None, Permission.ANSWER_LEADS)


def test_a_role_missing_from_the_table_grants_nothing():
    # A role row added to customer_user_roles before the table knows it must not open anything.
    member = SimpleNamespace(is_active=True, role=SimpleNamespace(code="intern", name="Stajyer"))

    assert permissions_of(member) == frozenset()
    assert role_name(member) == "Stajyer"


def test_roles_with_reads_the_table():
    assert roles_with(Permission.EDIT_COMPANY) == [Role.ADMIN]
    assert set(roles_with(Permission.SEE_BILLING)) == {Role.ADMIN, Role.FINANCE}
    assert set(roles_with(Permission.ANSWER_LEADS)) == {Role.ADMIN, Role.MANAGER, Role.AGENT}


def test_role_names_are_shown_in_the_visitors_language(app, session, make):
    member = make.customer_user(role=Role.AGENT)

    with app.test_request_context():
        assert role_name(member) == "Aday temsilcisi"


def test_members_who_can_lists_only_the_companys_active_members_with_the_permission(session, make):
    company = make.customer()
    for name, role, active in [
        ("Ayşe Admin", Role.ADMIN, True),
        ("Fatma Finans", Role.FINANCE, True),
        ("Mehmet Müdür", Role.MANAGER, True),
        ("Ali Aday", Role.AGENT, True),
        ("Deniz Ayrıldı", Role.ADMIN, False),
    ]:
        member = make.customer_user(customer=company, role=role, is_active=active)
        member.user.name = name
    other = make.customer_user(role=Role.ADMIN)  # another company's admin
    other.user.name = "Başka Firma Admin"
    session.flush()

    def names(permission, customer_id=company.id):
        return [user.name for user in members_who_can(session, customer_id, permission)]

    assert names(Permission.EDIT_COMPANY) == ["Ayşe Admin"]
    assert names(Permission.MANAGE_BILLING) == ["Ayşe Admin", "Fatma Finans"]
    assert names(Permission.ANSWER_LEADS) == ["Ali Aday", "Ayşe Admin", "Mehmet Müdür"]
    assert names(Permission.EDIT_SCHOOL_PAGES) == ["Ayşe Admin", "Mehmet Müdür"]
    assert names(Permission.SEE_BILLING, other.customer_id) == ["Başka Firma Admin"]
