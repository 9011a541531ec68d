"""Time the operator's name search against a LIKE scan of every user's name, on PostgreSQL.

    .venv/bin/python bench/search.py [--users 210000] [--repeat 21] [--max-ratio 0.02]
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1/okul

Without --database-url a throwaway database (okul_search_<pid>) is created on the server,
built by the Alembic migrations, filled with --users parents and dropped at the end. Their
names are Turkish first and last names drawn with the skew real names have (a few very common,
a long tail), one in seven with a second first name ("Ayşe Nur"), and a handful of users with
a rare family name; they are generated in Python and loaded with one COPY, with
the migrations' own GIN index on to_tsvector('simple', name) in place and the table analysed
afterwards, as a live database would be. With --database-url it reads an existing database
(e.g. the page benchmark's) and changes nothing.

The names searched come from the data: the rare word is the longest-standing rare one (found
1 to 10 times, letters only, 5 or more of them), the common word is the most frequent one,
and each also as a full name as found on a user. For each, with medians of --repeat
interleaved runs after a warm-up, all through the app's session and the same ORM select
(the users and their joined user type, soft-deleted users left out, ordered by name, 50 at
most):

- `portal.database.users_named(session, name)`: the GIN full-text index, prefix match;
- `WHERE name LIKE '%name%'` and `WHERE name ILIKE '%name%'`: the scan it replaces.

It prints each time, the rows found, the server's own time (EXPLAIN ANALYZE with TIMING
OFF: planning and execution, median of 5) and the scan the plan makes of users, then the
ratios of users_named to LIKE and ILIKE, end to end and the server's alone. It exits 1 when a
rare name's end-to-end ratio to LIKE is above --max-ratio, 2 when the data has no rare or
common name to search for (pass --rare / --common).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from portal.clock import utcnow
from portal.database import users_named
from portal.extensions import db
from portal.models import User
from portal.search_text import fold

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, when imported
from common import bench_app, scratch_database, upgrade_quietly  # noqa: E402  (bench/common.py)

DEFAULT_SERVER_URL = os.environ.get(
    "OKUL_BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
LIMIT = 50  # what users_named returns at most, and so the scans too
WARM_UP = 6  # untimed runs of each query first
EXPLAINED = 5  # runs of EXPLAIN ANALYZE of each query (median)

# Common Turkish given names and family names, most frequent first (the draw favours the
# front of each list), and family names few people have. Written as words, not as lists of
# quoted strings, so they read as names.
MALE = (  # noqa: SIM905
    "Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim İsmail Osman Yusuf Murat Ömer Ramazan"
    " Halil Süleyman Abdullah Mahmut Recep Salih Fatih Kemal Emre Burak Serkan Hakan Emin"
    " Can Cem Oğuz Volkan Gökhan Erkan Tolga Barış Onur Kadir Yasin Uğur Selim Eren Arda"
).split()
FEMALE = (  # noqa: SIM905
    "Fatma Ayşe Emine Hatice Zeynep Elif Meryem Şerife Zehra Sultan Hanife Merve Özlem Esra"
    " Büşra Gül Derya Seda Ebru Aysel Melek Sibel Tuğba Gamze Filiz Pınar Dilek Yasemin Hülya"
    " Nur Canan Songül Sevgi Leyla Aslı Ceren Damla İrem Selin Gizem Ecrin Defne"
).split()
FAMILY = (  # noqa: SIM905
    "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç"
    " Aslan Çetin Kara Koç Kurt Özkan Şimşek Polat Özcan Korkmaz Çakır Erdoğan Yavuz Can Acar"
    " Şen Aktaş Güler Yalçın Güneş Bozkurt Bulut Keskin Ünal Turan Gül Özer Işık Kaplan Avcı"
    " Sarı Tekin Taş Köse Yüksel Ateş Aksoy Karataş Demirci Tunç Uçar Coşkun Kahraman Aydemir"
    " Çiftçi Duman Erdem Bayram Kalkan Sezer Akın Başaran Ekinci Karaca Orhan Toprak Uysal"
).split()
RARE_FAMILY = (  # noqa: SIM905
    "Karamustafaoğlu Hacıosmanoğlu Pehlivanoğlu Abacıoğlu Zeytinoğlu Kuyumcuoğlu"
    " Ağababaoğlu Dumlupınar Tezcanlı Çobanoğulları"
).split()
RARE_EVERY = 7001  # one user in 7,001 has a rare family name: about 3 per name at 210,000
SECOND_NAME_EVERY = 7  # one in seven has two given names


class NothingToSearch(Exception):
    """The data has no name of the kind asked for."""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; the exit status says whether the rare-name ratios are within
    --max-ratio."""
    args = _parse(argv)
    if args.database_url:
        return _on(args.database_url, args, build=False)
    with scratch_database(args.server_url, "okul_search", keep=args.keep_database) as url:
        return _on(url, args, build=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=210_000, help="users to build")
    parser.add_argument("--repeat", type=int, default=21, help="timed runs of each query")
    parser.add_argument("--max-ratio", type=float, default=0.02)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument(
        "--database-url", help="search this existing database instead of building one"
    )
    parser.add_argument("--rare", help="the rare name to search for (default: from the data)")
    parser.add_argument("--common", help="the common name to search for (default: from the data)")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    args = parser.parse_args(argv)
    if args.users < 1 or args.repeat < 1:
        parser.error("--users and --repeat must be 1 or more")
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must be a PostgreSQL database")
    return args


