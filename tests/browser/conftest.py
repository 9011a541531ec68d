"""Fixtures for the real-browser tests: a live server on a demo database, Debian's Chromium.

One live server and one browser serve the whole session; every test gets fresh contexts
(so fresh cookies: no language choice or sign-in leaks from one test into the next).

Needs, besides the Python packages: Debian's Chromium at /usr/bin/chromium and axe-core
installed by `npm ci --prefix tests/browser`. When either is missing the tests are skipped,
except under CI=true, where they fail: CI must not pass by testing nothing.
"""

import os

os.environ.setdefault("PORTAL_ENV", "test")

import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from portal.extensions import db  # noqa: E402
from portal.models import PlanPrice, SubscriptionPlan  # noqa: E402
from tests.factories import Factories  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# A common phone held upright (iPhone 12 to 15), in CSS pixels.
PHONE = {"width": 390, "height": 844}

# Playwright's own default is 30 s per action; a local server answers in milliseconds, so a
# shorter limit makes a broken page fail fast instead of stalling the suite.
TIMEOUT_MS = 10_000


def _missing(what: str) -> None:
    """Fail under CI (a missing prerequisite must not look like a green run), else skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: the browser tests must run in CI)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The portal on a throwaway SQLite database with the demo data.

    Its mail goes to `live_app.extensions["mail_outbox"]` (PORTAL_ENV=test), which is where
    the tests read sign-in and verification codes, as a person reads their inbox.
    """
    import flask_migrate

    from portal import create_app, demo
    from portal.extensions import db

    folder = tmp_path_factory.mktemp("browser")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/browser.db",
            "TESTING": False,
            # The tests play `flask mail deliver`, the backstop, when they read a code: a claim
            # or a retry must not keep a mail back for minutes, as in production it may.
            "MAIL_CLAIM_TIMEOUT": timedelta(seconds=2),
            "MAIL_RETRY_FIRST": timedelta(milliseconds=200),
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        demo.load(db.session)
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _read_whole(wsgi_app):
    """Each response read whole and closed before the server writes it.

    Werkzeug's server closes a response only after draining the socket, which raises when
    the browser has dropped the connection mid-way (it does, for a favicon or a page left
    while loading): a static file stays open, and its ResourceWarning fails the test that
    happens to be running. The portal streams nothing, so reading whole changes nothing else.
    """

    def app(environ, start_response):
        iterable = wsgi_app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return app


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The live app served from a thread on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, _read_whole(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def last_code_mailed_to(app, email: str) -> str:
    """The 6-digit code in the newest mail to `email`, once no mail to it is waiting.

    The server delivers a request's mail just after sending its response, so the page can be
    on screen a moment before the mail is in the inbox; an older code must not be read then.
    """
    from sqlalchemy import func

    from portal import mail
    from portal.models import MailOutbox

    to_this_address = (MailOutbox.recipient == email, MailOutbox.sent_at.is_(None))
    # Look a few times a second, not in a tight loop: on SQLite every look is a read lock
    # that the server's delivery (a write) has to wait out.
    deadline = time.monotonic() + 15
    with app.app_context():
        # Only this address's mail matters; another test's may still be on its way.
        while db.session.scalar(select(func.count(MailOutbox.id)).where(*to_this_address)):
            db.session.rollback()  # the next look reads afresh
            # The server hands a request's mail off after its response; should that hand-off
            # not get to it (a busy SQLite, a closed connection), the worker would: so do we.
            mail.deliver()
            assert time.monotonic() < deadline, "mail is still waiting in the outbox"
            time.sleep(0.1)
    mails = [m for m in app.extensions.get("mail_outbox", []) if m.to == email]
    assert mails, f"no mail to {email}"
    return re.search(r"\b(\d{6})\b", mails[-1].body).group(1)


def start_sign_in(page: Page, email: str, password: str = Factories.PASSWORD) -> None:
    """The password step; a browser new to the account lands on the one-time-code page."""
    page.goto("/auth/login")
    form = page.locator("#login-form")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/auth/one-time-code$"))


def enter_sign_in_code(page: Page, app, email: str) -> None:
    """The code mailed for the pending sign-in; lands on the audience's home page."""
    page.locator("#code-form input[name=code]").fill(last_code_mailed_to(app, email))
    page.locator("#code-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/(account|customer|operator)/$"))


def sign_in(page: Page, app, email: str, password: str = Factories.PASSWORD) -> None:
    """Password, then the one-time code this new browser is asked for."""
    start_sign_in(page, email, password)
    enter_sign_in_code(page, app, email)


