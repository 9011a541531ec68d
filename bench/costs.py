"""Where a page's time goes: its CPU per request in this process, and a profile of it.

    .venv/bin/python bench/costs.py                       # every page, CPU per request
    .venv/bin/python bench/costs.py home_parent inbox_200 --profile 25
    .venv/bin/python bench/costs.py operator_agreements_page --calls

The same database, settings, actors and pages as bench/pages.py (page keys from its table),
without gunicorn or wrk: each page is asked --requests times by the actor's in-process test
client, and the process's own CPU time per request is printed beside the reference page's
(served to the same visitor). With --profile N, a cProfile of the page's requests prints the
N functions with the most time of their own and the N with the most cumulative time; with
--sql, each statement's median time as the database answered it (wall time, so the database
server's share, which CPU/req does not count, shows). A
quick way to see what a change does to a page before the full run of bench/pages.py, whose
figures under load are the ones the targets are checked against.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build  # noqa: E402  (bench/build.py)
import pages as bench_pages  # noqa: E402  (bench/pages.py)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", help="page keys of bench/pages.py (default: all)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument(
        "--profile-dir", metavar="DIR", help="with --profile, also write each page's KEY.prof here"
    )
    parser.add_argument("--sql", action="store_true", help="time each statement")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) of each statement the page runs once",
    )
    parser.add_argument(
        "--calls",
        action="store_true",
        help="Python calls per request beside the reference's (counted, so a busy machine "
        "does not change them)",
    )
    parser.add_argument("--database", default=build.DEFAULT_DATABASE)
    parser.add_argument("--server-url", default=build.DEFAULT_SERVER_URL)
    args = parser.parse_args(argv)
    built = build.ensure(args.server_url, args.database)
    app = bench_pages._in_process_app(bench_pages._settings(built.url))
    with app.app_context():
        arguments = bench_pages._page_arguments()
    every = {page.key: page for page in bench_pages.pages(arguments)}
    every["reference"] = bench_pages.REFERENCE
    unknown = set(args.keys) - set(every)
    if unknown:
        print(f"unknown pages: {sorted(unknown)}", file=sys.stderr)
        return 2
    chosen = [every[key] for key in args.keys] or list(every.values())
    clients = bench_pages._sign_in(app, sorted({p.actor for p in chosen if p.actor}))
    anonymous = app.test_client()
    reference_cost: dict[str | None, float] = {}
    reference_calls: dict[str | None, float] = {}
    print(f"{'page':40} {'CPU/req':>9} {'x ref':>6}")
    for page in chosen:
        client = clients[page.actor] if page.actor else anonymous
        if page.actor not in reference_cost:
            reference = bench_pages._reference_for(page.actor)
            reference_cost[page.actor] = _cpu_per_request(client, reference, args.requests)
        cost = _cpu_per_request(client, page, args.requests)
        ratio = cost / reference_cost[page.actor]
        line = f"{page.title[:40]:40} {cost * 1000:7.2f} ms {ratio:6.2f}"
        if args.calls:
            if page.actor not in reference_calls:
                reference = bench_pages._reference_for(page.actor)
                reference_calls[page.actor] = _calls_per_request(client, reference, args.requests)
            calls = _calls_per_request(client, page, args.requests)
            line += f" {calls:9,.0f} calls {calls / reference_calls[page.actor]:5.2f} x"
        print(line, flush=True)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                bench_pages._request(client, page)
            profiler.disable()
            if args.profile_dir:
                profiler.dump_stats(Path(args.profile_dir) / f"{page.key}.prof")
            stats = pstats.Stats(profiler).strip_dirs()
            stats.sort_stats("tottime").print_stats(args.profile)
            stats.sort_stats("cumulative").print_stats(args.profile)
        if args.sql:
            with app.app_context():
                _print_statement_times(client, page, args.requests)
        if args.explain:
            with app.app_context():
                _print_plans(client, page)
    return 0


def _print_statement_times(client, page, requests: int) -> None:
    """Each statement of the page with its median wall time over `requests` requests."""
    from sqlalchemy import event

    from portal.extensions import db

    times: dict[str, list[float]] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        context._bench_started = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        spent = time.perf_counter() - context._bench_started
        times.setdefault(" ".join(statement.split())[:150], []).append(spent)

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        for _ in range(requests):
            bench_pages._request(client, page)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    for statement, spent in sorted(times.items(), key=lambda item: -sum(item[1])):
        median = sorted(spent)[len(spent) // 2]
        print(f"  {median * 1000:7.2f} ms x{len(spent) / requests:4.1f}  {statement}")


def _print_plans(client, page) -> None:
    """The plan PostgreSQL ran each of the page's statements with, as it ran them (one request
    recorded, then each statement explained with its own parameters, in a transaction rolled
    back: the pages measured only read, but EXPLAIN ANALYZE runs what it explains)."""
    from sqlalchemy import event

    from portal.extensions import db

    ran: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        bench_pages._request(client, page)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    with db.engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        for statement, parameters in ran:
            print("  " + " ".join(statement.split())[:300])
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            for (line,) in cursor.fetchall():
                print("      " + line)
        connection.rollback()


def _calls_per_request(client, page, requests: int) -> float:
    """Python function calls per request, counted by cProfile."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        bench_pages._request(client, page)
    profiler.disable()
    return pstats.Stats(profiler).total_calls / requests


def _cpu_per_request(client, page, requests: int) -> float:
    """The process's CPU seconds per request, after ten warm-up requests."""
    for _ in range(10):
        answer = bench_pages._request(client, page)
    if answer.status_code != page.expected_status:
        raise SystemExit(f"{page.key}: {page.path} answered {answer.status_code}")
    started = time.process_time()
    for _ in range(requests):
        bench_pages._request(client, page)
    return (time.process_time() - started) / requests


if __name__ == "__main__":
    sys.exit(main())