def _on(url: str, args: argparse.Namespace, build: bool) -> int:
    app = bench_app(url)
    with app.app_context():
        try:
            if build:
                _build(args.users)
            return _measure(args)
        except NothingToSearch as missing:
            print(f"FAILED: {missing}", file=sys.stderr)
            return 2
        finally:
            db.session.remove()
            db.engine.dispose()


def _build(count: int) -> None:
    upgrade_quietly()
    started = time.perf_counter()
    _load_users(count)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) users"))
    print(f"{count:,} users loaded in {time.perf_counter() - started:.1f} s (COPY, index, ANALYZE)")


def _load_users(count: int) -> None:
    """`count` parents with generated names, in one COPY; the same names every time."""
    draw = random.Random(2026)  # noqa: S311 # names for a benchmark, not secrets

    def pick(names: list[str]) -> str:
        # A skewed draw: the first names of a list come up far more often than the last.
        return names[int(draw.random() ** 1.6 * len(names))]

    now = utcnow().replace(tzinfo=None)  # the column is naive UTC
    with db.engine.begin() as connection:
        parent = connection.scalar(text("SELECT id FROM users_types WHERE code = 'parent'"))
        raw = connection.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(
                "COPY users (name, name_folded, email, user_type_id, locale, email_verified_at,"
                " created_at, updated_at) FROM STDIN"
            ) as copy,
        ):
            for n in range(1, count + 1):
                given = MALE if draw.random() < 0.5 else FEMALE
                first = pick(given)
                if n % SECOND_NAME_EVERY == 0:
                    first = f"{first} {pick([g for g in given if g != first])}"
                family = (
                    RARE_FAMILY[(n // RARE_EVERY) % len(RARE_FAMILY)]
                    if n % RARE_EVERY == 0
                    else pick(FAMILY)
                )
                copy.write_row(
                    (
                        f"{first} {family}",
                        fold(f"{first} {family}"),  # as User's validator would
                        f"arama{n}@bench.example.com",
                        parent,
                        "tr",
                        now,
                        now,
                        now,
                    )
                )


@dataclass
class Search:
    """One name searched three ways."""

    kind: str  # "rare" or "common"
    words: str
    times: dict[str, list[float]] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    server_ms: dict[str, float] = field(default_factory=dict)
    plan: dict[str, str] = field(default_factory=dict)


def _measure(args: argparse.Namespace) -> int:
    session = db.session
    users = session.scalar(text("SELECT count(*) FROM users"))
    rare, common = _names(args)
    searches = [
        Search("rare", rare),
        Search("rare", _full_name_with(rare)),
        Search("common", common),
        Search("common", _most_frequent_full_name()),
    ]
    ways: dict[str, Callable[[str], list]] = {
        "users_named": lambda words: users_named(session, words),
        "LIKE": lambda words: _scan(session, User.name.like, words),
        "ILIKE": lambda words: _scan(session, User.name.ilike, words),
    }
    for search in searches:
        for way, run in ways.items():
            # Warm-up: caches, pages, and psycopg's prepared statement (made at the 5th use).
            search.found[way] = len(run(search.words))
            for _ in range(WARM_UP - 1):
                run(search.words)
            search.times[way] = []
            search.server_ms[way], search.plan[way] = _explain(
                session, lambda run=run, words=search.words: run(words)
            )
    # One connection and one snapshot throughout, so no run pays for taking a connection from
    # the pool (and its ping); the order changes every round, so none always runs first.
    runs = [(search, way, run) for search in searches for way, run in ways.items()]
    for round_ in range(args.repeat):
        random.Random(round_).shuffle(runs)
        for search, way, run in runs:
            started = time.perf_counter()
            run(search.words)
            search.times[way].append(time.perf_counter() - started)
    session.rollback()
    return _report(args, users, searches)


def _scan(session, like, words: str) -> list:
    # The same select as users_named(), with the pattern the search box would have been
    # given to LIKE: the words as typed, anywhere in the name. The words are our own names,
    # without % or _.
    return list(
        session.scalars(select(User).where(like(f"%{words}%")).order_by(User.name).limit(LIMIT))
    )


def _names(args: argparse.Namespace) -> tuple[str, str]:
    """A rare word (found 1 to 10 times, letters only, 5 or more) and the commonest word."""
    if args.rare and args.common:
        return args.rare, args.common
    words = db.session.execute(
        text(
            "SELECT word, count(*) FROM users, regexp_split_to_table(name, '\\s+') AS word"
            " WHERE deleted_at IS NULL GROUP BY word"
        )
    ).all()
    alphabetic = [(w, n) for w, n in words if w.isalpha()]
    rares = sorted(
        ((w, n) for w, n in alphabetic if n <= 10 and len(w) >= 5), key=lambda wn: (-wn[1], wn[0])
    )
    if not args.rare and not rares:
        raise NothingToSearch("no word of 5 letters or more is found 1 to 10 times: pass --rare")
    if not args.common and not alphabetic:
        raise NothingToSearch("no word of letters in the users' names: pass --common")
    rare = args.rare or rares[0][0]
    common = args.common or max(alphabetic, key=lambda wn: (wn[1], wn[0]))[0]
    return rare, common


def _full_name_with(word: str) -> str:
    """The full name of the first user (by name) whose name holds `word` as a word."""
    name = db.session.scalar(
        text(
            "SELECT name FROM users WHERE deleted_at IS NULL AND :word = ANY"
            " (regexp_split_to_array(name, '\\s+')) ORDER BY name LIMIT 1"
        ),
        dict(word=word),
    )
    return name or word


def _most_frequent_full_name() -> str:
    return db.session.scalar(
        text(
            "SELECT name FROM users WHERE deleted_at IS NULL"
            " GROUP BY name ORDER BY count(*) DESC, name LIMIT 1"
        )
    )


def _explain(session, run: Callable[[], list]) -> tuple[float, str]:
    """The server's time (ms, planning and execution) and the scan of users in the plan of
    the statement `run` sends."""
    sent: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", remember)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    statement, parameters = sent[-1]
    spent, node = [], ""
    for _ in range(EXPLAINED):
        plan = (
            session.connection()
            .exec_driver_sql(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {statement}", parameters)
            .scalar()
        )
        if isinstance(plan, str):
            plan = json.loads(plan)
        spent.append(plan[0]["Planning Time"] + plan[0]["Execution Time"])
        node = _scan_node(plan[0]["Plan"])
    return statistics.median(spent), node


def _scan_node(node: dict) -> str:
    # The node that reads users: an index or bitmap scan, or a sequential scan.
    if node.get("Relation Name") == "users" or "Index Name" in node:
        index = node.get("Index Name")
        return f"{node['Node Type']}" + (f" on {index}" if index else "")
    for child in node.get("Plans", []):
        found = _scan_node(child)
        if found:
            return found
    return ""


def _report(args: argparse.Namespace, users: int, searches: list[Search]) -> int:
    print(
        f"name search: {users:,} users, median of {args.repeat} runs each,"
        f" {LIMIT} rows at most, through the app's session"
    )
    print(f"{'':31s}{'client ms':>10s}{'server ms':>10s}{'rows':>6s}  plan")
    over = []
    for search in searches:
        print(f"{search.kind} {search.words!r}:")
        median = {way: statistics.median(times) for way, times in search.times.items()}
        for way in search.times:
            print(
                f"  {way:29s}{median[way] * 1000:10.2f}{search.server_ms[way]:10.2f}"
                f"{search.found[way]:6d}  {search.plan[way]}"
            )
        like = median["users_named"] / median["LIKE"]
        ilike = median["users_named"] / median["ILIKE"]
        limit = f" (limit {args.max_ratio:g})" if search.kind == "rare" else ""
        server = search.server_ms["users_named"] / search.server_ms["LIKE"]
        print(
            f"  users_named / LIKE {like:.4f}{limit}, / ILIKE {ilike:.4f};"
            f" the server's time alone: / LIKE {server:.4f}"
        )
        if search.kind == "rare" and like > args.max_ratio:
            over.append(search.words)
    version = db.session.scalar(text("SHOW server_version"))
    print(
        f"machine: {os.cpu_count()} CPUs, PostgreSQL {version},"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    if over:
        print(f"ABOVE THE LIMIT for {', '.join(map(repr, over))}")
        return 1
    print(f"rare names within {args.max_ratio:g} x LIKE: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
