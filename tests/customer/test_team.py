"""The company's team: the members list (paged, in as many statements for 50 members as for
one), roles and titles, grants of whole schools and single campuses, deactivation, the
last-manager guard, the audit trail, and no other company's data anywhere."""

import re

import pytest
from sqlalchemy import func, select

from portal.access.permissions import Role
from portal.audit import NO_ORIGIN
from portal.clock import utcnow
from portal.customer import team
from portal.models import CustomerUser, CustomerUserRole, CustomerUserSchool, UserLog
from tests.helpers import HTMX, counted_statements, in_parallel, post
from tests.test_html import assert_valid_html

TEAM = "/customer/team"


def role_id(session, role: Role) -> int:
    return session.scalar(select(CustomerUserRole.id).where(CustomerUserRole.code == str(role)))


@pytest.fixture
def admin(make, session, auth):
    """A company admin reading the portal in English, signed in."""
    member = make.customer_user(role=Role.ADMIN)
    member.user.locale = "en"
    member.user.name = "Ada Admin"
    session.commit()
    auth.login(member.user.email)
    return member


def events(session, name: str) -> list[UserLog]:
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    return list(session.scalars(select(UserLog).where(UserLog.event == name).order_by(UserLog.id)))


def fresh(session, member_id: int) -> CustomerUser:
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    return session.get(CustomerUser, member_id)


def listed_names(html: str) -> list[str]:
    return re.findall(r'<tr data-member="\d+">\s*<td><a href="[^"]+">([^<]+)</a>', html)


# --- The list ------------------------------------------------------------------------------


def add_members(make, customer, count: int, school, start: int = 0) -> None:
    """`count` agents, each granted the school's campuses one by one (three grants)."""
    for n in range(start, start + count):
        member = make.customer_user(customer=customer, role=Role.AGENT)
        member.user.name = f"Üye {n:03d}"
        for campus in school.campuses:
            make.grant(member, school, campus)


def test_the_team_page_runs_as_many_statements_for_50_members_as_for_1(
    app, client, session, make, admin
):
    school = make.school(customer=admin.customer, campuses=("Kuzey", "Merkez", "Güney"))
    make.grant(admin, school)
    session.commit()
    client.get(TEAM)  # anything done once per process is done now

    with counted_statements(app) as one:
        small = client.get(TEAM)
        client.get(TEAM, headers=HTMX)
    add_members(make, admin.customer, 49, school)
    session.commit()
    with counted_statements(app) as many:
        large = client.get(TEAM)
        client.get(TEAM, headers=HTMX)
    with counted_statements(app) as last:
        client.get(TEAM + "?page=3")
        client.get(TEAM + "?page=3", headers=HTMX)

    assert small.status_code == large.status_code == 200
    assert listed_names(small.get_data(as_text=True)) == ["Ada Admin"]
    html = large.get_data(as_text=True)
    assert "50 members." in html and len(listed_names(html)) == 20
    assert len(many) == len(one) == len(last), many
    assert len(html.encode()) < 100_000
    assert_valid_html(html, TEAM)


def test_the_list_shows_role_title_status_and_grants(client, session, make, admin):
    school = make.school(customer=admin.customer, name="Bilge Koleji", campuses=("Moda", "Suadiye"))
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT, title_id=3)
    agent.user.name = "Zeynep Kara"
    make.grant(agent, school, school.campuses[0])
    make.grant(admin, school)
    gone = make.customer_user(customer=admin.customer, role=Role.FINANCE, is_active=False)
    gone.user.name = "Eski Üye"
    session.commit()

    html = client.get(TEAM).get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-member="(\d+)">(.*?)</tr>', html, re.S))

    assert listed_names(html) == ["Ada Admin", "Eski Üye", "Zeynep Kara"]
    assert "Admissions agent" in rows[str(agent.id)] and "Kayıt sorumlusu" in rows[str(agent.id)]
    assert "Bilge Koleji: Moda" in rows[str(agent.id)] and "Suadiye" not in rows[str(agent.id)]
    assert "Bilge Koleji (whole school)" in rows[str(admin.id)]
    assert "Deactivated" in rows[str(gone.id)] and "Finance" in rows[str(gone.id)]


def test_a_long_list_of_grants_shows_five_and_counts_the_rest(client, session, make, admin):
    for n in range(7):
        make.grant(admin, make.school(customer=admin.customer, name=f"Okul {n}"))
    session.commit()

    html = client.get(TEAM).get_data(as_text=True)

    assert html.count("(whole school)") == 5 and "and 2 more" in html


