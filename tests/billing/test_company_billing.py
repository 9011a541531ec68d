"""A company's subscription: bought and managed by staff who may manage billing, read by
the others, and not for sale across audiences.

Amounts are checked in the default Turkish locale; words and dates are checked in English,
since the Turkish catalogue gets these strings later.
"""

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.access.permissions import ROLE_PERMISSIONS, Permission, Role
from portal.billing.periods import period_end
from portal.clock import istanbul_today
from portal.models import CustomerCreditCard, UserPaymentCard
from tests.billing.helpers import (
    COMPANY_PAGE,
    PAGE,
    TL,
    checkout_url,
    count,
    long_date,
    named_plan,
    page,
    pay,
    payments_of,
    staff_signed_in,
    subscriptions_of,
    text,
)
from tests.helpers import HTMX, post
from tests.test_html import assert_valid_html


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_billing_staff_subscribe_the_company_to_a_kdv_excluded_quarterly_price(
    client, session, make, auth, english, role
):
    plan = named_plan(make, "Okul Pro", audience="companies")
    quarterly = make.price(plan, billing_cycle="quarterly", amount="2500.00", kdv_included=False)
    staff = staff_signed_in(make, session, auth, role)
    customer = staff.customer
    today = istanbul_today()

    checkout = text(page(client, checkout_url(quarterly)))
    response = pay(client, quarterly, holder_name="Bilge Eğitim A.Ş.")

    assert f"2,500.00{TL}" in checkout and f"500.00{TL}" in checkout
    assert f"3,000.00{TL}" in checkout  # net × 1.2
    assert response.status_code == 303 and response.headers["Location"] == COMPANY_PAGE
    (subscription,) = subscriptions_of(session, customer=customer)
    assert subscription.user_id is None and subscription.status == "active"
    assert subscription.end_date == period_end(today, "quarterly", 0)
    (payment,) = payments_of(session, customer=customer)
    assert (payment.net_amount, payment.kdv_amount, payment.gross_amount) == (
        Decimal("2500.00"),
        Decimal("500.00"),
        Decimal("3000.00"),
    )
    cards = session.scalars(
        select(CustomerCreditCard).where(CustomerCreditCard.customer_id == customer.id)
    ).all()
    assert [(c.holder_name, c.brand, c.last4) for c in cards] == [
        ("Bilge Eğitim A.Ş.", "visa", "4242")
    ]
    assert subscription.customer_credit_card_id == cards[0].id
    assert count(session, UserPaymentCard, UserPaymentCard.user_id == staff.user_id) == 0
    html = page(client, COMPANY_PAGE)
    shown = text(html)
    assert f"{customer.name}: subscription" in shown
    assert "Okul Pro · Quarterly" in shown
    assert f"2,500.00{TL} + KDV" in shown
    assert f"Next payment {long_date(subscription.end_date)}" in shown
    assert f'href="/payments/{payment.id}/receipt"' in html
    assert 'action="/subscription/cancel-at-period-end"' in html
    assert_valid_html(html, "company subscription page")
    receipt = text(page(client, f"/payments/{payment.id}/receipt"))
    assert customer.tax_number in receipt and f"3,000.00{TL}" in receipt


