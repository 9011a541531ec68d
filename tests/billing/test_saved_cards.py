"""The payment cards page: a parent's and a company's saved cards, added through the hosted
payment page, the one renewals charge chosen, removed; never another subscriber's."""

import re
import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.access.permissions import Role
from portal.billing.gateway import SandboxGateway
from portal.billing.renewals import renew
from portal.models import CustomerCreditCard, Payment, UserLog, UserPaymentCard
from tests import dbutil
from tests.billing.helpers import (
    POOR_CARD,
    assert_valid_fragment,
    at,
    count,
    fragment_text,
    hosted_page_url,
    staff_signed_in,
    subscriptions_of,
    text,
    type_card,
)
from tests.helpers import HTMX, AuthActions, counted_statements, post
from tests.test_html import assert_valid_html

CARDS = "/account/cards"
COMPANY_CARDS = "/customer/cards"
MASTERCARD = "5555 5555 5555 4444"


def add_card(client, number=MASTERCARD, headers=None, **card):
    """Press "Add a card", type the card on the hosted page, come back: the last response."""
    started = post(client, "/cards", headers=headers)
    hosted = hosted_page_url(started)
    if hosted is None:
        return started
    typed = type_card(client, hosted, number=number, **card)
    if typed.status_code != 303:
        return typed
    return client.get(typed.headers["Location"])


def cards_of(session, model=UserPaymentCard, **owner) -> list:
    session.expire_all()
    column = model.user_id if model is UserPaymentCard else model.customer_id
    (value,) = owner.values()
    return list(
        session.scalars(
            select(model)
            .where(column == value)
            .order_by(model.id)
            .execution_options(include_deleted=True)
        )
    )


def events(session, event) -> list[UserLog]:
    return list(session.scalars(select(UserLog).where(UserLog.event == event)))


# --- A parent ---------------------------------------------------------------------------


def test_a_card_added_on_the_hosted_page_is_kept_masked_and_renewals_keep_their_card(
    client, session, english, subscribed, signed_in
):
    first = subscribed.user_payment_card_id

    response = add_card(client)

    assert response.status_code == 303 and response.headers["Location"] == CARDS
    old, new = cards_of(session, user_id=signed_in.id)
    assert old.id == first
    assert (new.brand, new.last4, new.gateway) == ("mastercard", "4444", "sandbox")
    assert new.token.startswith("sbx_") and new.deleted_at is None
    # The renewals still charge the card they had: a new card is chosen, never assumed.
    assert subscriptions_of(session, signed_in)[0].user_payment_card_id == first
    (added,) = events(session, "card_added")
    assert added.user_id == signed_in.id
    assert added.data == {"card_id": new.id, "last4": "4444", "made_default": False}
    html = client.get(CARDS).get_data(as_text=True)
    assert_valid_html(html, CARDS)
    shown = text(html)
    assert "Mastercard •••• ending in 4444" in shown and "Visa •••• ending in 4242" in shown
    assert "5555 5555" not in html and "5555555555554444" not in html
    assert new.token not in html


def test_the_card_made_default_is_the_one_the_next_renewal_charges(
    client, session, english, subscribed, signed_in
):
    add_card(client)
    new = cards_of(session, user_id=signed_in.id)[-1]

    response = post(client, "/cards/default", card=str(new.id))

    assert response.status_code == 303 and response.headers["Location"] == CARDS
    (subscription,) = subscriptions_of(session, signed_in)
    assert subscription.user_payment_card_id == new.id
    (changed,) = events(session, "card_default_changed")
    assert changed.data["card_id"] == new.id and changed.data["previous_card_id"] != new.id
    renew(
        session,
        SandboxGateway(),
        subscription.next_billing_date,
        now=at(subscription.next_billing_date),
    )
    session.expire_all()
    renewal = session.scalars(select(Payment).order_by(Payment.id.desc())).first()
    assert (renewal.purpose, renewal.status, renewal.card_last4) == ("renewal", "succeeded", "4444")
    page = text(client.get(CARDS).get_data(as_text=True))
    assert "Renewals charge Mastercard ending in 4444, expires 12/" in page