def test_no_other_companys_member_school_or_invitation_appears(client, session, make, admin):
    other = make.customer_user(role=Role.ADMIN)
    other.user.name = "Başka Firma Üyesi"
    school = make.school(customer=other.customer, name="Başka Okul")
    make.grant(other, school)
    session.commit()
    from portal.customer.invitations import invite

    invite(
        session, other, "gizli@example.com", role_id(session, Role.AGENT), None, NO_ORIGIN, utcnow()
    )
    session.commit()

    html = client.get(TEAM).get_data(as_text=True)
    member_page = client.get(f"{TEAM}/{admin.id}").get_data(as_text=True)

    for text in ("Başka Firma Üyesi", "Başka Okul", "gizli@example.com", other.user.email):
        assert text not in html and text not in member_page
    assert client.get(f"{TEAM}/{other.id}").status_code == 404
    assert post(client, f"{TEAM}/{other.id}/deactivate").status_code == 404
    assert fresh(session, other.id).is_active


def test_a_member_without_the_permission_is_told_who_manages_and_refused_everywhere(
    client, session, make, auth
):
    agent = make.customer_user(role=Role.AGENT)
    manager = make.customer_user(customer=agent.customer, role=Role.ADMIN)
    manager.user.name = "Ayşe Yönetici"
    session.commit()
    auth.login(agent.user.email)

    page = client.get(TEAM)
    assert page.status_code == 200 and "Ayşe Yönetici" in page.get_data(as_text=True)
    assert 'id="invite-form"' not in page.get_data(as_text=True)
    assert client.get(f"{TEAM}/{manager.id}").status_code == 403
    for url, fields in (
        (f"{TEAM}/{manager.id}/deactivate", {}),
        (f"{TEAM}/{manager.id}/role", {"role": role_id(session, Role.AGENT)}),
        (f"{TEAM}/{agent.id}/role", {"role": role_id(session, Role.ADMIN)}),
        (f"{TEAM}/invite", {"email": "x@example.com", "role": 1}),
    ):
        assert post(client, url, **fields).status_code == 403
    assert fresh(session, manager.id).is_active
    assert fresh(session, agent.id).role.code == Role.AGENT


def test_a_deactivated_member_reaches_no_team_route(client, session, make, auth):
    member = make.customer_user(role=Role.ADMIN)
    make.customer_user(customer=member.customer, role=Role.ADMIN)
    session.commit()
    auth.login(member.user.email)
    member.is_active = False
    session.commit()

    assert client.get(TEAM).status_code == 403
    assert client.get(f"{TEAM}/{member.id}").status_code == 403
    assert post(client, f"{TEAM}/{member.id}/reactivate").status_code == 403
    assert not fresh(session, member.id).is_active


def test_a_post_without_the_csrf_token_is_refused(client, session, make, admin):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    session.commit()

    response = client.post(f"{TEAM}/{agent.id}/deactivate", data={})

    assert response.status_code == 400
    assert fresh(session, agent.id).is_active


# --- Role, title, deactivation and the last manager ------------------------------------------


def test_role_and_title_are_set_from_the_config_tables_and_audited(client, session, make, admin):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    session.commit()

    response = post(client, f"{TEAM}/{agent.id}/role", role=role_id(session, Role.MANAGER), title=2)

    assert response.status_code == 303
    changed = fresh(session, agent.id)
    assert (changed.role.code, changed.title.code) == (Role.MANAGER, "principal")
    [row] = events(session, "team_member_changed")
    assert row.user_id == admin.user_id
    assert row.data["customer_user_id"] == agent.id
    assert row.data["role"] == [Role.AGENT, Role.MANAGER]


@pytest.mark.parametrize(
    "fields", [{"role": "99"}, {"role": "abc"}, {"role": ""}, {"role": "1", "title": "77"}]
)
def test_an_unknown_role_or_title_is_a_message_next_to_the_field(
    client, session, make, admin, fields
):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    session.commit()

    response = post(client, f"{TEAM}/{agent.id}/role", headers=HTMX, **fields)
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert html.lstrip().startswith('<div id="member-work">')
    assert 'id="role-error"' in html or 'id="title-error"' in html
    assert fresh(session, agent.id).role.code == Role.AGENT


