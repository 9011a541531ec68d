"""Receipt mails: after every succeeded payment its payer is mailed what was bought and paid.

The payer is a parent (their own address) or a company (its active members who may see its
billing, by portal.access.permissions). A receipt names the plan, the billing cycle and the
period paid for (a signed agreement's payment: the agreement's number, its term and the
installment's day instead), the amount before KDV, the KDV and the total, when it was paid,
the receipt number and the gateway's reference, and links to the receipt page
(billing.receipt). Each mail is in its reader's language: their account's locale, else the
current one (the request's, or the portal's default in a job). A failed payment mails nothing.

Like all mail, a receipt is an outbox row in the caller's transaction, so a payment that rolls
back mails nothing. Two ways in, one text:

- mail_receipt(): one flushed Payment (checkout, resume): queued through mail.send(), so it
  leaves right after the request's response.
- mail_renewal_receipts(): a renewal batch, whose payments insert_many() wrote without ids and
  without objects. They are read back in one query and their mails written with one INSERT
  (mail.send_many()),
  left for `flask mail deliver`: a mapped object per mail, and mail.send()'s delivery right
  after each batch's commit, would have the run wait on the SMTP server for every mail
  (100,000 of them on a busy day) and undo what docs/benchmarks.md measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from portal import mail
from portal.access.permissions import Permission, roles_with
from portal.billing.periods import charged_period_end
from portal.i18n import (
    BILLING_CYCLE_NAMES,
    business_date,
    in_reader_language,
    local_datetime,
    money,
)
from portal.models import (
    Customer,
    CustomerAgreement,
    CustomerUser,
    CustomerUserRole,
    Payment,
    PlanPrice,
    SubscriptionPlan,
    User,
    UserSubscription,
)
from portal.models.billing import PaymentStatus

KDV_PERCENT = 20  # as the receipt page prints it (portal.billing.money's rate)


@dataclass(frozen=True, slots=True)
class _Receipt:
    """What a receipt mail says of one succeeded payment, read off its row and its price."""

    payment_id: int
    idempotency_key: str
    customer_id: int | None
    net: Decimal
    kdv: Decimal
    gross: Decimal
    gateway_reference: str | None
    charged_period: date | None
    anchor_date: date | None  # the subscription's, which the period is counted from
    paid_at: datetime
    card_brand: str | None
    card_last4: str | None
    billing_cycle: str | None  # None for an agreement's payment (no plan)
    plan_name: str | None
    plan_name_en: str | None
    payer_email: str | None  # the parent's; None for a company, or a deleted parent
    payer_locale: str | None
    agreement_no: str | None = None  # an agreement's payment: what it paid for
    term_start: date | None = None
    term_end: date | None = None


@dataclass(frozen=True, slots=True)
class _Reader:
    """Someone a receipt is mailed to."""

    email: str
    locale: str | None
    company: str | None  # the company's name, when the payer is one


def mail_receipt(session: Session, payment: Payment) -> None:
    """Queue the receipt of one succeeded, flushed payment to its payer, through mail.send()."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return
    # Imported here: the agreements package's blueprint imports views that import billing.
    from portal.agreements import acceptances

    # A parent's first charge carries the documents they confirmed at checkout (Law 6502:
    # the consumer is given them on a durable medium); any other payment has none.
    accepted = acceptances.acceptances_of_order(session, payment.idempotency_key)
    accepted = [row for row in accepted if row.user_id == payment.user_id]
    for to, subject, body in _compose(session, _read(session, Payment.id == payment.id)):
        if accepted:
            body = f"{body}\n\n{acceptances.documents_text(session, accepted)}"
        mail.send(to, subject, body)


def mail_renewal_receipts(
    session: Session,
    first_subscription_id: int,
    last_subscription_id: int,
    now: datetime,
    keys: Iterable[str],
) -> int:
    """Queue the receipts of a renewal batch's succeeded payments, written at `now` for the
    subscriptions between the two ids with these idempotency keys; returns how many mails.

    Read by range and time rather than by a list of a thousand keys (see renewals._cards_of);
    the keys then keep out what another run wrote in the same range.
    """
    keys = set(keys)
    if not keys:
        return 0
    receipts = [
        receipt
        for receipt in _read(
            session,
            Payment.user_subscription_id.between(first_subscription_id, last_subscription_id),
            Payment.created_at == now,
        )
        if receipt.idempotency_key in keys
    ]
    return mail.send_many(
        session, [mail.Mail(to, subject, body) for to, subject, body in _compose(session, receipts)]
    )


