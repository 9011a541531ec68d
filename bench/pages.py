"""Load the portal's pages under gunicorn with wrk, as signed-in users, against a reference page.

    .venv/bin/python bench/pages.py                        # 3 rounds of 4 s per page
    .venv/bin/python bench/pages.py --trials 1 --duration 2 --only home,favorites_500

One command: it makes sure the benchmark database exists (bench/build.py: built once, then
reused), installs wrk with apt-get when it is missing, starts gunicorn on 127.0.0.1 with the
production settings (2 sync workers, the reference routes on), signs the actors in, and loads
each page with wrk for --duration seconds, in --trials interleaved rounds:

    reference, hello, reference, page 1, reference, page 2, ..., reference

where each page's reference is the reference page served to the same visitor (signed out, or
signed in as the page's actor), so that its ratio is the page's own
cost and not that of being signed in, which the row "reference page, signed in" shows. Each
page's figures in a round are divided by the mean of the two reference runs around it, and
the medians of those per-round ratios are what the targets are checked against, so that a
machine busy with other work slows both sides alike. Per page it prints requests per second
and p50/p99 latency (medians over the rounds), the ratios, the gunicorn workers' CPU time per
request (from /proc, which waiting for a CPU does not inflate), the bytes of the answer and the
SQL statements of one request (both from the app in this process, on the same database), and
whether each target holds:

    full page   >= 0.5 x the reference's requests/s, p99 <= 2 x its p99, < 100 KB
    fragment    >= 0.8 x the reference's requests/s, < 1/4 of the bytes of its page
                (a fragment swapping a filtered or paged list: < 100 KB, as its page)

It exits 1 when a target fails, 2 when a page does not answer as it should.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is not a package
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import build  # noqa: E402  (bench/build.py)
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

HOST = "127.0.0.1"
USER_AGENT = "okul-bench (wrk)"  # the same for wrk and the in-process client
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
PAGE_LIMIT_BYTES = 100_000
PAGE_MIN_RATIO = 0.5
PAGE_MAX_P99_RATIO = 2.0
FRAGMENT_MIN_RATIO = 0.8
FRAGMENT_MAX_SHARE = 0.25


@dataclass
class Page:
    """One URL loaded by wrk, as one actor (None: signed out)."""

    key: str
    title: str
    path: str
    actor: str | None = None
    fragment: bool = False  # sent with the htmx headers; the fragment targets apply
    form: dict | None = None  # a POST of these fields (plus the CSRF token)
    # The page a fragment is measured against for its size: None is the same URL asked for
    # as a whole page; otherwise the key of another page.
    page_of: str | None = None
    # A fragment that swaps a list (a filtered or paged list) is most of its page by nature:
    # its size target is the page's (docs/decisions.md, "a fragment under a quarter").
    swaps_list: bool = False
    targets: bool = True  # False for the yardsticks (hello, the reference signed in)
    expected_status: int = 200


@dataclass
class Run:
    """What one wrk run measured."""

    requests: int
    rps: float
    p50: float | None  # seconds
    p99: float | None
    max_latency: float | None
    errors: int  # non-2xx/3xx answers, socket errors and timeouts
    cpu: float | None = None  # CPU seconds of the gunicorn workers per request answered


@dataclass
class Result:
    page: Page
    status: int = 0
    bytes: int = 0
    page_bytes: int | None = None  # for a fragment: the bytes of its page
    statements: int = 0
    runs: list[Run] = field(default_factory=list)
    rps_ratios: list[float] = field(default_factory=list)
    p99_ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Arguments:
    """What the pages' addresses need from the database."""

    city: str  # a city with a mid-sized share of the schools
    school_slug: str  # the school parent_1 keeps as a favorite
    favorite_school_id: int
    parent_lead_id: int  # parent_1's newest lead with an offer
    staff_lead_id: int  # the newest open lead with an offer of the big company's schools
    agent_member_id: int  # customer_users.id of the big company's first agent (a campus grant)
    big_school_slug: str  # the big company's first school, which its admin may edit
    big_school_id: int  # the same school's id (the grant form's second step names it)
    awaiting_agreement_id: int  # the big company's agreement awaiting its admin's signature
    signed_agreement_id: int  # the big company's signed agreement, with its evidence
    parent_price_id: int  # a parent plan's monthly price, for the checkout page
    accepted_document_id: int  # the subscriber's confirmed distance sales contract
    upgrade_price_id: int  # a parent monthly price above the subscriber's: an upgrade now
    subscriber_payment_id: int  # the subscriber's newest succeeded charge, for its receipt


