"""Build the benchmark's PostgreSQL database at a country's volume, or reuse the one there.

    .venv/bin/python bench/build.py [--rebuild] [--database okul_bench] [--server-url URL]

The database (okul_bench by default, on postgres@127.0.0.1:5432 with trust authentication,
or --server-url / OKUL_BENCH_POSTGRESQL_URL) is made by the Alembic migrations and filled
set-based, a few INSERT ... SELECT statements per table:

    210,045 users: 199,999 parents (with details and the KVKK consent), 10,045 staff,
            1 operator; one argon2 hash, computed once, is every user's password
    2,000 companies (customers), each with 5 staff: an admin granted every school of the
            company, a school manager, an admissions agent (one campus), finance, an agent;
            the big company 45 more (50: agents with a campus each, managers with 3
            schools, finance), 3 pending invitations, and 30 days of activity per member of
            it and of the small company
    5,000 schools (4,800 published) with their levels and 15,000 campuses (3 each), and
            each campus's fee for each level of its school, this school year and the next
    1,000,000 favorites, 100,000 subscriptions (98,000 parents', 2,000 companies') with a
            saved card each and a payment for every period paid so far
    the demo plan catalogue (portal/demo/plans.py) and 13 scores per company (weekly over
            12 weeks, and 30 days ago)
    200,000 leads (about 70,000 parents; 70 % open), each with its "opened" event, a third
            with an offer (school_offers) and its events, the ended ones with their end;
            the parents' lead counters (user_details) agreeing with them
    the company service text and 1,001 agreements (one for each of the first 1,000
            companies, the big company a second): 60 % signed by the admin, with a chained
            sign record each, 30 % awaiting the admin's signature, 10 % drafts

and the actors bench/pages.py signs in as (ACTORS below): a parent with 1 favorite and 3
leads (who compares 2 schools), one with 500 favorites and 300 leads (and Veli Premium), one
with a year of monthly Veli Plus payments, the admin of a company with 1 school and of one
with 200 schools (3 campuses each; about 16,000 leads, which the admin's whole-school grants
cover; a team of 50 on okul-pro), and an operator; and an invitation whose link carries
BENCH_INVITATION_TOKEN, for its accept page.

When it is done the database carries a marker (COMMENT ON DATABASE) naming this builder's
version and the Alembic head it was built at; a later run finds the marker and reuses the
database, unless --rebuild is given or either has changed, which rebuilds it from scratch.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is not a package
    sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from common import server_execute  # noqa: E402  (bench/common.py; bench/ is on sys.path)
from sqlalchemy import create_engine, not_, select, text  # noqa: E402
from sqlalchemy.engine import URL, Connection, make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal import create_app  # noqa: E402
from portal.access.permissions import Role  # noqa: E402
from portal.account import favorites  # noqa: E402
from portal.agreements import acceptances  # noqa: E402
from portal.agreements.agreements import Party, Product, render, total_of  # noqa: E402
from portal.agreements.evidence import (  # noqa: E402
    SIGN_FIELDS,
    Witness,
    canonical_document,
    document_sha256,
    sign_record_hash,
)
from portal.auth.passwords import hash_password  # noqa: E402
from portal.billing import subscriptions  # noqa: E402
from portal.billing.money import charge_for  # noqa: E402
from portal.billing.subscribers import Subscriber  # noqa: E402
from portal.clock import istanbul_today, utcnow  # noqa: E402
from portal.customer.invitations import token_hash  # noqa: E402
from portal.demo.agreements import AGREEMENT_BODY, AGREEMENT_TITLE  # noqa: E402
from portal.demo.plans import make_catalogue  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    AgreementText,
    Campus,
    Customer,
    CustomerAgreement,
    CustomerUserAgreementSign,
    Payment,
    PlanPrice,
    School,
    User,
    UserSubscription,
)
from portal.models.customers import AgreementStatus  # noqa: E402
from portal.models.schools import SCHOOL_LEVELS  # noqa: E402
from portal.schools.fees import school_year_of  # noqa: E402
from portal.turkish import make_vkn  # noqa: E402

# Bump when what the builder makes changes: a database built by another version is rebuilt.
# 2: users.name_folded (migration 0009); 3: school_fees per campus, level and school year,
# schools.name_folded and contact details (migration 0010); 4: leads, their events and
# offers, the parents' lead counters, the actors' comparisons (issue 11); 5: the big
# company's team of 50 with grants, 30 days of team activity, pending invitations, 12 weeks of
# scores for every company, the big company on okul-pro (issue 12).
# 6: the company service text, 1,000 agreements (issue 13) and their sign records.
# 7: the subscriber's confirmed sale documents (user_agreement_acceptances, issue 13 item 7).
BUILDER_VERSION = 7
DEFAULT_DATABASE = "okul_bench"
DEFAULT_SERVER_URL = os.environ.get(
    "OKUL_BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BENCH_PASSWORD = "okul-bench-2026"
DOMAIN = "bench.example.com"

# The volume of the issue. Ids are given explicitly (the sequences are moved past them at the
# end), so the special rows sit at known places.
USERS = 210_000
CUSTOMERS = 2_000
STAFF_PER_CUSTOMER = 5
STAFF = CUSTOMERS * STAFF_PER_CUSTOMER  # users 2 .. 10,001
SCHOOLS = 5_000
CAMPUSES_PER_SCHOOL = 3
CAMPUSES = SCHOOLS * CAMPUSES_PER_SCHOOL
UNPUBLISHED_EVERY = 24  # of the schools of ordinary companies: 200 unpublished, 4,800 shown
FAVORITES = 1_000_000
SUBSCRIPTIONS = 100_000
COMPANY_SUBSCRIPTIONS = CUSTOMERS  # every company has one; the rest are parents'
BIG_COMPANY_SCHOOLS = 200
# The big company's team: its 5 staff and BIG_COMPANY_EXTRA_STAFF more (users after the
# parents, customer_users after the others), so the team and activity pages list 50 members.
BIG_COMPANY_EXTRA_STAFF = 45
ACTIVITY_DAYS = 30  # of customer_user_daily_activity_logs, the two actors' companies
SCORE_WEEKS = 12  # weekly customer_scores, what the scores page's trend shows
# The link of one of the big company's pending invitations (the row keeps only its hash), so
# bench/pages.py can ask for its accept page; two more are pending beside it.
BENCH_INVITATION_TOKEN = "okul-bench-invitation-2026-team-of-fifty"
BENCH_INVITATIONS = 3

OPERATOR_ID = 1
FIRST_STAFF_ID = 2
FIRST_PARENT_ID = FIRST_STAFF_ID + STAFF  # 10,002
PARENTS = USERS - FIRST_PARENT_ID + 1  # 199,999
ONE_FAVORITE_ID = FIRST_PARENT_ID
MANY_FAVORITES_ID = FIRST_PARENT_ID + 1
SUBSCRIBER_ID = FIRST_PARENT_ID + 2
MANY_FAVORITES = 500
MANY_FAVORITE_CAMPUSES = 100
SUBSCRIBER_FAVORITES = 5
SUBSCRIBER_MONTHS_PAID = 12
FIRST_ORDINARY_PARENT_ID = FIRST_PARENT_ID + 3
# Leads: the actors' first (parent_1 a few, parent_500 many, so the statement counts of the
# leads page are compared over 3 and 300), then the rest dealt to LEAD_PARENTS ordinary
# parents (about 2.9 each; most parents have asked no school).
LEADS = 200_000
ONE_FAVORITE_LEADS = 3
MANY_FAVORITES_LEADS = 300
LEAD_PARENTS = 70_000
# One lead in BIG_COMPANY_LEAD_EVERY goes to the big company's schools on top of their share
# of the rest: a chain's schools are asked more than the average school (about 8 % of the
# leads, some 80 a school, against some 40 elsewhere). 23 shares no factor with the 4,800
# published schools, so the rest still reach every one of them (school 1 included).
BIG_COMPANY_LEAD_EVERY = 23

# customers 1 and 2: the company with one school and the one with 200; their admins are the
# first staff member of each (customer_users 1 and 6, users 2 and 7).
SMALL_COMPANY_ID = 1
BIG_COMPANY_ID = 2
# Agreements (issue 13): one per company from the first, and the big company's second.
AGREEMENTS = 1_000
SIGNED, AWAITING, DRAFT = (
    AgreementStatus.SIGNED,
    AgreementStatus.AWAITING_SIGNATURE,
    AgreementStatus.DRAFT,
)
# What a sign row is inserted with: the fields its record hash covers, and the document.
SIGN_COLUMNS = (*SIGN_FIELDS, "document_text")
BENCH_PROVIDER = Party(
    name="Okul",
    legal_name="Okul Bilişim Hizmetleri A.Ş.",
    tax_office="Kadıköy",
    tax_id="1234567890",
    address="Moda Caddesi 1, Kadıköy, İstanbul",
)
FIRST_EXTRA_STAFF_USER_ID = USERS + 1  # 210,001 .. 210,045
FIRST_EXTRA_CUSTOMER_USER_ID = STAFF + 1  # 10,001 .. 10,045


@dataclass(frozen=True)
class Actor:
    """A user bench/pages.py signs in as."""

    key: str
    email: str
    who: str


ACTORS = {
    actor.key: actor
    for actor in (
        Actor(
            "parent_1",
            f"veli.bir@{DOMAIN}",
            "parent with 1 favorite, 3 leads, 2 schools compared, no plan",
        ),
        Actor(
            "parent_500",
            f"veli.besyuz@{DOMAIN}",
            "parent with 500 favorites, 300 leads, Veli Premium",
        ),
        Actor(
            "subscriber",
            f"veli.abone@{DOMAIN}",
            f"parent on monthly Veli Plus, {SUBSCRIBER_MONTHS_PAID} payments",
        ),
        Actor("admin_1", f"yonetici.tek@{DOMAIN}", "admin of a company with 1 school"),
        Actor(
            "admin_200",
            f"yonetici.ikiyuz@{DOMAIN}",
            f"admin of a company with {BIG_COMPANY_SCHOOLS} schools",
        ),
        Actor("operator", f"operator@{DOMAIN}", "operator"),
    )
}

# Where schools are: (city, weight in 100, districts). İstanbul holds nearly a third.
PLACES = [
    ("İstanbul", 29, ["Kadıköy", "Beşiktaş", "Üsküdar", "Ataşehir", "Bakırköy", "Sarıyer"]),
    ("Ankara", 12, ["Çankaya", "Yenimahalle", "Keçiören", "Etimesgut"]),
    ("İzmir", 10, ["Karşıyaka", "Bornova", "Konak", "Buca"]),
    ("Bursa", 6, ["Nilüfer", "Osmangazi", "Yıldırım"]),
    ("Antalya", 5, ["Muratpaşa", "Konyaaltı", "Kepez"]),
    ("Kocaeli", 4, ["İzmit", "Gebze"]),
    ("Konya", 4, ["Selçuklu", "Meram"]),
    ("Adana", 3, ["Seyhan", "Çukurova"]),
    ("Gaziantep", 3, ["Şahinbey", "Şehitkamil"]),
    ("Kayseri", 3, ["Melikgazi", "Kocasinan"]),
    ("Mersin", 3, ["Yenişehir", "Mezitli"]),
    ("Eskişehir", 3, ["Odunpazarı", "Tepebaşı"]),
    ("Samsun", 3, ["Atakum", "İlkadım"]),
    ("Trabzon", 2, ["Ortahisar"]),
    ("Denizli", 2, ["Pamukkale", "Merkezefendi"]),
    ("Sakarya", 2, ["Adapazarı", "Serdivan"]),
    ("Tekirdağ", 2, ["Süleymanpaşa", "Çorlu"]),
    ("Muğla", 2, ["Bodrum", "Menteşe"]),
    ("Diyarbakır", 1, ["Kayapınar"]),
    ("Erzurum", 1, ["Yakutiye"]),
]
FIRST_NAMES = [
    "Elif", "Zeynep", "Ayşe", "Fatma", "Emine", "Meryem", "Defne", "Ecrin", "Azra", "Nehir",
    "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Yusuf", "Emir", "Ömer", "Eymen", "Çağan",
    "Gökhan", "Şule", "İrem", "Özge", "Ümit", "Burak", "Selin", "Kerem", "Ebru", "Tuğba",
]  # fmt: skip
LAST_NAMES = [
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın",
    "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan",
    "Şimşek", "Polat", "Öz", "Korkmaz", "Karaca", "Güneş", "Erdoğan", "Aksoy", "Uçar", "Tekin",
    "Bulut", "Ünal", "Güler", "Turan", "Işık", "Acar", "Avcı", "Sarı", "Bozkurt", "Ateş", "Eren",
]  # fmt: skip
SCHOOL_WORDS = [
    "Bilge", "Deniz", "Güneş", "Yıldız", "Çınar", "Ekin", "Ufuk", "Işık", "Umut", "Başak",
    "Gökkuşağı", "Pınar", "Atlas", "Meltem", "Kardelen", "Lale", "Nilüfer", "Toros", "Ada",
    "Doruk", "Ilgaz", "Kuzey", "Marmara", "Ege", "Erciyes", "Fidan", "Filiz", "Tomurcuk",
    "Akademi", "Bahçe", "Çağdaş", "Özgür", "Yeni Nesil", "Bilim", "Sanat", "Köprü", "Pusula",
    "Rüzgar", "Yunus", "Mimar Sinan",
]  # fmt: skip
# The kind in the school's name, and the levels it teaches.
SCHOOL_KINDS = [
    ("Anaokulu", ["preschool"]),
    ("İlkokulu", ["primary"]),
    ("Ortaokulu", ["middle"]),
    ("Lisesi", ["high"]),
    ("Koleji", ["preschool", "primary", "middle", "high"]),
    ("Fen Lisesi", ["high"]),
]
# What parents and companies subscribe to: (plan code, cycle), chosen in turn.
PARENT_PRICES = [
    ("veli-plus", "monthly"),
    ("veli-plus", "quarterly"),
    ("veli-plus", "yearly"),
    ("veli-premium", "monthly"),
    ("veli-premium", "yearly"),
]
COMPANY_PRICES = [("okul-temel", "monthly"), ("okul-pro", "monthly"), ("okul-temel", "yearly")]
CYCLE_MONTHS = "CASE {} WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 WHEN 'semi_annual' THEN 6 WHEN 'yearly' THEN 12 END"  # noqa: E501


@dataclass(frozen=True)
class Built:
    """The database to use and how it came to be."""

    url: str  # with the password, for create_app and gunicorn
    reused: bool
    seconds: float  # of the build (the one that made it, when reused)
    built_at: str


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--rebuild", action="store_true", help="drop and build it again")
    args = parser.parse_args(argv)
    built = ensure(args.server_url, args.database, rebuild=args.rebuild)
    state = "reused" if built.reused else "built"
    print(f"{args.database}: {state}; building took {built.seconds:.0f} s ({built.built_at})")
    return 0


def ensure(server_url: str, name: str = DEFAULT_DATABASE, rebuild: bool = False) -> Built:
    """The benchmark database, reused when its marker matches, built otherwise."""
    server = make_url(server_url)
    url = server.set(database=name)
    marker = None if rebuild else _marker(server, name)
    expected = {"builder": BUILDER_VERSION, "head": alembic_head()}
    if marker is not None and all(marker.get(key) == value for key, value in expected.items()):
        return Built(_render(url), True, marker["seconds"], marker["built_at"])
    reason = "asked to" if rebuild else ("no marker" if marker is None else f"marker {marker}")
    print(f"building {name} ({reason}): migrations, then the rows, set-based", flush=True)
    started = time.perf_counter()
    server_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server_execute(server, f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    _migrate_and_load(_render(url))
    seconds = time.perf_counter() - started
    built_at = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    marker = {**expected, "seconds": round(seconds, 1), "built_at": built_at}
    comment = json.dumps(marker).replace("'", "''")
    server_execute(server, f"COMMENT ON DATABASE \"{name}\" IS 'okul-bench {comment}'")
    print(f"built {name} in {seconds:.0f} s", flush=True)
    return Built(_render(url), False, seconds, built_at)


def alembic_head() -> str:
    """The revision the migrations end at."""
    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    return ",".join(sorted(heads))


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _marker(server: URL, name: str) -> dict | None:
    engine = create_engine(server)
    try:
        with engine.connect() as connection:
            comment = connection.scalar(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                    " WHERE datname = :name"
                ),
                dict(name=name),
            )
    finally:
        engine.dispose()
    if not comment or not comment.startswith("okul-bench "):
        return None
    try:
        return json.loads(comment.removeprefix("okul-bench "))
    except ValueError:
        return None


def _migrate_and_load(url: str) -> None:
    # Development settings: only the migrations and the plan catalogue go through the app.
    previous = os.environ.get("PORTAL_ENV")
    os.environ["PORTAL_ENV"] = "development"
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    finally:
        if previous is None:
            os.environ.pop("PORTAL_ENV")
        else:
            os.environ["PORTAL_ENV"] = previous
    with app.app_context():
        log = io.StringIO()
        try:
            with contextlib.redirect_stderr(log):  # Alembic logs every revision
                flask_migrate.upgrade()
        except BaseException:
            print(log.getvalue(), file=sys.stderr)
            raise
        make_catalogue(db.session)  # the demo plans, features and prices
        db.session.commit()
        try:
            with db.engine.begin() as connection:
                _load(connection)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                _step("vacuum analyze", lambda: c.execute(text("VACUUM (ANALYZE)")))
                c.execute(text("CHECKPOINT"))
        finally:
            db.session.remove()
            db.engine.dispose()


def _step(what: str, run) -> None:
    started = time.perf_counter()
    result = run()
    rows = result if isinstance(result, int) else getattr(result, "rowcount", -1)
    count = f"{rows:>9,} rows" if rows is not None and rows >= 0 else " " * 14
    print(f"  {what:<34} {count} {time.perf_counter() - started:6.1f} s", flush=True)


def _load(connection: Connection) -> None:
    """Every row, in dependency order, in one transaction."""
    now = utcnow()
    today = istanbul_today(now)
    params = dict(now=now.replace(tzinfo=None), today=today)  # naive UTC, as UTCDateTime stores

    def run(what: str, sql: str, **extra) -> None:
        _step(what, lambda: connection.execute(text(sql), {**params, **extra}))

    cities, districts = [], []
    for city, weight, city_districts in PLACES:
        for index in range(weight):
            cities.append(city)
            districts.append(city_districts[index % len(city_districts)])
    assert len(cities) == 100
    people = dict(first=FIRST_NAMES, last=LAST_NAMES, nf=len(FIRST_NAMES), nl=len(LAST_NAMES))
    full_name = (
        "(CAST(:first AS text[]))[1 + {n} % :nf] || ' '"
        " || (CAST(:last AS text[]))[1 + ({n} / :nf) % :nl]"
    )

    run(
        "customers",
        "INSERT INTO customers (id, name, legal_name, customer_type, tax_office, tax_number,"
        " erp_code, is_inflation_auto_updated, email, phone, address_line, district, city,"
        " postal_code, country_code, contact_name, is_active, created_at, updated_at)"
        " SELECT v.n, CASE v.n WHEN :small THEN 'Tek Okul Eğitim'"
        "  WHEN :big THEN 'Büyük Zincir Eğitim'"
        "  ELSE (CAST(:words AS text[]))[1 + v.n % :nw] || ' Eğitim ' || v.n END,"
        " (CAST(:words AS text[]))[1 + v.n % :nw] || ' Eğitim Kurumları A.Ş. (' || v.n || ')',"
        " 'company', (CAST(:districts AS text[]))[1 + v.n % 100], v.vkn,"
        " 'BENCH-' || lpad(v.n::text, 5, '0'), v.n % 3 = 0,"
        " 'muhasebe' || v.n || '@firma.bench.example.com',"
        " '+90212' || lpad((5550000 + v.n)::text, 7, '0'),"
        " 'Cumhuriyet Mah. Okul Cad. No: ' || v.n, (CAST(:districts AS text[]))[1 + v.n % 100],"
        " (CAST(:cities AS text[]))[1 + v.n % 100], lpad((34000 + v.n % 900)::text, 5, '0'),"
        f" 'TR', {full_name.format(n='v.n')}, true, :now, :now"
        " FROM unnest(CAST(:vkns AS text[])) WITH ORDINALITY AS v (vkn, n)",
        vkns=[make_vkn(f"{7000000 + n:09d}") for n in range(1, CUSTOMERS + 1)],
        words=SCHOOL_WORDS,
        nw=len(SCHOOL_WORDS),
        cities=cities,
        districts=districts,
        small=SMALL_COMPANY_ID,
        big=BIG_COMPANY_ID,
        **people,
    )
    password_hash = hash_password(BENCH_PASSWORD)  # one hash for every user: argon2 is slow
    user_columns = (
        "INSERT INTO users (id, name, name_folded, email, password_hash, email_verified_at,"
        " customer_id, user_type_id, locale, two_step_enabled, created_at, updated_at)"
    )
    run(
        "users: operator",
        f"{user_columns} SELECT :id, 'Okul Operatör', 'okul operator', :email, :hash, :now, NULL,"
        " (SELECT id FROM users_types WHERE code = 'operator'), 'tr', false, :now, :now",
        id=OPERATOR_ID,
        email=ACTORS["operator"].email,
        hash=password_hash,
    )
    run(
        "users: staff",
        f"{user_columns} SELECT :first_id + k, {full_name.format(n='(k + 7)')},"
        f" {_folded(full_name.format(n='(k + 7)'))},"
        " CASE k WHEN 0 THEN :small_admin WHEN :per THEN :big_admin"
        "  ELSE 'personel' || k || '@' || :domain END,"
        " :hash, :now, 1 + k / :per,"
        " (SELECT id FROM users_types WHERE code = 'customer_staff'), 'tr', false,"
        " :now - make_interval(days => k % 900), :now"
        " FROM generate_series(0, :count - 1) AS k",
        first_id=FIRST_STAFF_ID,
        count=STAFF,
        per=STAFF_PER_CUSTOMER,
        small_admin=ACTORS["admin_1"].email,
        big_admin=ACTORS["admin_200"].email,
        domain=DOMAIN,
        hash=password_hash,
        **people,
    )
    run(
        "users: parents",
        f"{user_columns} SELECT u, {full_name.format(n='u')},"
        f" {_folded(full_name.format(n='u'))},"
        " CASE u WHEN :one THEN :one_email WHEN :many THEN :many_email"
        "  WHEN :subscriber THEN :subscriber_email ELSE 'veli' || u || '@' || :domain END,"
        " :hash, :now - make_interval(days => u % 900), NULL,"
        " (SELECT id FROM users_types WHERE code = 'parent'), 'tr', false,"
        " :now - make_interval(days => u % 900), :now"
        " FROM generate_series(:first_id, :last_id) AS u",
        first_id=FIRST_PARENT_ID,
        last_id=USERS,
        one=ONE_FAVORITE_ID,
        many=MANY_FAVORITES_ID,
        subscriber=SUBSCRIBER_ID,
        one_email=ACTORS["parent_1"].email,
        many_email=ACTORS["parent_500"].email,
        subscriber_email=ACTORS["subscriber"].email,
        domain=DOMAIN,
        hash=password_hash,
        **people,
    )
    run(
        "user_details",
        "INSERT INTO user_details (user_id, phone, budget_min, budget_max, lead_lost_count,"
        " lead_won_count, lead_closed_count, lead_open_count, kvkk_accepted_at)"
        " SELECT id, '+90532' || lpad((id % 10000000)::text, 7, '0'),"
        " 100000 + (id % 20) * 10000, 250000 + (id % 30) * 10000, 0, 0, 0, 0, created_at"
        " FROM users WHERE id >= :first_id",
        first_id=FIRST_PARENT_ID,
    )
    run(
        "user_consents",
        "INSERT INTO user_consents (user_id, consent_text_id, text_sha256, given_at, method)"
        " SELECT u.id, t.id, t.body_sha256, u.created_at, 'registration_form'"
        " FROM users AS u, consent_texts AS t"
        " WHERE u.id >= :first_id AND t.kind = 'kvkk_consent' AND t.version = 1",
        first_id=FIRST_PARENT_ID,
    )
    run(
        "customer_users",
        "INSERT INTO customer_users (id, customer_id, user_id, role_id, title_id, is_active,"
        " created_at, updated_at)"
        " SELECT 1 + k, 1 + k / :per, :first_id + k, role.id, title.id, true, :now, :now"
        " FROM generate_series(0, :count - 1) AS k"
        " JOIN customer_user_roles AS role ON role.code = (CAST(:roles AS text[]))[1 + k % :per]"
        " LEFT JOIN customer_user_titles AS title"
        "  ON title.code = (CAST(:titles AS text[]))[1 + k % :per]",
        first_id=FIRST_STAFF_ID,
        count=STAFF,
        per=STAFF_PER_CUSTOMER,
        roles=[
            str(role) for role in (Role.ADMIN, Role.MANAGER, Role.AGENT, Role.FINANCE, Role.AGENT)
        ],
        titles=["founder", "principal", "registrar", "accountant", "teacher"],
    )
    # School 1 is the small company's only one, schools 2-201 the big company's, the rest
    # dealt out in turn to the 1,998 other companies (2 or 3 each).
    others = CUSTOMERS - 2
    first_other_school = 2 + BIG_COMPANY_SCHOOLS
    kind = "(s / :nw) % :nk"
    run(
        "schools",
        "INSERT INTO schools (id, customer_id, name, name_folded, slug, city, district,"
        " description, address_line, phone, email, is_published, created_at, updated_at)"
        " SELECT s, CASE WHEN s = 1 THEN :small WHEN s < :first_other THEN :big"
        "  ELSE 3 + (s - :first_other) % :others END,"
        f" named.name, {_folded('named.name')},"
        " 'okul-' || s, place.city, place.district,"
        " (CAST(:words AS text[]))[1 + s % :nw] || ': ' || place.city || ', ' || place.district"
        " || '. Deneyimli öğretmen kadrosu, geniş bahçesi ve zengin kulüp etkinlikleriyle'"
        " || ' öğrencilerini geleceğe hazırlar.',"
        " 'Okul Cad. No: ' || s || ', ' || place.district || ' / ' || place.city,"
        " '+90212' || lpad((3330000 + s)::text, 7, '0'), 'bilgi@okul-' || s || '.example.com',"
        " NOT (s >= :first_other AND s % :unpublished_every = 0), :now, :now"
        " FROM generate_series(1, :count) AS s"
        " CROSS JOIN LATERAL (SELECT (CAST(:cities AS text[]))[1 + (s * 7) % 100] AS city,"
        "  (CAST(:districts AS text[]))[1 + (s * 7) % 100] AS district) AS place"
        " CROSS JOIN LATERAL (SELECT (CAST(:words AS text[]))[1 + s % :nw] || ' '"
        f"  || (CAST(:kinds AS text[]))[1 + {kind}] || ' ' || place.district AS name) AS named",
        count=SCHOOLS,
        small=SMALL_COMPANY_ID,
        big=BIG_COMPANY_ID,
        first_other=first_other_school,
        others=others,
        unpublished_every=UNPUBLISHED_EVERY,
        words=SCHOOL_WORDS,
        nw=len(SCHOOL_WORDS),
        kinds=[name for name, _levels in SCHOOL_KINDS],
        nk=len(SCHOOL_KINDS),
        cities=cities,
        districts=districts,
    )
    levels = " ".join(
        f"WHEN {index} THEN ARRAY{levels!r}" for index, (_name, levels) in enumerate(SCHOOL_KINDS)
    )
    run(
        "school_levels",
        "INSERT INTO school_levels (school_id, level)"
        " SELECT s.id, level FROM schools AS s"
        f" CROSS JOIN LATERAL unnest(CASE (s.id / :nw) % :nk {levels} END) AS level",
        nw=len(SCHOOL_WORDS),
        nk=len(SCHOOL_KINDS),
    )
    run(
        "campuses",
        "INSERT INTO campuses (id, school_id, name, city, district, address_line, phone,"
        " created_at, updated_at)"
        " SELECT c, s.id, CASE (c - 1) % :per WHEN 0 THEN 'Merkez Kampüsü'"
        "  WHEN 1 THEN s.district || ' Kampüsü' ELSE 'Kuzey Kampüsü' END,"
        " s.city, s.district, 'Okul Sok. No: ' || c, '+90216' || lpad((4440000 + c)::text, 7, '0'),"
        " :now, :now"
        " FROM generate_series(1, :count) AS c JOIN schools AS s ON s.id = 1 + (c - 1) / :per",
        count=CAMPUSES,
        per=CAMPUSES_PER_SCHOOL,
    )
    # Fees: every campus, every level of its school, this school year and the next. A school's
    # base (80,000-379,000) rises by 40,000 a level and 5,000 from one campus to the next, and
    # next year's are a quarter higher, rounded to the thousand: plausible ascending fees, spread
    # so that a budget range keeps some schools and drops others.
    level_steps = " ".join(f"WHEN '{level}' THEN {i}" for i, level in enumerate(SCHOOL_LEVELS))
    this_year = school_year_of(today)
    run(
        "school_fees",
        "INSERT INTO school_fees (school_id, campus_id, level, school_year, yearly_fee)"
        " SELECT c.school_id, c.id, l.level, y.school_year,"
        " round((80000 + ((c.school_id * 7919) % 300) * 1000"
        f"  + (CASE l.level {level_steps} END) * 40000 + ((c.id - 1) % :per) * 5000)"
        "  * y.factor, -3)"
        " FROM campuses AS c JOIN school_levels AS l ON l.school_id = c.school_id"
        " CROSS JOIN (VALUES (:this_year, 1.0), (:next_year, 1.25)) AS y (school_year, factor)",
        per=CAMPUSES_PER_SCHOOL,
        this_year=this_year,
        next_year=this_year + 1,
    )
    # Admins: every school of their company; managers: its first school; agents: the first
    # campus of it; finance: no school.
    first_school = "(SELECT min(id) FROM schools WHERE customer_id = cu.customer_id)"
    run(
        "customer_user_schools",
        "INSERT INTO customer_user_schools (customer_user_id, school_id, campus_id, created_at)"
        " SELECT cu.id, s.id, CAST(NULL AS bigint), :now FROM customer_users AS cu"
        " JOIN customer_user_roles AS role ON role.id = cu.role_id AND role.code = :admin"
        " JOIN schools AS s ON s.customer_id = cu.customer_id"
        " UNION ALL"
        f" SELECT cu.id, {first_school}, NULL, :now FROM customer_users AS cu"
        " JOIN customer_user_roles AS role ON role.id = cu.role_id AND role.code = :manager"
        " UNION ALL"
        " SELECT cu.id, first_school.id,"
        " (SELECT min(id) FROM campuses WHERE school_id = first_school.id),"
        " :now FROM customer_users AS cu"
        " JOIN customer_user_roles AS role ON role.id = cu.role_id AND role.code = :agent"
        f" CROSS JOIN LATERAL (SELECT {first_school} AS id) AS first_school",
        admin=str(Role.ADMIN),
        manager=str(Role.MANAGER),
        agent=str(Role.AGENT),
    )
    # Every company's scores once a week for SCORE_WEEKS weeks (today, 7 days ago, ...: one in
    # each week of the scores page's trend), plus the one of 30 days ago kept from before.
    run(
        "customer_scores",
        "INSERT INTO customer_scores (customer_id, scored_on, demand, communication,"
        " responsiveness, payment, total)"
        " SELECT c.id, :today - ago.days, 100 + (c.id * 7 + ago.days) % 150,"
        " 90 + (c.id * 11 + ago.days / 7) % 160, 80 + (c.id * 13 + ago.days / 7 * 3) % 170,"
        " 120 + (c.id * 3) % 130, 100 + (c.id * 5 + ago.days) % 150"
        " FROM customers AS c CROSS JOIN (SELECT 7 * w FROM generate_series(0, :weeks - 1) AS w"
        "  UNION SELECT 30) AS ago (days)",
        weeks=SCORE_WEEKS,
    )
    _load_subscriptions(connection, run)
    _load_favorites(run)
    _step("user_favorites: visibility", lambda: _favorite_visibility(connection))
    _load_leads(run)
    _load_team(run, password_hash, full_name, people)
    _load_agreements(connection, now)
    _load_acceptances(connection, now)
    for table in (
        "customers",
        "users",
        "customer_users",
        "schools",
        "campuses",
        "leads",
        "agreement_texts",
        "customer_agreements",
        "customer_user_agreement_signs",
    ):
        run(
            f"sequence of {table}",
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" (SELECT max(id) FROM {table}))",
        )


def _load_agreements(connection: Connection, now) -> None:
    """The demo's company service text and AGREEMENTS agreements, one per company from the
    first: six in ten signed by the company's admin (a sign record each, its hash chained as
    portal.agreements.evidence makes it), three awaiting the admin's signature, one a draft;
    the big company has a second, signed, so its admin has an evidence page to read.

    Rendered and hashed in Python by portal.agreements itself, on objects never added to a
    session (a thousand documents: a second or two)."""
    started = time.perf_counter()
    published = datetime(2026, 1, 1)  # naive UTC, as stored

    def naive(moment: datetime) -> datetime:
        return moment.astimezone(UTC).replace(tzinfo=None)

    body = canonical_document(AGREEMENT_BODY)
    text_id = connection.scalar(
        text(
            "INSERT INTO agreement_texts (kind, version, title, body, body_sha256, started_at,"
            " published_at) VALUES ('company_service', 1, :title, :body, :sha, :at, :at)"
            " RETURNING id"
        ),
        dict(title=AGREEMENT_TITLE, body=body, sha=document_sha256(body), at=published),
    )
    agreement_text = AgreementText(id=text_id, body=body)
    customers = {
        row.id: row
        for row in connection.execute(
            text(
                "SELECT c.id, c.name, c.legal_name, c.tax_office, c.tax_number, c.address_line,"
                " c.district, c.city, cu.id AS admin_id, u.name AS admin_name,"
                " u.email AS admin_email FROM customers AS c"
                " JOIN customer_users AS cu ON cu.id = 1 + (c.id - 1) * :per"
                " JOIN users AS u ON u.id = cu.user_id WHERE c.id <= :count"
            ),
            dict(per=STAFF_PER_CUSTOMER, count=AGREEMENTS),
        )
    }
    products = [
        Product("Okul listeleme", 2, Decimal("60000.00"), "yearly"),
        Product("Anında aday bildirimi", 1, Decimal("12000.00"), "yearly"),
    ]
    owners = [*range(1, AGREEMENTS + 1), BIG_COMPANY_ID]
    agreements, signs = [], []
    for number, customer_id in enumerate(owners, start=1):
        row = customers[customer_id]
        status = AWAITING if customer_id in (SMALL_COMPANY_ID, BIG_COMPANY_ID) else None
        if number > AGREEMENTS:
            status = SIGNED  # the big company's second agreement
        status = status or (SIGNED if number % 10 < 6 else AWAITING if number % 10 < 9 else DRAFT)
        agreement = CustomerAgreement(
            id=number,
            agreement_no=f"BENCH-{number:05d}",
            starts_on=date(2027, 1, 1),
            ends_on=date(2027, 12, 31),
            products=[product.as_json() for product in products],
            agreement_text=agreement_text,
            customer=Customer(
                name=row.name,
                legal_name=row.legal_name,
                tax_office=row.tax_office,
                tax_number=row.tax_number,
                address_line=row.address_line,
                district=row.district,
                city=row.city,
            ),
        )
        document = None if status == DRAFT else render(agreement, BENCH_PROVIDER)
        sent_at = now - timedelta(days=30 + number % 200)
        signed_at = sent_at + timedelta(days=1 + number % 20) if status == SIGNED else None
        agreements.append(
            dict(
                id=number,
                customer_id=customer_id,
                text_id=text_id,
                no=agreement.agreement_no,
                status=str(status),
                products=json.dumps(agreement.products),
                total=total_of(products),
                document=document,
                sha=document and document_sha256(document),
                # Naive UTC, as UTCDateTime stores it (the hash below reads the aware time).
                sent_at=None if document is None else naive(sent_at),
                signed_at=signed_at and naive(signed_at),
                now=naive(now),
            )
        )
        if signed_at is not None:
            sign = CustomerUserAgreementSign(
                customer_agreement_id=number,
                sequence=1,
                customer_user_id=row.admin_id,
                agreement_text_id=text_id,
                signer_role=str(Role.ADMIN),
                signer_name=row.admin_name,
                signer_email=row.admin_email,
                document_text=document,
                document_sha256=document_sha256(document),
                signed_at=signed_at,
                client_ip=f"198.51.100.{number % 250 + 1}",
                peer_ip="10.0.0.1",
                user_agent="Mozilla/5.0 (X11; Linux x86_64) Bench",
                auth_method="password+email_code",
                previous_hash=None,
            )
            signs.append(
                {
                    **{name: getattr(sign, name) for name in SIGN_COLUMNS},
                    "signed_at": naive(signed_at),
                    "record_hash": sign_record_hash(sign),
                }
            )
    connection.execute(
        text(
            "INSERT INTO customer_agreements (id, customer_id, agreement_text_id, agreement_no,"
            " status, starts_on, ends_on, products, total_amount, currency,"
            " is_inflation_auto_updated, required_roles, document_text, document_sha256,"
            " sent_at, signed_at, created_at, updated_at)"
            " VALUES (:id, :customer_id, :text_id, :no, :status, '2027-01-01', '2027-12-31',"
            " CAST(:products AS json), :total, 'TRY', false, CAST('[\"admin\"]' AS json),"
            " :document, :sha, :sent_at, :signed_at, :now, :now)"
        ),
        agreements,
    )
    columns = [*SIGN_COLUMNS, "record_hash"]
    connection.execute(
        text(
            f"INSERT INTO customer_user_agreement_signs ({', '.join(columns)})"
            f" VALUES ({', '.join(':' + name for name in columns)})"
        ),
        signs,
    )
    print(
        f"  {'agreements and their sign records':<34} {len(agreements) + len(signs):>9,} rows"
        f" {time.perf_counter() - started:6.1f} s",
        flush=True,
    )


def _load_acceptances(connection: Connection, now) -> None:
    """The subscriber's pre-information form and distance sales contract, confirmed for the
    order of their subscription's first charge: made, hashed and chained by
    portal.agreements.acceptances itself (texts of migration 0017), as checkout does, so the
    accepted-document page and the subscription page's links have rows to show."""
    started = time.perf_counter()
    with Session(bind=connection) as session:
        user = session.scalar(select(User).where(User.email == ACTORS["subscriber"].email))
        subscription = session.scalar(
            select(UserSubscription).where(UserSubscription.user_id == user.id)
        )
        key = session.scalar(
            select(Payment.idempotency_key).where(
                Payment.user_subscription_id == subscription.id,
                Payment.purpose == "first_charge",
            )
        )
        price = session.get(PlanPrice, subscription.plan_price_id)
        buyer = acceptances.Buyer.of_user(user)
        # Confirmed now: the subscription began before migration 0017's texts were valid, and
        # what is measured is the page, not the date it shows.
        quote = subscriptions.quote(session, Subscriber(user_id=user.id), price, istanbul_today())
        documents = acceptances.sale_documents(
            session, asdict(BENCH_PROVIDER), buyer, quote, order_key=key, now=now
        )
        rows = acceptances.accept(
            session,
            buyer,
            documents,
            plan_price_id=price.id,
            idempotency_key=key,
            witness=Witness("127.0.0.1", "127.0.0.1", "bench", "password+otp"),
            now=now,
        )
        session.flush()
    print(
        f"  {'sale documents confirmed':<34} {len(rows):>9,} rows"
        f" {time.perf_counter() - started:7.1f} s"
    )


