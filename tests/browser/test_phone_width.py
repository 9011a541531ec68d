"""Every page of the portal on a phone: nothing wider than the screen, no file missing.

Each audience (anonymous, a parent, company staff, an operator) opens every page it may reach
in a window 390 pixels wide (a common phone), then looks at it again narrowed to 360. The page
must not scroll sideways, every link, button and field must lie within the screen (or inside a
box that scrolls by itself), axe-core must find nothing, and no request the page makes may be
answered 404 (a stylesheet, a script, an icon).

The pages come from app.url_map: every GET route the audience may reach is opened, its ids
taken from data the test builds the way people do (a parent buys a plan and types a very long
word into a contact; a company with a long legal name buys one; an operator searches). Each
test then requires that every such route rendered, so a new page cannot be forgotten; routes
that are not pages are in NOT_PAGES, with the reason.

Set PHONE_SCREENSHOTS=/some/folder to keep a full-page screenshot of every page at 390 px.
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import pytest
from flask import Flask, url_for
from playwright.sync_api import Page, Response, expect
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from portal.access import ANONYMOUS, CUSTOMER_USER, OPERATOR, PARENT, audiences_of
from portal.access.permissions import Role
from portal.agreements import agreements
from portal.audit import NO_ORIGIN
from portal.clock import utcnow
from portal.customer import invitations
from portal.demo import agreements as demo_agreements
from portal.models import Lead, Payment, UserAgreementAcceptance, UserContact
from tests.browser.conftest import (
    PHONE,
    enter_sign_in_code,
    live_data,
    price_id,
    sign_in,
    start_sign_in,
)
from tests.factories import Factories

pytestmark = pytest.mark.browser

NARROWEST = 360  # the narrowest phone still common: every page must hold at this width too
SCHOOL_SLUG = "bilge-koleji"  # from the demo data
# What a person may type: a "word" of 250 letters with nowhere to break it.
LONG_WORD = "Büyükannemlerin" + "çokuzunadresi" * 18 + "son"
SUCCESS_CARD = "4242 4242 4242 4242"

# GET routes that are not pages, so no audience opens them as one.
NOT_PAGES = {
    "static": "files, not pages; each file a page asks for is checked for 404 instead",
    "core.favicon": "an icon; asked for by browsers on their own, checked on its own below",
    "billing.checkout_return": "where the hosted payment page sends the buyer back, with its"
    " signed answer; pay() passes through it",
    "billing.card_return": "where the hosted payment page sends the subscriber back after"
    " saving a card, with its sealed answer (tests/browser/test_saved_cards.py)",
    "sandbox_provider.checkout": "the sandbox provider's hosted page opens only for a checkout"
    " the portal signed; pay() checks it at phone width",
    "agreements.evidence_pdf_download": "a PDF download, not a page (its content and the"
    " readers who get it: tests/agreements/test_evidence_pdf.py)",
    "agreements.operator_evidence_pdf": "a PDF download, not a page (the same)",
    "billing.receipt_download": "an HTML file to download, not a page (its headers and"
    " content: tests/billing/test_invoice_details.py; the receipt page is checked here)",
    "agreements.pay_agreement_return": "where the hosted payment page sends the member back"
    " after typing a card for an agreement's installment, with its sealed answer"
    " (tests/browser/test_agreement_payment.py)",
}

# What a person must be able to reach, so it has to lie within the screen.
REACHABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary"

# How wide the document is and, when it is too wide, what sticks out; and the controls that
# lie off the screen. Elements inside a box that scrolls by itself (a wide comparison table)
# are reachable by scrolling that box, so they are not counted.
MEASURE = """(reachable) => {
  const width = window.innerWidth;
  const inScroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const unseen = (el) => el.closest('.visually-hidden, .skip-link') !== null
    || el.getClientRects().length === 0;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '')
    + ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  const candidates = (selector) => [...document.body.querySelectorAll(selector)]
    .filter((el) => !unseen(el) && !inScroller(el));
  // How far right an element reaches: its box, or the text that overflows it.
  const reach = (el) => {
    const box = el.getBoundingClientRect();
    const spills = getComputedStyle(el).overflowX === 'visible' && el.clientWidth > 0;
    return Math.max(box.right, spills ? box.left + el.scrollWidth : 0);
  };
  const wide = candidates('*')
    .map((el) => [el, reach(el), el.getElementsByTagName('*').length])
    .filter(([, right]) => right > width + 1)
    .sort((a, b) => b[1] - a[1] || a[2] - b[2])
    .map(([el, right]) => describe(el) + ' to ' + Math.round(right));
  const offScreen = candidates(reachable).filter((el) => {
    const box = el.getBoundingClientRect();
    return box.left < -1 || box.right > width + 1;
  }).map(describe);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    wide: wide.slice(0, 4),
    offScreen: offScreen.slice(0, 4),
  };
}"""


@dataclass
class Walk:
    """One audience's walk through the portal: the routes it saw rendered, the problems found."""

    persona: str
    page: Page
    app: Flask
    base_url: str
    assert_accessible: Callable[[Page], None]
    javascript: bool = True
    rendered: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    expected_404: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.page.on("response", self._on_response)

    def _on_response(self, response: Response) -> None:
        if response.status == 404 and response.url not in self.expected_404:
            self.problems.append(f"404 for {response.url} (on {self.page.url})")

    def open(self, url: str, status: int | None = 200) -> None:
        """Open `url` and check the page it ends on; `status=None` accepts any answer."""
        response = self.page.goto(url)
        answered = response.status if response else None
        if status is not None and answered != status:
            self.problems.append(f"{url}: answered {answered}, expected {status}")
        self.check(record=answered == 200)

    def check(self, record: bool = True) -> None:
        """The page as it is now: at 390 and 360 px, then axe; `record` counts its route."""
        page = self.page
        where = page.url.removeprefix(self.base_url)
        for width in (PHONE["width"], NARROWEST):
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            measured = page.evaluate(MEASURE, REACHABLE)
            if measured["scrollWidth"] > measured["innerWidth"]:
                self.problems.append(
                    f"{where} at {width} px scrolls sideways to {measured['scrollWidth']} px;"
                    f" sticking out: {measured['wide']}"
                )
            if measured["offScreen"]:
                self.problems.append(f"{where} at {width} px: off screen {measured['offScreen']}")
        page.set_viewport_size(PHONE)
        self._screenshot()
        if self.javascript:  # axe runs as JavaScript in the page
            try:
                self.assert_accessible(page)
            except pytest.fail.Exception as failure:
                self.problems.append(str(failure))
        if record and (endpoint := endpoint_of(self.app, where)):
            self.rendered.add(endpoint)

    def _screenshot(self) -> None:
        folder = os.environ.get("PHONE_SCREENSHOTS")
        if folder:
            mode = "" if self.javascript else "-nojs"
            name = re.sub(r"[^A-Za-z0-9]+", "_", self.page.url.removeprefix(self.base_url))
            path = Path(folder) / f"{self.persona}{mode}{name.rstrip('_')}.png"
            self.page.screenshot(path=str(path), full_page=True)

    def finish(self, required: set[str]) -> None:
        """Every problem at once; then every required route must have been rendered."""
        assert not self.problems, f"{self.persona}:\n" + "\n".join(self.problems)
        not_rendered = required - self.rendered
        assert not_rendered == set(), f"{self.persona}: routes not rendered {not_rendered}"