def pages(arguments: Arguments) -> list[Page]:
    """Every page measured, in the order of a round."""
    city, school_slug = arguments.city, arguments.school_slug
    toggle = {"kind": "school", "target_id": str(arguments.favorite_school_id), "next": "/"}
    school = f"/schools/{school_slug}"
    city_query = "?" + urlencode({"city": city})
    # The search as a parent uses it: a city, a level and a budget (page and fragment), and a
    # name typed without Turkish letters ("isik" for Işık, a word in 1 of 40 school names).
    search = "/?" + urlencode(
        {"city": city, "level": "primary", "fee_min": "150.000", "fee_max": "300.000"}
    )
    name_search = "/?" + urlencode({"q": "isik"})
    # The inbox's filter form as htmx sends it on a change: every field, the school empty.
    inbox_filter = "/customer/leads?" + urlencode(
        {"state": "open", "assigned": "unassigned", "school": ""}
    )
    return [
        Page("reference_parent", "reference page, signed in", "/_bench/reference", "parent_1",
             targets=False),
        Page("home", "home (catalogue), signed out", "/"),
        Page("home_parent", "home (catalogue), parent", "/", "parent_1"),
        Page("home_city", f"home fragment ?city={city}, parent", "/" + city_query, "parent_1",
             fragment=True, swaps_list=True),
        Page("search", "search: city, level, fee range, parent", search, "parent_1"),
        Page("search_fragment", "search fragment: city, level, fee range, parent", search,
             "parent_1", fragment=True, swaps_list=True),
        Page("search_name", "search by name ?q=isik, parent", name_search, "parent_1"),
        Page("search_name_fragment", "search fragment by name ?q=isik, parent", name_search,
             "parent_1", fragment=True, swaps_list=True),
        Page("school", "school page, parent", school, "parent_1"),
        Page("plans", "plans, parent", "/plans", "parent_1"),
        Page("plans_cycle", "plans fragment ?cycle=yearly, parent", "/plans?cycle=yearly",
             "parent_1", fragment=True),
        Page("toggle", "favorite toggle (POST, kept), parent", "/account/favorites", "parent_1",
             fragment=True, form=toggle, page_of="school"),
        Page("account_1", "account home, 1 favorite", "/account/", "parent_1"),
        Page("account_500", "account home, 500 favorites", "/account/", "parent_500"),
        Page("favorites_1", "favorites, 1 favorite", "/account/favorites", "parent_1"),
        Page("favorites_500", "favorites, 500 favorites", "/account/favorites", "parent_500"),
        Page("subscription", "subscription, parent", "/account/subscription", "subscriber"),
        Page("customer_1", "company dashboard, 1 school", "/customer/", "admin_1"),
        Page("customer_200", "company dashboard, 200 schools", "/customer/", "admin_200"),
        Page("compare", "comparison of 2 schools, parent", "/compare", "parent_1"),
        Page("ask", "ask a school (form, GET), parent", f"{school}/ask", "parent_1"),
        Page("leads_1", f"my requests, {build.ONE_FAVORITE_LEADS} leads", "/account/leads",
             "parent_1"),
        Page("leads_300", f"my requests, {build.MANY_FAVORITES_LEADS} leads", "/account/leads",
             "parent_500"),
        Page("leads_300_page", "my requests fragment ?page=2, 300 leads",
             "/account/leads?page=2", "parent_500", fragment=True, swaps_list=True),
        Page("lead", "one request with an offer, parent",
             f"/account/leads/{arguments.parent_lead_id}", "parent_1"),
        Page("inbox_1", "staff inbox, 1 school", "/customer/leads", "admin_1"),
        Page("inbox_200", "staff inbox, 200 schools", "/customer/leads", "admin_200"),
        Page("inbox_filter", "staff inbox fragment: open, unassigned, 200 schools",
             inbox_filter, "admin_200", fragment=True, swaps_list=True),
        Page("staff_lead", "staff lead page with an offer, 200 schools",
             f"/customer/leads/{arguments.staff_lead_id}", "admin_200"),
        Page("operator", "operator page", "/operator/", "operator"),
        # The company portal (issue 12): the small company has 5 members and 1 school, the
        # big one 50 members and 200 schools.
        Page("team_1", "company team, 5 members", "/customer/team", "admin_1"),
        Page("team_50", "company team, 50 members, 200 schools", "/customer/team",
             "admin_200"),
        Page("member", "team member's page (an agent), 200 schools",
             f"/customer/team/{arguments.agent_member_id}", "admin_200"),
        Page("member_grant_choice", "member's page: a school's campuses to grant (htmx)",
             f"/customer/team/{arguments.agent_member_id}"
             f"?grant_school={arguments.big_school_id}",
             "admin_200", fragment=True, page_of="member"),
        Page("school_pages", "schools' own pages, 200 schools", "/customer/schools",
             "admin_200"),
        Page("school_edit", "school page editing, 200 schools",
             f"/customer/schools/{arguments.big_school_slug}", "admin_200"),
        Page("scores", "company scores, 12 weeks", "/customer/scores", "admin_200"),
        Page("activity_5", "team activity, 5 members", "/customer/activity", "admin_1"),
        Page("activity_50", "team activity, 50 members", "/customer/activity", "admin_200"),
        Page("activity_page", "team activity fragment ?page=2, 50 members",
             "/customer/activity?page=2", "admin_200", fragment=True, swaps_list=True),
        Page("cards", "saved cards, parent", "/account/cards", "subscriber"),
        Page("company_cards", "company's saved cards, 200 schools", "/customer/cards",
             "admin_200"),
        Page("staff_account", "staff member's own account", "/customer/account", "admin_1"),
        Page("invitation", "team invitation's accept page, signed out",
             f"/customer/invitations/{build.BENCH_INVITATION_TOKEN}"),
        # Agreements (issue 13): 1,000 over 1,000 companies; the big company has two.
        Page("agreements", "company's agreements, 200 schools", "/customer/agreements",
             "admin_200"),
        Page("agreement", "agreement awaiting the admin's signature",
             f"/customer/agreements/{arguments.awaiting_agreement_id}", "admin_200"),
        Page("evidence", "signed agreement's evidence page",
             f"/customer/agreements/{arguments.signed_agreement_id}/evidence", "admin_200"),
        Page("evidence_pdf", "signed agreement's evidence PDF (made once a worker)",
             f"/customer/agreements/{arguments.signed_agreement_id}/evidence.pdf", "admin_200"),
        Page("operator_agreements", "operator's agreements and texts, 1,001",
             "/operator/agreements", "operator"),
        Page("operator_agreements_page", "operator's agreements fragment ?page=2",
             "/operator/agreements?page=2", "operator", fragment=True, swaps_list=True),
        Page("pay", "pay a signed agreement's installment (form), 200 schools",
             f"/customer/agreements/{arguments.signed_agreement_id}/pay", "admin_200"),
        Page("renewals", "operator's renewals due, 1,001 agreements",
             "/operator/agreements/renewals", "operator"),
        Page("follow_ups", "operator's renewal discounts to follow up",
             "/operator/agreements/renewals/follow-ups", "operator"),
        Page("renewal", "operator's renewal page of a signed agreement",
             f"/operator/agreements/{arguments.signed_agreement_id}/renewal", "operator"),
        Page("checkout", "parent checkout with the pre-information form and contract",
             f"/plans/{arguments.parent_price_id}/checkout", "parent_1"),
        Page("accepted_document", "subscriber's confirmed distance sales contract",
             f"/account/subscription/documents/{arguments.accepted_document_id}",
             "subscriber"),
        # Subscriptions (issue 14): the upgrade's prorated preview, the cancel page with what
        # it refunds, a receipt and its download, the account deletion page's warning.
        Page("upgrade", "subscriber's upgrade preview (prorated)",
             f"/subscription/change/{arguments.upgrade_price_id}", "subscriber"),
        Page("cancel", "subscriber's cancel page, with its refunds", "/subscription/cancel",
             "subscriber"),
        Page("receipt", "subscriber's receipt with buyer and issuer",
             f"/payments/{arguments.subscriber_payment_id}/receipt", "subscriber"),
        Page("receipt_download", "subscriber's receipt as a file",
             f"/payments/{arguments.subscriber_payment_id}/receipt/download", "subscriber"),
        Page("delete_account", "account deletion page, with the subscription's fate",
             "/account/delete", "subscriber"),
        # The form only: asking with a hash is rate limited (20 a minute an address), which
        # wrk would meet at once; the lookup is one indexed statement (its tests count it).
        Page("verify", "public verification page, signed out", "/agreements/verify"),
    ]  # fmt: skip