def test_the_last_manager_cannot_demote_or_deactivate_themselves(client, session, make, admin):
    demoted = post(client, f"{TEAM}/{admin.id}/role", role=role_id(session, Role.AGENT))
    deactivated = post(client, f"{TEAM}/{admin.id}/deactivate", headers=HTMX)

    assert demoted.status_code == 422 and "Somebody must be able to manage the team" in (
        demoted.get_data(as_text=True)
    )
    assert deactivated.status_code == 422
    assert 'id="member-refusal"' in deactivated.get_data(as_text=True)
    member = fresh(session, admin.id)
    assert member.is_active and member.role.code == Role.ADMIN
    assert events(session, "team_member_changed") == []


def test_with_a_second_manager_one_may_step_down_and_loses_the_team_at_once(
    client, session, make, admin
):
    other = make.customer_user(customer=admin.customer, role=Role.ADMIN)
    session.commit()

    response = post(client, f"{TEAM}/{admin.id}/role", role=role_id(session, Role.AGENT))

    assert response.status_code == 303
    assert client.get(TEAM).get_data(as_text=True).count('id="invite-form"') == 0
    assert client.get(f"{TEAM}/{other.id}").status_code == 403
    # ... and the one left cannot now be demoted by anybody.
    with pytest.raises(team.LastManager):
        team.set_role(
            session,
            fresh(session, other.id),
            fresh(session, other.id),
            role_id(session, Role.AGENT),
            None,
            NO_ORIGIN,
        )


def test_a_manager_cannot_demote_the_last_other_manager_either(session, make):
    admin = make.customer_user(role=Role.ADMIN)
    session.commit()
    with pytest.raises(team.LastManager):
        team.deactivate(session, admin, admin, NO_ORIGIN)
    session.rollback()


def test_deactivation_takes_access_away_on_the_next_request_and_reactivation_gives_it_back(
    app, session, make, admin, client
):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    session.commit()
    colleague = app.test_client()
    from tests.helpers import AuthActions

    AuthActions(colleague).login(agent.user.email)
    assert colleague.get("/customer/").status_code == 200

    assert post(client, f"{TEAM}/{agent.id}/deactivate").status_code == 303
    assert colleague.get("/customer/").status_code == 403
    assert post(client, f"{TEAM}/{agent.id}/reactivate").status_code == 303
    assert colleague.get("/customer/").status_code == 200
    assert [e.user_id for e in events(session, "team_member_deactivated")] == [admin.user_id]
    assert [e.user_id for e in events(session, "team_member_reactivated")] == [admin.user_id]


def test_two_managers_demoting_each_other_at_once_leave_one(app, session, make):
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: two requests at once are not supported there")
    first = make.customer_user(role=Role.ADMIN)
    second = make.customer_user(customer=first.customer, role=Role.ADMIN)
    session.commit()
    agent_role = role_id(session, Role.AGENT)
    pairs = iter([(first.id, second.id), (second.id, first.id)])
    import threading

    lock = threading.Lock()

    def demote_the_other():
        from portal.extensions import db

        with lock:
            actor_id, target_id = next(pairs)
        actor = db.session.get(CustomerUser, actor_id)
        target = db.session.get(CustomerUser, target_id)
        return team.set_role(db.session, actor, target, agent_role, None, NO_ORIGIN)

    results = in_parallel(app, demote_the_other, times=2)

    # One demotion wins. The other is refused as leaving nobody to manage the team, or, when
    # its request read its actor after the winner committed, because that actor is no longer
    # a manager: which one depends on timing, and both leave the team with its manager.
    changed = [r for r in results if r is True]
    refused = [type(r).__name__ for r in results if r is not True]
    assert len(changed) == 1 and refused in (["LastManager"], ["PermissionError"]), results
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    codes = [fresh(session, m).role.code for m in (first.id, second.id)]
    assert sorted(codes) == sorted([Role.ADMIN, Role.AGENT])


# --- Grants ----------------------------------------------------------------------------------


