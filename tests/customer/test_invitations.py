"""Invitations to the team: sent through the outbox with a single-use link that expires, the
same answer whatever the address, accepted by a new person or an existing staff account (never
a parent's), withdrawn, and held to the plan's team-size limit."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.access.permissions import Role
from portal.audit import NO_ORIGIN
from portal.clock import utcnow
from portal.customer import invitations, team
from portal.customer.invitations import INVITATION_LIFETIME, token_hash
from portal.models import (
    CustomerUser,
    CustomerUserInvitation,
    CustomerUserRole,
    MailOutbox,
    User,
    UserLog,
)
from tests.helpers import HTMX, AuthActions, in_parallel, post
from tests.test_html import assert_valid_html

TEAM = "/customer/team"
INVITE = "/customer/team/invite"


def role_id(session, role: Role) -> int:
    return session.scalar(select(CustomerUserRole.id).where(CustomerUserRole.code == str(role)))


@pytest.fixture
def admin(make, session, auth):
    member = make.customer_user(role=Role.ADMIN)
    member.user.locale = "en"
    member.user.name = "Ada Admin"
    member.customer.name = "Ata Eğitim"
    session.commit()
    auth.login(member.user.email)
    return member


def mails_to(app, email):
    return [m for m in app.extensions.get("mail_outbox", []) if m.to == email]


def link_in(app, email) -> str:
    """The path of the invitation link in the newest mail to `email`."""
    body = mails_to(app, email)[-1].body
    return re.search(r"https?://[^/\s]+(/customer/invitations/[\w-]+)", body).group(1)


def english(client) -> None:
    """Read the pages in English (the session's choice; it survives signing in)."""
    assert post(client, "/language", lang="en").status_code == 303


def events(session, name):
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    return list(session.scalars(select(UserLog).where(UserLog.event == name).order_by(UserLog.id)))


def invite_form(session, email="yeni@example.com", role=Role.AGENT, title="3"):
    return {"email": email, "role": role_id(session, role), "title": title}


# --- Inviting ------------------------------------------------------------------------------


def test_an_invitation_is_mailed_through_the_outbox_with_a_link_whose_hash_alone_is_stored(
    app, client, session, admin
):
    response = post(client, INVITE, **invite_form(session, email=" Yeni@Example.com "))

    assert response.status_code == 303
    [mail] = mails_to(app, "yeni@example.com")
    assert "Ata Eğitim" in mail.subject and "Ada Admin" in mail.body
    token = link_in(app, "yeni@example.com").rsplit("/", 1)[1]
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    [row] = session.scalars(select(CustomerUserInvitation)).all()
    assert row.token_hash == token_hash(token) and token not in row.token_hash
    assert row.expires_at - row.created_at == INVITATION_LIFETIME == timedelta(days=7)
    assert (row.customer_id, row.invited_by_customer_user_id, row.title_id) == (
        admin.customer_id,
        admin.id,
        3,
    )
    outbox = select(func.count(MailOutbox.id)).where(MailOutbox.recipient == "yeni@example.com")
    assert session.scalar(outbox) == 1  # it went through the outbox
    [event] = events(session, "team_invitation_sent")
    assert event.user_id == admin.user_id and event.data["invitation_id"] == row.id
    assert "yeni@example.com" in client.get(TEAM).get_data(as_text=True)


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    app, client, session, make, admin
):
    parent = make.user("parent", email="veli@example.com")
    staff = make.customer_user(role=Role.ADMIN, email="baska@example.com")
    on_plan(make, admin.customer, None)
    session.commit()

    answers = []
    for email in ("kimse@example.com", parent.email, staff.user.email):
        response = post(client, INVITE, headers=HTMX, **invite_form(session, email=email))
        answers.append((response.status_code, response.headers.get("HX-Redirect")))
        assert len(mails_to(app, email)) == 1

    assert answers == [(200, TEAM)] * 3


def test_inviting_an_address_again_replaces_its_pending_invitation(app, client, session, admin):
    post(client, INVITE, **invite_form(session))
    first = link_in(app, "yeni@example.com")
    post(client, INVITE, **invite_form(session, role=Role.MANAGER))

    assert client.get(first).status_code == 404
    assert client.get(link_in(app, "yeni@example.com")).status_code == 200
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert team.team_usage(session, admin.customer_id, utcnow()).pending == 1