def _read(session: Session, *where) -> list[_Receipt]:
    """The succeeded payments matching `where`, with their plan and, for a parent, the
    parent's address: one query."""
    payer = and_(User.id == Payment.user_id, User.deleted_at.is_(None))
    rows = session.execute(
        select(
            Payment.id,
            Payment.idempotency_key,
            Payment.customer_id,
            Payment.net_amount,
            Payment.kdv_amount,
            Payment.gross_amount,
            Payment.gateway_reference,
            Payment.charged_period,
            UserSubscription.anchor_date,
            Payment.created_at,
            Payment.card_brand,
            Payment.card_last4,
            PlanPrice.billing_cycle,
            SubscriptionPlan.name,
            SubscriptionPlan.name_en,
            User.email,
            User.locale,
            CustomerAgreement.agreement_no,
            CustomerAgreement.starts_on,
            CustomerAgreement.ends_on,
        )
        # Outer joins: an agreement's payment buys no price (customer_agreement_id instead).
        .outerjoin(PlanPrice, PlanPrice.id == Payment.plan_price_id)
        .outerjoin(UserSubscription, UserSubscription.id == Payment.user_subscription_id)
        .outerjoin(SubscriptionPlan, SubscriptionPlan.id == PlanPrice.subscription_plan_id)
        .outerjoin(CustomerAgreement, CustomerAgreement.id == Payment.customer_agreement_id)
        .outerjoin(User, payer)
        .where(Payment.status == PaymentStatus.SUCCEEDED, *where)
        .order_by(Payment.id)
    ).all()
    return [_Receipt(*row) for row in rows]


def _readers(session: Session, receipts: list[_Receipt]) -> dict[int | None, list[_Reader]]:
    """Whom each receipt goes to: by company id the members who may see its billing (one
    query for all the companies), and under None nobody (a parent's is on the receipt)."""
    companies = {r.customer_id for r in receipts if r.customer_id is not None}
    readers: dict[int | None, list[_Reader]] = {None: []}
    if not companies:
        return readers
    rows = session.execute(
        select(
            CustomerUser.customer_id,
            User.email,
            User.locale,
            func.coalesce(Customer.legal_name, Customer.name),
        )
        .join(User, User.id == CustomerUser.user_id)
        .join(CustomerUserRole, CustomerUserRole.id == CustomerUser.role_id)
        .join(Customer, Customer.id == CustomerUser.customer_id)
        .where(
            CustomerUser.customer_id.in_(companies),
            CustomerUser.is_active,
            User.deleted_at.is_(None),
            CustomerUserRole.code.in_([str(role) for role in roles_with(Permission.SEE_BILLING)]),
        )
        .order_by(CustomerUser.customer_id, User.id)
    )
    for customer_id, email, locale, name in rows:
        readers.setdefault(customer_id, []).append(_Reader(email, locale, name))
    return readers


def _compose(session: Session, receipts: list[_Receipt]) -> list[tuple[str, str, str]]:
    """(to, subject, body) of every receipt mail, each in its reader's language."""
    if not receipts:
        return []
    members = _readers(session, receipts)
    by_locale: dict[str, list[tuple[_Receipt, _Reader]]] = {}
    languages = current_app.config["LANGUAGES"]
    fallback = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    for receipt in receipts:
        if receipt.customer_id is None:
            readers = [_Reader(receipt.payer_email, receipt.payer_locale, None)]
            if receipt.payer_email is None:  # a deleted parent: nobody to tell
                readers = []
        else:
            readers = members.get(receipt.customer_id, [])
        for reader in readers:
            locale = reader.locale if reader.locale in languages else fallback
            by_locale.setdefault(locale, []).append((receipt, reader))
    link = receipt_links()
    mails = []
    for locale, items in by_locale.items():
        with force_locale(locale):
            text = _Text()
            for receipt, reader in items:
                mails.append(
                    (reader.email, text.subject(receipt), text.body(receipt, reader, link))
                )
    return mails