# Pairs whose statement counts must not differ: the same page over little and much data.
SAME_STATEMENTS = [
    ("account_1", "account_500"),
    ("favorites_1", "favorites_500"),
    ("customer_1", "customer_200"),
    ("leads_1", "leads_300"),
    ("inbox_1", "inbox_200"),
    ("team_1", "team_50"),
    ("activity_5", "activity_50"),
]
REFERENCE = Page("reference", "reference page, signed out", "/_bench/reference", targets=False)
HELLO = Page("hello", "hello", "/_bench/hello", targets=False)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    started = time.perf_counter()
    load_before = os.getloadavg()
    built = build.ensure(args.server_url, args.database, rebuild=args.rebuild)
    how = "reused" if built.reused else "built now"
    print(f"database {args.database}: {how}; building took {built.seconds:.0f} s", flush=True)
    wrk = _ensure_wrk()
    settings = _settings(built.url)
    app = _in_process_app(settings)
    with app.app_context():
        arguments = _page_arguments()
    measured = pages(arguments)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {page.key for page in measured}
        if unknown:
            print(f"unknown pages: {sorted(unknown)}", file=sys.stderr)
            return 2
        measured = [page for page in measured if page.key in wanted]
    port = args.port or _free_port()
    server = _start_gunicorn(settings, port, args.workers)
    try:
        clients = _sign_in(app, sorted({p.actor for p in measured if p.actor}))
        results = {page.key: Result(page) for page in [REFERENCE, HELLO, *measured]}
        for result in results.values():
            _measure_in_process(app, clients, result, results)
        broken = [r for r in results.values() if r.status != r.page.expected_status]
        for result in broken:
            print(f"{result.page.key}: {result.page.path} answered {result.status}", flush=True)
        if results["reference"] in broken or results["hello"] in broken:
            return 2  # nothing to measure against
        loaded = [r for r in results.values() if r not in broken]
        with tempfile.TemporaryDirectory(prefix="okul-bench-") as scratch:
            load = Load(
                args,
                wrk,
                port,
                server.pid,
                cookies={actor: _cookie_header(app, c) for actor, c in clients.items()},
                tokens={actor: c.csrf_token for actor, c in clients.items()},
                scratch=Path(scratch),
            )
            _rounds(load, loaded)
    finally:
        _stop(server)
    load_after = os.getloadavg()
    _check(results)
    _report(args, results, built, load_before, load_after, time.perf_counter() - started)
    if any(r.status != r.page.expected_status for r in results.values()):
        return 2
    return 1 if any(r.failed for r in results.values()) else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run (4)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (4)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--port", type=int, help="gunicorn's port (default: a free one)")
    parser.add_argument("--only", help="comma-separated page keys (see the table)")
    parser.add_argument("--database", default=build.DEFAULT_DATABASE)
    parser.add_argument("--server-url", default=build.DEFAULT_SERVER_URL)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    args = parser.parse_args(argv)
    if args.trials < 1 or args.duration < 1 or args.connections < args.threads:
        parser.error("--trials and --duration are 1 or more, --connections >= --threads")
    return args