def test_grant_a_campus_then_the_whole_school_which_replaces_it(client, session, make, admin):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    school = make.school(customer=admin.customer, campuses=("Moda", "Suadiye"))
    session.commit()

    first = post(client, f"{TEAM}/{agent.id}/grants", target=f"campus:{school.campuses[0].id}")
    whole = post(client, f"{TEAM}/{agent.id}/grants", target=f"school:{school.id}")
    again = post(client, f"{TEAM}/{agent.id}/grants", target=f"campus:{school.campuses[1].id}")

    assert first.status_code == whole.status_code == again.status_code == 303
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    grants = session.execute(
        select(CustomerUserSchool.school_id, CustomerUserSchool.campus_id).where(
            CustomerUserSchool.customer_user_id == agent.id
        )
    ).all()
    assert grants == [(school.id, None)]
    assert [e.data["campus_id"] for e in events(session, "team_grant_added")] == [
        school.campuses[0].id,
        None,
    ]
    assert {e.user_id for e in events(session, "team_grant_added")} == {admin.user_id}


@pytest.mark.parametrize("target", ["school:999999", "campus:abc", "nothing", ""])
def test_an_unknown_target_is_a_message_next_to_the_field(client, session, make, admin, target):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    make.school(customer=admin.customer)
    session.commit()

    response = post(client, f"{TEAM}/{agent.id}/grants", headers=HTMX, target=target)

    assert response.status_code == 422 and 'id="target-error"' in response.get_data(as_text=True)
    assert events(session, "team_grant_added") == []


def test_another_companys_school_cannot_be_granted(client, session, make, admin):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    make.school(customer=admin.customer)
    foreign = make.school()
    session.commit()

    for target in (f"school:{foreign.id}", f"campus:{foreign.campuses[0].id}"):
        response = post(client, f"{TEAM}/{agent.id}/grants", target=target)
        assert response.status_code == 422
    with pytest.raises(team.UnknownChoice):
        team.grant(session, admin, agent, "school", foreign.id, NO_ORIGIN)


def test_a_revoked_grant_is_gone_on_the_colleagues_next_request(app, client, session, make, admin):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    agent.user.locale = "en"
    school = make.school(customer=admin.customer, name="Görünen Okul")
    grant = make.grant(agent, school)
    session.commit()
    colleague = app.test_client()
    from tests.helpers import AuthActions

    AuthActions(colleague).login(agent.user.email)
    assert "Görünen Okul" in colleague.get("/customer/").get_data(as_text=True)

    response = post(client, f"{TEAM}/{agent.id}/grants/revoke", grant=grant.id)

    assert response.status_code == 303
    assert "Görünen Okul" not in colleague.get("/customer/").get_data(as_text=True)
    [row] = events(session, "team_grant_revoked")
    assert (row.user_id, row.data["school_id"]) == (admin.user_id, school.id)


def test_revoking_a_grant_of_another_member_or_company_is_a_404(client, session, make, admin):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    other = make.customer_user(role=Role.AGENT)
    foreign_grant = make.grant(other, make.school(customer=other.customer))
    session.commit()

    for grant in (foreign_grant.id, "abc", ""):
        response = post(client, f"{TEAM}/{agent.id}/grants/revoke", grant=grant)
        assert response.status_code == 404
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert session.get(CustomerUserSchool, foreign_grant.id) is not None


def test_the_member_page_is_valid_html_and_offers_only_the_companys_schools(
    client, session, make, admin
):
    agent = make.customer_user(customer=admin.customer, role=Role.AGENT)
    school = make.school(customer=admin.customer, name="Kendi Okulu", campuses=("Moda",))
    make.grant(agent, school, school.campuses[0])
    foreign = make.school(name="Yabancı Okul")
    session.commit()

    response = client.get(f"{TEAM}/{agent.id}")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert_valid_html(html, f"{TEAM}/{agent.id}")
    assert "Kendi Okulu: Moda" in html  # the grant held
    # The first step offers the company's schools, not yet their campuses.
    assert ">Kendi Okulu</option>" in html and 'name="target"' not in html
    assert "Yabancı Okul" not in html
    assert (
        client.get(f"{TEAM}/{agent.id}", headers=HTMX)
        .get_data(as_text=True)
        .lstrip()
        .startswith('<div id="member-work">')
    )

    # The second step: the chosen school, whole or one campus (a plain GET, or htmx's).
    chosen = client.get(f"{TEAM}/{agent.id}?grant_school={school.id}").get_data(as_text=True)
    assert_valid_html(chosen, f"{TEAM}/{agent.id}?grant_school={school.id}")
    assert f'value="school:{school.id}"' in chosen
    assert f'value="campus:{school.campuses[0].id}"' in chosen and "Moda campus only" in chosen
    step = client.get(f"{TEAM}/{agent.id}?grant_school={school.id}", headers=HTMX)
    assert step.get_data(as_text=True).lstrip().startswith('<div id="grant-choice">')
    assert f'value="campus:{school.campuses[0].id}"' in step.get_data(as_text=True)
    # Another company's school, or junk, offers nothing to grant.
    for junk in (foreign.id, "abc", ""):
        other = client.get(f"{TEAM}/{agent.id}?grant_school={junk}").get_data(as_text=True)
        assert 'name="target"' not in other and "Yabancı Okul" not in other


