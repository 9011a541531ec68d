"""Renewals of company agreements: which are near their end, the next term with its prices
(raised by inflation, less an accepted discount), the renew log, expiry, and the renewal
discounts a sales person follows up.

Plain module: the caller passes the session, `now` (aware UTC) or `today` (the Istanbul
business date, portal.clock.istanbul_today) and commits.

    signed ──renew (operator)──► signed, with a renew log row ──next term signed──► renewed
      │                                 │ next term voided or declined: may be renewed again
      └──ends_on before today (flask agreements expire)──► expired ──next term signed──► renewed

**Near its end**: a signed agreement whose `ends_on` is at most RENEWAL_WINDOW_DAYS (60) days
after today in Istanbul (also one already past its end that no expiry run has marked yet)
and that has no live renewal: a renew log row whose next term is neither voided nor declined
(a log row from before migration 0016, with no next term, counts as a renewal done).

**Renewing** (renew()) makes the next term a new *draft* of the same company from the
company_service text valid now, with the same products, quantities, periods and required
roles; it starts the day after `ends_on` and is as long as the term renewed (next_term()). The
operator reviews and sends it like any draft. The old agreement stays `signed` until the next
term is signed: only then has the company agreed to continue, and only then does it become
`renewed` (term_signed(), called by agreements.sign()). Only a signed agreement is renewed;
an expired, voided or unsigned one is refused (an expired one needs a new agreement, whose
term the operator chooses).

**Prices**: when the agreement carries `is_inflation_auto_updated` (the clause the company
signed; copied from the company when drafted) the operator must enter the inflation rate
(0 allowed); otherwise the rate is optional and empty keeps the prices. The rule, per product:

    new unit price = unit price × (1 + rate / 100) × (1 − discount / 100)

rounded once, half up, to whole kuruş (ROUND_HALF_UP at 0.01); the quantity is unchanged and
the new total is the sum of quantity × new unit price, exact (no rounding of the total).
Example: 1.234,56 ₺ at 47,09 % → 1.234,56 × 1,4709 = 1.815,914304 → 1.815,91 ₺; 0,10 ₺ at
5 % → 0,105 → 0,11 ₺ (half up, not to even). `discount` is the rate of the renewal discount
the company accepted (an accepted rate discount still valid today); an accepted *amount*
discount is recorded and shown but not applied to unit prices (a contract line cannot be
negative), so the operator settles it with the company.

**Renewal discounts**: offered on the agreement being renewed, either a rate (0–100 %) or an
amount, with an optional end of the offer (`valid_until`) and the follow-up date (`due_on`),
assigned to a sales person (an operator user); followed up through `followed_status`
pending → contacted → accepted / rejected. The open follow-ups (pending, contacted) are listed
by due date, the overdue first.

Refusals are RenewalError (an AgreementError) with a code, for the views' messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from portal.agreements import agreements
from portal.agreements.agreements import AgreementError, Product
from portal.models import Customer, CustomerAgreement, User
from portal.models.customers import (
    FOLLOWED_STATUSES,
    AgreementStatus,
    CustomerAgreementsRenewDiscount,
    CustomerAgreementsRenewLog,
)
from portal.models.users import USER_TYPE_OPERATOR, UserType
from portal.paging import Page, paginate

RENEWAL_WINDOW_DAYS = 60
KURUS = Decimal("0.01")
HUNDRED = Decimal(100)
# The renew log keeps the rate as Numeric(7, 4): up to 999,9999 %, four decimals.
MAX_RATE = Decimal("999.9999")
RATE_EXPONENT = -4
_RATE = re.compile(r"[0-9]{1,3}(?:[.,][0-9]+)?")
NOTE_LENGTH = 2000
PENDING, CONTACTED, ACCEPTED, REJECTED = FOLLOWED_STATUSES
OPEN_FOLLOW_UPS = (PENDING, CONTACTED)
# A next term in these states did not continue the agreement: it may be renewed again.
DEAD_TERMS = (AgreementStatus.VOIDED, AgreementStatus.DECLINED)


class RenewalError(AgreementError):
    """A renewal step that is not allowed; `code` names why."""


# --- Dates ---------------------------------------------------------------------------------


def window_end(today: date) -> date:
    """The last `ends_on` that is "near its end" on `today`."""
    return today + timedelta(days=RENEWAL_WINDOW_DAYS)


def near_end(agreement: CustomerAgreement, today: date) -> bool:
    """The agreement ends within the renewal window (what _due asks of the table)."""
    return agreement.ends_on <= window_end(today)


def next_term(starts_on: date, ends_on: date) -> tuple[date, date]:
    """The next term: from the day after `ends_on`, as long as [starts_on, ends_on].

    The length is counted in months and days (relativedelta), so a year stays a year and a
    month a month whatever the months' lengths: 01.01–31.12 → 01.01–31.12, 01.07–31.12 →
    01.01–30.06, 01.03.2027–29.02.2028 → 01.03.2028–28.02.2029. Counted from the start to the
    day after the end; when that leaves odd days but counting from the day before the start
    to the end gives whole months (a term that starts on 29 February: 29.02.2028–28.02.2029),
    the latter is used, anchored at the end (→ 01.03.2029–28.02.2030), so a year never
    becomes a year and a day.
    """
    starts = ends_on + timedelta(days=1)
    length = relativedelta(starts, starts_on)
    if length.days:
        by_end = relativedelta(ends_on, starts_on - timedelta(days=1))
        if not by_end.days:
            return starts, ends_on + by_end
    return starts, starts + length - timedelta(days=1)


# --- Prices --------------------------------------------------------------------------------


def parse_rate(text: str | None) -> Decimal | None:
    """A percentage as typed, "47,09" or "47.09" (a rate has no thousands, so either mark is
    the decimal one); None when empty.

    :raise RenewalError: "rate_invalid" (not a number, negative, over MAX_RATE or more than
        four decimals).
    """
    value = (text or "").strip().removeprefix("%").removesuffix("%").strip()
    if not value:
        return None
    # ASCII digits only: str.isdecimal() and Decimal() also take Arabic-Indic digits.
    if not _RATE.fullmatch(value):
        raise RenewalError("rate_invalid")
    try:
        rate = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise RenewalError("rate_invalid") from None
    return check_rate(rate)


def check_rate(rate: Decimal) -> Decimal:
    """:raise RenewalError: "rate_invalid" unless 0 ≤ rate ≤ MAX_RATE in four decimals."""
    if (
        not isinstance(rate, Decimal)
        or not rate.is_finite()
        or rate < 0
        or rate > MAX_RATE
        or rate.as_tuple().exponent < RATE_EXPONENT
    ):
        raise RenewalError("rate_invalid")
    return rate


def renewed_price(
    unit_price: Decimal, rate: Decimal | None, discount_rate: Decimal | None = None
) -> Decimal:
    """unit price × (1 + rate/100) × (1 − discount/100), rounded once, half up, to kuruş."""
    price = unit_price * (HUNDRED + (rate or 0)) / HUNDRED
    price = price * (HUNDRED - (discount_rate or 0)) / HUNDRED
    return price.quantize(KURUS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    """A product now and in the next term."""

    before: Product
    after: Product


@dataclass(frozen=True)
class Quote:
    """The next term's prices: each line before and after, the totals, what was applied."""

    lines: list[Line]
    rate: Decimal | None
    discount: CustomerAgreementsRenewDiscount | None

    @property
    def total_before(self) -> Decimal:
        return agreements.total_of(line.before for line in self.lines)

    @property
    def total_after(self) -> Decimal:
        return agreements.total_of(line.after for line in self.lines)

    @property
    def discount_rate(self) -> Decimal | None:
        return self.discount.discount_rate if self.discount is not None else None


