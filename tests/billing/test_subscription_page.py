"""The subscriber's page and its actions (plain form and htmx): cancel at period end and
undo, pause and resume, end it now, change plan or cycle.

Amounts are checked in the default Turkish locale; words and dates are checked in English,
since the Turkish catalogue gets these strings later.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date

from portal.billing.periods import period_end
from portal.billing.subscriptions import allowed_actions
from portal.clock import istanbul_today
from portal.models import Payment, UserPaymentCard
from tests import dbutil
from tests.billing.helpers import (
    PAGE,
    TL,
    assert_valid_fragment,
    checkout_url,
    fragment_text,
    long_date,
    named_plan,
    page,
    pay,
    payments_of,
    subscriptions_of,
    text,
)
from tests.helpers import HTMX, counted_statements, post
from tests.test_html import assert_valid_html


def test_without_a_subscription_the_page_points_to_the_plans(client, signed_in, english):
    html = page(client)

    assert "You are on the free plan." in text(html)
    assert 'href="/plans"' in html
    assert_valid_html(html, "subscription page without a subscription")


def test_cancel_at_period_end_then_undo_with_plain_forms(
    client, session, signed_in, english, subscribed
):
    ends = subscribed.end_date

    cancelled = post(client, "/subscription/cancel-at-period-end")
    after_cancel = page(client)
    undone = post(client, "/subscription/undo-cancel")
    after_undo = page(client)

    assert cancelled.status_code == 303 and cancelled.headers["Location"] == PAGE
    assert f"Your subscription will end on {long_date(ends)}." in text(after_cancel)
    assert f"Ends on {long_date(ends)}" in text(after_cancel)
    assert 'action="/subscription/undo-cancel"' in after_cancel
    assert 'action="/subscription/cancel-at-period-end"' not in after_cancel
    assert_valid_html(after_cancel, "subscription page, cancelled at period end")
    assert undone.status_code == 303 and undone.headers["Location"] == PAGE
    assert "Your subscription will renew as before." in text(after_undo)
    assert f"Next payment {long_date(ends)}" in text(after_undo)
    assert 'action="/subscription/cancel-at-period-end"' in after_undo
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active"
    assert not subscription.cancel_at_period_end and subscription.auto_renew


def test_htmx_actions_answer_with_the_panel_saying_what_happened(
    client, session, signed_in, english, subscribed
):
    ends = subscribed.end_date

    cancelled = post(client, "/subscription/cancel-at-period-end", headers=HTMX)
    undone = post(client, "/subscription/undo-cancel", headers=HTMX)

    html = cancelled.get_data(as_text=True)
    assert cancelled.status_code == 200
    assert html.lstrip().startswith('<div id="subscription-panel">')
    assert f"Your subscription will end on {long_date(ends)}." in fragment_text(html)
    assert 'role="status"' in html
    assert 'action="/subscription/undo-cancel"' in html
    assert "HX-Request" in cancelled.headers["Vary"]
    assert_valid_fragment(html)
    assert undone.status_code == 200
    assert "Your subscription will renew as before." in fragment_text(undone.get_data(as_text=True))
    # The message travelled in the panel, so it is not flashed again on the next page.
    assert "will renew as before" not in text(page(client))
    assert not subscriptions_of(session, signed_in)[0].cancel_at_period_end


def test_an_action_not_allowed_now_says_so_and_changes_nothing(
    client, session, signed_in, english, subscribed
):
    plain = post(client, "/subscription/undo-cancel")
    shown = text(page(client))
    htmx = post(client, "/subscription/cancel-change", headers=HTMX)

    assert plain.status_code == 303
    assert "That cannot be done in the subscription's current state." in shown
    assert htmx.status_code == 200
    assert "cannot be done" in fragment_text(htmx.get_data(as_text=True))
    assert subscriptions_of(session, signed_in)[0].status == "active"


def test_unknown_actions_and_actions_without_a_subscription_are_not_found(
    client, session, signed_in
):
    assert post(client, "/subscription/refund-everything").status_code == 404
    for action in ("cancel-at-period-end", "undo-cancel", "pause", "cancel-change", "resume"):
        assert post(client, f"/subscription/{action}").status_code == 404, action
    assert client.get("/subscription/cancel").status_code == 404


def test_actions_need_the_csrf_token(client, session, signed_in, subscribed):
    response = client.post("/subscription/cancel-at-period-end")

    assert response.status_code == 400
    assert not subscriptions_of(session, signed_in)[0].cancel_at_period_end


def test_pause_then_resume_within_the_paid_period_charges_nothing(
    client, session, signed_in, english, subscribed
):
    paid_until = subscribed.end_date
    until = istanbul_today() + timedelta(days=14)

    paused = post(client, "/subscription/pause", until=until.isoformat())
    while_paused = page(client)
    resumed = post(client, "/subscription/resume", headers=HTMX)

    assert paused.status_code == 303
    shown = text(while_paused)
    assert (
        f"Your subscription is paused. Renewals resume by themselves on {long_date(until)}."
        in shown
    )
    assert f"Paused until {long_date(until)}: renewals resume by themselves on that day." in shown
    assert f"Paid until {long_date(paid_until)}" in shown
    assert f"Resuming before {long_date(paid_until)} charges nothing." in shown
    assert 'action="/subscription/resume"' in while_paused
    assert_valid_html(while_paused, "paused subscription page")
    assert resumed.status_code == 200
    assert "Your subscription is active again." in fragment_text(resumed.get_data(as_text=True))
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active"
    assert subscription.next_billing_date == paid_until and subscription.end_date == paid_until
    assert len(payments_of(session, signed_in)) == 1  # only the first charge


def test_resume_after_the_paid_period_charges_a_new_period_now(
    client, session, make, signed_in, english, monthly
):
    today = istanbul_today()
    card = UserPaymentCard(
        user_id=signed_in.id,
        gateway="sandbox",
        token="sbx_ok_0123456789abcdef01234567",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=today.year + 2,
    )
    session.add(card)
    session.flush()
    make.subscription(
        monthly,
        user=signed_in,
        status="paused",
        anchor_date=today - timedelta(days=45),
        end_date=today - timedelta(days=14),
        user_payment_card_id=card.id,
    )
    session.commit()

    shown = text(page(client))
    response = post(client, "/subscription/resume")

    assert f"Resuming charges 120.00{TL} today" in shown
    assert response.status_code == 303
    (payment,) = payments_of(session, signed_in)
    assert payment.status == "succeeded" and payment.charged_period == today
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active"
    assert subscription.end_date == period_end(today, "monthly", 0)


def test_cancel_now_asks_first_then_ends_the_subscription_today(
    client, session, signed_in, english, subscribed
):
    confirm = client.get("/subscription/cancel")
    html = confirm.get_data(as_text=True)
    still = subscriptions_of(session, signed_in)[0].status

    response = post(client, "/subscription/cancel")
    after = page(client)

    assert confirm.status_code == 200
    assert "End the subscription now?" in text(html)
    assert 'action="/subscription/cancel"' in html and 'href="/account/subscription"' in html
    assert_valid_html(html, "cancel confirmation")
    assert still == "active"  # showing the question changes nothing
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "cancelled"
    assert subscription.end_date == istanbul_today() and subscription.next_billing_date is None
    shown = text(after)
    assert "Your subscription has ended." in shown
    assert "You are on the free plan." in shown
    assert "Earlier subscriptions" in shown and "Cancelled" in shown
    # Paid today, so within the withdrawal period: the charge is refunded in full, by a row
    # of its own (tests/billing/test_refunds.py has the rule); nothing more is charged.
    charge, refund = sorted(payments_of(session, signed_in), key=lambda p: p.id)
    assert (charge.purpose, refund.purpose) == ("first_charge", "refund")
    assert refund.refunded_payment_id == charge.id and refund.gross_amount == charge.gross_amount
    assert_valid_html(after, "subscription page after cancelling")


@pytest.mark.skipif(dbutil.dialect() == "sqlite", reason="SQLite has no row locks")
def test_the_questions_and_previews_lock_nothing_their_answers_do(
    app, client, session, make, signed_in, subscribed
):
    yearly = make.price(make.plan(), billing_cycle="yearly", amount="1440.00")
    session.commit()
    with counted_statements(app) as shown:
        assert client.get("/subscription/cancel").status_code == 200
        assert client.get(f"/subscription/change/{yearly.id}").status_code == 200
    with counted_statements(app) as answered:
        post(client, "/subscription/cancel")

    # A page view that locked the row waited for every other request of the subscriber (a
    # second tab, the renewal run) to finish; the step itself still holds it.
    assert not any("FOR UPDATE" in statement for statement in shown)
    assert any("FOR UPDATE" in statement for statement in answered)


def test_cancel_now_without_the_csrf_token_ends_nothing(client, session, signed_in, subscribed):
    response = client.post("/subscription/cancel")

    assert response.status_code == 400
    assert subscriptions_of(session, signed_in)[0].status == "active"


def test_a_change_is_previewed_confirmed_shown_and_can_be_dropped(
    client, session, make, signed_in, english, subscribed
):
    premium = named_plan(make, "Aile Premium")
    yearly = make.price(premium, billing_cycle="yearly", amount="1440.00", kdv_included=True)
    session.commit()
    takes_effect = subscribed.end_date
    renews = period_end(takes_effect, "yearly", 0)

    preview = client.get(f"/subscription/change/{yearly.id}")
    html = preview.get_data(as_text=True)
    scheduled_by_preview = subscriptions_of(session, signed_in)[0].scheduled_plan_price_id
    confirmed = post(client, f"/subscription/change/{yearly.id}")
    after = page(client)

    assert preview.status_code == 200
    shown = text(html)
    assert "Change to Aile Premium, billed Yearly" in shown
    assert f"You stay on Aile Plus (Monthly) until {long_date(takes_effect)}." in shown
    assert (
        f"On {long_date(takes_effect)} the new plan starts and 1,440.00{TL} is charged "
        f"(1,200.00{TL} + 240.00{TL} KDV)."
    ) in shown
    assert f"It then renews on {long_date(renews)}" in shown
    assert "Nothing is charged today." in shown
    assert_valid_html(html, "change preview")
    assert scheduled_by_preview is None  # showing the preview changes nothing
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == PAGE
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.scheduled_plan_price_id == yearly.id
    assert subscription.plan_price_id == subscribed.plan_price_id  # not yet
    assert len(payments_of(session, signed_in)) == 1  # nothing charged now
    shown = text(after)
    assert f"Done. From {long_date(takes_effect)} you will be on Aile Premium" in shown
    assert (
        f"On {long_date(takes_effect)} you move to Aile Premium, billed Yearly, for 1,440.00{TL}."
        in shown
    )
    assert 'action="/subscription/cancel-change"' in after
    assert_valid_html(after, "subscription page with a planned change")

    dropped = post(client, "/subscription/cancel-change", headers=HTMX)

    assert dropped.status_code == 200
    panel = fragment_text(dropped.get_data(as_text=True))
    assert "The planned change is dropped." in panel and "you move to" not in panel
    assert subscriptions_of(session, signed_in)[0].scheduled_plan_price_id is None


def test_confirming_a_change_takes_back_a_cancellation_at_period_end(
    client, session, make, signed_in, subscribed
):
    yearly = make.price(subscribed.plan, billing_cycle="yearly", amount="1200.00")
    session.commit()
    post(client, "/subscription/cancel-at-period-end")

    post(client, f"/subscription/change/{yearly.id}")

    (subscription,) = subscriptions_of(session, signed_in)
    assert not subscription.cancel_at_period_end
    assert subscription.scheduled_plan_price_id == yearly.id


def test_a_change_to_the_same_price_or_one_not_for_sale_goes_back_with_a_message(
    client, session, make, signed_in, english, subscribed, monthly
):
    archived = make.price(subscribed.plan, billing_cycle="yearly", status="archived")
    company = make.price(make.plan(audience="companies"), kdv_included=False)
    session.commit()

    same = client.get(f"/subscription/change/{monthly.id}")
    shown_same = text(page(client))
    for price in (archived, company):
        response = post(client, f"/subscription/change/{price.id}")
        assert response.status_code == 303 and response.headers["Location"] == PAGE
        assert "no longer offered" in text(page(client))

    assert same.status_code == 303 and same.headers["Location"] == PAGE
    assert "You are already on this plan and billing cycle." in shown_same
    assert subscriptions_of(session, signed_in)[0].scheduled_plan_price_id is None


def test_a_change_without_a_subscription_leads_to_checkout(client, signed_in, monthly):
    response = client.get(f"/subscription/change/{monthly.id}")

    assert response.status_code == 303
    assert response.headers["Location"] == checkout_url(monthly)


def test_after_ending_it_the_parent_can_subscribe_again_and_sees_the_old_one_in_history(
    client, session, signed_in, english, subscribed, monthly
):
    post(client, "/subscription/cancel")

    response = pay(client, monthly)

    assert response.status_code == 303
    statuses = sorted(s.status for s in subscriptions_of(session, signed_in))
    assert statuses == ["active", "cancelled"]
    # Two charges, and the refund of the first (ended within the withdrawal period).
    purposes = sorted(p.purpose for p in payments_of(session, signed_in))
    assert purposes == ["first_charge", "first_charge", "refund"]
    shown = text(page(client))
    assert "Earlier subscriptions" in shown and "Aile Plus · Monthly · Cancelled" in shown
    assert "Next payment" in shown


def test_an_old_checkout_form_sent_again_after_ending_never_claims_a_start_it_did_not_make(
    client, session, signed_in, english, monthly
):
    # The parent pays, ends the subscription, goes back to the checkout page (the browser
    # keeps the form with its hidden key) and pays again.
    key = "0123456789abcdef0123456789abcdef"
    assert pay(client, monthly, idempotency_key=key).status_code == 303
    post(client, "/subscription/cancel")
    page(client)  # the "ended" message is read

    again = pay(client, monthly, idempotency_key=key)  # through the hosted page again

    assert again.status_code == 303
    shown = text(page(client))
    started = [s for s in subscriptions_of(session, signed_in) if s.status == "active"]
    assert started or "Your subscription has started." not in shown
    # The key charged once (the refund is of that charge: ended within the withdrawal period).
    charges = [p for p in payments_of(session, signed_in) if p.purpose != "refund"]
    assert len(charges) == 1


def test_a_lifetime_price_is_paid_once_and_offers_no_renewal_actions(
    client, session, make, signed_in, english
):
    price = make.price(named_plan(make, "Aile Ömür"), billing_cycle="lifetime", amount="2499.00")
    session.commit()

    checkout = text(page(client, checkout_url(price)))
    pay(client, price)
    html = page(client)
    (payment,) = payments_of(session, signed_in)
    receipt = text(page(client, f"/payments/{payment.id}/receipt"))

    assert "One payment, today. It never renews." in checkout
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.status == "active" and subscription.next_billing_date is None
    assert "Renewal None: paid once, for good." in text(html)
    for action in ("cancel-at-period-end", "pause"):
        assert f'action="/subscription/{action}"' not in html
        assert post(client, f"/subscription/{action}").status_code == 303
    assert subscriptions_of(session, signed_in)[0].status == "active"
    assert f"From {long_date(istanbul_today())}, for good" in receipt


def test_in_turkish_the_page_writes_dates_and_amounts_the_turkish_way(
    client, session, signed_in, subscribed
):
    ends = format_date(subscribed.end_date, "long", locale="tr")

    cancelled = post(client, "/subscription/cancel-at-period-end", headers=HTMX)
    html = page(client)

    assert cancelled.status_code == 200
    assert ends in fragment_text(cancelled.get_data(as_text=True))
    assert ends in text(html) and f"120,00{TL}" in text(html)
    assert_valid_html(html, "subscription page in Turkish")


# What the page offers is what allowed_actions() lists, and nothing else is done

CONTROLS = {
    "cancel-at-period-end": 'action="/subscription/cancel-at-period-end"',
    "undo-cancel": 'action="/subscription/undo-cancel"',
    "pause": 'action="/subscription/pause"',
    "cancel-change": 'action="/subscription/cancel-change"',
    "resume": 'action="/subscription/resume"',
    "change": 'href="/plans"',
    "cancel-now": 'href="/subscription/cancel"',
}
POSTED = ("cancel-at-period-end", "undo-cancel", "pause", "cancel-change", "resume")


def offered(html: str) -> set[str]:
    """The actions the panel offers, by the form or link of each."""
    panel = re.search(r'<div id="subscription-panel">.*', html, re.S).group(0)
    return {action for action, control in CONTROLS.items() if control in panel}


def subscription_in(session, make, parent, status, cycle="monthly", scheduled=False, **values):
    """The parent's subscription in a given state, its period running for another week."""
    price = make.price(named_plan(make, "Aile Plus"), billing_cycle=cycle, amount="120.00")
    other = make.price(make.plan(), billing_cycle="yearly")
    ends = istanbul_today() + timedelta(days=7) if cycle != "lifetime" else None
    subscription = make.subscription(
        price,
        user=parent,
        status=status,
        anchor_date=istanbul_today() - timedelta(days=23),
        end_date=ends,
        next_billing_date=ends if status != "paused" else None,
        trial_end_date=ends if status == "trial" else None,
        scheduled_plan_price_id=other.id if scheduled else None,
        **values,
    )
    session.commit()
    return subscription