def endpoint_of(app, path: str) -> str | None:
    """The endpoint serving `path` (a query is ignored), or None when none does."""
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(path.split("?", 1)[0], method="GET")[0]
    except (HTTPException, RequestRedirect):
        return None


def page_routes(app, audience: str) -> dict[str, tuple[str, ...]]:
    """Every GET page `audience` may reach: endpoint -> the names of its arguments."""
    stale = NOT_PAGES.keys() - {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not stale, f"NOT_PAGES names routes that no longer exist: {stale}"
    with app.test_request_context():
        return {
            rule.endpoint: tuple(sorted(rule.arguments))
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods
            and rule.endpoint not in NOT_PAGES
            and audience in (audiences_of(rule.endpoint) or ())
        }


def page_urls(app, audience: str, arguments: dict) -> list[str]:
    """The URL of each GET page of `audience`, ids taken from `arguments` by name."""
    routes = page_routes(app, audience)
    unknown = {name for names in routes.values() for name in names} - arguments.keys()
    assert not unknown, f"the phone-width test needs a value for {unknown} ({audience})"
    with app.test_request_context():
        return [
            url_for(endpoint, **{name: arguments[name] for name in names})
            for endpoint, names in sorted(routes.items())
        ]


def read(app, query):
    """One value from the live app's database."""
    with live_data(app) as session:
        return session.scalar(query)


def unique_email(prefix: str) -> str:
    # Long, as real addresses often are: it must wrap rather than widen a page.
    return f"{prefix}-{uuid4().hex[:8]}@uzun-bir-alan-adi.example.com"


def new_parent(app) -> tuple[int, str]:
    with live_data(app) as session:
        user = Factories(session).user("parent", email=unique_email("phone-parent"))
        session.commit()
        return user.id, user.email


def pay(walk: Walk, price: int) -> None:
    """Open the checkout, go on to the sandbox provider's hosted page (both checked at phone
    width), pay there with the success card and come back."""
    walk.open(f"/plans/{price}/checkout")
    box = walk.page.locator("#accept_documents")  # a parent confirms the sale's documents
    if box.count():
        walk.page.locator("#invoice_address").fill("Bağdat Cad. No: 5, Kadıköy / İstanbul")
        box.check()
    walk.page.locator("#checkout-form button[type=submit]").click()
    walk.page.wait_for_url(re.compile(r"/sandbox-pay/checkout\?checkout="))
    walk.check()
    form = walk.page.locator("#card-form")
    form.locator("input[name=holder_name]").fill("Ayşe Yılmaz")
    form.locator("input[name=number]").fill(SUCCESS_CARD)
    form.locator("select[name=exp_month]").select_option("12")
    form.locator("select[name=exp_year]").select_option(index=2)
    form.locator("input[name=cvc]").fill("123")
    form.locator("button[type=submit]").click()
    walk.page.wait_for_url(re.compile(r"/(account|customer)/subscription$"))


@pytest.fixture
def phone(new_page, live_app, live_server, assert_accessible):
    """`phone(persona, javascript=True)`: a Walk in a fresh 390 x 844 window."""

    def make(persona: str, javascript: bool = True) -> Walk:
        page = new_page(javascript=javascript, viewport=PHONE)
        return Walk(persona, page, live_app, live_server, assert_accessible, javascript)

    return make


JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])


