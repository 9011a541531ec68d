"""The operators' renewal pages: the due list, the renewal of one agreement (preview, then the
next term drafted, audited), a bad rate refused next to its field (422, plain and htmx), the
discount offered, assigned and followed up, the follow-up list; the company told that its
agreement ends; and nobody but an operator reaches the screen."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.access.permissions import Role
from portal.agreements import agreements
from portal.clock import istanbul_today
from portal.models import CustomerAgreement, UserLog
from portal.models.customers import (
    AgreementStatus,
    CustomerAgreementsRenewDiscount,
    CustomerAgreementsRenewLog,
)
from tests.agreements.conftest import PROVIDER, assert_operators_only
from tests.helpers import HTMX, post
from tests.test_html import assert_valid_html

RENEWALS = "/operator/agreements/renewals"
FOLLOW_UPS = "/operator/agreements/renewals/follow-ups"


@pytest.fixture
def operator(make, session, auth):
    user = make.user("operator", name="Operatör Ayşe")
    session.commit()
    auth.login(user.email)
    return user


@pytest.fixture
def ending(make, session, company, now):
    """A signed agreement with the inflation clause ending in 20 days: 1.234,56 ₺ × 2."""
    make.agreement_text(started_at=now - timedelta(days=1))
    ends_on = istanbul_today() + timedelta(days=20)
    agreement = make.agreement(
        company,
        status="signed",
        starts_on=ends_on - timedelta(days=364),
        ends_on=ends_on,
        products=[
            {"name": "Listeleme", "quantity": 2, "unit_price": "1234.56", "period": "yearly"}
        ],
        total_amount=Decimal("2469.12"),
        is_inflation_auto_updated=True,
        required_roles=(Role.ADMIN,),
    )
    session.commit()
    return agreement


def renew_url(agreement):
    return f"/operator/agreements/{agreement.id}/renew"


def page_url(agreement):
    return f"/operator/agreements/{agreement.id}/renewal"


def error_of(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def events(session, name):
    session.commit()
    return list(session.scalars(select(UserLog).where(UserLog.event == name)))


def logs(session):
    session.commit()
    return list(session.scalars(select(CustomerAgreementsRenewLog)))


def test_the_due_list_shows_the_agreement_and_links_its_renewal(client, operator, ending):
    response = client.get(RENEWALS)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-agreement-id="{ending.id}"' in html
    assert page_url(ending) in html
    assert_valid_html(html, "renewals")
    assert 'id="renewal-list"' in client.get(RENEWALS, headers=HTMX).get_data(as_text=True)
    listing = client.get("/operator/agreements").get_data(as_text=True)
    assert RENEWALS in listing


def test_the_renewal_page_says_when_an_agreement_is_not_near_its_end(
    client, session, make, company, operator, ending
):
    far = make.agreement(company, status="signed", ends_on=date(2099, 12, 31))
    session.commit()
    note = "bitişi henüz yakın değil"

    assert note not in client.get(page_url(ending)).get_data(as_text=True)
    far_page = client.get(page_url(far)).get_data(as_text=True)
    assert note in far_page and 'id="renew-form"' in far_page


def test_the_rate_hint_follows_each_agreements_inflation_clause(
    client, session, make, company, operator, ending
):
    # The blank renew form's fields are kept rendered (portal/caching.py), keyed by the clause.
    plain = make.agreement(
        company, status="signed", starts_on=ending.starts_on, ends_on=ending.ends_on
    )
    plain.is_inflation_auto_updated = False
    session.commit()
    optional = "İsteğe bağlı: boş bırakılırsa fiyatlar aynı kalır."

    assert ending.is_inflation_auto_updated
    assert optional not in client.get(page_url(ending)).get_data(as_text=True)
    assert optional in client.get(page_url(plain)).get_data(as_text=True)
    assert optional not in client.get(page_url(ending)).get_data(as_text=True)


def test_an_operator_previews_then_renews_with_inflation(client, session, operator, ending):
    page = client.get(page_url(ending))
    assert page.status_code == 200
    assert_valid_html(page.get_data(as_text=True), "renewal")

    preview = post(client, renew_url(ending), rate="47,09", action="preview")

    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "1.815,91" in html  # 1234.56 × 1.4709 = 1815.914304
    assert "3.631,82" in html
    assert_valid_html(html, "renewal preview")
    assert logs(session) == []

    response = post(client, renew_url(ending), rate="47,09", action="renew", note="TÜFE")

    assert response.status_code == 303
    [log] = logs(session)
    assert log.inflation_rate == Decimal("47.09")
    assert log.new_amount == Decimal("3631.82")
    assert log.renewed_by_user_id == operator.id
    assert response.headers["Location"].endswith(f"/operator/agreements/{log.renewed_agreement_id}")
    following = session.get(CustomerAgreement, log.renewed_agreement_id)
    assert following.status == AgreementStatus.DRAFT
    assert following.starts_on == ending.ends_on + timedelta(days=1)
    [event] = events(session, "agreement_renewed")
    assert event.data["renewed_agreement_id"] == following.id
    assert event.user_id == operator.id

    again = post(client, renew_url(ending), rate="10", action="renew")
    assert again.status_code == 422
    assert 'id="renewal-refusal"' in again.get_data(as_text=True) or "next-term-link" in (
        again.get_data(as_text=True)
    )
    assert len(logs(session)) == 1


@pytest.mark.parametrize("headers", [None, HTMX], ids=["plain", "htmx"])
@pytest.mark.parametrize("rate", ["abc", "-3", "1000", "12,34567", ""])
def test_a_bad_or_missing_rate_is_refused_next_to_the_field(
    client, session, operator, ending, rate, headers
):
    response = post(client, renew_url(ending), headers=headers, rate=rate, action="renew")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_of(html, "rate")
    assert logs(session) == []
    if headers:
        assert html.lstrip().startswith('<div id="renewal-actions"')


def test_renewing_needs_the_csrf_token(client, session, operator, ending):
    response = client.post(renew_url(ending), data={"rate": "10", "action": "renew"})

    assert response.status_code in (400, 403)
    assert logs(session) == []


def test_an_unknown_agreement_is_404(client, operator):
    assert client.get("/operator/agreements/999999/renewal").status_code == 404
    assert client.get("/operator/agreements/abc/renewal").status_code == 404
    assert post(client, "/operator/agreements/999999/renew", rate="1").status_code == 404
    assert post(client, "/operator/agreements/discounts/999999", note="x").status_code == 404


def test_a_discount_is_offered_followed_up_and_listed(client, session, operator, ending):
    due = istanbul_today() + timedelta(days=3)
    response = post(
        client,
        f"/operator/agreements/{ending.id}/discounts",
        **{
            "offer-discount_rate": "10",
            "offer-discount_amount": "",
            "offer-assigned_user_id": str(operator.id),
            "offer-due_on": due.isoformat(),
            "offer-valid_until": "",
            "offer-note": "Erken yenileme",
        },
    )

    assert response.status_code == 303
    session.commit()
    discount = session.scalars(select(CustomerAgreementsRenewDiscount)).one()
    assert (discount.discount_rate, discount.followed_status) == (Decimal("10.00"), "pending")
    assert (discount.assigned_user_id, discount.due_on) == (operator.id, due)
    assert events(session, "renewal_discount_offered")

    assert_valid_html(client.get(page_url(ending)).get_data(as_text=True), "with a discount")
    listing = client.get(FOLLOW_UPS).get_data(as_text=True)
    assert f'data-discount-id="{discount.id}"' in listing
    assert_valid_html(listing, "follow-ups")

    prefix = f"discount-{discount.id}-"
    refused = post(
        client,
        f"/operator/agreements/discounts/{discount.id}",
        **{
            prefix + "followed_status": "contacted",
            prefix + "assigned_user_id": str(operator.id),
            prefix + "due_on": "",
        },
    )
    assert refused.status_code == 422
    assert error_of(refused.get_data(as_text=True), prefix + "due_on")

    accepted = post(
        client,
        f"/operator/agreements/discounts/{discount.id}",
        **{
            prefix + "followed_status": "accepted",
            prefix + "assigned_user_id": str(operator.id),
            prefix + "note": "Kabul etti",
        },
    )
    assert accepted.status_code == 303
    session.refresh(discount)
    assert discount.followed_status == "accepted"
    [event] = events(session, "renewal_discount_followed")
    assert event.data["followed_status"] == "accepted"
    assert f'data-discount-id="{discount.id}"' not in client.get(FOLLOW_UPS).get_data(as_text=True)

    # The accepted 10 % applies: 1234.56 × 1.4709 × 0.9 = 1634.32
    preview = post(client, renew_url(ending), rate="47,09", action="preview")
    assert "1.634,32" in preview.get_data(as_text=True)


def test_the_offer_form_proposes_the_operator_asking_and_every_sales_person(
    client, session, make, auth, operator, ending
):
    # A blank offer form's fields are kept rendered (portal/caching.py): who asks, and the
    # operators offered, must still be the ones of the request.
    def selected(html: str) -> str:
        select = re.search(r'<select[^>]*name="offer-assigned_user_id".*?</select>', html, re.S)
        return re.search(r'<option selected value="(\d+)"', select.group(0)).group(1)

    other = make.user("operator", name="Operatör Zeynep")
    session.commit()
    first = client.get(page_url(ending)).get_data(as_text=True)
    assert selected(first) == str(operator.id)
    auth.logout()
    auth.login(other.email)

    html = client.get(page_url(ending)).get_data(as_text=True)

    assert selected(html) == str(other.id)
    assert "Operatör Ayşe" in html and "Operatör Zeynep" in html


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [
        ({"offer-discount_rate": "", "offer-discount_amount": ""}, "offer-discount_amount"),
        ({"offer-discount_rate": "150"}, "offer-discount_rate"),
        ({"offer-due_on": ""}, "offer-due_on"),
        ({"offer-due_on": "2020-01-01"}, "offer-due_on"),
        ({"offer-assigned_user_id": "abc"}, "offer-assigned_user_id"),
    ],
)
def test_a_bad_offer_is_refused_next_to_its_field(
    client, session, operator, ending, fields, field_id
):
    data = {
        "offer-discount_rate": "10",
        "offer-assigned_user_id": str(operator.id),
        "offer-due_on": (istanbul_today() + timedelta(days=3)).isoformat(),
        **fields,
    }
    response = post(client, f"/operator/agreements/{ending.id}/discounts", headers=HTMX, **data)

    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), field_id)
    session.commit()
    assert session.scalars(select(CustomerAgreementsRenewDiscount)).all() == []


# --- The company's side ---------------------------------------------------------------------


def test_the_company_sees_that_its_agreement_ends_and_then_its_renewal(
    client, session, make, auth, signers, ending, now
):
    auth.login(signers[Role.ADMIN].user.email)
    day = f"{ending.ends_on.day} "  # the day of the month, the month named in Turkish

    listing = client.get("/customer/agreements").get_data(as_text=True)
    note = re.search(r'data-renewal="due">(.*?)</span>', listing, re.S)
    assert note and ending.ends_on.strftime("%Y") in note.group(1) and day in note.group(1)
    page = client.get(f"/customer/agreements/{ending.id}").get_data(as_text=True)
    assert 'id="agreement-renewal" data-renewal="due"' in page

    operator = make.user("operator")
    from portal.agreements import renewals

    log = renewals.renew(
        session, ending, operator, rate=Decimal(5), now=now, today=istanbul_today()
    )
    following = session.get(CustomerAgreement, log.renewed_agreement_id)
    agreements.send_for_signature(session, following, PROVIDER, now=now)
    session.commit()

    page = client.get(f"/customer/agreements/{ending.id}").get_data(as_text=True)
    assert 'data-renewal="sent"' in page
    assert f"/customer/agreements/{following.id}" in page


def test_an_agreement_far_from_its_end_says_nothing_of_renewal(
    client, session, make, auth, company, signers
):
    far = make.agreement(company, status="signed", ends_on=date(2099, 12, 31))
    session.commit()
    auth.login(signers[Role.ADMIN].user.email)

    assert "data-renewal" not in client.get(f"/customer/agreements/{far.id}").get_data(as_text=True)


# --- Who may reach it -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [RENEWALS, FOLLOW_UPS, "/operator/agreements/1/renewal"], ids=["due", "follow", "one"]
)
def test_parents_and_staff_are_refused_and_visitors_sent_to_sign_in(
    client, session, make, auth, url
):
    assert_operators_only(client, session, make, auth, url)


def test_a_staff_member_cannot_renew_or_offer(client, session, auth, signers, ending):
    auth.login(signers[Role.ADMIN].user.email)

    assert post(client, renew_url(ending), rate="10", action="renew").status_code == 403
    assert post(client, f"/operator/agreements/{ending.id}/discounts").status_code == 403
    assert logs(session) == []
