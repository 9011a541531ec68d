"""The mails of leads and offers, all through the outbox (portal.mail.send) in the caller's
transaction, each in its recipient's language.

- A new lead goes to the staff who may work on it: active members whose grants cover its
  school or campus (access.grants.members_covering) and who may answer leads (access.can).
  The company's plan decides when: with the "lead_alerts" feature included (limit None or
  above 0) each of them is mailed at once; otherwise they get one daily digest,
  `flask leads digest`, of the leads of the previous Istanbul day.
- An offer goes to the parent; the parent's answer goes back to the same staff.

The digest remembers what it sent by a `lead_digest_sent` row in user_logs per member and day
(no new table): running it twice for a day, or from cron and by hand, mails nobody twice.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal import mail
from portal.access.grants import members_covering
from portal.access.permissions import Permission, can
from portal.audit import NO_ORIGIN, Origin, log_event
from portal.billing.limits import limit_for
from portal.clock import ISTANBUL
from portal.i18n import LEVEL_NAMES, business_date, money
from portal.models import (
    Campus,
    CustomerUser,
    Lead,
    School,
    SchoolOffer,
    User,
    UserDetail,
    UserLog,
)
from portal.schools.fees import school_year_label

LEAD_ALERTS = "lead_alerts"  # the plan_features code of instant lead alerts
# Without a live plan a company has no instant alerts: its staff get the daily digest.
FREE_LIMITS = {LEAD_ALERTS: 0}


def lead_staff(session: Session, school_id: int, campus_id: int | None) -> list[CustomerUser]:
    """The members who may work on a lead to this school (or campus): covered by a grant and
    allowed to answer leads."""
    return [
        member
        for member in members_covering(session, school_id, campus_id)
        if can(member, Permission.ANSWER_LEADS)
    ]


def has_instant_alerts(session: Session, customer_id: int) -> bool:
    """The company's plan includes instant lead alerts (limit None or above 0)."""
    limit = limit_for(session, LEAD_ALERTS, FREE_LIMITS, customer_id=customer_id)
    return limit is None or limit > 0


def lead_opened(session: Session, lead: Lead) -> int:
    """Mail the new lead at once to its staff when the company has instant alerts; else it
    waits for the digest. Returns how many mails were queued."""
    school = session.get(School, lead.school_id)
    if not has_instant_alerts(session, school.customer_id):
        return 0
    members = lead_staff(session, lead.school_id, lead.campus_id)
    for member in members:
        with _in_language_of(member.user):
            mail.send(
                member.user.email,
                _("New request for information: %(place)s", place=_place(session, lead)),
                _lead_summary(session, lead)
                + "\n\n"
                + _("Sign in to Okul to answer it from your leads inbox."),
            )
    return len(members)


def offer_made(session: Session, lead: Lead, offer: SchoolOffer) -> None:
    """Mail the parent the offer the school made on their lead."""
    from portal.leads.offers import net_fee  # offers imports this module

    parent = session.get(User, lead.user_id)
    place = _place(session, lead)
    with _in_language_of(parent):
        lines = [
            _("%(place)s answered your request with an offer.", place=place),
            "",
            _("Yearly fee: %(amount)s", amount=money(offer.yearly_fee)),
            _("Discount: %(percent)s%%", percent=_percent(offer.discount_percent)),
            _("You would pay: %(amount)s", amount=money(net_fee(offer))),
            _("Valid until: %(day)s", day=business_date(offer.valid_until)),
        ]
        if offer.note:
            lines += ["", offer.note]
        lines += ["", _("Sign in to Okul and open My requests to accept or decline it.")]
        mail.send(
            parent.email,
            _("An offer from %(place)s", place=place),
            "\n".join(lines),
        )


def offer_answered(session: Session, lead: Lead, offer: SchoolOffer) -> int:
    """Mail the lead's staff the parent's answer (accepted or declined); returns how many."""
    members = lead_staff(session, lead.school_id, lead.campus_id)
    place = _place(session, lead)
    for member in members:
        with _in_language_of(member.user):
            if offer.status == "accepted":
                subject = _("Offer accepted: %(place)s", place=place)
                body = _(
                    "The parent accepted your offer of %(amount)s a year. The request is won.",
                    amount=money(offer.yearly_fee),
                )
            else:
                subject = _("Offer declined: %(place)s", place=place)
                body = _(
                    "The parent declined your offer of %(amount)s a year. "
                    "The request stays open for another offer.",
                    amount=money(offer.yearly_fee),
                )
            mail.send(member.user.email, subject, body + "\n\n" + _lead_summary(session, lead))
    return len(members)