@JAVASCRIPT
def test_every_public_page_fits_a_phone(phone, live_app, javascript):
    walk = phone("anonymous", javascript)
    token = new_company(live_app)["token"]
    for url in page_urls(live_app, ANONYMOUS, {"slug": SCHOOL_SLUG, "token": token}):
        walk.open(url)
    walk.open("/?city=Ankara")
    walk.open("/plans?audience=companies")
    walk.expected_404.add(f"{walk.base_url}/no-such-page")
    walk.open("/no-such-page", status=404)
    # The one-time-code page exists only during a sign-in, after the password.
    _, email = new_parent(live_app)
    start_sign_in(walk.page, email)
    walk.check()

    walk.finish(required=set(page_routes(live_app, ANONYMOUS)))


def test_browsers_get_an_icon(phone):
    walk = phone("icon")
    walk.open("/")
    for href in walk.page.locator("link[rel~=icon]").evaluate_all("ls => ls.map(l => l.href)"):
        assert walk.page.request.get(href).status == 200, href
    # Browsers ask for /favicon.ico whatever the page links to.
    icon = walk.page.request.get("/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/")
    walk.finish(required={"schools.index"})


@JAVASCRIPT
def test_every_page_of_a_parent_fits_a_phone(phone, live_app, javascript):
    user_id, email = new_parent(live_app)
    walk = phone("parent", javascript)
    page = walk.page
    start_sign_in(page, email)
    walk.check()  # the one-time-code page
    enter_sign_in_code(page, live_app, email)
    pay(walk, price_id(live_app, "veli-plus", "yearly"))  # no trial: paid at once
    # A contact with a very long word, typed as a person would.
    page.goto("/account/contacts")
    form = page.locator("#contact-add-form")
    form.locator("select[name$=contact_type]").select_option("other")
    form.locator("input[name$=label]").fill(LONG_WORD[:64])
    form.locator("input[name$=value]").fill(LONG_WORD)
    form.locator("button[type=submit]").click()
    page.locator("#contact-list li").first.wait_for()
    contact_id = read(live_app, select(UserContact.id).where(UserContact.user_id == user_id))
    payment_id = read(live_app, select(Payment.id).where(Payment.user_id == user_id))
    acceptance_id = read(
        live_app,
        select(UserAgreementAcceptance.id).where(UserAgreementAcceptance.user_id == user_id),
    )
    assert contact_id and payment_id and acceptance_id
    # A request to the school, with the consent given on the way and a very long word, and
    # an offer on it (leads): the lead page with an offer card and its buttons.
    page.goto(f"/schools/{SCHOOL_SLUG}/ask")
    page.locator("#message").fill(LONG_WORD)
    page.locator("#consent").check()
    page.locator("#ask-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/leads/\d+$"))
    lead_id = read(live_app, select(Lead.id).where(Lead.user_id == user_id))
    with live_data(live_app) as session:
        Factories(session).offer(session.get(Lead, lead_id), note=LONG_WORD)
        session.commit()

    arguments = {
        "slug": SCHOOL_SLUG,
        "contact_id": contact_id,
        "payment_id": payment_id,
        "acceptance_id": acceptance_id,  # a document confirmed at checkout
        "lead_id": lead_id,
        # With a subscription, the checkout (rendered above) leads to the change preview.
        "price_id": price_id(live_app, "veli-plus", "monthly"),
        # An invitation to a company's team: a parent opening it is told why they cannot join.
        "token": new_company(live_app)["token"],
    }
    for url in page_urls(live_app, PARENT, arguments):
        walk.open(url)
    for url in page_urls(live_app, ANONYMOUS, arguments):
        walk.open(url)  # the public pages with a signed-in header

    walk.finish(required=set(page_routes(live_app, PARENT)))