@pytest.mark.parametrize(
    "state",
    [
        {"status": "trial"},
        {"status": "active"},
        {"status": "active", "cancel_at_period_end": True},
        {"status": "active", "retry_count": 1},
        {"status": "active", "scheduled": True},
        {"status": "active", "cycle": "lifetime"},
        {"status": "paused"},
        {"status": "paused", "scheduled": True},
    ],
    ids=lambda state: "-".join(str(v) for v in state.values()),
)
def test_the_page_offers_exactly_the_allowed_actions_and_refuses_the_others(
    client, session, make, signed_in, english, state
):
    subscription = subscription_in(session, make, signed_in, **state)
    allowed = allowed_actions(subscription)

    html = page(client)

    assert offered(html) == allowed
    assert_valid_html(html, f"subscription page, {state}")
    before = (subscription.status, subscription.cancel_at_period_end)
    for action in POSTED:
        if action in allowed:
            continue
        refused = post(client, f"/subscription/{action}", headers=HTMX)
        assert refused.status_code == 200, action
        assert "cannot be done" in fragment_text(refused.get_data(as_text=True)), action
    (after,) = subscriptions_of(session, signed_in)
    assert (after.status, after.cancel_at_period_end) == before
    assert after.scheduled_plan_price_id == subscription.scheduled_plan_price_id
    assert payments_of(session, signed_in) == []