@dataclass
class DigestReport:
    """What one run of the digest did."""

    day: date
    leads: int = 0
    mailed: list[str] = field(default_factory=list)
    already_sent: int = 0


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants of [day 00:00, next day 00:00) in Istanbul."""
    start = datetime.combine(day, time(), tzinfo=ISTANBUL)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=ISTANBUL)
    return start.astimezone(UTC), end.astimezone(UTC)


def send_digest(session: Session, day: date, origin: Origin = NO_ORIGIN) -> DigestReport:
    """Mail each member of a company without instant alerts the leads opened on `day` (an
    Istanbul date) that they may work on: one mail per member, at most once per day.

    Meant for cron once a day after midnight, for the day before; safe to run again, and
    with an earlier day to catch up. The caller commits (the mails and the user_logs rows
    that remember them leave together).
    """
    start, end = day_bounds(day)
    leads = session.scalars(
        select(Lead)
        .where(Lead.created_at >= start, Lead.created_at < end)
        .options(joinedload(Lead.school), joinedload(Lead.campus))
        .order_by(Lead.created_at, Lead.id)
    ).all()
    report = DigestReport(day=day, leads=len(leads))
    instant: dict[int, bool] = {}
    covered: dict[tuple[int, int | None], list[CustomerUser]] = {}
    per_member: dict[int, tuple[CustomerUser, list[Lead]]] = {}
    for lead in leads:
        customer_id = session.get(School, lead.school_id).customer_id
        if customer_id not in instant:
            instant[customer_id] = has_instant_alerts(session, customer_id)
        if instant[customer_id]:
            continue  # mailed one by one when they came in
        place = (lead.school_id, lead.campus_id)
        if place not in covered:
            covered[place] = lead_staff(session, *place)
        for member in covered[place]:
            per_member.setdefault(member.user_id, (member, []))[1].append(lead)
    sent = _digests_sent(session, per_member, day, end)
    for user_id, (member, member_leads) in per_member.items():
        if user_id in sent:
            report.already_sent += 1
            continue
        with _in_language_of(member.user):
            body = "\n\n".join(_lead_summary(session, lead) for lead in member_leads)
            mail.send(
                member.user.email,
                _(
                    "Requests for information of %(day)s: %(count)d",
                    day=business_date(day),
                    count=len(member_leads),
                ),
                body + "\n\n" + _("Sign in to Okul to answer them from your leads inbox."),
            )
        log_event(
            session,
            "lead_digest_sent",
            user_id,
            origin,
            day=day.isoformat(),
            leads=len(member_leads),
        )
        report.mailed.append(member.user.email)
    return report


def _digests_sent(
    session: Session, members: Iterable[int], day: date, day_end: datetime
) -> set[int]:
    """The members already sent the digest of `day`: a digest of a day is sent after it
    ends, so only rows since then are read, and the day is compared here (the three
    databases query JSON three ways)."""
    members = list(members)
    if not members:
        return set()
    rows = session.execute(
        select(UserLog.user_id, UserLog.data).where(
            UserLog.event == "lead_digest_sent",
            UserLog.user_id.in_(members),
            UserLog.created_at >= day_end,
        )
    ).all()
    return {row.user_id for row in rows if (row.data or {}).get("day") == day.isoformat()}


def _place(session: Session, lead: Lead) -> str:
    """The school (and campus) a lead went to, by name. Through session.get, so a lead
    loaded with its relationships refused (raiseload) costs no query it already has."""
    school = session.get(School, lead.school_id)
    if lead.campus_id is not None:
        campus = session.get(Campus, lead.campus_id)
        return f"{school.name} – {campus.name}"
    return school.name


def _percent(value) -> str:
    return format(value.normalize(), "f") if value is not None else "0"


def _lead_summary(session: Session, lead: Lead) -> str:
    """The lead as the staff read it in a mail: where, who, what and how to reach them."""
    parent = session.get(User, lead.user_id)
    contact = {
        "email": _("by e-mail"),
        "phone": _("by phone"),
        "either": _("by e-mail or phone"),
    }[lead.contact_preference]
    details = session.get(UserDetail, parent.id)
    phone = details.phone if details is not None else None
    lines = [
        _place(session, lead),
        _("Parent: %(name)s <%(email)s>", name=parent.name, email=parent.email),
    ]
    if phone:
        lines.append(_("Phone: %(phone)s", phone=phone))
    lines += [
        _(
            "Level: %(level)s, school year %(year)s",
            level=LEVEL_NAMES[lead.level],
            year=school_year_label(lead.school_year),
        ),
        _("Contact: %(how)s", how=contact),
        "",
        lead.message,
    ]
    return "\n".join(lines)


@contextmanager
def _in_language_of(user: User):
    """Compose in the recipient's language: their chosen locale, else the portal's default."""
    languages = current_app.config["LANGUAGES"]
    locale = user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        yield