def _load_subscriptions(connection: Connection, run) -> None:
    """Cards, subscriptions and one payment per period paid, for parents and companies."""
    prices = {
        (code, cycle): (price_id, amount, kdv_included)
        for price_id, code, cycle, amount, kdv_included in connection.execute(
            text(
                "SELECT price.id, plan.code, price.billing_cycle, price.amount, price.kdv_included"
                " FROM plan_prices AS price"
                " JOIN subscription_plans AS plan ON plan.id = price.subscription_plan_id"
                " WHERE price.status = 'active'"
            )
        )
    }
    charges = {price_id: charge_for(amount, kdv) for price_id, amount, kdv in prices.values()}
    parents = SUBSCRIPTIONS - COMPANY_SUBSCRIPTIONS
    card_columns = "gateway, token, brand, last4, exp_month, exp_year, created_at, updated_at"
    card_values = "'sandbox', 'sbx_ok_' || lpad(to_hex({n}), 24, '0'), 'visa', '4242', 12, {year}"
    year = istanbul_today().year + 3
    run(
        "user_payment_cards",
        f"INSERT INTO user_payment_cards (user_id, {card_columns})"
        f" SELECT u, {card_values.format(n='u', year=year)}, :now, :now"
        " FROM generate_series(:first_id, :first_id + :count - 1) AS u",
        first_id=MANY_FAVORITES_ID,
        count=parents,
    )
    run(
        "customer_credit_cards",
        f"INSERT INTO customer_credit_cards (customer_id, holder_name, is_default, {card_columns})"
        f" SELECT id, name, true, {card_values.format(n='(id + 1000000000)', year=year)},"
        " :now, :now FROM customers",
    )
    # Period k of a subscription anchored on `anchor` ends k + 1 cycles after it; the one
    # running today is the number of whole cycles since the anchor.
    months = CYCLE_MONTHS.format("price.billing_cycle")
    elapsed = "(extract(year FROM age(:today, a.anchor)) * 12 + extract(month FROM age(:today, a.anchor)))::int"  # noqa: E501
    columns = (
        "subscription_plan_id, plan_price_id, billing_cycle, amount, currency, kdv_included,"
        " anchor_date, start_date, end_date, period_index, status, auto_renew,"
        " cancel_at_period_end, next_billing_date, last_payment_date, retry_count, cancelled_at,"
        " created_at, updated_at"
    )
    # One in 20 cancelled, one in 20 expired, the rest active and due at the period's end.
    values = (
        "price.subscription_plan_id, price.id, price.billing_cycle, price.amount, 'TRY',"
        " price.kdv_included, a.anchor, a.anchor,"
        " CAST(a.anchor + make_interval(months => (p.k + 1) * p.months) AS date), p.k,"
        " CASE o.n % 20 WHEN 19 THEN 'cancelled' WHEN 18 THEN 'expired' ELSE 'active' END,"
        " o.n % 20 < 18, false,"
        " CASE WHEN o.n % 20 < 18"
        "  THEN CAST(a.anchor + make_interval(months => (p.k + 1) * p.months) AS date) END,"
        " CAST(a.anchor + make_interval(months => p.k * p.months) AS date), 0,"
        " CASE WHEN o.n % 20 >= 18 THEN :now END, a.anchor + time '09:00', :now"
    )
    lateral = (
        f" CROSS JOIN LATERAL (SELECT {months} AS months, {elapsed} AS elapsed) AS m"
        " CROSS JOIN LATERAL (SELECT m.months, m.elapsed / m.months AS k) AS p"
    )
    chosen = [prices[key][0] for key in PARENT_PRICES]
    run(
        "user_subscriptions: parents",
        f"INSERT INTO user_subscriptions (user_id, user_payment_card_id, {columns})"
        f" SELECT card.user_id, card.id, {values}"
        " FROM user_payment_cards AS card"
        " CROSS JOIN LATERAL (SELECT card.user_id - :many AS n) AS o"
        " JOIN plan_prices AS price ON price.id = CASE card.user_id"
        "  WHEN :many THEN :premium_yearly WHEN :subscriber THEN :plus_monthly"
        "  ELSE (CAST(:chosen AS bigint[]))[1 + o.n % :nc] END"
        " CROSS JOIN LATERAL (SELECT CASE card.user_id"
        "  WHEN :subscriber THEN CAST(:today - make_interval(months => :months_paid - 1, days => 3)"
        "   AS date)"
        "  WHEN :many THEN :today - 200"
        "  ELSE :today - (o.n * 37 % 400)::int END AS anchor) AS a" + lateral,
        many=MANY_FAVORITES_ID,
        subscriber=SUBSCRIBER_ID,
        premium_yearly=prices[("veli-premium", "yearly")][0],
        plus_monthly=prices[("veli-plus", "monthly")][0],
        chosen=chosen,
        nc=len(chosen),
        months_paid=SUBSCRIBER_MONTHS_PAID,
    )
    # The big company is on okul-pro monthly, like the small one (customer 1's turn of
    # COMPANY_PRICES): a plan with room for its team of 50, and the same plan on both sides of
    # the pages compared over the two companies.
    chosen = [prices[key][0] for key in COMPANY_PRICES]
    run(
        "user_subscriptions: companies",
        f"INSERT INTO user_subscriptions (customer_id, customer_credit_card_id, {columns})"
        f" SELECT card.customer_id, card.id, {values}"
        " FROM customer_credit_cards AS card"
        " CROSS JOIN LATERAL (SELECT card.customer_id AS n) AS o"
        " JOIN plan_prices AS price ON price.id = CASE WHEN o.n = :big THEN :pro_monthly"
        "  ELSE (CAST(:chosen AS bigint[]))[1 + o.n % :nc] END"
        " CROSS JOIN LATERAL (SELECT :today - (o.n * 53 % 500)::int AS anchor) AS a" + lateral,
        chosen=chosen,
        nc=len(chosen),
        big=BIG_COMPANY_ID,
        pro_monthly=prices[("okul-pro", "monthly")][0],
    )
    months = CYCLE_MONTHS.format("s.billing_cycle")
    run(
        "payments",
        "INSERT INTO payments (user_subscription_id, user_id, customer_id, purpose, plan_price_id,"
        " net_amount, kdv_amount, gross_amount, currency, status, gateway, gateway_reference,"
        " idempotency_key, charged_period, card_brand, card_last4, created_at)"
        " SELECT s.id, s.user_id, s.customer_id,"
        " CASE WHEN period.k = 0 THEN 'first_charge' ELSE 'renewal' END, s.plan_price_id,"
        " charge.net, charge.kdv, charge.gross, 'TRY', 'succeeded', 'sandbox',"
        " 'sbx_ch_' || left(md5(s.id || ':' || period.k), 24),"
        " 'bench:sub' || s.id || ':' || period.k, period.starts, 'visa', '4242',"
        " period.starts + time '09:00'"
        " FROM user_subscriptions AS s"
        " JOIN unnest(CAST(:price_ids AS bigint[]), CAST(:nets AS numeric[]),"
        "  CAST(:kdvs AS numeric[]), CAST(:grosses AS numeric[]))"
        "  AS charge (price_id, net, kdv, gross) ON charge.price_id = s.plan_price_id"
        " CROSS JOIN LATERAL generate_series(0, s.period_index) AS k"
        f" CROSS JOIN LATERAL (SELECT k, CAST(s.anchor_date + make_interval(months => k * {months})"
        "  AS date) AS starts) AS period"
        " ORDER BY s.id, period.k",
        price_ids=list(charges),
        nets=[charge.net for charge in charges.values()],
        kdvs=[charge.kdv for charge in charges.values()],
        grosses=[charge.gross for charge in charges.values()],
    )