def test_other_staff_read_the_company_subscription_but_cannot_change_it(
    client, session, make, auth, english
):
    plan = make.plan(audience="companies")
    price = make.price(plan, amount="1000.00", kdv_included=False)
    other = make.price(plan, billing_cycle="yearly", amount="10000.00", kdv_included=False)
    customer = make.customer()
    admin = make.customer_user(customer=customer, role=Role.ADMIN)
    admin.user.name = "Ayşe Yıldız"
    session.commit()
    auth.login(admin.user.email)
    pay(client, price)
    (payment,) = payments_of(session, customer=customer)
    auth.logout()
    staff_signed_in(make, session, auth, "agent", customer=customer)

    html = page(client, COMPANY_PAGE)

    shown = text(html)
    assert f"{plan.name} · Monthly Status Active" in shown
    assert "The plan is chosen, changed and cancelled by: Ayşe Yıldız." in shown
    panel = re.search(r'<div id="subscription-panel">.*', html, re.S).group(0)
    assert "<form" not in panel and "<button" not in panel  # no actions at all
    assert 'href="/subscription/cancel"' not in panel and 'href="/plans"' not in panel
    # Without the billing permission: no payments, no card, no receipt (issue 8).
    assert "Payments" not in text(panel) and "1,200.00" not in panel and "4242" not in panel
    assert "/receipt" not in panel
    assert_valid_html(html, "company subscription page, read only")
    assert client.get(f"/payments/{payment.id}/receipt").status_code == 404
    assert client.get(checkout_url(price)).status_code == 403
    assert pay(client, price).status_code == 403
    for action in ("cancel-at-period-end", "undo-cancel", "pause", "cancel-change", "resume"):
        assert post(client, f"/subscription/{action}").status_code == 403, action
        assert post(client, f"/subscription/{action}", headers=HTMX).status_code == 403, action
    assert client.get("/subscription/cancel").status_code == 403
    assert post(client, "/subscription/cancel").status_code == 403
    assert client.get(f"/subscription/change/{other.id}").status_code == 403
    assert post(client, f"/subscription/change/{other.id}").status_code == 403
    (subscription,) = subscriptions_of(session, customer=customer)
    assert subscription.status == "active" and not subscription.cancel_at_period_end
    assert subscription.scheduled_plan_price_id is None
    assert len(payments_of(session, customer=customer)) == 1


def test_staff_cannot_buy_a_parents_plan_and_parents_not_a_companys(
    client, session, make, auth, monthly
):
    company_price = make.price(make.plan(audience="companies"), kdv_included=False)
    staff_signed_in(make, session, auth, "admin")

    assert client.get(checkout_url(monthly)).status_code == 404
    assert client.get(PAGE).status_code == 403  # the parent's page is not theirs
    auth.logout()
    parent = make.user("parent")
    session.commit()
    auth.login(parent.email)
    assert client.get(checkout_url(company_price)).status_code == 404
    assert client.get(COMPANY_PAGE).status_code == 403


def test_a_planned_change_to_a_kdv_excluded_price_shows_what_will_be_charged(
    client, session, make, auth, english
):
    plan = make.plan(audience="companies")
    price = make.price(plan, amount="1000.00", kdv_included=False)
    yearly = make.price(plan, billing_cycle="yearly", amount="10000.00", kdv_included=False)
    staff_signed_in(make, session, auth, "admin")
    pay(client, price)

    preview = text(page(client, f"/subscription/change/{yearly.id}"))
    post(client, f"/subscription/change/{yearly.id}")
    html = page(client, COMPANY_PAGE)

    assert f"12,000.00{TL} is charged" in preview
    notice = re.search(r'<p class="notice">([^<]*you move to[^<]*)</p>', html).group(1)
    assert f"12,000.00{TL}" in notice or "+ KDV" in notice


def test_staff_who_may_see_but_not_manage_billing_read_it_all_and_change_nothing(
    client, session, make, auth, english, monkeypatch
):
    # No role is like that today; the page follows the permissions, not the role names.
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.MANAGER, frozenset({Permission.SEE_BILLING}))
    plan = make.plan(audience="companies")
    price = make.price(plan, amount="1000.00", kdv_included=False)
    admin = staff_signed_in(make, session, auth, Role.ADMIN)
    admin.user.name = "Ayşe Yıldız"
    session.commit()
    pay(client, price)
    (payment,) = payments_of(session, customer=admin.customer)
    auth.logout()
    staff_signed_in(make, session, auth, Role.MANAGER, customer=admin.customer)

    html = page(client, COMPANY_PAGE)

    shown = text(html)
    panel = re.search(r'<div id="subscription-panel">.*', html, re.S).group(0)
    assert f"1,200.00{TL}" in text(panel) and "Visa •••• 4242" in shown
    assert f'href="/payments/{payment.id}/receipt"' in panel
    assert "The plan is chosen, changed and cancelled by: Ayşe Yıldız." in shown
    assert "<form" not in panel and 'href="/subscription/cancel"' not in panel
    assert_valid_html(html, "company subscription page, billing read only")
    receipt = text(page(client, f"/payments/{payment.id}/receipt"))
    assert admin.customer.tax_number in receipt
    assert client.get(checkout_url(price)).status_code == 403
    assert post(client, "/subscription/cancel-at-period-end").status_code == 403
    assert not subscriptions_of(session, customer=admin.customer)[0].cancel_at_period_end
