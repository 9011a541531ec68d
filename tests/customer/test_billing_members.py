"""A company never loses its last billing member (issue 14, item 4).

The team's rule "somebody can still manage the team" (portal.customer.team, LastManager)
keeps an active member whose role carries MANAGE_TEAM. Every such role also carries the
billing permissions, so the same rule keeps a member who may see and manage the company's
subscription: no deactivation or change of role can leave a running subscription without
anyone to manage it, and the team pages need no warning for it. This test fails if the
roles table ever breaks that link.
"""

from portal.access.permissions import ROLE_PERMISSIONS, Permission


def test_every_role_that_manages_the_team_also_manages_billing():
    managing = [
        role for role, granted in ROLE_PERMISSIONS.items() if Permission.MANAGE_TEAM in granted
    ]

    assert managing
    for role in managing:
        assert Permission.MANAGE_BILLING in ROLE_PERMISSIONS[role], role
        assert Permission.SEE_BILLING in ROLE_PERMISSIONS[role], role
