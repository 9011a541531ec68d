"""A company admin builds the team in a real browser: invites a colleague (the link read from
the mail, as the colleague reads it), who accepts, opens an account and sees only the campus
granted; the admin revokes it and the colleague's next click is refused; and a team at its
plan's limit cannot invite one more and is told why, with the upgrade link. With JavaScript on,
and the invitation and acceptance once more with it off."""

import re
import time
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.access.permissions import Role
from portal.models import CustomerUser, MailOutbox, User
from tests.browser.conftest import (
    PHONE,
    enter_sign_in_code,
    live_data,
    settle,
    sign_in,
    start_sign_in,
)
from tests.factories import Factories

pytestmark = pytest.mark.browser

NEW_PASSWORD = "yeni üyenin parolası"


@pytest.fixture
def company(live_app) -> dict:
    """A company on a plan of two team members: its admin, a school of two campuses and a
    parent's lead to each campus."""
    tag = uuid4().hex[:8]
    with live_data(live_app) as session:
        make = Factories(session)
        customer = make.customer(name=f"Deneme Eğitim {tag}")
        admin = make.customer_user(
            customer=customer, role=Role.ADMIN, email=f"admin.{tag}@example.com"
        )
        admin.user.name = "Deniz Yönetici"
        make.subscription(
            make.price(make.plan(audience="companies", features={"team_members": 2})),
            customer=customer,
        )
        school = make.school(
            customer=customer, name=f"Deneme Koleji {tag}", campuses=("Moda", "Suadiye")
        )
        make.grant(admin, school)
        parent = make.user(email=f"veli.{tag}@example.com", name=f"Tarayıcı Veli {tag}")
        moda_lead = make.lead(parent, school, school.campuses[0])
        suadiye_lead = make.lead(parent, school, school.campuses[1], request_key=f"k-{tag}")
        session.commit()
        return {
            "admin": admin.user.email,
            "colleague": f"yeni.{tag}@example.com",
            "school": school.id,
            "moda": school.campuses[0].id,
            "moda_lead": moda_lead.id,
            "suadiye_lead": suadiye_lead.id,
        }


def invitation_link(app, email: str) -> str:
    """The path of the invitation link in the newest mail to `email`, once it has left."""
    from portal import mail

    deadline = time.monotonic() + 15
    with live_data(app) as session:
        waiting = select(func.count(MailOutbox.id)).where(
            MailOutbox.recipient == email, MailOutbox.sent_at.is_(None)
        )
        while session.scalar(waiting):
            session.rollback()
            mail.deliver()
            assert time.monotonic() < deadline, "the invitation is still in the outbox"
            time.sleep(0.1)
    mails = [m for m in app.extensions.get("mail_outbox", []) if m.to == email]
    assert mails, f"no mail to {email}"
    return re.search(r"https?://[^/\s]+(/customer/invitations/[\w-]+)", mails[-1].body).group(1)


def invite(page: Page, email: str) -> None:
    page.goto("/customer/team")
    form = page.locator("#invite-form")
    form.locator("input[name=email]").fill(email)
    form.locator("select[name=role]").select_option("3")  # customer_user_roles: the agent
    form.locator("button[type=submit]").click()
    expect(page.locator("#invitation-table")).to_contain_text(email)