def test_an_active_member_of_the_own_team_is_refused_next_to_the_field(
    client, session, make, admin
):
    colleague = make.customer_user(customer=admin.customer, role=Role.AGENT)
    session.commit()

    response = post(
        client, INVITE, headers=HTMX, **invite_form(session, email=colleague.user.email)
    )
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert html.lstrip().startswith('<div id="invite-panel">') and 'id="email-error"' in html
    assert "already a member of your team" in html


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"email": "not-an-address"}, "email-error"),
        ({"email": ""}, "email-error"),
        ({"role": "99"}, "role-error"),
        ({"role": "x"}, "role-error"),
        ({"title": "42"}, "title-error"),
    ],
)
def test_bad_input_is_a_message_next_to_the_field(client, session, admin, fields, error):
    response = post(client, INVITE, headers=HTMX, **{**invite_form(session), **fields})

    assert response.status_code == 422 and f'id="{error}"' in response.get_data(as_text=True)
    assert session.scalar(select(func.count(CustomerUserInvitation.id))) == 0


def test_a_member_without_the_permission_cannot_invite_or_withdraw(client, session, make, auth):
    agent = make.customer_user(role=Role.FINANCE)
    manager = make.customer_user(customer=agent.customer, role=Role.ADMIN)
    invitation, _ = invitations.invite(
        session, manager, "x@example.com", role_id(session, Role.AGENT), None, NO_ORIGIN, utcnow()
    )
    session.commit()
    auth.login(agent.user.email)

    assert post(client, INVITE, **invite_form(session)).status_code == 403
    assert post(client, f"{TEAM}/invitations/revoke", invitation=invitation.id).status_code == 403
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert session.scalar(select(func.count(CustomerUserInvitation.id))) == 1
    assert session.get(CustomerUserInvitation, invitation.id).revoked_at is None


def test_a_withdrawn_invitation_no_longer_opens_and_another_companys_is_a_404(
    app, client, session, make, admin
):
    post(client, INVITE, **invite_form(session))
    link = link_in(app, "yeni@example.com")
    own = session.scalar(select(CustomerUserInvitation.id))
    other = make.customer_user(role=Role.ADMIN)
    foreign, _ = invitations.invite(
        session, other, "o@example.com", role_id(session, Role.AGENT), None, NO_ORIGIN, utcnow()
    )
    session.commit()

    assert post(client, f"{TEAM}/invitations/revoke", invitation=foreign.id).status_code == 404
    assert post(client, f"{TEAM}/invitations/revoke", invitation=own).status_code == 303
    assert client.get(link).status_code == 404
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert session.get(CustomerUserInvitation, foreign.id).revoked_at is None
    assert [e.user_id for e in events(session, "team_invitation_revoked")] == [admin.user_id]


# --- The plan's team-size limit ---------------------------------------------------------------


def on_plan(make, customer, limit):
    price = make.price(make.plan(audience="companies", features={"team_members": limit}))
    make.subscription(price, customer=customer)


def test_at_the_limit_the_form_is_replaced_by_the_reason_and_a_post_is_refused(
    client, session, make, admin
):
    on_plan(make, admin.customer, 2)
    session.commit()
    assert post(client, INVITE, **invite_form(session, email="bir@example.com")).status_code == 303

    page = client.get(TEAM).get_data(as_text=True)
    refused = post(client, INVITE, headers=HTMX, **invite_form(session, email="iki@example.com"))

    assert 'id="invite-form"' not in page and 'id="team-full"' in page
    assert "Team members: 2 / 2" in page and 'href="/customer/subscription"' in page
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Your plan allows 2 team members" in html and 'href="/customer/subscription"' in html
    assert session.scalar(select(func.count(CustomerUserInvitation.id))) == 1


def test_without_a_plan_the_free_limit_applies_and_deactivated_members_do_not_count(session, make):
    admin = make.customer_user(role=Role.ADMIN)
    for _ in range(team.FREE_LIMITS["team_members"] - 1):
        make.customer_user(customer=admin.customer, role=Role.AGENT)
    gone = make.customer_user(customer=admin.customer, role=Role.AGENT, is_active=False)
    session.commit()
    agent = role_id(session, Role.AGENT)

    with pytest.raises(team.TeamFull):
        invitations.invite(session, admin, "a@example.com", agent, None, NO_ORIGIN, utcnow())
    session.rollback()
    with pytest.raises(team.TeamFull):
        team.reactivate(session, admin, gone, NO_ORIGIN, utcnow())
    session.rollback()