def _load_favorites(run) -> None:
    """1,000,000 favorites: the three special parents', then about 5 per other parent."""
    published_schools = "SELECT id FROM schools WHERE is_published ORDER BY id"
    run(
        "user_favorites: special parents",
        "INSERT INTO user_favorites (user_id, favoritable_type, favoritable_id, created_at)"
        " SELECT :one, 'school', 1, :now"
        " UNION ALL"
        " SELECT :many, 'school', id, :now - make_interval(mins => (row_number() OVER ())::int)"
        f" FROM ({published_schools} LIMIT :many_schools) AS s"
        " UNION ALL"
        " SELECT :many, 'campus', c.id,"
        " :now - make_interval(hours => 10000 + (row_number() OVER ())::int)"
        " FROM (SELECT campuses.id FROM campuses JOIN schools ON schools.id = campuses.school_id"
        "  WHERE schools.is_published ORDER BY campuses.id DESC LIMIT :many_campuses) AS c"
        " UNION ALL"
        " SELECT :subscriber, 'school', id,"
        " :now - make_interval(days => (row_number() OVER ())::int)"
        f" FROM ({published_schools} OFFSET 1 LIMIT :subscriber_count) AS s",
        one=ONE_FAVORITE_ID,
        many=MANY_FAVORITES_ID,
        many_schools=MANY_FAVORITES - MANY_FAVORITE_CAMPUSES,
        many_campuses=MANY_FAVORITE_CAMPUSES,
        subscriber=SUBSCRIBER_ID,
        subscriber_count=SUBSCRIBER_FAVORITES,
    )
    # Parent u's j-th favorite (j < 5): a campus when (u + j) % 5 = 0, else a school; the
    # targets of one parent differ because j * 997 differs modulo 5,000 and 15,000.
    ordinary = USERS - FIRST_ORDINARY_PARENT_ID + 1
    count = FAVORITES - 1 - MANY_FAVORITES - SUBSCRIBER_FAVORITES
    run(
        "user_favorites: other parents",
        "INSERT INTO user_favorites (user_id, favoritable_type, favoritable_id, created_at)"
        " SELECT x.u, CASE WHEN (x.u + x.j) % 5 = 0 THEN 'campus' ELSE 'school' END,"
        " CASE WHEN (x.u + x.j) % 5 = 0 THEN 1 + (x.u * 7919 + x.j * 997) % :campuses"
        "  ELSE 1 + (x.u * 7919 + x.j * 997) % :schools END,"
        " :now - make_interval(secs => i)"
        " FROM generate_series(0, :count - 1) AS i"
        " CROSS JOIN LATERAL (SELECT :first + i % :ordinary AS u, i / :ordinary AS j) AS x",
        first=FIRST_ORDINARY_PARENT_ID,
        ordinary=ordinary,
        count=count,
        schools=SCHOOLS,
        campuses=CAMPUSES,
    )