class _Text:
    """The receipt mail in the current language.

    A renewal run writes thousands of these, for a handful of prices, periods and one instant:
    each word is translated once per language and each amount, period and time formatted once
    (each formatting asks Flask-Babel for the locale again, which cost more than the mail).
    """

    def __init__(self) -> None:
        self.intro = _("Thank you for your payment. This is your receipt.")
        self.labels = {
            "number": _("Receipt number"),
            "company": _("Paid for"),
            "plan": _("Plan"),
            "agreement": _("Agreement"),
            "term": _("Term"),
            "installment": _("Installment due on"),
            "period": _("Period"),
            "paid_on": _("Paid on"),
            "card": _("Card"),
            "reference": _("Payment reference"),
            "net": _("Amount before KDV"),
            "kdv": _("KDV (%(rate)d%%)", rate=KDV_PERCENT),
            "gross": _("Total paid"),
        }
        # Translated once, filled in per mail (gettext with no values leaves %(number)s alone).
        self.subject_pattern = _("Your Okul receipt %(number)s")
        self.cycles = {code: str(name) for code, name in BILLING_CYCLE_NAMES.items()}
        self.see_it = _("See or print the receipt:")
        self.invoice = _(
            "This receipt confirms the card payment. The e-invoice (e-Arşiv) is sent separately."
        )
        self._memo: dict[tuple, str] = {}

    def subject(self, receipt: _Receipt) -> str:
        return self.subject_pattern % {"number": _number(receipt.payment_id)}

    def body(self, receipt: _Receipt, reader: _Reader, link: Callable[[int], str]) -> str:
        facts = [("number", _number(receipt.payment_id))]
        if reader.company:
            facts.append(("company", reader.company))
        if receipt.agreement_no is not None:
            term = (business_date(receipt.term_start), business_date(receipt.term_end))
            facts += [
                ("agreement", receipt.agreement_no),
                ("term", f"{term[0]} – {term[1]}"),
                ("installment", business_date(receipt.charged_period)),
            ]
        else:
            facts += [
                (
                    "plan",
                    f"{in_reader_language(receipt.plan_name, receipt.plan_name_en)}"
                    f" · {self.cycles[receipt.billing_cycle]}",
                ),
                (
                    "period",
                    self._once(
                        self._period,
                        receipt.charged_period,
                        receipt.anchor_date,
                        receipt.billing_cycle,
                        receipt.paid_at,
                    ),
                ),
            ]
        facts.append(("paid_on", self._once(local_datetime, receipt.paid_at)))
        if receipt.card_last4:
            facts.append(
                ("card", f"{(receipt.card_brand or '').title()} •••• {receipt.card_last4}")
            )
        if receipt.gateway_reference:
            facts.append(("reference", receipt.gateway_reference))
        amounts = [("net", receipt.net), ("kdv", receipt.kdv), ("gross", receipt.gross)]
        lines = [self.intro, ""]
        lines += [f"{self.labels[key]}: {value}" for key, value in facts]
        lines.append("")
        lines += [f"{self.labels[key]}: {self._once(money, value)}" for key, value in amounts]
        lines += ["", self.see_it, link(receipt.payment_id), "", self.invoice]
        return "\n".join(lines)

    def _once(self, function, *arguments) -> str:
        key = (function, *arguments)
        if key not in self._memo:
            self._memo[key] = function(*arguments)
        return self._memo[key]

    def _period(self, start: date | None, anchor: date | None, cycle: str, paid_at) -> str:
        if start is None:  # not a period's charge: only the day it was paid
            return local_datetime(paid_at)
        end = charged_period_end(anchor, cycle, start)
        if end is None:
            return _("From %(date)s, for good", date=business_date(start))
        # Periods are half-open; a receipt names the last day covered, as people read it.
        return f"{business_date(start)} – {business_date(end - timedelta(days=1))}"


def _number(payment_id: int) -> str:
    return f"{payment_id:08d}"  # as the receipt page numbers it


def receipt_links() -> Callable[[int], str]:
    """The absolute address of a payment's receipt page, for a mail.

    Mail is read away from the request that caused it, and a job has no request at all, so
    the address is the portal's own, not the Host a request came with: SERVER_NAME (Flask's
    setting for URLs built outside a request), else the first of TRUSTED_HOSTS, else
    localhost (development and tests). https wherever the cookies demand it (production's
    __Host- cookies are Secure), else PREFERRED_URL_SCHEME.
    """
    # Built once and filled in per payment: Werkzeug's build() took a third of a mail's time.
    # The id is an int in the route, so the marker can only stand where the id goes.
    marker = 987654321
    before, after = (
        _url_adapter()
        .build("billing.receipt", {"payment_id": marker}, force_external=True)
        .split(str(marker))
    )
    return lambda payment_id: f"{before}{int(payment_id)}{after}"


def portal_url(endpoint: str, **values) -> str:
    """The absolute address of a page for a mail (see receipt_links())."""
    return _url_adapter().build(endpoint, values, force_external=True)


def _url_adapter():
    config = current_app.config
    hosts = config.get("TRUSTED_HOSTS") or []
    host = config.get("SERVER_NAME") or (hosts[0].lstrip(".") if hosts else "localhost")
    scheme = "https" if config.get("SESSION_COOKIE_SECURE") else config["PREFERRED_URL_SCHEME"]
    return current_app.url_map.bind(
        host, script_name=config.get("APPLICATION_ROOT") or "/", url_scheme=scheme
    )