def test_a_planned_change_can_be_dropped_while_paused(client, session, make, signed_in, english):
    subscription_in(session, make, signed_in, "paused", scheduled=True)

    response = post(client, "/subscription/cancel-change")

    assert response.status_code == 303
    assert "The planned change is dropped." in text(page(client))
    (after,) = subscriptions_of(session, signed_in)
    assert after.status == "paused" and after.scheduled_plan_price_id is None


def _failed_attempts(session, subscription, count):
    """`count` failed renewal attempts on the subscription, the newest last."""
    for n in range(count):
        session.add(
            Payment(
                user_subscription_id=subscription.id,
                user_id=subscription.user_id,
                purpose="renewal",
                net_amount=100,
                kdv_amount=20,
                gross_amount=120,
                status="failed",
                gateway="sandbox",
                failure_code="card_declined",
                idempotency_key=f"test-failed-{subscription.id}-{n}",
                created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n),
            )
        )
    session.commit()


def test_payments_page_twenty_at_a_time_with_their_total(
    client, session, signed_in, english, subscribed
):
    _failed_attempts(session, subscribed, 24)  # and the checkout's own payment: 25

    first = page(client)
    second = page(client, url=f"{PAGE}?page=2")

    assert "25 payments" in text(first) and "Page 1 of 2" in text(first)
    assert text(first).count("Failed") == 19 and "Paid" in text(first)  # newest first
    assert f'href="{PAGE}?page=2"' in first
    assert text(second).count("Failed") == 5 and "Page 2 of 2" in text(second)
    assert_valid_html(second, "subscription page, second page of payments")


def test_the_payments_pager_swaps_the_panel_for_htmx(
    client, session, signed_in, english, subscribed
):
    _failed_attempts(session, subscribed, 24)

    response = client.get(f"{PAGE}?page=2", headers=HTMX)

    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="subscription-panel">')
    assert fragment_text(html).count("Failed") == 5
    assert_valid_fragment(html)


def test_the_subscription_page_runs_as_many_statements_for_1_or_60_payments(
    app, client, session, signed_in, subscribed
):
    with counted_statements(app) as few:
        client.get(PAGE)
    _failed_attempts(session, subscribed, 59)
    with counted_statements(app) as many:
        client.get(PAGE)

    assert len(many) == len(few)
