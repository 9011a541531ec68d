"""What the billing tests share: instants on business dates, and acting on the billing pages
the way a browser does (the checkout form, reading what a page shows)."""

import re
import uuid
from datetime import UTC, date, datetime, time

import html5lib
from sqlalchemy import func, select

from portal.clock import ISTANBUL, istanbul_today
from portal.models import Payment, UserSubscription
from tests.helpers import csrf_token

TL = "\u00a0₺"  # the money filter puts a no-break space before the lira sign
PAGE = "/account/subscription"
COMPANY_PAGE = "/customer/subscription"
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"  # refused when saved: card_declined
EXPIRED_AT_GATEWAY = "4000 0000 0000 0069"  # refused when saved: expired_card
POOR_CARD = "4000 0000 0000 9995"  # saved, every charge fails: insufficient_funds
CVC = "918"


def at(day: date, hour: int = 9) -> datetime:
    """The aware UTC instant at `hour` o'clock in Istanbul on the business date `day`: the
    `now` a view or the renewal command would pass on that day."""
    return datetime.combine(day, time(hour), ISTANBUL).astimezone(UTC)


def checkout_url(price) -> str:
    return f"/plans/{price.id}/checkout"


CARD_FIELDS = ("holder_name", "number", "exp_month", "exp_year", "cvc")


def card_fields(client, **values) -> dict:
    """The hosted payment page's card form as a browser fills it in; a value of None leaves the
    field out."""
    fields = {
        "holder_name": "Elif Şahin",
        "number": GOOD_CARD,
        "exp_month": "12",
        "exp_year": str(istanbul_today().year + 2),
        "cvc": CVC,
        "csrf_token": csrf_token(client),
    }
    fields.update(
        {name: value for name, value in values.items() if name in (*CARD_FIELDS, "csrf_token")}
    )
    return {name: value for name, value in fields.items() if value is not None}


def checkout_fields(client, **values) -> dict:
    """The portal's checkout form (its button): the attempt's key, the CSRF token, the ticked
    box confirming a parent's sale documents and a parent's invoice name and address (a
    company's form has none of these and ignores them; a value of None leaves it out)."""
    fields = {
        "idempotency_key": uuid.uuid4().hex,
        "csrf_token": csrf_token(client),
        "accept_documents": "y",
        # The parent's invoice identity (a company's form has none and ignores them).
        "invoice_name": "Elif Şahin",
        "invoice_address": "Bağdat Cad. No: 5, Kadıköy / İstanbul",
    }
    fields.update({name: value for name, value in values.items() if name not in CARD_FIELDS})
    return {name: value for name, value in fields.items() if value is not None}


def hosted_page_url(response) -> str | None:
    """Where the checkout's answer sends the browser, when that is the hosted payment page."""
    location = response.headers.get("HX-Redirect") or response.headers.get("Location") or ""
    return location if location.startswith("/sandbox-pay/") else None


def start_checkout(client, price, headers=None, **values):
    """Press the checkout's button for `price` (card fields in `values` are not sent)."""
    return client.post(checkout_url(price), data=checkout_fields(client, **values), headers=headers)


def type_card(client, hosted_url: str, **values):
    """Type the card on the hosted payment page and send it."""
    return client.post(hosted_url, data=card_fields(client, **values))


def pay(client, price, headers=None, **values):
    """Pay for `price` the way a browser does: the checkout's button (with `headers`), the card
    on the hosted payment page, then back to the portal. The first answer that does not lead
    on is returned: the return's (303 to the subscription page, or 422 with the reason), or an
    earlier refusal (the checkout's 403/404/422, the hosted page's 422 with field errors)."""
    started = start_checkout(client, price, headers=headers, **values)
    hosted_url = hosted_page_url(started)
    if hosted_url is None:
        return started
    typed = type_card(client, hosted_url, **values)
    if typed.status_code != 303:
        return typed
    return client.get(typed.headers["Location"])


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def subscriptions_of(session, user=None, customer=None) -> list[UserSubscription]:
    """A parent's (user) or a company's (customer) subscriptions, as committed."""
    session.expire_all()
    owner = (
        UserSubscription.user_id == user.id
        if user is not None
        else UserSubscription.customer_id == customer.id
    )
    return list(session.scalars(select(UserSubscription).where(owner)))


def payments_of(session, user=None, customer=None) -> list[Payment]:
    """A parent's (user) or a company's (customer) payments, as committed."""
    session.expire_all()
    owner = Payment.user_id == user.id if user is not None else Payment.customer_id == customer.id
    return list(session.scalars(select(Payment).where(owner)))


def text(html: str) -> str:
    """What a reader sees: the text of the page with runs of white space collapsed (the
    no-break space before ₺ kept)."""
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)
    return re.sub(r"[ \t\r\n]+", " ", "".join(tree.itertext())).strip()


def fragment_text(html: str) -> str:
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parseFragment(html)
    return re.sub(r"[ \t\r\n]+", " ", "".join(tree.itertext())).strip()


def assert_valid_fragment(html: str) -> None:
    assert "<html" not in html and "<body" not in html
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parseFragment(html)


def long_date(day: date) -> str:
    """A business date as the English pages write it: December 1, 2026."""
    return f"{day:%B} {day.day}, {day.year}"


def page(client, url=PAGE, **kwargs) -> str:
    """The page's HTML; it must answer 200."""
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def named_plan(make, name, **values):
    """A plan with a name to look for on the pages (the factory numbers its plans)."""
    plan = make.plan(**values)
    plan.name = plan.name_en = name
    return plan


def staff_signed_in(make, session, auth, role, customer=None):
    """A member of `customer` (a new company by default) with `role`, signed in."""
    staff = make.customer_user(customer=customer, role=role)
    session.commit()
    auth.login(staff.user.email)
    return staff
