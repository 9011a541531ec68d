"""Who on a company's staff sees its payments, saved card and tax number, and who may buy.

For each role, every URL that could show them is walked: the subscription page and its htmx
fragment, a receipt, the company page, the plans page, checkout and a change of plan. The
permission table (portal.access.permissions) decides; an admissions agent with a one-campus
grant sees the plan and its status, whom to ask, and nothing of the money.
"""

import re
import uuid
from dataclasses import dataclass

import pytest

from portal.access.permissions import Role
from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.payments import payments_of
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import subscribe
from portal.clock import istanbul_today
from tests.billing.helpers import COMPANY_PAGE, TL, checkout_url, text
from tests.helpers import HTMX, post

GROSS = f"1.200,00{TL}"  # 1.000,00 ₺ + 20 % KDV, as the Turkish pages write it
CARD = "•••• 4444"  # the company's Mastercard, as pages show a card


@dataclass(frozen=True)
class Expected:
    """What a role gets on each URL."""

    sees_billing: bool  # payments' amounts, the card, the receipt, the tax number
    may_buy: bool  # checkout, change of plan, "Choose" on the plans page


ROLES = {
    Role.ADMIN: Expected(sees_billing=True, may_buy=True),
    Role.FINANCE: Expected(sees_billing=True, may_buy=True),
    Role.MANAGER: Expected(sees_billing=False, may_buy=False),
    Role.AGENT: Expected(sees_billing=False, may_buy=False),
}


@dataclass
class Company:
    customer: object
    staff: dict
    plan: object
    monthly: object
    yearly: object
    payment_id: int


@pytest.fixture
def company(session, make) -> Company:
    """A company on a paid monthly plan, with one member of each role; the agent has a grant
    on one campus of one school."""
    customer = make.customer(name="Bilge Eğitim")
    staff = {role: make.customer_user(customer=customer, role=role) for role in ROLES}
    staff[Role.ADMIN].user.name = "Ayşe Yıldız"
    staff[Role.FINANCE].user.name = "Zeynep Kaya"
    school = make.school(customer=customer, campuses=("Moda", "Ataşehir"))
    make.grant(staff[Role.AGENT], school, school.campuses[0])
    plan = make.plan(audience="companies")
    plan.name = "Okul Pro"
    monthly = make.price(plan, amount="1000.00", kdv_included=False)
    yearly = make.price(plan, billing_cycle="yearly", amount="10000.00", kdv_included=False)
    subscribe(
        session,
        SandboxGateway(),
        Subscriber(customer_id=customer.id),
        monthly.id,
        SandboxGateway().save_card(
            CardDetails("5555555555554444", 12, istanbul_today().year + 2, "918", "Bilge Eğitim"),
            istanbul_today(),
        ),
        idempotency_key=uuid.uuid4().hex,
        today=istanbul_today(),
        actor_user_id=staff[Role.ADMIN].user_id,
    )
    session.commit()
    (payment,) = payments_of(session, Subscriber(customer_id=customer.id))
    return Company(customer, staff, plan, monthly, yearly, payment.id)


def shows_billing(html: str, vkn: str) -> dict[str, bool]:
    return {"amount": GROSS in html, "card": CARD in html, "vkn": vkn in html}


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_sees_billing_only_with_the_permission(client, auth, company, role):
    expected = ROLES[role]
    vkn = company.customer.tax_number
    auth.login(company.staff[role].user.email)
    nothing = {"amount": False, "card": False, "vkn": False}
    # The subscription page never shows the tax number; the receipt shows all three.
    on_page = {"amount": True, "card": True, "vkn": False} if expected.sees_billing else nothing

    page = client.get(COMPANY_PAGE)
    fragment = client.get(COMPANY_PAGE, headers=HTMX)
    receipt = client.get(f"/payments/{company.payment_id}/receipt")
    company_page = client.get("/customer/company")

    # Everyone on the staff sees which plan the company is on and its status.
    for response in (page, fragment):
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Okul Pro" in html and 'class="badge badge-active"' in html
        assert shows_billing(html, vkn) == on_page
        assert (f"/payments/{company.payment_id}/receipt" in html) is expected.sees_billing
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="subscription-panel">')
    assert 'href="/customer/subscription"' in page.get_data(as_text=True)  # the nav link stays
    if expected.sees_billing:
        assert receipt.status_code == 200
        assert all(shows_billing(receipt.get_data(as_text=True), vkn).values())
    else:
        assert receipt.status_code == 404  # to them, no such payment exists
        assert shows_billing(receipt.get_data(as_text=True), vkn) == nothing
    assert company_page.status_code == 200
    assert (vkn in company_page.get_data(as_text=True)) is expected.sees_billing


@pytest.mark.parametrize("role", list(ROLES))
def test_only_roles_that_may_buy_are_offered_or_allowed_to(client, auth, company, role):
    expected = ROLES[role]
    auth.login(company.staff[role].user.email)

    page = client.get(COMPANY_PAGE).get_data(as_text=True)
    plans = client.get("/plans").get_data(as_text=True)
    checkout = client.get(checkout_url(company.yearly))
    change = client.get(f"/subscription/change/{company.yearly.id}")

    panel = re.search(r'<div id="subscription-panel">.*', page, re.S).group(0)
    assert ("<form" in panel) is expected.may_buy
    assert ('href="/subscription/cancel"' in panel) is expected.may_buy
    assert ("/checkout" in plans) is expected.may_buy
    who = "Ayşe Yıldız, Zeynep Kaya"
    assert (who in text(page)) is not expected.may_buy
    assert (who in text(plans)) is not expected.may_buy
    if expected.may_buy:
        # With a subscription already, checkout leads to changing it.
        assert checkout.status_code == 303
        assert checkout.headers["Location"] == f"/subscription/change/{company.yearly.id}"
        assert change.status_code == 200
    else:
        assert checkout.status_code == 403
        assert change.status_code == 403


def test_a_campus_agent_is_refused_every_billing_step_and_changes_nothing(
    client, auth, session, company
):
    auth.login(company.staff[Role.AGENT].user.email)

    posted = {
        url: post(client, url, headers=HTMX).status_code
        for url in (
            "/subscription/cancel-at-period-end",
            "/subscription/pause",
            "/subscription/cancel",
            f"/subscription/change/{company.yearly.id}",
            checkout_url(company.yearly),
        )
    }

    assert set(posted.values()) == {403}, posted
    session.expire_all()
    [payment] = payments_of(session, Subscriber(customer_id=company.customer.id))
    assert payment.id == company.payment_id