def test_the_card_renewals_charge_is_not_removed_and_the_page_says_what_to_do(
    client, session, english, subscribed, signed_in
):
    only = subscribed.user_payment_card_id

    alone = post(client, "/cards/remove", card=str(only))
    said_alone = text(client.get(CARDS).get_data(as_text=True))
    add_card(client)
    with_another = post(client, "/cards/remove", card=str(only), headers=HTMX)

    assert alone.status_code == 303
    assert "it is your only one, so it cannot be removed" in said_alone
    assert with_another.status_code == 422
    assert_valid_fragment(with_another.get_data(as_text=True))
    assert "Make another card the one renewals charge first" in fragment_text(
        with_another.get_data(as_text=True)
    )
    assert all(card.deleted_at is None for card in cards_of(session, user_id=signed_in.id))
    assert events(session, "card_removed") == []


def test_a_card_renewals_do_not_charge_is_removed_softly_and_leaves_the_list(
    client, session, english, subscribed, signed_in
):
    add_card(client)
    old, new = cards_of(session, user_id=signed_in.id)
    post(client, "/cards/default", card=str(new.id))

    response = post(client, "/cards/remove", card=str(old.id), headers=HTMX)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_valid_fragment(html)
    assert f'id="saved-card-{old.id}"' not in html and f'id="saved-card-{new.id}"' in html
    assert "Visa ending in 4242, expires" in fragment_text(html) and "is removed" in html
    old_row = cards_of(session, user_id=signed_in.id)[0]
    assert old_row.deleted_at is not None  # kept for the payments that name it, not listed
    assert [e.data["card_id"] for e in events(session, "card_removed")] == [old.id]
    again = post(client, "/cards/remove", card=str(old.id))
    assert again.status_code == 404  # a removed card is gone, like an unknown one


def test_a_refused_card_is_said_next_to_the_add_button_and_nothing_is_kept(
    client, session, english, subscribed, signed_in
):
    response = add_card(client, number="4000 0000 0000 0002")

    assert response.status_code == 422
    assert "Your card was declined" in text(response.get_data(as_text=True))
    assert len(cards_of(session, user_id=signed_in.id)) == 1
    assert events(session, "card_added") == []


def test_the_same_answer_brought_back_twice_keeps_one_card(
    client, session, english, subscribed, signed_in
):
    hosted = hosted_page_url(post(client, "/cards"))
    back = type_card(client, hosted, number=MASTERCARD).headers["Location"]

    first, second = client.get(back), client.get(back)

    assert first.status_code == second.status_code == 303
    assert len(cards_of(session, user_id=signed_in.id)) == 2
    assert len(events(session, "card_added")) == 1


def test_an_answer_made_for_another_account_is_refused(
    app, client, session, english, make, subscribed, signed_in, auth
):
    hosted = hosted_page_url(post(client, "/cards"))
    back = type_card(client, hosted, number=MASTERCARD).headers["Location"]
    other = make.user("parent")
    session.commit()
    auth.logout()
    auth.login(other.email)

    response = client.get(back)

    assert response.status_code == 400
    assert cards_of(session, user_id=other.id) == []
    assert client.get("/cards/return?answer=forged").status_code == 400


def test_a_first_card_without_a_usable_one_becomes_the_one_renewals_charge(
    client, session, english, subscribed, signed_in
):
    # The subscription's card was removed behind the page (by an operator, say).
    card = session.get(UserPaymentCard, subscribed.user_payment_card_id)
    card.soft_delete()
    session.commit()
    assert "its next renewal will fail" in text(client.get(CARDS).get_data(as_text=True))

    add_card(client)

    new = cards_of(session, user_id=signed_in.id)[-1]
    assert subscriptions_of(session, signed_in)[0].user_payment_card_id == new.id
    assert events(session, "card_added")[0].data["made_default"] is True


def test_without_a_subscription_cards_are_kept_but_there_is_no_default_to_choose(
    client, session, english, signed_in
):
    add_card(client)
    (card,) = cards_of(session, user_id=signed_in.id)

    chosen = post(client, "/cards/default", card=str(card.id), headers=HTMX)
    removed = post(client, "/cards/remove", card=str(card.id))

    assert chosen.status_code == 200
    assert "There is no subscription whose renewals charge a card" in fragment_text(
        chosen.get_data(as_text=True)
    )
    assert removed.status_code == 303
    assert cards_of(session, user_id=signed_in.id)[0].deleted_at is not None


