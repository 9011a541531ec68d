"""A school's offer on a lead: made by the staff, accepted or declined by the parent.

    open ──┬─→ accepted  (the parent; the lead is won, its other open offers are declined)
           └─→ declined  (the parent, or because another offer of the lead was accepted)

An open offer past its valid_until (an Istanbul date) is expired: derived from the date, so
no job has to run for it to be true, and it can no longer be accepted.

Plain module: the caller passes the session and the request's Origin, and commits.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.access import grants
from portal.access.permissions import Permission, can
from portal.audit import Origin, log_event
from portal.clock import istanbul_today, utcnow
from portal.database import update_if
from portal.leads import notifications
from portal.leads.leads import LeadError, add_event, end_lead
from portal.models import CustomerUser, Lead, SchoolOffer, User

_KURUS = Decimal("0.01")
_HUNDRED = Decimal("100")
# The largest fee the column keeps (Numeric(12, 2)).
MAX_YEARLY_FEE = Decimal("9999999999.99")


class OfferError(Exception):
    """A refused step on an offer; the message is for a person to read."""


def net_fee(offer: SchoolOffer) -> Decimal:
    """What the parent would pay for the year: yearly_fee × (100 − discount_percent) / 100,
    computed exactly and rounded once, to the kuruş, half up (1,234.565 ₺ → 1,234.57 ₺).

    The one rounding rule of offers: the page, the mails and any later invoice use this.
    """
    discount = Decimal(offer.discount_percent or 0)
    exact = Decimal(offer.yearly_fee) * (_HUNDRED - discount) / _HUNDRED
    return exact.quantize(_KURUS, rounding=ROUND_HALF_UP)


def is_expired(offer: SchoolOffer, today: date) -> bool:
    """The offer is still open but its last day (valid_until) is before `today`, an
    Istanbul date."""
    return offer.status == "open" and offer.valid_until < today


def make_offer(
    session: Session,
    lead: Lead,
    customer_user: CustomerUser,
    *,
    yearly_fee: Decimal,
    discount_percent: Decimal,
    valid_until: date,
    note: str | None,
    origin: Origin,
    now: datetime | None = None,
) -> SchoolOffer:
    """Make an offer on an open lead: the offer, first_response_at (when unset), the
    "offer_sent" event, the audit row and the parent's mail, in the caller's transaction.

    :raise OfferError: the lead is not open, the member may not answer leads of this school or
        campus (access.can and access.grants), the fee or discount is out of range, or
        valid_until is before today (Istanbul).
    """
    now = now or utcnow()
    if not lead.is_open:
        raise OfferError(_("This request is no longer open."))
    if not can(customer_user, Permission.ANSWER_LEADS) or not grants.may_work_on(
        session, customer_user, lead.school_id, lead.campus_id
    ):
        raise OfferError(_("You may not answer this request."))
    yearly_fee = Decimal(yearly_fee)
    discount_percent = Decimal(discount_percent or 0)
    if not Decimal(0) <= yearly_fee <= MAX_YEARLY_FEE:
        raise OfferError(_("Enter a yearly fee of zero or more."))
    if not Decimal(0) <= discount_percent <= _HUNDRED:
        raise OfferError(_("The discount is a percentage from 0 to 100."))
    if valid_until < istanbul_today(now):
        raise OfferError(_("The offer cannot end before today."))
    offer = SchoolOffer(
        lead_id=lead.id,
        customer_user_id=customer_user.id,
        yearly_fee=yearly_fee.quantize(_KURUS, rounding=ROUND_HALF_UP),
        discount_percent=discount_percent.quantize(_KURUS, rounding=ROUND_HALF_UP),
        valid_until=valid_until,
        note=(note or "").strip() or None,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(offer)
    if lead.first_response_at is None:
        lead.first_response_at = now
    session.flush()
    add_event(session, lead, "offer_sent", actor_user_id=customer_user.user_id)
    log_event(
        session, "offer_made", customer_user.user_id, origin, lead_id=lead.id, offer_id=offer.id
    )
    notifications.offer_made(session, lead, offer)
    return offer


def accept_offer(
    session: Session, offer: SchoolOffer, user: User, *, origin: Origin, today: date | None = None
) -> None:
    """The parent accepts the offer: it is accepted, the lead's other open offers are
    declined, the lead is won (portal.leads.leads.end_lead), and the staff are mailed.

    :raise OfferError: `user` is not the lead's parent, the offer is expired or not open, or
        the lead is not open.
    """
    today = today or istanbul_today()
    lead = _parents_lead(offer, user)
    if is_expired(offer, today):
        raise OfferError(_("This offer has expired and can no longer be accepted."))
    _answer(session, offer, "accepted")
    now = utcnow()
    session.execute(
        update(SchoolOffer)
        .where(
            SchoolOffer.lead_id == lead.id,
            SchoolOffer.id != offer.id,
            SchoolOffer.status == "open",
        )
        .values(status="declined", answered_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    add_event(session, lead, "offer_accepted", actor_user_id=user.id)
    try:
        end_lead(session, lead, "won", actor_user_id=user.id, origin=origin)
    except LeadError as refused:
        raise OfferError(str(refused)) from refused
    log_event(session, "offer_accepted", user.id, origin, lead_id=lead.id, offer_id=offer.id)
    notifications.offer_answered(session, lead, offer)


def decline_offer(
    session: Session, offer: SchoolOffer, user: User, *, origin: Origin, today: date | None = None
) -> None:
    """The parent declines the offer (the lead stays open for other offers); the staff are
    mailed.

    :raise OfferError: `user` is not the lead's parent, the offer is not open, or the lead is
        not open.
    """
    lead = _parents_lead(offer, user)
    _answer(session, offer, "declined")
    add_event(session, lead, "offer_declined", actor_user_id=user.id)
    log_event(session, "offer_declined", user.id, origin, lead_id=lead.id, offer_id=offer.id)
    notifications.offer_answered(session, lead, offer)


def _parents_lead(offer: SchoolOffer, user: User) -> Lead:
    lead = offer.lead
    if lead.user_id != user.id:
        raise OfferError(_("This offer was not made to you."))
    if not lead.is_open:
        raise OfferError(_("This request is no longer open."))
    if offer.status != "open":
        raise OfferError(_("This offer has already been answered."))
    return lead


def _answer(session: Session, offer: SchoolOffer, status: str) -> None:
    """Answer by a conditional UPDATE: of two answers at once only one lands."""
    now = utcnow()
    if not update_if(
        session, offer, SchoolOffer.status == "open", status=status, answered_at=now, updated_at=now
    ):
        raise OfferError(_("This offer has already been answered."))