TEAM_ENDPOINTS = {
    "customer.team_list",
    "customer.member",
    "customer.member_role",
    "customer.member_grant",
    "customer.member_revoke_grant",
    "customer.member_deactivate",
    "customer.member_reactivate",
    "customer.invite",
    "customer.revoke_invitation",
}


@pytest.mark.parametrize("who", ["deactivated admin", "agent", "other company's admin"])
def test_every_team_route_refuses_who_may_not_use_it(app, client, session, make, auth, who):
    """Walks the URL map: a deactivated member gets 403 everywhere (no staff page at all), a
    member without MANAGE_TEAM 403 (the list aside, which names who manages), and another
    company's admin 404 for this company's member; nothing changes."""
    admin = make.customer_user(role=Role.ADMIN)
    target = make.customer_user(customer=admin.customer, role=Role.AGENT)
    school = make.school(customer=admin.customer)
    grant = make.grant(target, school)
    if who == "deactivated admin":
        actor = make.customer_user(customer=admin.customer, role=Role.ADMIN)
    elif who == "agent":
        actor = make.customer_user(customer=admin.customer, role=Role.AGENT)
    else:
        actor = make.customer_user(role=Role.ADMIN)
    session.commit()
    auth.login(actor.user.email)
    if who == "deactivated admin":
        actor.is_active = False
        session.commit()
    rules = [r for r in app.url_map.iter_rules() if r.endpoint in TEAM_ENDPOINTS]
    assert {r.endpoint for r in rules} == TEAM_ENDPOINTS

    for rule in rules:
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **({"member_id": target.id} if rule.arguments else {}))
        method = "GET" if "GET" in rule.methods else "POST"
        fields = {
            "role": role_id(session, Role.ADMIN),
            "target": f"school:{school.id}",
            "grant": grant.id,
            "email": "x@example.com",
            "invitation": "1",
        }
        if who == "other company's admin" and not rule.arguments and method == "POST":
            continue  # inviting and withdrawing act on their own company
        response = client.get(url) if method == "GET" else post(client, url, **fields)
        if who != "deactivated admin" and rule.endpoint == "customer.team_list":
            expected = 200  # the agent is told who manages; the other admin sees their own
        elif who == "other company's admin":
            expected = 404 if rule.arguments else None  # no argument: their own team
        else:
            expected = 403
        if expected is not None:
            assert response.status_code == expected, (rule.endpoint, who)
    changed = fresh(session, target.id)
    assert changed.is_active and changed.role.code == Role.AGENT
    assert session.get(CustomerUserSchool, grant.id) is not None
    assert session.scalar(select(func.count(UserLog.id)).where(UserLog.event.like("team_%"))) == 0


@pytest.mark.parametrize(
    ("plan", "expected"),
    [(None, "free"), ({"team_members": 7}, 7), ({"team_members": None}, None), ({}, 0)],
    ids=["no plan", "a limit", "unlimited", "not included"],
)
def test_team_usage_reads_the_places_and_the_plans_limit_in_one_statement(
    app, session, make, plan, expected
):
    admin = make.customer_user(role=Role.ADMIN)
    make.customer_user(admin.customer)
    make.customer_user(admin.customer, is_active=False)  # takes no place
    if plan is not None:
        price = make.price(make.plan(audience="companies", features=plan))
        make.subscription(price, customer=admin.customer)
    session.commit()
    customer_id = admin.customer_id

    with counted_statements(app) as statements:
        usage = team.team_usage(session, customer_id, utcnow())

    assert (usage.members, usage.pending) == (2, 0)
    assert usage.limit == (team.FREE_LIMITS[team.TEAM_MEMBERS] if expected == "free" else expected)
    assert usage.limit == team.team_limit(session, customer_id)
    assert len(statements) == 1
