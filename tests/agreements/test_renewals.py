"""Renewals (portal.agreements.renewals): the documented amounts of an inflation renewal, the
next term's dates (year ends, month ends, 29 February), the refusals, the next term signed
making the old one renewed, expiry, and the renewal discounts and their follow-up."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.access.permissions import Role
from portal.agreements import agreements, renewals
from portal.agreements.renewals import RenewalError
from portal.models import CustomerAgreement
from portal.models.customers import AgreementStatus, CustomerAgreementsRenewLog
from tests.agreements.conftest import PROVIDER, WITNESS

TODAY = date(2027, 11, 15)


def product(name, quantity, price, period="yearly"):
    return {"name": name, "quantity": quantity, "unit_price": price, "period": period}


@pytest.fixture
def operator(make):
    return make.user("operator", name="Satış Uzmanı")


@pytest.fixture
def signed(make, session, company, now):
    """A signed 2027 agreement with the inflation clause, two products: 1.234,56 ₺ × 2 and
    0,10 ₺ × 7 (total 2.469,82 ₺)."""
    make.agreement_text(started_at=now - timedelta(days=1))
    return make.agreement(
        company,
        status="signed",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
        products=[product("Listeleme", 2, "1234.56"), product("Rozet", 7, "0.10", "monthly")],
        total_amount=Decimal("2469.82"),
        is_inflation_auto_updated=True,
        required_roles=(Role.ADMIN, Role.FINANCE),
    )


# --- The rounding rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "rate", "discount", "expected"),
    [
        ("1234.56", "47.09", None, "1815.91"),  # 1815.914304
        ("0.10", "5", None, "0.11"),  # 0.105: half up, not to even (0.10)
        ("0.10", "15", None, "0.12"),  # 0.115 → 0.12
        ("100.00", "0", None, "100.00"),
        ("999.99", "33.3333", None, "1333.32"),  # 1333.316666… → 1333.32
        ("1500.00", "47.09", "10", "1985.72"),  # 1500 × 1.4709 × 0.9 = 1985.715 → 1985.72
        ("2.50", None, None, "2.50"),
    ],
)
def test_a_unit_price_rises_by_the_rate_rounded_half_up_once(price, rate, discount, expected):
    got = renewals.renewed_price(
        Decimal(price),
        Decimal(rate) if rate else None,
        Decimal(discount) if discount else None,
    )
    assert got == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "rate"),
    [("47,09", "47.09"), ("47.09", "47.09"), ("%12,5", "12.5"), ("0", "0"), (" 3,1234 ", "3.1234")],
)
def test_a_rate_is_read_with_either_decimal_mark(typed, rate):
    assert renewals.parse_rate(typed) == Decimal(rate)


@pytest.mark.parametrize(
    "typed", ["-1", "1.000,5", "abc", "12,34567", "1000", "1e3", "NaN", "1,2,3", "٤٧"]
)
def test_a_rate_that_is_not_a_percentage_is_refused(typed):
    with pytest.raises(RenewalError) as refused:
        renewals.parse_rate(typed)
    assert refused.value.code == "rate_invalid"


def test_an_empty_rate_is_none():
    assert renewals.parse_rate("  ") is None


# --- Dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "next_starts", "next_ends"),
    [
        (date(2027, 1, 1), date(2027, 12, 31), date(2028, 1, 1), date(2028, 12, 31)),
        (date(2027, 7, 1), date(2027, 12, 31), date(2028, 1, 1), date(2028, 6, 30)),
        (date(2027, 3, 1), date(2028, 2, 29), date(2028, 3, 1), date(2029, 2, 28)),
        (date(2028, 2, 29), date(2029, 2, 28), date(2029, 3, 1), date(2030, 2, 28)),
        (date(2027, 1, 1), date(2027, 1, 31), date(2027, 2, 1), date(2027, 2, 28)),
        (date(2028, 1, 1), date(2028, 1, 31), date(2028, 2, 1), date(2028, 2, 29)),
        (date(2027, 1, 15), date(2027, 2, 14), date(2027, 2, 15), date(2027, 3, 14)),
        (date(2027, 1, 1), date(2027, 1, 10), date(2027, 1, 11), date(2027, 1, 20)),
    ],
)
def test_the_next_term_starts_the_day_after_and_is_as_long(
    starts_on, ends_on, next_starts, next_ends
):
    assert renewals.next_term(starts_on, ends_on) == (next_starts, next_ends)


# --- Renewing ------------------------------------------------------------------------------


def test_an_inflation_renewal_computes_the_documented_amounts(session, signed, operator, now):
    log = renewals.renew(
        session, signed, operator, rate=Decimal("47.09"), now=now, today=TODAY, note="TÜFE"
    )
    session.commit()

    following = session.get(CustomerAgreement, log.renewed_agreement_id)
    assert following.status == AgreementStatus.DRAFT
    assert following.customer_id == signed.customer_id
    assert following.products == [
        product("Listeleme", 2, "1815.91"),
        product("Rozet", 7, "0.15", "monthly"),  # 0.10 × 1.4709 = 0.14709 → 0.15
    ]
    assert following.total_amount == Decimal("3632.87")  # 2 × 1815.91 + 7 × 0.15
    assert (following.starts_on, following.ends_on) == (date(2028, 1, 1), date(2028, 12, 31))
    assert following.required_roles == [str(Role.ADMIN), str(Role.FINANCE)]
    row = session.scalars(select(CustomerAgreementsRenewLog)).one()
    assert row.customer_agreement_id == signed.id
    assert row.previous_ends_on == date(2027, 12, 31)
    assert row.new_ends_on == date(2028, 12, 31)
    assert row.previous_amount == Decimal("2469.82")
    assert row.new_amount == Decimal("3632.87")
    assert row.inflation_rate == Decimal("47.09")
    assert row.renewed_by_user_id == operator.id
    assert row.note == "TÜFE"
    # Only signing the next term ends the old one.
    session.refresh(signed)
    assert signed.status == AgreementStatus.SIGNED


def test_a_zero_rate_keeps_the_prices(session, signed, operator, now):
    log = renewals.renew(session, signed, operator, rate=Decimal("0"), now=now, today=TODAY)
    assert log.new_amount == log.previous_amount == Decimal("2469.82")


def test_the_inflation_clause_needs_a_rate_and_without_it_prices_stay(
    session, make, company, signed, operator, now
):
    with pytest.raises(RenewalError) as refused:
        renewals.renew(session, signed, operator, rate=None, now=now, today=TODAY)
    assert refused.value.code == "rate_required"

    plain = make.agreement(company, status="signed", ends_on=date(2027, 12, 31))
    log = renewals.renew(session, plain, operator, rate=None, now=now, today=TODAY)
    assert log.inflation_rate is None
    assert log.new_amount == plain.total_amount == Decimal("3000.00")


def test_a_second_renewal_is_refused_until_the_next_term_is_voided(session, signed, operator, now):
    log = renewals.renew(session, signed, operator, rate=Decimal("10"), now=now, today=TODAY)
    session.commit()
    with pytest.raises(RenewalError) as refused:
        renewals.renew(session, signed, operator, rate=Decimal("10"), now=now, today=TODAY)
    assert refused.value.code == "already_renewed"
    session.rollback()
    assert not renewals.is_due(session, signed, TODAY)

    following = session.get(CustomerAgreement, log.renewed_agreement_id)
    agreements.void(session, following, operator, "Yanlış oran", now=now)
    session.commit()
    assert renewals.is_due(session, signed, TODAY)
    renewals.renew(session, signed, operator, rate=Decimal("12"), now=now, today=TODAY)


@pytest.mark.parametrize(
    "status", ["draft", "awaiting_signature", "declined", "voided", "expired", "renewed"]
)
def test_only_a_signed_agreement_is_renewed(session, make, company, operator, now, status):
    values = {"ended_reason": "x", "ended_at": now} if status in ("declined", "voided") else {}
    agreement = make.agreement(company, status=status, **values)
    with pytest.raises(RenewalError) as refused:
        renewals.renew(session, agreement, operator, rate=None, now=now, today=TODAY)
    assert refused.value.code == "not_signed"
    assert session.scalars(select(CustomerAgreementsRenewLog)).all() == []


def test_a_non_operator_cannot_renew(session, make, signed, now):
    with pytest.raises(RenewalError) as refused:
        renewals.renew(session, signed, make.user(), rate=Decimal(1), now=now, today=TODAY)
    assert refused.value.code == "not_operator"


def test_a_price_past_the_limit_is_refused(session, make, company, operator, now):
    agreement = make.agreement(
        company,
        status="signed",
        products=[product("Büyük", 1, "9000000.00")],
        total_amount=Decimal("9000000.00"),
    )
    with pytest.raises(RenewalError) as refused:
        renewals.renew(session, agreement, operator, rate=Decimal(20), now=now, today=TODAY)
    assert refused.value.code == "price_too_high"


def test_signing_the_next_term_makes_the_old_one_renewed(session, signed, signers, operator, now):
    log = renewals.renew(session, signed, operator, rate=Decimal("5"), now=now, today=TODAY)
    following = session.get(CustomerAgreement, log.renewed_agreement_id)
    agreements.send_for_signature(session, following, PROVIDER, now=now)
    agreements.sign(
        session,
        following,
        signers[Role.ADMIN],
        WITNESS,
        seen_sha256=following.document_sha256,
        now=now,
    )
    session.commit()
    session.refresh(signed)
    assert signed.status == AgreementStatus.SIGNED  # finance has not signed yet

    agreements.sign(
        session,
        following,
        signers[Role.FINANCE],
        WITNESS,
        seen_sha256=following.document_sha256,
        now=now,
    )
    session.commit()
    session.refresh(signed)
    assert following.status == AgreementStatus.SIGNED
    assert signed.status == AgreementStatus.RENEWED


# --- Near the end --------------------------------------------------------------------------


def test_the_due_list_holds_signed_agreements_ending_within_sixty_days(
    session, make, company, signed, now
):
    make.agreement(company, status="signed", ends_on=TODAY + timedelta(days=61))  # too far
    edge = make.agreement(company, status="signed", ends_on=TODAY + timedelta(days=60))
    make.agreement(company, status="awaiting_signature", ends_on=TODAY)
    late = make.agreement(company, status="signed", ends_on=TODAY - timedelta(days=3))
    session.commit()

    page = renewals.due_page(session, TODAY, 1)

    assert [row[0].id for row in page.items] == [late.id, signed.id, edge.id]
    assert page.total == 3
    assert page.items[0][1] == company.name


def test_the_company_is_told_of_its_agreements_near_their_end(
    session, make, company, signed, operator, now
):
    far = make.agreement(company, status="signed", ends_on=date(2029, 1, 1))
    found = renewals.endings(session, [signed, far], TODAY)
    assert found == {signed.id: renewals.Ending(date(2027, 12, 31), None)}

    log = renewals.renew(session, signed, operator, rate=Decimal(3), now=now, today=TODAY)
    following = session.get(CustomerAgreement, log.renewed_agreement_id)
    assert renewals.endings(session, [signed], TODAY)[signed.id].next_term is None  # a draft
    agreements.send_for_signature(session, following, PROVIDER, now=now)
    assert renewals.endings(session, [signed], TODAY)[signed.id].next_term == following


# --- Expiry --------------------------------------------------------------------------------


def test_expiry_marks_signed_agreements_past_their_end(session, make, company, now):
    ended = make.agreement(company, status="signed", ends_on=TODAY - timedelta(days=1))
    today_ends = make.agreement(company, status="signed", ends_on=TODAY)
    old = {"starts_on": date(2019, 1, 1), "ends_on": date(2019, 12, 31)}
    awaiting = make.agreement(company, status="awaiting_signature", **old)
    renewed = make.agreement(company, status="renewed", **old)
    session.commit()

    assert renewals.expire(session, TODAY, now) == 1
    session.commit()

    states = dict(
        session.execute(
            select(CustomerAgreement.id, CustomerAgreement.status).where(
                CustomerAgreement.id.in_([ended.id, today_ends.id, awaiting.id, renewed.id])
            )
        ).all()
    )
    assert states == {
        ended.id: "expired",
        today_ends.id: "signed",
        awaiting.id: "awaiting_signature",
        renewed.id: "renewed",
    }
    assert renewals.expire(session, TODAY, now) == 0


def test_the_expire_command_expires_as_of_the_given_date(runner, session, make, company):
    agreement = make.agreement(company, status="signed", ends_on=date(2027, 12, 31))
    session.commit()

    assert (
        "0 agreement" in runner.invoke(args=["agreements", "expire", "--date", "2027-12-31"]).output
    )
    result = runner.invoke(args=["agreements", "expire", "--date", "2028-01-01"])

    assert result.exit_code == 0, result.output
    assert "1 agreement" in result.output
    session.expire_all()
    assert session.get(CustomerAgreement, agreement.id).status == "expired"


# --- Discounts -----------------------------------------------------------------------------


def offer(session, agreement, operator, **changes):
    values = {
        "rate": Decimal("10"),
        "amount": None,
        "assigned_user": operator,
        "due_on": TODAY + timedelta(days=7),
        "valid_until": TODAY + timedelta(days=30),
        "note": "Erken yenileme",
        "today": TODAY,
    }
    values.update(changes)
    return renewals.offer_discount(session, agreement, **values)


def test_an_accepted_rate_discount_lowers_the_next_terms_prices(session, signed, operator, now):
    discount = offer(session, signed, operator)
    assert discount.followed_status == "pending"
    renewals.follow_up(
        session,
        discount,
        status="accepted",
        assigned_user=operator,
        due_on=None,
        note=None,
        today=TODAY,
    )

    log = renewals.renew(session, signed, operator, rate=Decimal("47.09"), now=now, today=TODAY)

    following = session.get(CustomerAgreement, log.renewed_agreement_id)
    # 1234.56 × 1.4709 × 0.9 = 1634.3228736 → 1634.32; 0.10 × 1.4709 × 0.9 = 0.132381 → 0.13
    assert [item["unit_price"] for item in following.products] == ["1634.32", "0.13"]
    assert log.new_amount == Decimal("3269.55")
    assert f"discount #{discount.id}" in log.note


def test_a_pending_or_expired_offer_is_not_applied(session, signed, operator, now):
    offer(session, signed, operator)  # pending
    old = offer(session, signed, operator, valid_until=TODAY)
    renewals.follow_up(
        session,
        old,
        status="accepted",
        assigned_user=operator,
        due_on=None,
        note=None,
        today=TODAY,
    )
    day_after = TODAY + timedelta(days=1)
    log = renewals.renew(session, signed, operator, rate=Decimal(0), now=now, today=day_after)
    assert log.new_amount == Decimal("2469.82")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"rate": None}, "discount_one_of"),
        ({"amount": Decimal("50.00")}, "discount_one_of"),
        ({"rate": Decimal("0")}, "discount_rate_invalid"),
        ({"rate": Decimal("100.01")}, "discount_rate_invalid"),
        ({"rate": None, "amount": Decimal("2469.83")}, "discount_amount_invalid"),
        ({"rate": None, "amount": Decimal("1.001")}, "discount_amount_invalid"),
        ({"due_on": TODAY - timedelta(days=1)}, "due_in_the_past"),
        ({"valid_until": TODAY - timedelta(days=1)}, "valid_until_in_the_past"),
        ({"note": "x" * 2001}, "note_too_long"),
    ],
)
def test_a_bad_offer_is_refused(session, signed, operator, changes, code):
    with pytest.raises(RenewalError) as refused:
        offer(session, signed, operator, **changes)
    assert refused.value.code == code


def test_a_discount_is_assigned_only_to_an_operator(session, make, signed):
    with pytest.raises(RenewalError) as refused:
        offer(session, signed, make.user("parent"))
    assert refused.value.code == "not_sales_person"


def test_an_open_follow_up_needs_a_due_date(session, signed, operator):
    discount = offer(session, signed, operator)
    with pytest.raises(RenewalError) as refused:
        renewals.follow_up(
            session,
            discount,
            status="contacted",
            assigned_user=operator,
            due_on=None,
            note=None,
            today=TODAY,
        )
    assert refused.value.code == "due_required"


def test_the_open_follow_ups_come_by_due_date_overdue_first(
    session, make, company, signed, operator
):
    other = make.user("operator", name="Başka Uzman")
    later = offer(session, signed, operator, due_on=TODAY + timedelta(days=9))
    sooner = offer(session, signed, other, due_on=TODAY)
    closed = offer(session, signed, operator)
    renewals.follow_up(
        session,
        closed,
        status="rejected",
        assigned_user=operator,
        due_on=None,
        note=None,
        today=TODAY,
    )
    # Overdue: its date passed while contacted.
    overdue = offer(session, signed, operator, due_on=TODAY)
    renewals.follow_up(
        session,
        overdue,
        status="contacted",
        assigned_user=operator,
        due_on=TODAY - timedelta(days=2),
        note="Aradım",
        today=TODAY - timedelta(days=5),
    )
    session.commit()

    page = renewals.follow_ups_page(session, 1)

    assert [row[0].id for row in page.items] == [overdue.id, sooner.id, later.id]
    assert page.items[1][3] == "Başka Uzman"
    assert page.items[0][1] == signed.agreement_no