@pytest.mark.parametrize("value", ["", "abc", "-1", "0", "1e3", "9" * 30])
def test_a_card_that_is_not_an_id_is_said_next_to_the_field(
    client, session, english, subscribed, value
):
    response = post(client, "/cards/default", card=value, headers=HTMX)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert_valid_fragment(html)
    assert re.search(r'<p class="error" id="card-error">[^<]*Choose', html)
    plain = post(client, "/cards/remove", card=value)
    assert plain.status_code == 422
    assert "Choose one of your saved cards." in text(plain.get_data(as_text=True))


def test_another_parents_card_is_a_404_like_an_unknown_one(
    client, session, english, make, subscribed, signed_in, auth
):
    other = make.user("parent")
    session.commit()
    theirs = UserPaymentCard(
        user_id=other.id,
        gateway="sandbox",
        token="sbx_ok_theirs",
        brand="visa",
        last4="1111",
        exp_month=1,
        exp_year=2031,
    )
    session.add(theirs)
    session.commit()

    for url in ("/cards/default", "/cards/remove"):
        for card_id in (theirs.id, theirs.id + 1000):
            for headers in (None, HTMX):
                assert post(client, url, headers=headers, card=str(card_id)).status_code == 404

    session.expire_all()
    assert session.get(UserPaymentCard, theirs.id).deleted_at is None
    assert subscriptions_of(session, signed_in)[0].user_payment_card_id != theirs.id
    assert "1111" not in client.get(CARDS).get_data(as_text=True)


def test_the_page_sends_the_same_statements_for_one_card_and_many(
    app, client, session, subscribed, signed_in
):
    with counted_statements(app) as one:
        client.get(CARDS)
        client.get(CARDS, headers=HTMX)
    for n in range(12):
        session.add(
            UserPaymentCard(
                user_id=signed_in.id,
                gateway="sandbox",
                token=f"sbx_ok_many{n}",
                brand="visa",
                last4=f"{n:04d}",
                exp_month=1 + n % 12,
                exp_year=2030,
            )
        )
    session.commit()
    with counted_statements(app) as many:
        html = client.get(CARDS).get_data(as_text=True)
        client.get(CARDS, headers=HTMX)

    assert html.count('<tr id="saved-card-') == 13
    assert len(many) == len(one), many


def test_the_cards_pages_are_for_their_own_audience(client, session, make, signed_in, auth):
    assert client.get(CARDS).status_code == 200
    assert client.get(COMPANY_CARDS).status_code == 403


# --- A company ---------------------------------------------------------------------------


@pytest.fixture
def company_plan(make, session):
    price = make.price(make.plan(audience="companies"), amount="1000.00", kdv_included=False)
    session.commit()
    return price


def company_with_card(make, session, price, customer=None):
    customer = customer or make.customer()
    card = CustomerCreditCard(
        customer_id=customer.id,
        gateway="sandbox",
        token=f"sbx_ok_company{customer.id}",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
        holder_name="Ata Eğitim A.Ş.",
    )
    session.add(card)
    session.flush()
    make.subscription(price, customer=customer, customer_credit_card_id=card.id)
    session.commit()
    return customer, card


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE])
def test_staff_who_manage_billing_add_and_choose_the_companys_card(
    client, session, english, make, auth, company_plan, role
):
    customer, first = company_with_card(make, session, company_plan)
    staff_signed_in(make, session, auth, role, customer=customer)

    added = add_card(client, holder_name="Ata Eğitim A.Ş.")
    new = cards_of(session, CustomerCreditCard, customer_id=customer.id)[-1]
    chosen = post(client, "/cards/default", card=str(new.id))
    removed = post(client, "/cards/remove", card=str(first.id))

    assert added.status_code == 303 and added.headers["Location"] == COMPANY_CARDS
    assert (new.last4, new.holder_name) == ("4444", "Ata Eğitim A.Ş.")
    assert chosen.status_code == removed.status_code == 303
    (subscription,) = subscriptions_of(session, customer=customer)
    assert subscription.customer_credit_card_id == new.id
    assert cards_of(session, CustomerCreditCard, customer_id=customer.id)[0].deleted_at
    assert {e.data["customer_id"] for e in events(session, "card_removed")} == {customer.id}
    assert session.scalars(select(UserPaymentCard)).all() == []
    html = client.get(COMPANY_CARDS).get_data(as_text=True)
    assert_valid_html(html, COMPANY_CARDS)