def quote(
    session: Session, agreement: CustomerAgreement, rate: Decimal | None, today: date
) -> Quote:
    """What renewing at `rate` would make (nothing is written).

    :raise RenewalError: "rate_required" (the agreement has the inflation clause and no rate
        was given), "rate_invalid", "price_too_high" (a new unit price past the limit).
    """
    if rate is None and agreement.is_inflation_auto_updated:
        raise RenewalError("rate_required")
    if rate is not None:
        check_rate(rate)
    discount = accepted_discount(session, agreement, today)
    discount_rate = discount.discount_rate if discount is not None else None
    lines = []
    for product in agreements.products_of(agreement):
        price = renewed_price(product.unit_price, rate, discount_rate)
        try:
            after = Product(product.name, product.quantity, price, product.period)
        except AgreementError:
            raise RenewalError("price_too_high", product.name) from None
        lines.append(Line(product, after))
    return Quote(lines, rate, discount)


# --- Which agreements are due --------------------------------------------------------------


@cache
def _live_renewal():
    """EXISTS a renew log row of CustomerAgreement whose next term still stands (or, from
    before migration 0016, names none).

    Built once: it holds no value of a request, and building it (an alias, two EXISTS) cost
    ~2 ms, twice a page of the renewals list."""
    following = aliased(CustomerAgreement)
    log = CustomerAgreementsRenewLog
    return exists().where(
        log.customer_agreement_id == CustomerAgreement.id,
        or_(
            log.renewed_agreement_id.is_(None),
            exists().where(
                following.id == log.renewed_agreement_id,
                following.status.not_in([str(status) for status in DEAD_TERMS]),
            ),
        ),
    )


