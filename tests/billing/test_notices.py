"""Billing e-mails through the outbox, written by the renewal job: a trial ending in three
days, a renewal that failed (with its retry date and a link to change the card), a
subscription that expired. Each to the right people, in their language, once per event
however often the job runs. (The refund's mail: tests/billing/test_refunds.py.)"""

import uuid
from datetime import date

from portal.access.permissions import Role
from portal.billing.gateway import SandboxGateway
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import cancel_at_period_end, subscribe
from portal.models import BillingNotice
from tests.billing.helpers import TL, count
from tests.billing.test_receipt_mail import queued
from tests.billing.test_renewals import POOR_CARD, card, run, start, use_card

TRIAL_START = date(2026, 11, 10)  # a 7-day trial ends on 17 November


def trial(session, make, user=None):
    return start(session, make, make.price(amount="49.90", trial_days=7), TRIAL_START, user=user)


def test_a_trial_ending_in_three_days_is_told_once_with_the_day_and_the_amount(session, make):
    parent = make.user()
    subscription = trial(session, make, user=parent)

    early = run(session, date(2026, 11, 13))  # four days before: not yet
    first = run(session, date(2026, 11, 14))
    run(session, date(2026, 11, 14))  # the job run again the same day
    run(session, date(2026, 11, 15))
    run(session, date(2026, 11, 16))

    assert early.notices == 0 and first.notices == 1
    (mail,) = queued(session)
    assert mail.recipient == parent.email
    assert mail.subject == "Okul deneme süreniz 17 Kasım 2026 tarihinde bitiyor"
    assert f"49,90{TL}" in mail.body
    assert "http://localhost/account/subscription" in mail.body
    assert count(session, BillingNotice, BillingNotice.user_subscription_id == subscription.id) == 1


def test_the_trial_mail_is_in_the_parents_own_language(session, make):
    parent = make.user(locale="en")
    trial(session, make, user=parent)

    run(session, date(2026, 11, 14))

    (mail,) = queued(session)
    assert mail.subject.startswith("Your Okul trial ends on")
    assert "Your free trial of" in mail.body and f"49.90{TL}" in mail.body
    assert "If you cancel before" in mail.body


def test_a_trial_cancelled_at_its_end_is_not_told_it_will_be_charged(session, make):
    subscription = trial(session, make)
    cancel_at_period_end(session, subscription, subscription.user_id)
    session.commit()

    report = run(session, date(2026, 11, 14))

    assert report.notices == 0 and queued(session) == []


def test_a_failed_renewal_is_told_with_its_retry_date_and_the_cards_page_once_per_attempt(
    session, make
):
    parent = make.user(locale="en")
    subscription = start(session, make, make.price(amount="120.00"), date(2027, 1, 10), user=parent)
    use_card(session, subscription, POOR_CARD)

    run(session, date(2027, 2, 10))  # fails: retried on 11 February
    run(session, date(2027, 2, 10))  # again the same day: nothing new
    first = queued(session)
    run(session, date(2027, 2, 11))  # fails again: retried on 13 February

    second = queued(session)[len(first) :]
    (mail,) = first
    assert mail.recipient == parent.email and mail.subject == "Your Okul payment failed"
    assert f"We could not charge 120.00{TL}" in mail.body and "February 10, 2027" in mail.body
    assert "We will try again on February 11, 2027" in mail.body
    assert "http://localhost/account/cards" in mail.body
    (again,) = second
    assert "We will try again on February 13, 2027" in again.body


def test_an_expired_subscription_is_told_once(session, make):
    parent = make.user(locale="en")
    subscription = start(session, make, make.price(amount="120.00"), date(2027, 1, 10), user=parent)
    use_card(session, subscription, POOR_CARD)

    for day in (10, 11, 13, 17, 17, 18):  # the due date, the three retries, then again
        run(session, date(2027, 2, day))

    session.refresh(subscription)
    assert subscription.status == "expired"
    mails = queued(session)
    assert [m.subject for m in mails] == ["Your Okul payment failed"] * 3 + [
        "Your Okul subscription has ended"
    ]
    assert "the payment due on February 10, 2027 failed on every attempt" in mails[-1].body
    assert "http://localhost/plans" in mails[-1].body


def test_a_companys_billing_mail_goes_to_the_members_who_may_see_billing(session, make):
    company = make.customer(name="Deniz Eğitim A.Ş.")
    admin = make.customer_user(company, Role.ADMIN)
    finance = make.customer_user(company, Role.FINANCE)
    agent = make.customer_user(company, Role.AGENT)
    former = make.customer_user(company, Role.FINANCE, is_active=False)
    price = make.price(make.plan(audience="companies"), amount="1000.00", trial_days=7)
    session.commit()
    gateway = SandboxGateway()
    subscribe(
        session,
        gateway,
        Subscriber(customer_id=company.id),
        price.id,
        gateway.save_card(card(), TRIAL_START),
        idempotency_key=uuid.uuid4().hex,
        today=TRIAL_START,
        actor_user_id=admin.user_id,
    )
    session.commit()

    run(session, date(2026, 11, 15))

    mails = queued(session)
    assert sorted(m.recipient for m in mails) == sorted([admin.user.email, finance.user.email])
    assert all("http://localhost/customer/subscription" in m.body for m in mails)
    assert agent.user.email not in {m.recipient for m in mails}
    assert former.user.email not in {m.recipient for m in mails}
