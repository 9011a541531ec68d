"""Receipt mails: every succeeded payment mails its payer a receipt in the payment's own
transaction (checkout, a renewal, a plan change taking effect, resuming); a failed or
rolled-back one mails nothing; a company's receipt goes to the members who may see billing.

Amounts are checked as the default Turkish mail writes them; the checkout's words and dates in
English, the language the parent chose on the site.
"""

import uuid
from datetime import date, timedelta

from sqlalchemy import select

from portal import mail
from portal.access.permissions import Role
from portal.billing.gateway import SandboxGateway
from portal.billing.periods import period_end
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import pause, resume, schedule_change, subscribe
from portal.clock import istanbul_today
from portal.models import MailOutbox
from tests.billing.helpers import POOR_CARD, TL, at, long_date, named_plan, pay, payments_of
from tests.billing.test_renewals import card, payments, run, start, use_card


def delivered(app, to):
    """The receipt mails that left for `to` (the test backend keeps them; a sign-in code
    mailed to the same address is left out)."""
    return [m for m in app.extensions.get("mail_outbox", []) if m.to == to and "/receipt" in m.body]


def queued(session, to=None):
    """Outbox rows written but not delivered yet, oldest first."""
    session.expire_all()
    query = select(MailOutbox).where(MailOutbox.sent_at.is_(None)).order_by(MailOutbox.id)
    if to is not None:
        query = query.where(MailOutbox.recipient == to)
    return list(session.scalars(query))


def receipt_link(payment) -> str:
    return f"http://localhost/payments/{payment.id}/receipt"


# --- checkout ------------------------------------------------------------------------------


def test_a_checkout_mails_the_parent_a_receipt_with_the_amounts_and_a_working_link(
    app, client, session, english, signed_in, monthly
):
    response = pay(client, monthly)

    assert response.status_code == 303
    (payment,) = payments_of(session, signed_in)
    (receipt,) = delivered(app, signed_in.email)
    today = istanbul_today()
    last_day = period_end(today, "monthly", 0) - timedelta(days=1)
    assert receipt.subject == f"Your Okul receipt {payment.id:08d}"
    body = receipt.body
    assert "Plan:" in body and "Aile Plus · Monthly" in body
    assert f"{long_date(today)} – {long_date(last_day)}" in body
    assert f"Amount before KDV: 100.00{TL}" in body
    assert f"KDV (20%): 20.00{TL}" in body
    assert f"Total paid: 120.00{TL}" in body
    assert "Visa •••• 4242" in body
    assert payment.gateway_reference and f"Payment reference: {payment.gateway_reference}" in body
    assert receipt_link(payment) in body
    assert client.get(receipt_link(payment).removeprefix("http://localhost")).status_code == 200
    assert queued(session) == []  # it left right after the response


def test_a_declined_charge_at_checkout_mails_no_receipt(app, client, session, signed_in, monthly):
    response = pay(client, monthly, number=POOR_CARD)

    assert response.status_code == 422
    assert payments_of(session, signed_in) == []
    assert delivered(app, signed_in.email) == []
    assert queued(session) == []


def test_a_checkout_rolled_back_after_the_charge_mails_nothing(app, session, make):
    price = make.price(amount="120.00", kdv_included=True)
    parent = make.user()
    session.commit()
    gateway = SandboxGateway()

    subscribe(
        session,
        gateway,
        Subscriber(user_id=parent.id),
        price.id,
        gateway.save_card(card(), date(2027, 1, 10)),
        idempotency_key=uuid.uuid4().hex,
        today=date(2027, 1, 10),
        actor_user_id=parent.id,
    )
    session.rollback()

    assert delivered(app, parent.email) == []
    assert queued(session) == []


def test_a_companys_receipt_goes_to_the_members_who_may_see_billing(app, session, make):
    company = make.customer(name="Deniz Eğitim A.Ş.")
    admin = make.customer_user(company, Role.ADMIN)
    finance = make.customer_user(company, Role.FINANCE)
    agent = make.customer_user(company, Role.AGENT)
    manager = make.customer_user(company, Role.MANAGER)
    former = make.customer_user(company, Role.FINANCE, is_active=False)
    price = make.price(make.plan(audience="companies"), amount="1000.00", kdv_included=False)
    session.commit()
    gateway = SandboxGateway()

    subscribe(
        session,
        gateway,
        Subscriber(customer_id=company.id),
        price.id,
        gateway.save_card(card(), date(2027, 1, 10)),
        idempotency_key=uuid.uuid4().hex,
        today=date(2027, 1, 10),
        actor_user_id=admin.user_id,
    )
    session.commit()

    (payment,) = payments_of(session, customer=company)
    for member in (admin, finance):
        (receipt,) = delivered(app, member.user.email)
        assert "Deniz Eğitim A.Ş." in receipt.body
        assert f"1.000,00{TL}" in receipt.body and f"200,00{TL}" in receipt.body
        assert f"1.200,00{TL}" in receipt.body
        assert receipt_link(payment) in receipt.body
    for member in (agent, manager, former):
        assert delivered(app, member.user.email) == []


# --- the renewal run -----------------------------------------------------------------------