def _favorite_visibility(connection: Connection) -> int:
    """user_favorites.is_visible of the favorites of hidden schools and campuses, set by the
    portal's own rule (favorites.refresh_visibility; the rows were inserted as SQL, past the
    session that keeps the flag)."""
    hidden_schools = connection.scalars(select(School.id).where(not_(School.is_public))).all()
    deleted_campuses = connection.scalars(
        select(Campus.id).where(Campus.deleted_at.is_not(None))
    ).all()
    return favorites.refresh_visibility(connection, hidden_schools, deleted_campuses)


def _load_leads(run) -> None:
    """200,000 leads with their events and offers, the parents' lead counters, and the
    comparison parent_1 keeps.

    Lead i (0 is the newest, one every 150 s over the last year): parent_1's are i < 3,
    parent_500's the next 300, the rest dealt to LEAD_PARENTS ordinary parents; the school is
    one of the big company's when i % BIG_COMPANY_LEAD_EVERY = 0, else a published school,
    both picked by a hash of i (md5), so that a school's leads do not share i's residues and
    with them one state or all or none of the offers; every other lead names a campus of it;
    the level is one its school teaches.
    State by i % 20: 14 open, 2 won, 2 lost, 2 closed (ended halfway between asking and now).
    One in three (i % 3 = 0) has an offer, made a quarter of the way, by the company's admin,
    who follows the lead; so do the ended ones. Every parent already has the KVKK explicit
    consent (user_consents, from the registration form): the leads name it.
    """
    this_year = school_year_of(istanbul_today())
    ordinary = USERS - FIRST_ORDINARY_PARENT_ID + 1
    assert ordinary % 7919 != 0  # 7919 is prime: i % LEAD_PARENTS maps to distinct parents
    messages = [
        "Merhaba, kayıt süreci ve ücretler hakkında bilgi almak istiyorum.",
        "Servis ve yemek hizmetleriniz var mı? Kardeş indirimi uyguluyor musunuz?",
        "Okulunuzu ziyaret etmek istiyoruz, uygun bir gün önerebilir misiniz?",
        "Burs ve erken kayıt indirimi koşullarını öğrenebilir miyim?",
    ]
    state = (
        "CASE WHEN i % 20 < 14 THEN 'open' WHEN i % 20 < 16 THEN 'won'"
        " WHEN i % 20 < 18 THEN 'lost' ELSE 'closed' END"
    )
    parent = (
        "CASE WHEN i < :one_n THEN :one WHEN i < :one_n + :many_n THEN :many"
        " ELSE :first + ((i % :spread) * 7919) % :ordinary END"
    )
    run(
        "leads",
        "WITH published AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n"
        "  FROM schools WHERE is_published),"
        " levels AS (SELECT school_id, array_agg(level ORDER BY level) AS levels"
        "  FROM school_levels GROUP BY school_id)"
        " INSERT INTO leads (id, user_id, school_id, customer_id, campus_id, level, school_year,"
        " message, contact_preference, state, request_key, user_consent_id,"
        " assigned_customer_user_id, first_response_at, ended_at, created_at, updated_at)"
        " SELECT i + 1, x.u, sc.id, sc.customer_id,"
        " CASE WHEN i % 2 = 0 THEN 3 * sc.id - 2 + (i / 2) % 3 END,"
        " lv.levels[1 + i % cardinality(lv.levels)],"
        " CASE WHEN i % 3 = 1 THEN :this_year ELSE :next_year END,"
        " (CAST(:messages AS text[]))[1 + i % :nm],"
        " (CAST(:preferences AS text[]))[1 + (i / 3) % 3], x.state, 'bench-' || i, consent.id,"
        " CASE WHEN i % 3 = 0 OR x.state <> 'open' THEN 1 + (sc.customer_id - 1) * :per END,"
        " t.responded, t.ended, x.created, coalesce(t.ended, t.responded, x.created)"
        " FROM generate_series(0, :count - 1) AS i"
        " CROSS JOIN LATERAL (SELECT ('x' || left(md5(i::text), 7))::bit(28)::int AS h) AS h"
        f" CROSS JOIN LATERAL (SELECT {parent} AS u, {state} AS state,"
        "  :now - make_interval(secs => i * 150) AS created,"
        "  CASE WHEN i % :big_every = 0 THEN 2 + (h.h / 4800) % :big_schools END AS big,"
        "  h.h % (SELECT count(*) FROM published) AS pick) AS x"
        " JOIN published AS pub ON pub.n = x.pick"
        " JOIN schools AS sc ON sc.id = coalesce(x.big, pub.id)"
        " JOIN levels AS lv ON lv.school_id = sc.id"
        " JOIN user_consents AS consent ON consent.user_id = x.u"
        " CROSS JOIN LATERAL (SELECT"
        "  CASE WHEN i % 3 = 0 THEN x.created + (:now - x.created) / 4 END AS responded,"
        "  CASE WHEN x.state <> 'open' THEN x.created + (:now - x.created) / 2 END AS ended) AS t",
        count=LEADS,
        one=ONE_FAVORITE_ID,
        one_n=ONE_FAVORITE_LEADS,
        many=MANY_FAVORITES_ID,
        many_n=MANY_FAVORITES_LEADS,
        first=FIRST_ORDINARY_PARENT_ID,
        spread=LEAD_PARENTS,
        ordinary=ordinary,
        big_every=BIG_COMPANY_LEAD_EVERY,
        big_schools=BIG_COMPANY_SCHOOLS,
        per=STAFF_PER_CUSTOMER,
        this_year=this_year,
        next_year=this_year + 1,
        messages=messages,
        nm=len(messages),
        preferences=["email", "phone", "either"],
    )
    # The staff's open and unassigned counts per school and campus (portal.leads.lead_counts),
    # as the leads' own transactions would have kept them.
    unassigned = "sum(CASE WHEN assigned_customer_user_id IS NULL THEN 1 ELSE 0 END)"
    run(
        "school_lead_counts",
        "INSERT INTO school_lead_counts (school_id, open_count, unassigned_count)"
        f" SELECT school_id, count(*), {unassigned} FROM leads WHERE state = 'open'"
        " GROUP BY school_id",
    )
    run(
        "campus_lead_counts",
        "INSERT INTO campus_lead_counts (campus_id, open_count, unassigned_count)"
        f" SELECT campus_id, count(*), {unassigned} FROM leads"
        " WHERE state = 'open' AND campus_id IS NOT NULL GROUP BY campus_id",
    )
    # The offer: the campus's fee (the first campus's for a whole-school lead) for the level
    # and year asked, a discount of 0-15 %, valid for 30 days; accepted when the lead was
    # won, declined when it was lost, else still open (expired when 30 days have passed).
    run(
        "school_offers",
        "INSERT INTO school_offers (lead_id, customer_user_id, yearly_fee, discount_percent,"
        " valid_until, note, status, answered_at, created_at, updated_at)"
        " SELECT l.id, l.assigned_customer_user_id, fee.yearly_fee, (l.id % 4) * 5,"
        " CAST(l.first_response_at AS date) + 30,"
        " CASE WHEN l.id % 2 = 0 THEN 'Peşin ödemede ek indirim uygulanır.' END,"
        " CASE l.state WHEN 'won' THEN 'accepted' WHEN 'lost' THEN 'declined' ELSE 'open' END,"
        " CASE WHEN l.state IN ('won', 'lost') THEN a.answered END,"
        " l.first_response_at, coalesce(CASE WHEN l.state IN ('won', 'lost') THEN a.answered END,"
        "  l.first_response_at)"
        " FROM leads AS l"
        " JOIN school_fees AS fee ON fee.campus_id = coalesce(l.campus_id, 3 * l.school_id - 2)"
        "  AND fee.level = l.level AND fee.school_year = l.school_year"
        " CROSS JOIN LATERAL (SELECT l.ended_at - (l.ended_at - l.first_response_at) / 2"
        "  AS answered) AS a"
        " WHERE l.first_response_at IS NOT NULL"
        " ORDER BY l.id",
    )
    # The timeline, oldest first: opened (the parent), assigned (internal, by the admin, who
    # is named in it; halfway to the offer or the end), offer_sent (the admin), the parent's
    # answer to it, then the end (won or lost by the admin, closed: withdrawn by the parent).
    run(
        "lead_events",
        "WITH l AS (SELECT lead.id, lead.user_id, lead.state, lead.created_at,"
        "  lead.first_response_at, lead.ended_at, lead.assigned_customer_user_id,"
        "  staff.user_id AS staff_user, staff_user.name AS staff_name"
        "  FROM leads AS lead"
        "  LEFT JOIN customer_users AS staff ON staff.id = lead.assigned_customer_user_id"
        "  LEFT JOIN users AS staff_user ON staff_user.id = staff.user_id)"
        " INSERT INTO lead_events (lead_id, kind, actor_user_id, is_internal, body, created_at)"
        " SELECT lead_id, kind, actor, internal, body, at FROM ("
        " SELECT l.id AS lead_id, 'opened' AS kind, l.user_id AS actor, false AS internal,"
        "  CAST(NULL AS text) AS body, l.created_at AS at, 0 AS step FROM l"
        " UNION ALL"
        " SELECT l.id, 'assigned', l.staff_user, true, l.staff_name,"
        "  l.created_at + (coalesce(l.first_response_at, l.ended_at) - l.created_at) / 2, 1"
        " FROM l WHERE l.assigned_customer_user_id IS NOT NULL"
        " UNION ALL"
        " SELECT l.id, 'offer_sent', l.staff_user, false, NULL, l.first_response_at, 2"
        " FROM l WHERE l.first_response_at IS NOT NULL"
        " UNION ALL"
        " SELECT o.lead_id, CASE o.status WHEN 'accepted' THEN 'offer_accepted'"
        "  ELSE 'offer_declined' END, l.user_id, false, NULL, o.answered_at, 3"
        " FROM school_offers AS o JOIN l ON l.id = o.lead_id"
        " WHERE o.answered_at IS NOT NULL"
        " UNION ALL"
        " SELECT l.id, l.state, CASE l.state WHEN 'closed' THEN l.user_id"
        "  ELSE l.staff_user END, false, NULL, l.ended_at, 4"
        " FROM l WHERE l.ended_at IS NOT NULL"
        " ) AS e ORDER BY lead_id, step",
    )
    counts = ", ".join(
        f"{column} = c.{state}"
        for state, column in (
            ("open", "lead_open_count"),
            ("won", "lead_won_count"),
            ("lost", "lead_lost_count"),
            ("closed", "lead_closed_count"),
        )
    )
    run(
        "user_details: lead counters",
        f"UPDATE user_details AS d SET {counts}"
        " FROM (SELECT user_id, count(*) FILTER (WHERE state = 'open') AS open,"
        "  count(*) FILTER (WHERE state = 'won') AS won,"
        "  count(*) FILTER (WHERE state = 'lost') AS lost,"
        "  count(*) FILTER (WHERE state = 'closed') AS closed"
        "  FROM leads GROUP BY user_id) AS c"
        " WHERE d.user_id = c.user_id",
    )
    # parent_1 compares the school they keep (1, the small company's) with school 2 (the big
    # company's) as wholes.
    run(
        "user_comparisons",
        "INSERT INTO user_comparisons (user_id, school_id, campus_id, target_key, created_at)"
        " SELECT :one, s, NULL, 'school:' || s, :now - make_interval(mins => s)"
        " FROM generate_series(1, 2) AS s",
        one=ONE_FAVORITE_ID,
    )


