"""The demo parent, made through the product's own functions, step by step as a visitor would.

Elif registers with the KVKK consent box ticked, enters the code mailed to her, fills in her
profile, adds a work phone, keeps a school and a campus as favorites and buys Veli Plus for a
year on the plans page with the sandbox gateway's success card. So her rows are exactly the
ones the product writes: the consent with the text's hash, the audit events, the verified
address, the saved card as a token, and the subscription with its payment.

A parent who already exists is left as she is: what a demo user changed since stays.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from portal import mail
from portal.account.contacts import ContactEntry, add_contact
from portal.account.favorites import add_favorite
from portal.account.profile import Profile, update_profile
from portal.audit import Origin
from portal.auth.codes import CODE_DIGITS, current_policy
from portal.auth.registration import NewAccount, current_text, register, verify_email
from portal.billing.catalogue import plans_table
from portal.billing.forms import new_idempotency_key
from portal.billing.gateway import CardDetails, SandboxGateway
from portal.billing.subscribers import Subscriber
from portal.billing.subscriptions import subscribe
from portal.demo.accounts import DEMO_PASSWORD, Login, existing_user
from portal.demo.schools import campus_named
from portal.mail import Mail
from portal.models import School, User
from portal.models.billing import BillingCycle

PARENT_EMAIL = "elif.sahin@example.com"
PARENT_NAME = "Elif Şahin"
PROFILE = Profile(
    name=PARENT_NAME,
    phone="0532 555 03 03",
    budget_min=Decimal("150000.00"),
    budget_max=Decimal("320000.00"),
)
WORK_PHONE = ContactEntry(contact_type="phone", label="İş", value="0212 555 04 04")
# (school slug, campus name or None for the school itself)
FAVORITES = [("deniz-anaokulu", None), ("bilge-koleji", "Moda Kampüsü")]
# Veli Plus has no trial on the yearly cycle, so it is paid at once and has a payment row.
PLAN_CODE, BILLING_CYCLE = "veli-plus", BillingCycle.YEARLY
# The sandbox's card whose charges succeed (the table in portal/billing/gateway.py).
TEST_CARD = "4242 4242 4242 4242"
# There is no request behind a CLI command: no IP address, and this as the user agent.
ORIGIN = Origin(user_agent="flask demo-data")


def make_parent(session: Session, schools: dict[str, School], today: date, now: datetime) -> Login:
    """The demo parent, registered, verified, with profile, contact, favorites and plan."""
    if existing_user(session, PARENT_EMAIL) is None:
        parent = _registered(session, now)
        update_profile(session, parent, PROFILE, ORIGIN)
        add_contact(session, parent, WORK_PHONE, ORIGIN)
        for slug, campus_name in FAVORITES:
            kind = "campus" if campus_name else "school"
            target = campus_named(schools[slug], campus_name) if campus_name else schools[slug]
            add_favorite(session, parent, kind, target.id, ORIGIN)
        with _inbox():  # the demo payment's receipt, like its codes, goes nowhere
            _subscribed(session, parent, today)
    return Login(PARENT_EMAIL, DEMO_PASSWORD, "parent")


def _registered(session: Session, now: datetime) -> User:
    """Register with consent and enter the code from the verification mail."""
    policy = current_policy()
    consent_text = current_text(session, "kvkk_consent")
    account = NewAccount(PARENT_NAME, PARENT_EMAIL, DEMO_PASSWORD, consent_given=True)
    with _inbox() as inbox:
        register(session, policy, account, ORIGIN, now, consent_text.id)
        code = _code_in(inbox, PARENT_EMAIL)
    parent = verify_email(session, policy, PARENT_EMAIL, code, now, ORIGIN)
    if parent is None:
        raise RuntimeError("the demo parent's verification code was refused")
    return parent


def _subscribed(session: Session, parent: User, today: date) -> None:
    """Pick Veli Plus yearly on the plans page and pay with the sandbox's test card."""
    subscriber = Subscriber(user_id=parent.id)
    table = plans_table(session, subscriber.audience, BILLING_CYCLE)
    offer = next(offer for offer in table.offers if offer.plan.code == PLAN_CODE)
    # Always the sandbox, whatever PAYMENT_GATEWAY says: demo data must never charge a card.
    gateway = SandboxGateway()
    # What the sandbox's hosted page does with the card the parent types there.
    card = gateway.save_card(
        CardDetails(
            number=TEST_CARD,
            exp_month=12,
            exp_year=today.year + 3,
            cvc="123",
            holder_name=PARENT_NAME,
        ),
        today,
    )
    subscribe(
        session,
        gateway,
        subscriber,
        offer.price.id,
        card,
        idempotency_key=new_idempotency_key(),
        today=today,
        actor_user_id=parent.id,
        origin=ORIGIN,
    )


@contextmanager
def _inbox() -> Iterator[list[Mail]]:
    """Keep the mail sent inside in a list instead of sending it.

    The demo addresses are example.com ones nobody reads, and the parent must read her code
    as a person reads their inbox; so whatever MAIL_BACKEND says, nothing is sent or logged.
    """
    with mail.captured() as inbox:
        yield inbox


def _code_in(inbox: list[Mail], email: str) -> str:
    """The code in the newest mail to `email`."""
    mail = next(mail for mail in reversed(inbox) if mail.to == email)
    return re.search(rf"\b\d{{{CODE_DIGITS}}}\b", mail.body).group()