# --- Setting up: wrk, the settings, gunicorn, the in-process app and the sign-ins ---------


def _ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    if os.geteuid() != 0:
        raise SystemExit("wrk is not installed and this is not root: apt-get install wrk")
    quiet = dict(stdout=subprocess.DEVNULL, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet).returncode:
        subprocess.run(["apt-get", "update"], check=True, **quiet)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, **quiet)
    return shutil.which("wrk") or "/usr/bin/wrk"


# A made-up issuer whose VKN passes its check digits (production checks them at start).
BENCH_RECEIPT_ISSUER = "Okul Bench A.Ş.|Maslak Mah. 1, Sarıyer / İstanbul|Maslak V.D. · 1234567890"


def _settings(database_url: str) -> dict[str, str]:
    """The environment of a production deployment on this machine, plus the reference routes."""
    return {
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "TRUSTED_HOSTS": HOST,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_KEY_PREFIX": f"okul-bench-{os.getpid()}",
        "PORTAL_BENCH_ROUTES": "true",
        # Production refuses to start without a real issuer for its receipts.
        "RECEIPT_ISSUER": BENCH_RECEIPT_ISSUER,
    }


class Browser(FlaskClient):
    """The in-process client: asks for http://127.0.0.1 (a trusted host) and reads and closes
    every answer, as a server does, so mail committed by a request is delivered after it."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        kwargs.setdefault("base_url", f"http://{HOST}")
        return super().open(*args, **kwargs)


def _in_process_app(settings: dict[str, str]):
    """The same settings in this process (the config classes read the environment when they
    are imported, so they are passed as overrides), with mail kept in a list: the sign-in
    codes are read there."""
    os.environ["PORTAL_ENV"] = "production"
    app = create_app(
        {
            "SECRET_KEY": settings["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": settings["DATABASE_URL"],
            "TRUSTED_HOSTS": [HOST],
            "RATELIMIT_STORAGE_URI": settings["RATELIMIT_STORAGE_URI"],
            "RATELIMIT_KEY_PREFIX": settings["RATELIMIT_KEY_PREFIX"],
            "BENCH_ROUTES": True,
            "MAIL_BACKEND": "memory",
            "RECEIPT_ISSUER": tuple(settings["RECEIPT_ISSUER"].split("|")),
        }
    )
    app.test_client_class = Browser
    return app


def _page_arguments() -> Arguments:
    """A city with a mid-sized share of the schools, the school page, the school the parent
    with one favorite keeps (what the toggle posts), the leads shown on their own page, and
    the big company's agent and school shown on theirs."""
    connection = db.session.connection()
    city = connection.scalar(
        text(
            "SELECT city FROM schools WHERE is_published GROUP BY city"
            " ORDER BY count(*) DESC, city OFFSET 1 LIMIT 1"
        )
    )
    kept = connection.scalar(
        text(
            "SELECT f.favoritable_id FROM user_favorites AS f JOIN users AS u ON u.id = f.user_id"
            " WHERE u.email = :email AND f.favoritable_type = 'school'"
        ),
        dict(email=build.ACTORS["parent_1"].email),
    )
    slug = connection.scalar(text("SELECT slug FROM schools WHERE id = :id"), dict(id=kept))
    with_offer = "EXISTS (SELECT 1 FROM school_offers AS o WHERE o.lead_id = l.id)"
    parent_lead = connection.scalar(
        text(
            "SELECT l.id FROM leads AS l JOIN users AS u ON u.id = l.user_id"
            f" WHERE u.email = :email AND {with_offer}"
            " ORDER BY l.created_at DESC, l.id DESC LIMIT 1"
        ),
        dict(email=build.ACTORS["parent_1"].email),
    )
    staff_lead = connection.scalar(
        text(
            "SELECT l.id FROM leads AS l JOIN schools AS s ON s.id = l.school_id"
            f" WHERE s.customer_id = :big AND l.state = 'open' AND {with_offer}"
            " ORDER BY l.created_at DESC, l.id DESC LIMIT 1"
        ),
        dict(big=build.BIG_COMPANY_ID),
    )
    agent = connection.scalar(
        text(
            "SELECT cu.id FROM customer_users AS cu"
            " JOIN customer_user_roles AS role ON role.id = cu.role_id"
            " WHERE cu.customer_id = :big AND role.code = 'agent' AND cu.is_active"
            " ORDER BY cu.id LIMIT 1"
        ),
        dict(big=build.BIG_COMPANY_ID),
    )
    big_school_id, big_school = connection.execute(
        text("SELECT id, slug FROM schools WHERE customer_id = :big ORDER BY id LIMIT 1"),
        dict(big=build.BIG_COMPANY_ID),
    ).first() or (None, None)
    big_agreements = dict(
        connection.execute(
            text(
                "SELECT status, max(id) FROM customer_agreements WHERE customer_id = :big"
                " GROUP BY status"
            ),
            dict(big=build.BIG_COMPANY_ID),
        ).all()
    )
    parent_price = connection.scalar(
        text(
            "SELECT pp.id FROM plan_prices AS pp"
            " JOIN subscription_plans AS p ON p.id = pp.subscription_plan_id"
            " WHERE p.audience = 'parents' AND pp.billing_cycle = 'monthly' AND pp.amount > 0"
            " AND pp.status = 'active'"
            " ORDER BY pp.amount, pp.id LIMIT 1"
        )
    )
    accepted_document = connection.scalar(
        text(
            "SELECT a.id FROM user_agreement_acceptances AS a JOIN users AS u ON u.id = a.user_id"
            " WHERE u.email = :email AND a.kind = 'parent_distance_sales'"
            " ORDER BY a.id LIMIT 1"
        ),
        dict(email=build.ACTORS["subscriber"].email),
    )
    subscriber = dict(email=build.ACTORS["subscriber"].email)
    upgrade_price = connection.scalar(
        text(
            "SELECT pp.id FROM plan_prices AS pp"
            " JOIN subscription_plans AS p ON p.id = pp.subscription_plan_id"
            " WHERE p.audience = 'parents' AND pp.billing_cycle = 'monthly'"
            " AND pp.status = 'active' AND pp.amount > ("
            "  SELECT s.amount FROM user_subscriptions AS s JOIN users AS u ON u.id = s.user_id"
            "  WHERE u.email = :email AND s.status = 'active')"
            " ORDER BY pp.amount, pp.id LIMIT 1"
        ),
        subscriber,
    )
    subscriber_payment = connection.scalar(
        text(
            "SELECT pay.id FROM payments AS pay JOIN users AS u ON u.id = pay.user_id"
            " WHERE u.email = :email AND pay.status = 'succeeded' AND pay.purpose <> 'refund'"
            " ORDER BY pay.id DESC LIMIT 1"
        ),
        subscriber,
    )
    db.session.rollback()
    if upgrade_price is None or subscriber_payment is None:
        raise SystemExit("the benchmark database's subscriber has no upgrade or payment: --rebuild")
    if accepted_document is None:
        raise SystemExit("the benchmark database holds no confirmed sale documents: --rebuild it")
    if parent_price is None:
        raise SystemExit("the benchmark database holds no parent plan: --rebuild it")
    if "signed" not in big_agreements or "awaiting_signature" not in big_agreements:
        raise SystemExit("the benchmark database holds no agreements: --rebuild it")
    if parent_lead is None or staff_lead is None:
        raise SystemExit("the benchmark database holds no leads with offers: --rebuild it")
    if agent is None or big_school is None:
        raise SystemExit("the benchmark database holds no big company's team: --rebuild it")
    return Arguments(
        city,
        slug,
        kept,
        parent_lead,
        staff_lead,
        agent,
        big_school,
        big_school_id,
        big_agreements["awaiting_signature"],
        big_agreements["signed"],
        parent_price,
        accepted_document,
        upgrade_price,
        subscriber_payment,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _start_gunicorn(settings: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    command = [
        str(gunicorn) if gunicorn.exists() else "gunicorn",
        "--workers", str(workers),
        "--worker-class", "sync",
        "--bind", f"{HOST}:{port}",
        "--timeout", "120",
        "--graceful-timeout", "5",
        "--log-level", "warning",
        "portal:create_app()",
    ]  # fmt: skip
    environment = {**os.environ, **settings}
    server = subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/_bench/hello", timeout=2) as answer:
                if answer.status == 200:
                    print(f"gunicorn: {workers} sync workers on {HOST}:{port}", flush=True)
                    return server
        except OSError:
            time.sleep(0.2)
    _stop(server)
    raise SystemExit("gunicorn did not answer /_bench/hello within 30 s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # the arbiter stops its workers
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _sign_in(app, actors: list[str]) -> dict:
    """A test client per actor, signed in through the real forms as a browser would be.

    Each actor's browser has a fixed device cookie: the first run enters the mailed one-time
    code (read from the memory outbox) and the device becomes known; later runs sign in with
    the password alone, so repeated runs do not spend the account's hourly code budget.
    """
    clients = {}
    for key in actors:
        actor = build.ACTORS[key]
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        client.set_cookie(app.config["DEVICE_COOKIE_NAME"], f"okul-bench-device-{key}", domain=HOST)
        token = _csrf_token(client.get("/auth/login"))
        answer = client.post(
            "/auth/login",
            data={"email": actor.email, "password": build.BENCH_PASSWORD, "csrf_token": token},
        )
        if answer.headers.get("Location") == "/auth/one-time-code":
            code = _last_code(app, actor.email)
            answer = client.post(
                "/auth/one-time-code",
                data={"code": code, "csrf_token": token},
            )
        if answer.status_code != 303:
            raise SystemExit(f"signing in as {actor.email} failed: {answer.status_code}")
        home = client.get(answer.headers["Location"])
        client.csrf_token = _csrf_token(home)  # what a form on the next page would carry
        clients[key] = client
    return clients


def _csrf_token(response) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    if not found:
        raise SystemExit(f"no CSRF token on {response.request.path} ({response.status_code})")
    return found.group(1)


def _last_code(app, email: str) -> str:
    mails = [m for m in app.extensions.get("mail_outbox", []) if m.to == email]
    if not mails:
        raise SystemExit(f"no sign-in code was mailed to {email}")
    return re.search(r"\b(\d{6})\b", mails[-1].body).group(1)


def _cookie_header(app, client) -> str:
    names = (app.config["SESSION_COOKIE_NAME"], app.config["DEVICE_COOKIE_NAME"])
    cookies = [client.get_cookie(name, domain=HOST) for name in names]
    return "; ".join(f"{c.key}={c.value}" for c in cookies if c is not None)


# --- In process: status, bytes and SQL statements of one request --------------------------


def _request(client, page: Page, htmx: bool | None = None):
    headers = dict(HTMX) if (page.fragment if htmx is None else htmx) else {}
    if page.form is not None:
        data = {**page.form, "csrf_token": client.csrf_token}
        return client.post(page.path, data=data, headers=headers)
    return client.get(page.path, headers=headers)


def _measure_in_process(app, clients: dict, result: Result, results: dict) -> None:
    """Status, bytes and statements of the page, asked once to warm up and once counted."""
    page = result.page
    client = clients[page.actor] if page.actor else _anonymous(app)
    _request(client, page)  # warm: templates compiled, the session's last_seen_at touched
    with app.app_context():
        engine = db.engine
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = _request(client, page)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    result.status, result.bytes, result.statements = (
        answer.status_code,
        len(answer.get_data()),
        len(statements),
    )
    if page.fragment and page.page_of is None:
        result.page_bytes = len(_request(client, page, htmx=False).get_data())


_ANONYMOUS = {}


def _anonymous(app):
    if "client" not in _ANONYMOUS:
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        _ANONYMOUS["client"] = client
    return _ANONYMOUS["client"]


# --- Under load: wrk -----------------------------------------------------------------------


@dataclass
class Load:
    """What every wrk run needs: the options, wrk, the server and the actors' browsers."""

    args: argparse.Namespace
    wrk: str
    port: int
    server_pid: int
    cookies: dict[str, str]
    tokens: dict[str, str]
    scratch: Path


def _rounds(load: Load, loaded: list[Result]) -> None:
    """The interleaved rounds: before and after every page, the reference page as served to
    the same visitor (signed out, or signed in as the page's actor).

    A page is compared with the reference its own visitor gets, so its ratio is what the page
    adds to the layout and the session every page of that visitor pays; what being signed in
    costs is the yardstick row "reference page, signed in", compared with the signed-out one.
    """
    by_key = {r.page.key: r for r in loaded}
    reference = by_key.pop("reference")
    others = list(by_key.values())
    trials = load.args.trials
    done = 0
    for trial in range(1, trials + 1):
        before: Run | None = None
        before_actor: str | None = "-"  # no reference run yet in this round
        for result in others:
            actor = result.page.actor if result.page.targets else None
            yardstick = _reference_for(actor)
            if before is None or before_actor != actor:
                before = _wrk(load, yardstick)
                if actor is None:
                    reference.runs.append(before)
                done += 1
            run = _wrk(load, result.page)
            after = _wrk(load, yardstick)
            if actor is None:
                reference.runs.append(after)
            result.runs.append(run)
            for ratios, value, base in (
                (result.rps_ratios, run.rps, _mean(before.rps, after.rps)),
                (result.p99_ratios, run.p99, _mean(before.p99, after.p99)),
                (result.cpu_ratios, run.cpu, _mean(before.cpu, after.cpu)),
            ):
                if value is not None and base:
                    ratios.append(value / base)
            done += 2
            print(
                f"  round {trial}/{trials} [{done}] {result.page.key:<17}"
                f" {run.rps:8.1f} req/s  p99 {_ms(run.p99):>9}  CPU {_ms(run.cpu):>8}/req"
                f"  reference ({actor or 'signed out'}) {before.rps:7.1f} / {after.rps:7.1f}"
                " req/s",
                flush=True,
            )
            before, before_actor = after, actor


def _reference_for(actor: str | None) -> Page:
    """The reference page as `actor` (None: signed out) is served it."""
    if actor is None:
        return REFERENCE
    return Page(f"reference_{actor}", f"reference page, {actor}", REFERENCE.path, actor,
                targets=False)  # fmt: skip


def _wrk(load: Load, page: Page) -> Run:
    args = load.args
    command = [
        load.wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout", "60s",
        "--latency",
        "-H", f"User-Agent: {USER_AGENT}",
    ]  # fmt: skip
    if page.actor:
        command += ["-H", f"Cookie: {load.cookies[page.actor]}"]
    if page.fragment:
        command += [arg for name, value in HTMX.items() for arg in ("-H", f"{name}: {value}")]
    if page.form is not None:
        script = load.scratch / f"{page.key}.lua"
        body = urlencode({**page.form, "csrf_token": load.tokens[page.actor]})
        script.write_text(
            'wrk.method = "POST"\n'
            f'wrk.body = "{body}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        )
        command += ["-s", str(script)]
    command.append(f"http://{HOST}:{load.port}{page.path}")
    workers = _children(load.server_pid)
    cpu_before = _cpu_seconds(workers)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu_after = _cpu_seconds(workers)
    run = _parse_wrk(output)
    if run.requests and cpu_before is not None and cpu_after is not None:
        run.cpu = (cpu_after - cpu_before) / run.requests
    # Requests still being served when wrk stopped would slow the next run down: let them end.
    busy = run.max_latency if run.requests else float(args.duration)
    if busy and busy > 0.2:
        time.sleep(min(busy, 30.0))
    return run


def _children(pid: int) -> list[int]:
    """The gunicorn arbiter's workers."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = entry.joinpath("stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _cpu_seconds(pids: list[int]) -> float | None:
    """User and system CPU seconds so far of these processes (None when one has gone: a
    worker restarted, and the difference would mean nothing)."""
    total = 0
    for pid in pids:
        try:
            # Fields 14 and 15 of stat, counted after the ")" that ends the command name.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK") if pids else None


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS[unit]


def _parse_wrk(output: str) -> Run:
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", output, re.MULTILINE))
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", output)
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    if not requests:
        return Run(0, 0.0, None, None, None, errors)
    return Run(
        requests,
        rps,
        _seconds(percentiles["50"]),
        _seconds(percentiles["99"]),
        _seconds(latency.group(3)),
        errors,
    )


# --- The targets and the report -------------------------------------------------------------


def _check(results: dict[str, Result]) -> None:
    for result in results.values():
        page = result.page
        if result.status != page.expected_status:
            result.failed.append(f"answered {result.status}")
            continue
        errors = sum(run.errors for run in result.runs)
        if errors:
            result.failed.append(f"{errors} errors under load")
        if not page.targets:
            continue
        ratio, p99 = _median(result.rps_ratios), _median(result.p99_ratios)
        if page.fragment:
            if ratio is None or ratio < FRAGMENT_MIN_RATIO:
                result.failed.append(f"req/s {_x(ratio)} < {FRAGMENT_MIN_RATIO} x")
            whole = result.page_bytes
            if page.page_of and page.page_of in results:
                whole = results[page.page_of].bytes
            if page.swaps_list:
                if result.bytes >= PAGE_LIMIT_BYTES:
                    result.failed.append(f"{result.bytes / 1000:.0f} KB >= 100 KB")
            elif whole and result.bytes >= FRAGMENT_MAX_SHARE * whole:
                result.failed.append(f"{result.bytes / whole:.0%} of its page's bytes")
        else:
            if ratio is None or ratio < PAGE_MIN_RATIO:
                result.failed.append(f"req/s {_x(ratio)} < {PAGE_MIN_RATIO} x")
            if p99 is None or p99 > PAGE_MAX_P99_RATIO:
                result.failed.append(f"p99 {_x(p99)} > {PAGE_MAX_P99_RATIO} x")
            if result.bytes >= PAGE_LIMIT_BYTES:
                result.failed.append(f"{result.bytes / 1000:.0f} KB >= 100 KB")
    for small, big in SAME_STATEMENTS:
        if small in results and big in results:
            a, b = results[small].statements, results[big].statements
            if a != b:
                results[big].failed.append(f"{b} statements, {a} for {small}")


def _report(args, results, built, load_before, load_after, seconds: float) -> None:
    """The table: medians over the rounds; `x ref` is the median of the per-round ratios of
    requests/s to the reference's (with the lowest and highest round), `p99 x` the same for
    p99, `CPU/req` the gunicorn workers' CPU per request and `CPU x` its ratio."""
    print()
    print(
        f"{'page':<38} {'req/s':>7} {'p50':>8} {'p99':>8} {'x ref':>5} {'(rounds)':>11}"
        f" {'p99 x':>5} {'CPU/req':>8} {'CPU x':>5} {'bytes':>8} {'SQL':>3}  target"
    )
    for result in results.values():
        runs = [run for run in result.runs if run.requests]
        verdict = "-" if not result.page.targets else "ok"
        if result.failed:
            verdict = "FAIL: " + "; ".join(result.failed)
        elif result.page.targets and result.page.fragment:
            whole = result.page_bytes or results.get(result.page.page_of, result).bytes
            verdict = f"ok ({result.bytes / whole:.0%} of its page)" if whole else "ok"
        ratios = [result.rps_ratios, result.p99_ratios, result.cpu_ratios]
        if result.page.key == "reference":
            ratios = [[1.0], [1.0], [1.0]]
        spread = f"{min(ratios[0]):.2f}-{max(ratios[0]):.2f}" if ratios[0] else "-"
        print(
            f"{result.page.title[:38]:<38} {_num(_median(r.rps for r in result.runs)):>7}"
            f" {_ms(_median(r.p50 for r in runs)):>8} {_ms(_median(r.p99 for r in runs)):>8}"
            f" {_x(_median(ratios[0])):>5} {spread:>11} {_x(_median(ratios[1])):>5}"
            f" {_ms(_median(r.cpu for r in runs)):>8} {_x(_median(ratios[2])):>5}"
            f" {result.bytes:>8,} {result.statements:>3}  {verdict}"
        )
    print()
    # hello's requests/s over the reference's, per round: what the reference costs in hellos.
    hello = results["hello"]
    if hello.rps_ratios:
        cpu = _median(hello.cpu_ratios)
        in_cpu = f", {1 / cpu:.1f} x in the workers' CPU per request" if cpu else ""
        print(f"the reference page costs {_median(hello.rps_ratios):.1f} x a bare hello{in_cpu}")
    signed_in = results.get("reference_parent")
    if signed_in and signed_in.rps_ratios:
        extra = 1 / _median(signed_in.rps_ratios) - 1
        cpu = _median(signed_in.cpu_ratios)
        in_cpu = f", {cpu - 1:+.0%} in CPU per request" if cpu else ""
        print(f"signed in (as a parent), the reference page costs {extra:+.0%} more{in_cpu}")
    print(
        f"{args.trials} rounds of {args.duration} s per page, wrk -t{args.threads}"
        f" -c{args.connections}, gunicorn {args.workers} sync workers;"
        f" database {'reused' if built.reused else 'built now'}, building took"
        f" {built.seconds:.0f} s"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, {_memory_gib():.1f} GiB RAM,"
        f" PostgreSQL {_server_version(args.server_url)}, load average {load_before[0]:.2f}"
        f" before, {load_after[0]:.2f} after; the run took {seconds / 60:.1f} min"
    )


def _server_version(server_url: str) -> str:
    engine = create_engine(server_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SHOW server_version")).split()[0]
    finally:
        engine.dispose()


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _mean(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return sum(values) / len(values) if values else None


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