def test_a_renewal_queues_its_receipt_in_the_runs_transaction_for_the_mail_worker(
    app, session, make
):
    price = make.price(named_plan(make, "Aile Plus"), amount="120.00", kdv_included=True)
    parent = make.user(email="veli@example.com")
    subscription = start(session, make, price, date(2027, 1, 31), user=parent)
    assert len(delivered(app, parent.email)) == 1  # the checkout's

    report = run(session, date(2027, 2, 28))

    assert report.charged == 1
    renewal = payments(session, subscription)[-1]
    assert renewal.charged_period == date(2027, 2, 28)
    (row,) = queued(session, parent.email)
    assert row.subject.endswith(f" {renewal.id:08d}")
    assert "Aile Plus" in row.body
    assert "28 Şubat 2027 – 30 Mart 2027" in row.body
    assert f"100,00{TL}" in row.body and f"20,00{TL}" in row.body and f"120,00{TL}" in row.body
    assert renewal.gateway_reference in row.body
    assert receipt_link(renewal) in row.body

    body = row.body
    assert mail.deliver().sent == 1
    assert delivered(app, parent.email)[-1].body == body
    assert queued(session) == []


def test_a_failed_renewal_charge_mails_no_receipt(app, session, make):
    subscription = start(session, make, make.price(), date(2027, 1, 31))
    use_card(session, subscription, POOR_CARD)

    report = run(session, date(2027, 2, 28))

    assert report.failed == 1 and report.charged == 0
    # The one mail is the failure's notice, with its retry date (tests/billing/test_notices.py);
    # there is no receipt.
    (notice,) = queued(session)
    assert "1 Mart 2027" in notice.body and "00000" not in notice.subject


def test_each_renewal_of_a_run_mails_its_own_payer_its_own_receipt_across_batches(session, make):
    parents = [make.user(), make.user()]
    first = start(session, make, make.price(amount="100.00"), date(2027, 1, 31), user=parents[0])
    second = start(session, make, make.price(amount="250.00"), date(2027, 1, 31), user=parents[1])
    failing = start(session, make, make.price(), date(2027, 1, 31))
    use_card(session, failing, POOR_CARD)

    run(session, date(2027, 2, 28), batch_size=1)

    # The failing one's mail is its failure's notice (tests/billing/test_notices.py).
    rows = [row for row in queued(session) if row.recipient in {p.email for p in parents}]
    assert len(rows) == 2 and len(queued(session)) == 3
    for parent, subscription, row in zip(parents, (first, second), rows, strict=True):
        renewal = payments(session, subscription)[-1]
        assert row.recipient == parent.email
        assert receipt_link(renewal) in row.body
        assert f"{renewal.gross_amount:.2f}".replace(".", ",") + TL in row.body


def test_a_plan_change_charged_by_the_run_mails_a_receipt_for_the_new_plan(session, make):
    old = make.price(named_plan(make, "Aile Aylık"), amount="100.00")
    new = make.price(named_plan(make, "Aile Yıllık"), billing_cycle="yearly", amount="1080.00")
    subscription = start(session, make, old, date(2027, 1, 31))
    schedule_change(
        session,
        Subscriber(user_id=subscription.user_id),
        subscription,
        new.id,
        subscription.user_id,
        today=date(2027, 1, 31),
    )
    session.commit()

    run(session, date(2027, 2, 28))

    (row,) = queued(session)
    assert "Aile Yıllık" in row.body and "Aile Aylık" not in row.body
    assert "28 Şubat 2027 – 27 Şubat 2028" in row.body
    assert f"1.080,00{TL}" in row.body


def test_resuming_after_the_paid_period_mails_a_receipt(app, session, make):
    parent = make.user()
    subscription = start(session, make, make.price(), date(2027, 1, 10), user=parent)
    pause(
        session,
        subscription,
        parent.id,
        now=at(date(2027, 1, 20)),
        until=date(2027, 1, 20) + timedelta(days=30),
    )
    session.commit()

    resume(session, SandboxGateway(), subscription, date(2027, 3, 1), parent.id)
    session.commit()

    resumed = payments(session, subscription)[-1]
    assert resumed.charged_period == date(2027, 3, 1)
    receipts = delivered(app, parent.email)
    assert len(receipts) == 2  # the checkout's, then the resume's
    assert receipt_link(resumed) in receipts[-1].body
    assert "1 Mart 2027 – 31 Mart 2027" in receipts[-1].body


def test_the_receipt_page_counts_a_month_end_period_from_the_anchor_as_the_mail_does(
    app, client, session, make, auth
):
    # Anchored on Jan 31, the period charged on Feb 28 runs to Mar 30 inclusive (the next
    # starts on Mar 31); counted from Feb 28 itself it would end on Mar 27.
    parent = make.user("parent")
    subscription = start(session, make, make.price(), date(2027, 1, 31), user=parent)
    run(session, date(2027, 2, 28))
    renewal = payments(session, subscription)[-1]
    assert renewal.charged_period == date(2027, 2, 28)
    (mail_row,) = queued(session, parent.email)
    auth.login(parent.email)

    page = client.get(f"/payments/{renewal.id}/receipt").get_data(as_text=True)

    assert "28 Şubat 2027 – 30 Mart 2027" in mail_row.body
    assert "28 Şubat 2027" in page and "30 Mart 2027" in page and "27 Mart 2027" not in page