def test_an_expired_invitation_frees_its_place(session, make):
    admin = make.customer_user(role=Role.ADMIN)
    on_plan(make, admin.customer, 2)
    session.commit()
    agent = role_id(session, Role.AGENT)
    long_ago = utcnow() - INVITATION_LIFETIME - timedelta(minutes=1)
    invitations.invite(session, admin, "a@example.com", agent, None, NO_ORIGIN, long_ago)
    session.commit()

    invitations.invite(session, admin, "b@example.com", agent, None, NO_ORIGIN, utcnow())
    session.commit()
    with pytest.raises(team.TeamFull):
        invitations.invite(session, admin, "c@example.com", agent, None, NO_ORIGIN, utcnow())


def test_invitations_at_once_do_not_pass_the_limit(app, session, make):
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: two requests at once are not supported there")
    admin = make.customer_user(role=Role.ADMIN)
    on_plan(make, admin.customer, 3)
    session.commit()
    agent, admin_id = role_id(session, Role.AGENT), admin.id
    emails = iter(f"p{n}@example.com" for n in range(6))
    import threading

    lock = threading.Lock()

    def invite_one():
        from portal.extensions import db

        with lock:
            email = next(emails)
        actor = db.session.get(CustomerUser, admin_id)
        return invitations.invite(db.session, actor, email, agent, None, NO_ORIGIN, utcnow())

    in_parallel(app, invite_one, times=6)

    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert session.scalar(select(func.count(CustomerUserInvitation.id))) == 2


# --- Accepting ----------------------------------------------------------------------------------


def test_a_new_person_accepts_once_and_signs_in_as_staff(app, client, session, admin):
    post(client, INVITE, **invite_form(session))
    link = link_in(app, "yeni@example.com")
    AuthActions(client).logout()
    newcomer = app.test_client()

    page = newcomer.get(link)
    assert page.status_code == 200 and 'id="accept-form"' in page.get_data(as_text=True)
    assert_valid_html(page.get_data(as_text=True), link)
    response = post(
        newcomer,
        link,
        name="Yeni Üye",
        password="uzun bir parola",
        password_again="uzun bir parola",
    )

    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    user = session.scalar(select(User).where(User.email == "yeni@example.com"))
    assert user.type_code == "customer_staff" and user.customer_id == admin.customer_id
    assert user.email_verified_at is not None
    member = user.customer_user
    assert (member.role.code, member.title_id, member.is_active) == (Role.AGENT, 3, True)
    invitation = session.scalar(select(CustomerUserInvitation))
    assert invitation.accepted_user_id == user.id and invitation.accepted_at is not None
    [event] = events(session, "team_invitation_accepted")
    assert event.user_id == user.id and event.data["invited_by_customer_user_id"] == admin.id
    # Single use: the link is dead now.
    assert newcomer.get(link).status_code == 404
    again = post(
        newcomer, link, name="İkinci", password="uzun bir parola", password_again="uzun bir parola"
    )
    assert again.status_code == 404
    assert AuthActions(newcomer).login("yeni@example.com", "uzun bir parola").status_code == 303
    assert newcomer.get("/customer/").status_code == 200


def test_the_accept_form_refuses_bad_input_next_to_the_field(app, client, session, admin):
    post(client, INVITE, **invite_form(session))
    link = link_in(app, "yeni@example.com")
    AuthActions(client).logout()

    response = post(client, link, headers=HTMX, name="", password="kısa", password_again="başka")
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert all(f'id="{f}-error"' in html for f in ("name", "password", "password_again"))
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert session.scalar(select(User).where(User.email == "yeni@example.com")) is None