def _load_team(run, password_hash: str, full_name: str, people: dict) -> None:
    """The big company's team of 5 + BIG_COMPANY_EXTRA_STAFF with their grants, the activity
    of the two actors' companies' members over ACTIVITY_DAYS days, and the big company's
    pending invitations.

    The extra staff are users FIRST_EXTRA_STAFF_USER_ID.. (after the parents, so the ranges
    the steps before count as parents hold none of them) and customer_users
    FIRST_EXTRA_CUSTOMER_USER_ID..; member k's role by k % 5: agents (0, 1, 3) granted one
    campus each, managers (2) three whole schools each, finance (4) no school.
    """
    count = BIG_COMPANY_EXTRA_STAFF
    user_columns = (
        "INSERT INTO users (id, name, name_folded, email, password_hash, email_verified_at,"
        " customer_id, user_type_id, locale, two_step_enabled, created_at, updated_at)"
    )
    name = full_name.format(n="(k * 13 + 3)")
    run(
        "users: team of 50",
        f"{user_columns} SELECT :first_id + k, {name}, {_folded(name)},"
        " 'ekip' || (k + 1) || '.ikiyuz@' || :domain, :hash, :now, :big,"
        " (SELECT id FROM users_types WHERE code = 'customer_staff'), 'tr', false,"
        " :now - make_interval(days => k * 11), :now"
        " FROM generate_series(0, :count - 1) AS k",
        first_id=FIRST_EXTRA_STAFF_USER_ID,
        count=count,
        big=BIG_COMPANY_ID,
        domain=DOMAIN,
        hash=password_hash,
        **people,
    )
    roles = [str(r) for r in (Role.AGENT, Role.AGENT, Role.MANAGER, Role.AGENT, Role.FINANCE)]
    run(
        "customer_users: team of 50",
        "INSERT INTO customer_users (id, customer_id, user_id, role_id, title_id, is_active,"
        " created_at, updated_at)"
        " SELECT :first_id + k, :big, :first_user_id + k, role.id, title.id, true,"
        " :now - make_interval(days => k * 11), :now"
        " FROM generate_series(0, :count - 1) AS k"
        " JOIN customer_user_roles AS role ON role.code = (CAST(:roles AS text[]))[1 + k % 5]"
        " LEFT JOIN customer_user_titles AS title"
        "  ON title.code = (CAST(:titles AS text[]))[1 + k % 5]",
        first_id=FIRST_EXTRA_CUSTOMER_USER_ID,
        first_user_id=FIRST_EXTRA_STAFF_USER_ID,
        count=count,
        big=BIG_COMPANY_ID,
        roles=roles,
        titles=["registrar", "teacher", "principal", "registrar", "accountant"],
    )
    # The big company's schools are 2 .. 201 (campuses 3s - 2 .. 3s): a manager (k % 5 = 2)
    # gets 3 neighbouring schools, an agent one campus of a school spread over the 200.
    run(
        "customer_user_schools: team of 50",
        "INSERT INTO customer_user_schools (customer_user_id, school_id, campus_id, created_at)"
        " SELECT :first_id + k, 2 + (k * 3 + j) % :schools, CAST(NULL AS bigint), :now"
        " FROM generate_series(0, :count - 1) AS k CROSS JOIN generate_series(0, 2) AS j"
        " WHERE k % 5 = 2"
        " UNION ALL"
        " SELECT :first_id + k, g.school, 3 * g.school - 2 + k % 3, :now"
        " FROM generate_series(0, :count - 1) AS k"
        " CROSS JOIN LATERAL (SELECT 2 + (k * 37) % :schools AS school) AS g"
        " WHERE k % 5 IN (0, 1, 3)",
        first_id=FIRST_EXTRA_CUSTOMER_USER_ID,
        count=count,
        schools=BIG_COMPANY_SCHOOLS,
    )
    # Every member of the two companies every day of the last ACTIVITY_DAYS (Istanbul dates),
    # with counts that vary by member and day (a quiet day is all zeros); the last activity
    # in the working day, UTC (Istanbul is UTC+3), never after now.
    run(
        "customer_user_daily_activity_logs",
        "INSERT INTO customer_user_daily_activity_logs (customer_user_id, activity_date,"
        " sign_in_count, lead_view_count, lead_reply_count, offer_count, last_activity_at)"
        " SELECT cu.id, :today - d, v.quiet * (1 + (cu.id + d) % 3),"
        " v.quiet * ((cu.id * 7 + d * 3) % 25), v.quiet * ((cu.id * 5 + d) % 9),"
        " v.quiet * ((cu.id + d * 7) % 4),"
        " CASE WHEN v.quiet = 1 THEN least(:now, CAST(:today - d AS timestamp)"
        "  + make_interval(hours => 6 + ((cu.id + d) % 9)::int,"
        "  mins => ((cu.id * 7 + d) % 60)::int)) END"
        " FROM customer_users AS cu CROSS JOIN generate_series(0, :days - 1) AS d"
        " CROSS JOIN LATERAL (SELECT CASE WHEN (cu.id * 3 + d) % 7 = 6 THEN 0 ELSE 1 END"
        "  AS quiet) AS v"
        " WHERE cu.customer_id IN (:small, :big)"
        " ORDER BY cu.id, d DESC",
        days=ACTIVITY_DAYS,
        small=SMALL_COMPANY_ID,
        big=BIG_COMPANY_ID,
    )
    # Pending invitations of the big company, sent by its admin; the first one's link is
    # BENCH_INVITATION_TOKEN. They expire in a year, not in the portal's 7 days, so a database
    # reused for longer than a week still has them pending (the accept page answers 200).
    run(
        "customer_user_invitations",
        "INSERT INTO customer_user_invitations (customer_id, email, role_id, title_id,"
        " token_hash, invited_by_customer_user_id, created_at, expires_at)"
        " SELECT :big, 'davetli' || i || '.ikiyuz@' || :domain, role.id, title.id,"
        " (CAST(:hashes AS text[]))[i], :admin, :now - make_interval(hours => i * 5),"
        " :now + interval '365 days'"
        " FROM generate_series(1, :count) AS i"
        " JOIN customer_user_roles AS role ON role.code = CASE WHEN i = 1 THEN :agent"
        "  ELSE :manager END"
        " LEFT JOIN customer_user_titles AS title ON title.code = 'registrar'",
        big=BIG_COMPANY_ID,
        domain=DOMAIN,
        hashes=[
            token_hash(BENCH_INVITATION_TOKEN if i == 0 else f"{BENCH_INVITATION_TOKEN}-{i}")
            for i in range(BENCH_INVITATIONS)
        ],
        admin=1 + (BIG_COMPANY_ID - 1) * STAFF_PER_CUSTOMER,
        count=BENCH_INVITATIONS,
        agent=str(Role.AGENT),
        manager=str(Role.MANAGER),
    )


def _folded(name_sql: str) -> str:
    """SQL for portal.search_text.fold() of a generated name: the names here are Turkish
    letters only, for which dropping the marks, i for ı and lower case are the whole rule."""
    return f"lower(translate({name_sql}, 'ÇĞİIÖŞÜçğıöşü', 'CGIIOSUcgiosu'))"


if __name__ == "__main__":
    sys.exit(main())