@JAVASCRIPT
def test_account_pages_fold_into_a_disclosure_on_a_phone(new_page, live_app, javascript):
    _, email = new_parent(live_app)
    page = new_page(javascript=javascript, viewport=PHONE)
    sign_in(page, live_app, email)
    page.goto("/account/activity")
    nav = page.locator("nav.account-nav")
    profile = nav.locator("a[href='/account/profile']")
    # Folded, saying which page this is; a tap opens it (a <details>: no JavaScript needed).
    expect(nav.locator("summary strong")).to_have_text(re.compile(r"^(Hareketler|Activity)$"))
    expect(profile).to_be_hidden()
    nav.locator("summary").click()
    expect(profile).to_be_in_viewport()
    # On a wide screen the list is simply there.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    expect(nav.locator("summary")).to_be_hidden()
    expect(profile).to_be_visible()


def new_company(app) -> dict:
    """A company with long names and a granted school: its id, its admin's and an agent's
    e-mail."""
    with live_data(app) as session:
        make = Factories(session)
        customer = make.customer(
            name="Çağdaşeğitimkurumlarıgrubu Okulları",
            legal_name=LONG_WORD,
            tax_office="Kadıköy",
            address_line=LONG_WORD,
        )
        school = make.school(customer, campuses=("Moda Kampüsü", "Ataşehir Kampüsü"))
        admin = make.customer_user(customer, Role.ADMIN, unique_email("phone-admin"))
        agent = make.customer_user(customer, Role.AGENT, unique_email("phone-agent"))
        make.grant(admin, school)
        make.grant(agent, school, school.campuses[0])
        # A parent's lead with a long message, for the staff's lead page.
        lead = make.lead(make.user("parent"), school, school.campuses[0], message=LONG_WORD)
        # A colleague invited, for the accept page a link from the mail opens.
        _, token = invitations.invite(
            session,
            admin,
            unique_email("phone-invited"),
            agent.role_id,
            None,
            NO_ORIGIN,
            utcnow(),
        )
        # An agreement sent for the admin's signature, with the company's long names in it.
        agreement = make.agreement(customer, required_roles=(Role.ADMIN,))
        agreements.send_for_signature(session, agreement, demo_agreements.PROVIDER, now=utcnow())
        session.commit()
        return {
            "admin": admin.user.email,
            "agent": agent.user.email,
            "agreement": agreement.id,
            "id": customer.id,
            "lead": lead.id,
            "member": admin.id,
            "school_slug": school.slug,
            "token": token,
        }