def test_an_expired_invitation_cannot_be_accepted(client, session, admin):
    _, token = invitations.invite(
        session,
        admin,
        "eski@example.com",
        role_id(session, Role.AGENT),
        None,
        NO_ORIGIN,
        utcnow() - INVITATION_LIFETIME - timedelta(seconds=1),
    )
    session.commit()
    AuthActions(client).logout()

    link = f"/customer/invitations/{token}"
    assert client.get(link).status_code == 404
    response = post(
        client, link, name="Eski", password="uzun bir parola", password_again="uzun bir parola"
    )
    assert response.status_code == 404
    assert session.scalar(select(User).where(User.email == "eski@example.com")) is None


def test_two_tabs_accepting_at_once_make_one_member(app, session, make):
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: two requests at once are not supported there")
    admin = make.customer_user(role=Role.ADMIN)
    invitation, _ = invitations.invite(
        session, admin, "ikiz@example.com", role_id(session, Role.AGENT), None, NO_ORIGIN, utcnow()
    )
    session.commit()
    invitation_id = invitation.id

    def accept():
        from portal.extensions import db

        row = db.session.get(CustomerUserInvitation, invitation_id)
        return invitations.accept_as_new_person(
            db.session, row, "İkiz", "uzun bir parola", NO_ORIGIN, utcnow()
        )

    results = in_parallel(app, accept, times=2)

    assert sum(isinstance(r, User) for r in results) == 1
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert session.scalar(select(func.count(User.id)).where(User.email == "ikiz@example.com")) == 1


def test_a_parents_account_is_told_it_cannot_become_staff(app, client, session, make, admin):
    parent = make.user("parent", email="veli@example.com")
    session.commit()
    post(client, INVITE, **invite_form(session, email=parent.email))
    link = link_in(app, parent.email)
    AuthActions(client).logout()
    english(client)

    anonymous = client.get(link)
    AuthActions(client).login(parent.email)
    signed_in = client.get(link)
    refused = post(client, link)

    for response in (anonymous, signed_in):
        assert response.status_code == 200
        assert "a parent's account cannot become a school's staff account" in response.get_data(
            as_text=True
        ).replace("&#39;", "'")
        assert 'id="accept-form"' not in response.get_data(as_text=True)
    assert refused.status_code == 403
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert session.get(User, parent.id).customer_id is None
    assert session.scalar(select(CustomerUserInvitation.accepted_at)) is None


def test_an_existing_staff_account_without_membership_signs_in_and_accepts(
    app, client, session, make, admin
):
    former = make.customer_user(customer=admin.customer, role=Role.AGENT, is_active=False)
    former.user.locale = "en"
    session.commit()
    post(client, INVITE, **invite_form(session, email=former.user.email, role=Role.MANAGER))
    link = link_in(app, former.user.email)
    AuthActions(client).logout()
    english(client)

    page = client.get(link).get_data(as_text=True)
    assert "Sign in to accept" in page and 'id="accept-form"' not in page
    AuthActions(client).login(former.user.email)
    confirm = client.get(link).get_data(as_text=True)
    assert 'id="accept-form"' in confirm
    response = post(client, link)

    assert response.status_code == 303 and response.headers["Location"] == "/customer/"
    member = session.get(CustomerUser, former.id)
    session.refresh(member)
    assert member.is_active and member.role.code == Role.MANAGER


def test_a_member_of_another_company_or_another_signed_in_account_cannot_accept(
    app, client, session, make, admin
):
    elsewhere = make.customer_user(role=Role.AGENT)
    session.commit()
    post(client, INVITE, **invite_form(session, email=elsewhere.user.email))
    post(client, INVITE, **invite_form(session, email="baskasi@example.com"))
    elsewhere_link = link_in(app, elsewhere.user.email)
    other_link = link_in(app, "baskasi@example.com")

    assert "cannot join this company" in client.get(elsewhere_link).get_data(as_text=True)
    wrong = client.get(other_link).get_data(as_text=True)
    assert "signed in with another account" in wrong and 'id="accept-form"' not in wrong
    assert (
        post(
            client,
            other_link,
            name="X",
            password="uzun bir parola",
            password_again="uzun bir parola",
        ).status_code
        == 403
    )
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert session.get(CustomerUser, elsewhere.id).customer_id != admin.customer_id
    assert session.scalar(select(User).where(User.email == "baskasi@example.com")) is None


def test_an_unknown_token_is_a_404_for_anyone(client):
    for token in ("x", "a" * 43, "ünicode", "9" * 200):
        assert client.get(f"/customer/invitations/{token}").status_code == 404