def test_staff_without_the_billing_permissions_get_no_cards(
    client, session, make, auth, company_plan
):
    customer, card = company_with_card(make, session, company_plan)
    staff_signed_in(make, session, auth, Role.AGENT, customer=customer)

    assert client.get(COMPANY_CARDS).status_code == 403
    for url in ("/cards/default", "/cards/remove"):
        assert post(client, url, card=str(card.id)).status_code == 403
    assert post(client, "/cards").status_code == 403
    assert client.get("/cards/return?answer=x").status_code == 403
    assert cards_of(session, CustomerCreditCard, customer_id=customer.id)[0].deleted_at is None


def test_a_reader_who_may_see_billing_but_not_manage_it_sees_the_list_and_whom_to_ask(
    client, session, english, make, auth, company_plan, monkeypatch
):
    from portal.access import permissions
    from portal.access.permissions import Permission

    customer, card = company_with_card(make, session, company_plan)
    make.customer_user(customer=customer, role=Role.FINANCE).user.name = "Deniz Kaya"
    staff_signed_in(make, session, auth, Role.AGENT, customer=customer)
    # No role of the table sees billing without managing it; such a role may come.
    readers = {**permissions.ROLE_PERMISSIONS, Role.AGENT: frozenset({Permission.SEE_BILLING})}
    monkeypatch.setattr(permissions, "ROLE_PERMISSIONS", readers)

    html = client.get(COMPANY_CARDS).get_data(as_text=True)

    assert "Visa •••• ending in 4242" in text(html)
    assert "Deniz Kaya" in text(html)
    assert (
        "/cards/remove" not in html
        and "/cards/default" not in html
        and 'action="/cards"' not in html
    )
    assert post(client, "/cards/remove", card=str(card.id)).status_code == 403


def test_another_companys_card_is_a_404_and_a_deactivated_member_is_refused(
    client, session, make, auth, company_plan
):
    customer, card = company_with_card(make, session, company_plan)
    other, theirs = company_with_card(make, session, company_plan)
    member = staff_signed_in(make, session, auth, Role.ADMIN, customer=customer)

    for url in ("/cards/default", "/cards/remove"):
        assert post(client, url, card=str(theirs.id)).status_code == 404
    with force_locale("en"):
        assert "4242" in client.get(COMPANY_CARDS).get_data(as_text=True)

    member.is_active = False
    session.commit()
    assert client.get(COMPANY_CARDS).status_code == 403
    assert post(client, "/cards/remove", card=str(card.id)).status_code == 403
    session.expire_all()
    assert session.get(CustomerCreditCard, theirs.id).deleted_at is None
    assert session.get(CustomerCreditCard, card.id).deleted_at is None
    assert count(session, UserLog, UserLog.event.like("card_%")) == 0


def test_a_card_whose_charges_fail_can_be_added_and_chosen(
    client, session, english, subscribed, signed_in
):
    add_card(client, number=POOR_CARD)

    new = cards_of(session, user_id=signed_in.id)[-1]
    assert post(client, "/cards/default", card=str(new.id)).status_code == 303
    assert subscriptions_of(session, signed_in)[0].user_payment_card_id == new.id


@pytest.mark.skipif(
    dbutil.dialect() == "sqlite", reason="SQLite has one writer: requests cannot overlap"
)
def test_removing_a_card_and_choosing_it_at_once_never_leave_renewals_a_removed_card(
    app, client, session, subscribed, signed_in
):
    add_card(client)
    spare = cards_of(session, user_id=signed_in.id)[-1].id
    browsers = [app.test_client() for _ in range(6)]
    for browser in browsers:
        AuthActions(browser).login(signed_in.email)
    barrier = threading.Barrier(len(browsers))
    answers = []

    def act(browser, url):
        barrier.wait()
        answers.append(post(browser, url, card=str(spare)).status_code)

    threads = [
        threading.Thread(target=act, args=(b, "/cards/remove" if n % 2 else "/cards/default"))
        for n, b in enumerate(browsers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(answers) <= {303, 404}, answers
    (subscription,) = subscriptions_of(session, signed_in)
    removed = cards_of(session, user_id=signed_in.id)[-1].deleted_at is not None
    # Either the card was removed before it was chosen (renewals keep the old card), or it was
    # chosen first and every removal was refused.
    assert removed != (subscription.user_payment_card_id == spare)