def settle(page: Page) -> None:
    """Wait until htmx has finished its swap and the page has stopped moving.

    htmx 4 wires up swapped-in content (its hx-get links, hx-post forms) only after the settle
    delay, and during it the new elements carry the old ones' classes (`htmx-request`, which
    the stylesheet fades to opacity .7 with a .2 s transition). Clicking too early would follow
    a plain link; running axe too early would measure a half-faded form's contrast.
    """
    page.wait_for_function(
        """() => !document.querySelector(
                '.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')
            && document.getAnimations().length === 0"""
    )


@contextmanager
def live_data(app):
    """The live app's database session, for arranging rows and reading what the pages did."""
    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


def price_id(app, plan_code: str, billing_cycle: str) -> int:
    """The demo catalogue's price of a plan on a billing cycle."""
    with live_data(app) as session:
        return session.scalar(
            select(PlanPrice.id)
            .join(SubscriptionPlan, SubscriptionPlan.id == PlanPrice.subscription_plan_id)
            .where(SubscriptionPlan.code == plan_code, PlanPrice.billing_cycle == billing_cycle)
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole session."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: install Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


# The pages are served with their Content-Security-Policy (portal/core/views/headers.py); a
# violation is a bug (an inline style or script, an eval in htmx) even when the page still
# looks right, so every context records them and the test fails. Chromium logs each refusal
# to the console; the listener adds the event's details for the ones it reports only to the
# page.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || location.href}:${event.lineNumber}`);
});
"""


def _is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation:") or "Content Security Policy" in text


def _new_context(browser: Browser, live_server: str, **options) -> BrowserContext:
    context = browser.new_context(base_url=live_server, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    violations: list[str] = []
    context.csp_violations = violations
    context.add_init_script(CSP_LISTENER)

    def record(message) -> None:
        if _is_csp_violation(message.text):
            violations.append(f"{message.page and message.page.url}: {message.text}")

    context.on("console", record)
    return context


def assert_no_csp_violation(*contexts: BrowserContext) -> None:
    """Fail the test if any page of these contexts broke the Content-Security-Policy."""
    found = [line for context in contexts for line in context.csp_violations]
    if found:
        pytest.fail(
            f"{len(found)} Content-Security-Policy violation(s):\n" + "\n".join(found),
            pytrace=False,
        )


@pytest.fixture
def context(browser, live_server) -> Iterator[BrowserContext]:
    """A fresh browser profile with JavaScript on (htmx active)."""
    context = _new_context(browser, live_server)
    yield context
    context.close()
    assert_no_csp_violation(context)


@pytest.fixture
def page(context) -> Page:
    """A page with JavaScript on; `page.goto("/")` opens the live server's home page."""
    return context.new_page()


@pytest.fixture
def nojs_context(browser, live_server) -> Iterator[BrowserContext]:
    """A fresh browser profile with JavaScript off: plain HTML forms and links only."""
    context = _new_context(browser, live_server, java_script_enabled=False)
    yield context
    context.close()
    assert_no_csp_violation(context)


@pytest.fixture
def nojs_page(nojs_context) -> Page:
    return nojs_context.new_page()


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable[..., Page]]:
    """`new_page(javascript=False)`: a page in a fresh profile, for tests parametrized on JS.

    Other keywords go to the context: `new_page(viewport=PHONE)` is a phone-sized window.
    """
    contexts: list[BrowserContext] = []

    def make(javascript: bool = True, **options) -> Page:
        context = _new_context(browser, live_server, java_script_enabled=javascript, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert_no_csp_violation(*contexts)


@pytest.fixture(scope="session")
def axe_source() -> Path:
    if not AXE_JS.exists():
        _missing(f"{AXE_JS} is missing: run `npm ci --prefix tests/browser`")
    return AXE_JS


def format_violations(violations: list[dict]) -> str:
    """One block per violated rule: id, impact, help, and each offending node."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']}"
            f" <{violation.get('helpUrl', '')}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    target: {node['target']}")
            lines.append(f"      html: {node.get('html', '')[:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n        ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


@pytest.fixture
def assert_accessible(axe_source) -> Callable[[Page], None]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page as it is now; no violations."""

    def check(page: Page) -> None:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through DevTools rather than added as an inline <script>, which the
            # page's CSP would (rightly) refuse.
            page.evaluate(axe_source.read_text())
        results = page.evaluate(
            """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})""",
            AXE_TAGS,
        )
        violations = results["violations"]
        if violations:
            pytest.fail(
                f"axe-core found {len(violations)} accessibility violation(s) on {page.url}:\n"
                + format_violations(violations)
            )

    return check
