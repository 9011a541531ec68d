"""Issue 11 end to end, in a real browser, with JavaScript on (htmx) and off (plain forms):
a parent searches "ilkokul" in Kadıköy within the budget saved in their profile, compares two
campuses of a school, asks one of them (giving the KVKK consent on the way); an agent granted
only that campus finds the request in the inbox and answers with an offer; the parent accepts
it. Then the database shows it: the lead won, the offer accepted, the parent's counters, the
consent given on the form, the agent's activity row of the day and the mails in the outbox.

Everything is built here and removed afterwards, so the other browser tests sharing the live
database see the demo data as it was. Labels are translated as this is written, so fields are
found by their id and buttons and links by their address.
"""

import re
import time
from decimal import Decimal
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, func, select

from portal import mail
from portal.access.permissions import Role
from portal.clock import istanbul_today
from portal.models import (
    Campus,
    Customer,
    CustomerUser,
    CustomerUserDailyActivityLog,
    Lead,
    LeadEvent,
    MailOutbox,
    PlanPrice,
    School,
    SchoolFee,
    SchoolLevel,
    SchoolOffer,
    User,
    UserComparison,
    UserConsent,
    UserDetail,
    UserSubscription,
)
from tests.browser.conftest import live_data, price_id, settle, sign_in
from tests.factories import Factories

pytestmark = pytest.mark.browser

CAMPUSES = ("Moda Kampüsü", "Fenerbahçe Kampüsü")
MESSAGE = "Kızımız için ilkokul birinci sınıf kaydı hakkında bilgi almak istiyoruz."


@pytest.fixture
def journey(live_app):
    """A company on a plan with instant lead alerts; its school in İstanbul with two primary
    campuses in Kadıköy, fees within the parent's budget; two decoys in Kadıköy that the search
    must not find (a lise within the budget, a primary school above it); an agent granted only
    the Moda campus, a colleague granted only the other; a parent with a budget and no consent.
    """
    tag = uuid4().hex[:8]
    alerts_price = price_id(live_app, "okul-temel", "monthly")  # lead_alerts: unlimited
    with live_data(live_app) as session:
        make = Factories(session)
        customer = make.customer(name=f"Yolculuk Eğitim {tag}")
        school = make.school(
            customer,
            name=f"Akasya Yolculuk Koleji {tag}",
            campuses=CAMPUSES,
            levels=("primary",),
            fees={"primary": 180000},
            district="Kadıköy",
        )
        moda, fener = (next(c for c in school.campuses if c.name == n) for n in CAMPUSES)
        session.execute(
            SchoolFee.__table__.update()
            .where(SchoolFee.campus_id == fener.id)
            .values(yearly_fee=245000)
        )
        lise = make.school(
            customer,
            name=f"Akasya Yolculuk Lisesi {tag}",
            levels=("high",),
            fees={"high": 200000},
            district="Kadıköy",
        )
        dear = make.school(
            customer,
            name=f"Akasya Pahalı Koleji {tag}",
            levels=("primary",),
            fees={"primary": 450000},
            district="Kadıköy",
        )
        make.subscription(session.get(PlanPrice, alerts_price), customer=customer)
        agent = make.customer_user(customer, role=Role.AGENT, email=f"ajan.{tag}@example.com")
        make.grant(agent, school, moda)
        colleague = make.customer_user(
            customer, role=Role.AGENT, email=f"meslektas.{tag}@example.com"
        )
        make.grant(colleague, school, fener)
        parent = make.user(email=f"yolcu.{tag}@example.com", name=f"Yolcu Veli {tag}")
        session.add(
            UserDetail(user_id=parent.id, budget_min=Decimal(150000), budget_max=Decimal(300000))
        )
        session.commit()
        ids = {
            "customer": customer.id,
            "school": school.name,
            "slug": school.slug,
            "lise": lise.name,
            "dear": dear.name,
            "moda": moda.id,
            "fener": fener.id,
            "parent": parent.id,
            "parent_email": parent.email,
            "agent": agent.id,
            "agent_email": agent.user.email,
            "colleague_email": colleague.user.email,
            "staff_users": [agent.user_id, colleague.user_id],
        }
    yield ids
    with live_data(live_app) as session:
        emails = [ids["parent_email"], ids["agent_email"], ids["colleague_email"]]
        leads = select(Lead.id).where(Lead.user_id == ids["parent"])
        school_ids = select(School.id).where(School.customer_id == ids["customer"])
        members = select(CustomerUser.id).where(CustomerUser.customer_id == ids["customer"])
        session.execute(delete(MailOutbox).where(MailOutbox.recipient.in_(emails)))
        session.execute(delete(SchoolOffer).where(SchoolOffer.lead_id.in_(leads)))
        session.execute(delete(LeadEvent).where(LeadEvent.lead_id.in_(leads)))
        session.execute(delete(Lead).where(Lead.user_id == ids["parent"]))
        session.execute(delete(UserConsent).where(UserConsent.user_id == ids["parent"]))
        session.execute(delete(UserComparison).where(UserComparison.user_id == ids["parent"]))
        session.execute(
            delete(CustomerUserDailyActivityLog).where(
                CustomerUserDailyActivityLog.customer_user_id.in_(members)
            )
        )
        session.execute(
            delete(UserSubscription).where(UserSubscription.customer_id == ids["customer"])
        )
        session.execute(delete(CustomerUser).where(CustomerUser.customer_id == ids["customer"]))
        session.execute(
            delete(User)
            .where(User.id.in_([ids["parent"], *ids["staff_users"]]))
            .execution_options(include_deleted=True)
        )
        session.execute(delete(SchoolFee).where(SchoolFee.school_id.in_(school_ids)))
        session.execute(delete(SchoolLevel).where(SchoolLevel.school_id.in_(school_ids)))
        session.execute(delete(Campus).where(Campus.school_id.in_(school_ids)))
        session.execute(delete(School).where(School.customer_id == ids["customer"]))
        session.execute(delete(Customer).where(Customer.id == ids["customer"]))
        session.commit()