def accept(page: Page, link: str) -> None:
    page.goto(link)
    form = page.locator("#accept-form")
    form.locator("input[name=name]").fill("Yeni Üye")
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    form.locator("input[name=password_again]").fill(NEW_PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/auth/login$"))


def test_invite_accept_grant_a_campus_revoke_and_the_limit(
    new_page, live_app, company, assert_accessible
):
    admin = new_page()
    sign_in(admin, live_app, company["admin"])
    invite(admin, company["colleague"])
    settle(admin)
    assert_accessible(admin)

    colleague = new_page()
    link = invitation_link(live_app, company["colleague"])
    colleague.goto(link)
    settle(colleague)
    assert_accessible(colleague)
    accept(colleague, link)
    start_sign_in(colleague, company["colleague"], NEW_PASSWORD)
    enter_sign_in_code(colleague, live_app, company["colleague"])

    # The team is now at its plan's limit: the form gives way to the reason and the link.
    admin.goto("/customer/team")
    expect(admin.locator("#invite-form")).to_have_count(0)
    expect(admin.locator("#team-full")).to_be_visible()
    expect(admin.locator("#team-full a[href='/customer/subscription']")).to_have_count(1)
    expect(admin.locator("#team-usage")).to_contain_text("2 / 2")
    assert_accessible(admin)

    # The admin grants the colleague one campus of the school.
    admin.locator("#team-table a", has_text="Yeni Üye").click()
    # Choosing the school brings its campuses into the page (htmx); then one of them.
    admin.locator("select[name=grant_school]").select_option(str(company["school"]))
    admin.locator(f"#grant-form input[value='campus:{company['moda']}']").check()
    admin.locator("#grant-form button[type=submit]").click()
    expect(admin.locator("#member-grants")).to_contain_text("Moda")
    settle(admin)
    assert_accessible(admin)

    # The colleague sees the Moda lead, never the Suadiye one.
    colleague.goto("/customer/leads")
    moda = colleague.locator(f'#lead-list a[href="/customer/leads/{company["moda_lead"]}"]')
    expect(moda).to_have_count(1)
    expect(
        colleague.locator(f'#lead-list a[href="/customer/leads/{company["suadiye_lead"]}"]')
    ).to_have_count(0)

    # The admin revokes the grant; the colleague's next click is refused.
    admin.locator("#member-grants button", has_text=re.compile("Geri al|Revoke")).click()
    expect(admin.locator("#member-grants")).not_to_contain_text("Moda")
    response_status = []
    colleague.on(
        "response",
        lambda r: response_status.append(r.status) if "/customer/leads/" in r.url else None,
    )
    moda.click()
    colleague.wait_for_load_state()
    assert 404 in response_status or 403 in response_status
    expect(colleague.locator("h1")).not_to_contain_text("Tarayıcı Veli")


def test_invite_and_accept_with_javascript_off(new_page, live_app, company):
    admin = new_page(javascript=False)
    sign_in(admin, live_app, company["admin"])
    invite(admin, company["colleague"])

    colleague = new_page(javascript=False)
    accept(colleague, invitation_link(live_app, company["colleague"]))
    expect(colleague.locator(".flash")).to_be_visible()
    start_sign_in(colleague, company["colleague"], NEW_PASSWORD)
    enter_sign_in_code(colleague, live_app, company["colleague"])
    expect(colleague).to_have_url(re.compile(r"/customer/$"))

    # Granting in two plain steps: the school (a GET form), then one of its campuses.
    admin.goto("/customer/team")
    admin.locator("#team-table a", has_text="Yeni Üye").click()
    admin.locator("select[name=grant_school]").select_option(str(company["school"]))
    admin.locator("#grant-school-form button[type=submit]").click()
    admin.locator(f"#grant-form input[value='campus:{company['moda']}']").check()
    admin.locator("#grant-form button[type=submit]").click()
    expect(admin.locator("#member-grants")).to_contain_text("Moda")


def test_the_team_pages_fit_a_phone(new_page, live_app, company):
    """Until the phone-width walk knows a member id and an invitation token, the team's pages
    are measured here: nothing wider than the screen at 390 and 360 pixels."""
    admin = new_page(viewport=PHONE)
    sign_in(admin, live_app, company["admin"])
    invite(admin, company["colleague"])
    with live_data(live_app) as session:
        member_id = session.scalar(
            select(CustomerUser.id)
            .join(User, User.id == CustomerUser.user_id)
            .where(User.email == company["admin"])
        )
    link = invitation_link(live_app, company["colleague"])
    visitor = new_page(viewport=PHONE)
    for page, url in (
        (admin, "/customer/team"),
        (admin, f"/customer/team/{member_id}"),
        (visitor, link),
    ):
        page.goto(url)
        for width in (PHONE["width"], 360):
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{url} is {overflow}px wider than a {width}px screen"