def _due(today: date):
    return and_(
        CustomerAgreement.status == AgreementStatus.SIGNED,
        CustomerAgreement.ends_on <= window_end(today),
        ~_live_renewal(),
    )


def due_page(session: Session, today: date, number: int) -> Page:
    """A page of the agreements due for renewal, the soonest end first: rows of (agreement,
    company name)."""
    query = (
        select(CustomerAgreement, Customer.name)
        .join(Customer, Customer.id == CustomerAgreement.customer_id)
        .where(_due(today))
        .order_by(CustomerAgreement.ends_on, CustomerAgreement.id)
    )
    return paginate(
        session,
        query,
        number,
        scalars=False,
        total=select(func.count(CustomerAgreement.id)).where(_due(today)),
    )


def is_due(session: Session, agreement: CustomerAgreement, today: date) -> bool:
    """The agreement may be renewed now and is near its end."""
    return bool(
        session.scalar(select(exists().where(CustomerAgreement.id == agreement.id, _due(today))))
    )


def renewal_of(session: Session, agreement: CustomerAgreement) -> CustomerAgreement | None:
    """The agreement's next term that still stands (the latest), or None."""
    return session.scalar(
        select(CustomerAgreement)
        .join(
            CustomerAgreementsRenewLog,
            CustomerAgreementsRenewLog.renewed_agreement_id == CustomerAgreement.id,
        )
        .where(
            CustomerAgreementsRenewLog.customer_agreement_id == agreement.id,
            CustomerAgreement.status.not_in([str(status) for status in DEAD_TERMS]),
        )
        .order_by(CustomerAgreement.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Ending:
    """A signed agreement of the company near its end, as the company is told: when it ends
    and the next term sent to it, if any (a draft is not shown to the company)."""

    ends_on: date
    next_term: CustomerAgreement | None


def endings(session: Session, shown: list[CustomerAgreement], today: date) -> dict[int, Ending]:
    """Of the company's agreements `shown`, the signed ones near their end (by id), each with
    its next term once sent. One statement for the whole list."""
    near = {
        a.id: a
        for a in shown
        if a.status == AgreementStatus.SIGNED and a.ends_on <= window_end(today)
    }
    if not near:
        return {}
    following = {}
    log = CustomerAgreementsRenewLog
    for previous_id, term in session.execute(
        select(log.customer_agreement_id, CustomerAgreement)
        .join(CustomerAgreement, CustomerAgreement.id == log.renewed_agreement_id)
        .where(
            log.customer_agreement_id.in_(near),
            CustomerAgreement.status.not_in(
                [str(AgreementStatus.DRAFT), *(str(status) for status in DEAD_TERMS)]
            ),
        )
        .order_by(CustomerAgreement.id)
    ):
        following[previous_id] = term
    return {id_: Ending(a.ends_on, following.get(id_)) for id_, a in near.items()}


# --- Renewing ------------------------------------------------------------------------------


def _operator(user: User) -> None:
    if user is None or user.type_code != USER_TYPE_OPERATOR:
        raise RenewalError("not_operator")


def renew(
    session: Session,
    agreement: CustomerAgreement,
    operator: User,
    *,
    rate: Decimal | None,
    now: datetime,
    today: date,
    note: str | None = None,
) -> CustomerAgreementsRenewLog:
    """Draft the next term of a signed agreement and write its renew log row.

    The next term is a draft (the operator reviews and sends it); see the module docstring
    for its dates and prices. The caller commits.

    :raise RenewalError: "not_operator", "not_signed" (anything but a signed agreement),
        "already_renewed" (a next term stands), "rate_required", "rate_invalid",
        "price_too_high", "note_too_long", and the draft's own refusals ("no_text").
    """
    _operator(operator)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LENGTH:
        raise RenewalError("note_too_long")
    # FOR UPDATE: two operators renewing at once take turns; the second sees the first's log.
    session.refresh(agreement, with_for_update=True)
    if agreement.status != AgreementStatus.SIGNED:
        raise RenewalError("not_signed")
    if session.scalar(
        select(exists().where(CustomerAgreement.id == agreement.id, _live_renewal()))
    ):
        raise RenewalError("already_renewed")
    prices = quote(session, agreement, rate, today)
    starts_on, ends_on = next_term(agreement.starts_on, agreement.ends_on)
    following = agreements.draft_agreement(
        session,
        agreement.customer,
        [line.after for line in prices.lines],
        starts_on=starts_on,
        ends_on=ends_on,
        required_roles=agreement.required_roles,
        now=now,
    )
    if prices.discount is not None:
        applied = f"discount #{prices.discount.id}: {prices.discount.discount_rate} %"
        note = f"{note}\n{applied}" if note else applied
    row = CustomerAgreementsRenewLog(
        customer_agreement_id=agreement.id,
        renewed_agreement_id=following.id,
        previous_ends_on=agreement.ends_on,
        new_ends_on=ends_on,
        previous_amount=agreement.total_amount,
        new_amount=following.total_amount,
        inflation_rate=rate,
        renewed_by_user_id=operator.id,
        note=note,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def term_signed(session: Session, agreement: CustomerAgreement) -> CustomerAgreement | None:
    """`agreement` was just signed: if it is the next term of a renewal, the agreement it
    renews (signed or expired) becomes renewed. Returns that agreement, or None."""
    previous = session.scalar(
        select(CustomerAgreement)
        .join(
            CustomerAgreementsRenewLog,
            CustomerAgreementsRenewLog.customer_agreement_id == CustomerAgreement.id,
        )
        .where(CustomerAgreementsRenewLog.renewed_agreement_id == agreement.id)
        .limit(1)
    )
    if previous is None or previous.status not in (
        AgreementStatus.SIGNED,
        AgreementStatus.EXPIRED,
    ):
        return None
    previous.status = AgreementStatus.RENEWED
    session.flush()
    return previous


def expire(session: Session, today: date, now: datetime) -> int:
    """Mark every signed agreement whose term ended before `today` (Istanbul) expired; one
    UPDATE. A renewed one is no longer signed and is not touched. Returns how many."""
    result = session.execute(
        update(CustomerAgreement)
        .where(
            CustomerAgreement.status == AgreementStatus.SIGNED,
            CustomerAgreement.ends_on < today,
        )
        .values(status=AgreementStatus.EXPIRED, ended_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --- Discounts -----------------------------------------------------------------------------


def accepted_discount(
    session: Session, agreement: CustomerAgreement, today: date
) -> CustomerAgreementsRenewDiscount | None:
    """The latest accepted *rate* discount of the agreement still valid on `today`."""
    return latest_accepted(discounts_of(session, agreement), today)


def latest_accepted(
    discounts: Sequence[CustomerAgreementsRenewDiscount], today: date
) -> CustomerAgreementsRenewDiscount | None:
    """Of an agreement's discounts (discounts_of's, the latest first), the latest accepted
    *rate* discount still valid on `today`: an agreement has a handful, and the renewal page
    has them all already."""
    for discount in discounts:
        if (
            discount.followed_status == ACCEPTED
            and discount.discount_rate is not None
            and (discount.valid_until is None or discount.valid_until >= today)
        ):
            return discount
    return None


def discounts_of(
    session: Session, agreement: CustomerAgreement
) -> list[CustomerAgreementsRenewDiscount]:
    """The agreement's renewal discounts, the latest first."""
    row = CustomerAgreementsRenewDiscount
    return list(
        session.scalars(
            select(row).where(row.customer_agreement_id == agreement.id).order_by(row.id.desc())
        )
    )


def _note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LENGTH:
        raise RenewalError("note_too_long")
    return note


def offer_discount(
    session: Session,
    agreement: CustomerAgreement,
    *,
    rate: Decimal | None,
    amount: Decimal | None,
    assigned_user: User,
    due_on: date,
    valid_until: date | None,
    note: str | None,
    today: date,
) -> CustomerAgreementsRenewDiscount:
    """Offer a renewal discount on a signed agreement (a rate or an amount, not both),
    assigned to a sales person, to follow up by `due_on`; it starts pending. The caller
    commits.

    :raise RenewalError: "not_signed", "discount_one_of" (neither or both), "discount_rate_invalid"
        (not above 0 up to 100, in hundredths), "discount_amount_invalid" (not above 0 up to
        the agreement's total, in kuruş), "not_sales_person", "due_in_the_past",
        "valid_until_in_the_past", "note_too_long".
    """
    if agreement.status != AgreementStatus.SIGNED:
        raise RenewalError("not_signed")
    if (rate is None) == (amount is None):
        raise RenewalError("discount_one_of")
    if rate is not None and (
        not rate.is_finite() or not 0 < rate <= HUNDRED or rate != rate.quantize(KURUS)
    ):
        raise RenewalError("discount_rate_invalid")
    if amount is not None and (
        not amount.is_finite()
        or not 0 < amount <= agreement.total_amount
        or amount != amount.quantize(KURUS)
    ):
        raise RenewalError("discount_amount_invalid")
    _sales_person(assigned_user)
    if due_on < today:
        raise RenewalError("due_in_the_past")
    if valid_until is not None and valid_until < today:
        raise RenewalError("valid_until_in_the_past")
    discount = CustomerAgreementsRenewDiscount(
        customer_agreement_id=agreement.id,
        discount_rate=rate,
        discount_amount=amount,
        assigned_user_id=assigned_user.id,
        followed_status=PENDING,
        valid_until=valid_until,
        due_on=due_on,
        note=_note(note),
    )
    session.add(discount)
    session.flush()
    return discount


def _sales_person(user: User | None) -> None:
    if user is None or user.type_code != USER_TYPE_OPERATOR or user.is_deleted:
        raise RenewalError("not_sales_person")


def follow_up(
    session: Session,
    discount: CustomerAgreementsRenewDiscount,
    *,
    status: str,
    assigned_user: User,
    due_on: date | None,
    note: str | None,
    today: date,
) -> CustomerAgreementsRenewDiscount:
    """Record a follow-up: the new status, who follows it and by when. An open follow-up
    (pending, contacted) needs a due date; a closed one (accepted, rejected) keeps the last.
    The note replaces the one before when given. The caller commits.

    :raise RenewalError: "status_invalid", "not_sales_person", "due_required",
        "note_too_long".
    """
    if status not in FOLLOWED_STATUSES:
        raise RenewalError("status_invalid")
    _sales_person(assigned_user)
    if status in OPEN_FOLLOW_UPS and due_on is None:
        raise RenewalError("due_required")
    note = _note(note)
    discount.followed_status = status
    discount.assigned_user_id = assigned_user.id
    if due_on is not None:
        discount.due_on = due_on
    if note is not None:
        discount.note = note
    session.flush()
    return discount


def follow_ups_page(session: Session, number: int) -> Page:
    """A page of the open follow-ups (pending, contacted) by due date, the earliest (so the
    overdue) first, those without a date last: rows of (discount, agreement number, company
    name, sales person's name)."""
    row = CustomerAgreementsRenewDiscount
    open_ = row.followed_status.in_(OPEN_FOLLOW_UPS)
    query = (
        select(row, CustomerAgreement.agreement_no, Customer.name, User.name)
        .join(CustomerAgreement, CustomerAgreement.id == row.customer_agreement_id)
        .join(Customer, Customer.id == CustomerAgreement.customer_id)
        .outerjoin(User, User.id == row.assigned_user_id)
        .where(open_)
        .order_by(row.due_on.is_(None), row.due_on, row.id)
    )
    return paginate(session, query, number, scalars=False)


# More operators than any select can offer is a back office's problem, not this page's.
MAX_SALES_PEOPLE = 200


def sales_people(session: Session) -> list[User]:
    """The operators a discount may be assigned to, by name (at most MAX_SALES_PEOPLE).

    The operator type's id is read first and compared as a value: joined on the type's code,
    PostgreSQL cannot tell that a handful of 200,000 users are operators and reads them all
    (86 ms on the benchmark's database); by the id, its statistics pick the index."""
    operator_type = session.scalar(select(UserType.id).where(UserType.code == USER_TYPE_OPERATOR))
    return list(
        session.scalars(
            select(User)
            .where(User.user_type_id == operator_type)
            .order_by(User.name, User.id)
            .limit(MAX_SALES_PEOPLE)
        )
    )