def delivered_to(app, email: str) -> list:
    """The mails delivered to `email`, once none to it waits in the outbox (the server hands
    a request's mail off just after its response; as the conftest's code reader does, the
    test plays the backstop worker meanwhile)."""
    pending = (MailOutbox.recipient == email, MailOutbox.sent_at.is_(None))
    deadline = time.monotonic() + 15
    with live_data(app) as session:
        while session.scalar(select(func.count(MailOutbox.id)).where(*pending)):
            session.rollback()
            mail.deliver()
            assert time.monotonic() < deadline, f"mail to {email} is still waiting"
            time.sleep(0.1)
    return [m for m in app.extensions.get("mail_outbox", []) if m.to == email]


def about(mails: list, place: str) -> list:
    """The mails whose subject names the school and campus (not the sign-in codes)."""
    return [m for m in mails if place in m.subject]


def card_names(page: Page) -> list[str]:
    return page.locator("#school-list li.card h3").all_inner_texts()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_parent_finds_compares_asks_and_accepts_the_offer_of_a_campus(
    new_page, javascript, live_app, journey, assert_accessible
):
    ids = journey
    place = f"{ids['school']} – Moda Kampüsü"
    page = new_page(javascript=javascript)  # the parent's browser

    def check_accessible(on: Page) -> None:
        if javascript:  # axe runs as JavaScript in the page
            settle(on)
            assert_accessible(on)

    # --- The search: "ilkokul" in Kadıköy, the fee range filled from the saved budget.
    sign_in(page, live_app, ids["parent_email"])
    page.goto("/")
    expect(page.locator(".budget-note")).to_be_visible()
    expect(page.locator("#fee_min")).to_have_value("150000")
    expect(page.locator("#fee_max")).to_have_value("300000")

    page.locator("#city").select_option("İstanbul")
    if not javascript:
        page.locator("#school-search button[type=submit]").click()
    expect(page.locator("#district")).to_be_visible()
    if javascript:
        settle(page)
    page.locator("#district").select_option("Kadıköy")
    if javascript:
        expect(page).to_have_url(re.compile(r"district=Kad"))
        settle(page)
        page.locator("#q").press_sequentially("ilkokul", delay=40)
        expect(page).to_have_url(re.compile(r"[?&]q=ilkokul(&|$)"))
        settle(page)
    else:
        page.locator("#q").fill("ilkokul")
        page.locator("#school-search button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"[?&]q=ilkokul(&|$)"))
    # The budget travelled with the form: it is in the shareable address.
    expect(page).to_have_url(re.compile(r"fee_min=150000"))
    expect(page).to_have_url(re.compile(r"fee_max=300000"))

    found = card_names(page)
    assert ids["school"] in found, found
    assert ids["lise"] not in found  # no primary school there: the level came from "ilkokul"
    assert ids["dear"] not in found  # primary, but above the budget
    card = page.locator("#school-list li.card", has_text=ids["school"])
    expect(card).to_contain_text(re.compile(r"180[.,]000"))
    expect(card).to_contain_text(re.compile(r"245[.,]000"))
    check_accessible(page)

    # --- The school's page: both campuses into the comparison.
    card.locator(f'h3 a[href="/schools/{ids["slug"]}"]').click()
    expect(page).to_have_url(re.compile(rf"/schools/{ids['slug']}$"))
    for campus_id in (ids["moda"], ids["fener"]):
        page.locator(f"#compare-campus-{campus_id}").click()
        expect(
            page.locator(f"form.compare-toggle:has(#compare-campus-{campus_id})")
        ).to_have_attribute("action", "/compare/remove")
        if javascript:
            settle(page)

    page.locator('main a[href="/compare"]').first.click()
    expect(page).to_have_url(re.compile(r"/compare$"))
    columns = page.locator("#compare-table table.compare thead th[scope=col]")
    expect(columns).to_have_count(2)
    expect(columns.nth(0)).to_contain_text("Moda Kampüsü")
    expect(columns.nth(1)).to_contain_text("Fenerbahçe Kampüsü")
    table = page.locator("#compare-table table.compare")
    expect(table).to_contain_text(re.compile(r"180[.,]000"))
    expect(table).to_contain_text(re.compile(r"245[.,]000"))
    check_accessible(page)

    # --- Asking the Moda campus, from the comparison, with the consent ticked on the way.
    ask = f"/schools/{ids['slug']}/ask?campus={ids['moda']}"
    page.locator(f'#compare-table a[href="{ask}"]').click()
    expect(page).to_have_url(re.compile(re.escape(ask) + "$"))
    expect(page.locator("#ask-form .legal-text")).to_be_visible()
    page.locator("#ask-form #message").fill(MESSAGE)
    page.locator("#ask-form #consent").check()
    page.locator("#ask-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/leads/\d+$"))
    lead_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("main")).to_contain_text(MESSAGE)
    expect(page.locator("#lead-state .badge")).to_have_class(re.compile(r"lead-open"))
    with live_data(live_app) as session:
        assert session.get(UserDetail, ids["parent"]).lead_open_count == 1

    # The company has instant alerts: the agent of the campus is told at once, the colleague
    # granted the other campus is not.
    new_lead_mails = about(delivered_to(live_app, ids["agent_email"]), place)
    assert len(new_lead_mails) == 1 and MESSAGE in new_lead_mails[0].body
    assert about(delivered_to(live_app, ids["colleague_email"]), place) == []

    # --- The agent, in a browser of their own: inbox, the request, an offer.
    agent_page = new_page(javascript=javascript)
    sign_in(agent_page, live_app, ids["agent_email"])
    agent_page.locator("#lead-inbox-link a").first.click()  # "N open": the whole inbox
    expect(agent_page).to_have_url(re.compile(r"/customer/leads$"))
    agent_page.locator(f'#lead-list a[href="/customer/leads/{lead_id}"]').click()
    expect(agent_page).to_have_url(re.compile(rf"/customer/leads/{lead_id}$"))
    expect(agent_page.locator(".lead-message")).to_have_text(MESSAGE)
    form = agent_page.locator("#offer-form")
    form.locator("input[name=yearly_fee]").fill("180.000")
    form.locator("input[name=discount_percent]").fill("5")
    form.locator("textarea[name=note]").fill("Kardeş indirimi de konuşulabilir.")
    form.locator("button[type=submit]").click()
    expect(agent_page.locator("#offers tbody tr")).to_have_count(1)
    expect(agent_page.locator("#offers")).to_contain_text(re.compile(r"171[.,]000"))  # less 5 %

    offer_mails = about(delivered_to(live_app, ids["parent_email"]), place)
    assert len(offer_mails) == 1
    assert re.search(r"171[.,]000", offer_mails[0].body)

    # --- The parent sees the offer on the request and accepts it.
    page.reload()
    offer_card = page.locator("#lead-state li.card[id^=offer-]")
    expect(offer_card).to_have_count(1)
    expect(offer_card).to_contain_text(re.compile(r"171[.,]000"))
    offer_card.locator("form:has(input[name=action][value=accept]) button").click()
    expect(page.locator("#lead-state .badge")).to_have_class(re.compile(r"lead-won"))
    expect(page.locator("#lead-state form:has(input[name=action])")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/account/leads/{lead_id}$"))

    agent_mails = about(delivered_to(live_app, ids["agent_email"]), place)
    assert len(agent_mails) == 2  # the new request, then the acceptance
    assert re.search(r"180[.,]000", agent_mails[1].body)
    assert MESSAGE in agent_mails[1].body  # with the request it answers

    # --- What the database says.
    with live_data(live_app) as session:
        lead = session.get(Lead, lead_id)
        assert (lead.user_id, lead.campus_id, lead.state) == (ids["parent"], ids["moda"], "won")
        assert lead.first_response_at is not None
        offer = session.scalar(select(SchoolOffer).where(SchoolOffer.lead_id == lead_id))
        assert (offer.status, offer.customer_user_id) == ("accepted", ids["agent"])
        assert (str(offer.yearly_fee), str(offer.discount_percent)) == ("180000.00", "5.00")
        details = session.get(UserDetail, ids["parent"])
        assert (details.lead_won_count, details.lead_open_count) == (1, 0)
        consent = session.get(UserConsent, lead.user_consent_id)
        assert (consent.user_id, consent.method, consent.withdrawn_at) == (
            ids["parent"],
            "lead_form",
            None,
        )
        day = session.scalar(
            select(CustomerUserDailyActivityLog).where(
                CustomerUserDailyActivityLog.customer_user_id == ids["agent"],
                CustomerUserDailyActivityLog.activity_date == istanbul_today(),
            )
        )
        assert day is not None and day.offer_count >= 1 and day.lead_view_count >= 1
        comparing = session.scalars(
            select(UserComparison.campus_id).where(UserComparison.user_id == ids["parent"])
        ).all()
        assert set(comparing) == {ids["moda"], ids["fener"]}
        # The outbox rows (bare once delivered): the alert and acceptance to the agent, the
        # offer to the parent, beside the sign-in codes.
        for email, at_least in ((ids["agent_email"], 3), (ids["parent_email"], 2)):
            rows = session.scalar(
                select(func.count(MailOutbox.id)).where(
                    MailOutbox.recipient == email, MailOutbox.sent_at.is_not(None)
                )
            )
            assert rows >= at_least, (email, rows)