def test_every_page_of_company_staff_fits_a_phone(phone, live_app):
    company = new_company(live_app)
    walk = phone("admin")
    start_sign_in(walk.page, company["admin"])
    enter_sign_in_code(walk.page, live_app, company["admin"])
    pay(walk, price_id(live_app, "okul-temel", "quarterly"))  # no trial: paid at once
    arguments = {
        # The company's own school: public, so the school page opens too, and its editor.
        "slug": company["school_slug"],
        "member_id": company["member"],
        "token": company["token"],
        "payment_id": read(
            live_app, select(Payment.id).where(Payment.customer_id == company["id"])
        ),
        "price_id": price_id(live_app, "okul-temel", "yearly"),
        "lead_id": company["lead"],
        "agreement_id": company["agreement"],
    }
    for url in page_urls(live_app, CUSTOMER_USER, arguments):
        walk.open(url)
    for url in page_urls(live_app, ANONYMOUS, arguments):
        walk.open(url)
    walk.finish(required=set(page_routes(live_app, CUSTOMER_USER)))

    # An agent with a one-campus grant: what they may not see ends in an error page, which
    # has to fit too; so any answer is accepted here and nothing is required.
    agent = phone("agent")
    sign_in(agent.page, live_app, company["agent"])
    for url in page_urls(live_app, CUSTOMER_USER, arguments):
        agent.expected_404.add(f"{agent.base_url}{url}")
        agent.open(url, status=None)
    agent.finish(required={"customer.index"})


def test_every_page_of_an_operator_fits_a_phone(phone, live_app):
    with live_data(live_app) as session:
        make = Factories(session)
        operator = make.user("operator", email=unique_email("phone-operator"))
        make.user("parent", name=f"Telefonda Aranan {LONG_WORD[:40]}", email=unique_email("x"))
        session.commit()
        email = operator.email
    company = new_company(live_app)
    walk = phone("operator")
    sign_in(walk.page, live_app, email)
    for url in page_urls(live_app, OPERATOR, {"agreement_id": company["agreement"]}):
        walk.open(url)
    walk.open("/operator/?q=Telefonda")
    assert walk.page.locator("#user-results").inner_text().count("Telefonda") >= 1
    token = company["token"]
    for url in page_urls(live_app, ANONYMOUS, {"slug": SCHOOL_SLUG, "token": token}):
        walk.open(url)
    walk.finish(required=set(page_routes(live_app, OPERATOR)))
