"""Time one renewal run against a set-based SQL pass making the same writes, on PostgreSQL.

    .venv/bin/python bench/renewals.py [--count 100000] [--batch-size 1000] [--max-ratio 3]
    .venv/bin/python bench/renewals.py --workers 4          # renew() in 4 processes at once
    .venv/bin/python bench/renewals.py --compare-workers 2 --trials 3 [--min-speedup 1.5]

A throwaway database (okul_bench_<pid>) is created on the server, built by the Alembic
migrations and dropped at the end. It is filled set-based with N parents, each with a saved
sandbox card that always succeeds (`sbx_ok_...`) and an active monthly subscription due on
the business date: anchored one month before it, end_date = next_billing_date = the business
date, period 0 paid. Some anchors fall on days the business date's month does not have (Jan
29-31 for Feb 28), so the next period's end must come from the anchor (Mar 29-31), not from
the clamped date; some subscribers keep an archived price without KDV included, so both
branches of the KDV rule are written.

Then, from the same starting state each time (tables truncated and reloaded, vacuumed and
checkpointed):

1. `portal.billing.renewals.renew()` runs once through the app's session with the sandbox
   gateway (with --workers N: in N processes at once, each with its own app, engine and
   session, racing over the same due set for the same business date), and its result is
   checked: N succeeded payments of the right amounts, exactly one per due period and no
   other, every subscription one period further (its end as `periods.period_end` computes
   it), none due;
2. one transaction of two statements, an INSERT INTO payments ... SELECT and an UPDATE of
   user_subscriptions, makes the same writes; its rows must equal the renewal run's (EXCEPT
   ALL both ways, every column but ids and timestamps).

It prints, for each pass, the wall time, rows per second and the CPU seconds of this process
and of the server's backends (the figure that holds on a busy machine); then the ratio, the
peak RSS during renew() and the machine. It exits 1 when the wall-time ratio is above
--max-ratio, 2 when a check fails. The SQL pass is the floor for these writes, not a
replacement for renew(): it handles only the rows the fixture makes (active or trial,
monthly, one period due, a card that succeeds).

--compare-workers N runs, per trial and from the same starting state each time, renew() in
one worker process, the set-based pass and renew() in N worker processes; both renewal runs
are checked as above and must have written the same rows as the set-based pass. It prints
the throughput of N workers against one and exits 1 when the median over --trials is below
--min-speedup (1.5), or the median ratio of one worker to the set-based pass is above
--max-ratio. Each pass also prints how busy the whole machine was and how much of it the pass
had: on a machine shared with other work, N workers can only go faster if there are CPUs to
spare.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import multiprocessing
import os
import pstats
import queue
import resource
import statistics
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import text
from sqlalchemy.engine import Connection

from portal.billing.gateway import SandboxGateway
from portal.billing.money import KDV_RATE, charge_for
from portal.billing.periods import MONTHLY, period_end
from portal.billing.renewals import DEFAULT_BATCH_SIZE, RenewalReport, renew
from portal.clock import utcnow
from portal.extensions import db

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, when imported
from common import bench_app, scratch_database, upgrade_quietly  # noqa: E402  (bench/common.py)

DEFAULT_SERVER_URL = os.environ.get(
    "OKUL_BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Feb 28 of a common year: anchors Jan 28, 29, 30 and 31 all end their period 0 on it.
DEFAULT_BUSINESS_DATE = date(2027, 2, 28)
PRICE = "149.90"  # the plan's current monthly price, KDV included
ARCHIVED_PRICE = "129.90"  # an older price, KDV excluded, that some subscribers keep
ARCHIVED_PRICE_EVERY = 20  # one subscriber in 20 is on the archived price
ANCHOR_SLOTS = 20  # of every 20 subscriptions, one per clamped anchor day, the rest plain

# Columns compared between the two passes: all but ids and the times the rows were written.
NOT_COMPARED = {"payments": {"id", "created_at"}, "user_subscriptions": {"updated_at"}}


class BenchFailure(Exception):
    """A pass did not make the writes it should have; the figures would mean nothing."""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; the exit status says whether the ratio is within --max-ratio."""
    args = _parse(argv)
    with scratch_database(args.server_url, "okul_bench", keep=args.keep_database) as url:
        app = bench_app(url)
        with app.app_context():
            try:
                return _run(args)
            except BenchFailure as failure:
                print(f"FAILED: {failure}", file=sys.stderr)
                return 2
            finally:
                db.session.remove()
                db.engine.dispose()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="due subscriptions")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument(
        "--date",
        type=date.fromisoformat,
        default=DEFAULT_BUSINESS_DATE,
        help=f"the business date (default {DEFAULT_BUSINESS_DATE})",
    )
    parser.add_argument("--max-ratio", type=float, default=3.0)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run renew() under cProfile, save the stats to FILE and print the top entries",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="renew() in this many processes at once (default 1: in this process)",
    )
    parser.add_argument(
        "--compare-workers",
        type=int,
        metavar="N",
        help="per trial: 1 worker process, the set-based pass, N worker processes; exit 1 if"
        " N workers' throughput is below --min-speedup times one worker's",
    )
    parser.add_argument("--min-speedup", type=float, default=1.5)
    parser.add_argument(
        "--trials", type=int, default=1, help="trials of --compare-workers (medians)"
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    args = parser.parse_args(argv)
    if min(args.count, args.batch_size, args.workers, args.trials) < 1:
        parser.error("--count, --batch-size, --workers and --trials must be 1 or more")
    if args.compare_workers is not None and args.compare_workers < 2:
        parser.error("--compare-workers must be 2 or more")
    if args.profile and (args.workers > 1 or args.compare_workers):
        parser.error("--profile runs renew() in this process: not with worker processes")
    if not _anchors_ending_on(args.date):
        parser.error(f"no monthly period 0 ends on {args.date}; pick another --date")
    return args


def _run(args: argparse.Namespace) -> int:
    count, day = args.count, args.date
    print(f"renewals: {count:,} due subscriptions, business date {day}, batch {args.batch_size}")
    upgrade_quietly()
    started = time.perf_counter()
    with db.engine.begin() as connection:
        _load_fixture(connection, count, day)
        connection.execute(
            text("CREATE TABLE bench_start_subscriptions AS TABLE user_subscriptions")
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # Statistics on every table, as autovacuum would have them on a live database.
        connection.execute(text("VACUUM (ANALYZE)"))
    print(f"fixture loaded in {time.perf_counter() - started:.1f} s")
    if args.compare_workers:
        return _compare_workers(args)

    _reset()
    load_before = os.getloadavg()[0]
    renewed = _time_renew(args, day) if args.workers == 1 else _time_workers(args, args.workers)
    _check_renewed(count, day)
    _keep_renewed()

    _reset()
    set_based = _time_set_based(count, day)
    load_after = os.getloadavg()[0]
    _check_same_writes(count)

    ratio = renewed.wall / set_based.wall
    verdict = "ok" if ratio <= args.max_ratio else "ABOVE THE LIMIT"
    profiled = " (under cProfile)" if args.profile else ""
    print(f"{_label(args.workers):15s}{renewed.describe(count)}{profiled}")
    if renewed.split:
        print(f"{'':15s}{renewed.split}")
    print(f"set-based SQL: {set_based.describe(count)}")
    print(f"ratio:         {ratio:8.1f} x wall (limit {args.max_ratio:g} x: {verdict})", end="")
    if renewed.server_cpu is not None and set_based.server_cpu is not None:
        work = (renewed.client_cpu + renewed.server_cpu) / (
            set_based.client_cpu + set_based.server_cpu
        )
        print(f", {work:.1f} x CPU (client + server)")
    else:
        print()
    if renewed.peak_rss_mib is not None and renewed.rss_before_mib is not None:
        each = " (the largest worker)" if args.workers > 1 else ""
        print(
            f"peak RSS:      {renewed.peak_rss_mib:8.0f} MiB during renew(),"
            f" {renewed.rss_before_mib:.0f} MiB before it{each}"
        )
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS:      {peak:8.0f} MiB (the whole process)")
    _print_machine(load_before, load_after, "before renew()", "after the SQL pass")
    return 0 if ratio <= args.max_ratio else 1


def _compare_workers(args: argparse.Namespace) -> int:
    """1 worker, the set-based pass and N workers, from the same starting state, per trial;
    the medians of the per-trial ratios decide the exit status."""
    count, day, workers = args.count, args.date, args.compare_workers
    speedups, ratios = [], []
    load_before = os.getloadavg()[0]
    for trial in range(1, args.trials + 1):
        _reset()
        one = _time_workers(args, 1)
        _check_renewed(count, day)
        if trial == 1:
            _keep_renewed()
        else:
            _check_same_writes(count)
        _reset()
        set_based = _time_set_based(count, day)
        _check_same_writes(count)
        _reset()
        many = _time_workers(args, workers)
        _check_renewed(count, day)
        _check_same_writes(count)  # the racing workers wrote what the single one did
        speedups.append(one.wall / many.wall)
        ratios.append(one.wall / set_based.wall)
        print(f"trial {trial}, load average {os.getloadavg()[0]:.1f}:")
        print(f"  {_label(1):15s}{one.describe(count)}")
        print(f"  {_label(workers):15s}{many.describe(count)}  {many.split}")
        print(f"  set-based SQL: {set_based.describe(count)}")
        print(
            f"  {workers} workers / 1: {speedups[-1]:.2f} x throughput;"
            f" 1 worker / set-based: {ratios[-1]:.2f} x wall"
        )
    speedup, ratio = statistics.median(speedups), statistics.median(ratios)
    fast_enough = speedup >= args.min_speedup
    within = ratio <= args.max_ratio
    print(
        f"throughput:    {speedup:8.2f} x with {workers} workers against 1, median of"
        f" {args.trials} (at least {args.min_speedup:g} x: {'ok' if fast_enough else 'BELOW'})"
    )
    print(
        f"ratio:         {ratio:8.2f} x wall, 1 worker against set-based SQL, median of"
        f" {args.trials} (limit {args.max_ratio:g} x: {'ok' if within else 'ABOVE THE LIMIT'})"
    )
    _print_machine(load_before, os.getloadavg()[0], "at the start", "at the end")
    return 0 if fast_enough and within else 1


def _label(workers: int) -> str:
    return "renew():" if workers == 1 else f"renew() x {workers}:"


def _print_machine(load_before: float, load_after: float, before: str, after: str) -> None:
    with db.engine.connect() as connection:
        version = connection.scalar(text("SHOW server_version"))
    print(
        f"machine:       {os.cpu_count()} CPUs, {_memory_gib():.1f} GiB RAM, PostgreSQL {version},"
        f" load average {load_before:.1f} {before}, {load_after:.1f} {after}"
    )


def _keep_renewed() -> None:
    """Copy what the renewal run wrote, for _check_same_writes()."""
    with db.engine.begin() as connection:
        for table in NOT_COMPARED:
            columns = ", ".join(_compared_columns(connection, table))
            connection.execute(text(f"DROP TABLE IF EXISTS bench_renewed_{table}"))
            connection.execute(
                text(f"CREATE TABLE bench_renewed_{table} AS SELECT {columns} FROM {table}")
            )


@dataclass
class Measured:
    """What one pass cost: wall seconds, and CPU seconds of this process and of the server's
    backends (None when the server is not on this machine, or not visible in /proc)."""

    wall: float
    client_cpu: float
    server_cpu: float | None
    rss_before_mib: float | None  # Linux only, from /proc/self/status
    peak_rss_mib: float | None
    machine_busy: float | None = None  # share of all the machine's CPUs busy meanwhile
    split: str = ""  # with several workers: what each charged, and in how long

    def describe(self, rows: int) -> str:
        """One line of the report."""
        server = "?" if self.server_cpu is None else f"{self.server_cpu:.2f} s"
        line = (
            f"{self.wall:8.2f} s {rows / self.wall:10,.0f} rows/s"
            f"  CPU: client {self.client_cpu:.2f} s, server {server}"
        )
        if self.machine_busy is not None and self.server_cpu is not None:
            # How much of the machine this pass had, beside how busy the machine was: a pass
            # that waits neither for locks nor for the disk uses the CPUs it is given.
            own = (self.client_cpu + self.server_cpu) / (self.wall * (os.cpu_count() or 1))
            line += f"; machine busy {self.machine_busy:.0%}, this pass {own:.0%}"
        return line


class _Measure:
    """Times the block: wall clock, this process's CPU and the database's backends' CPU.

    The backends' CPU is what the server did for the pass, whatever else the machine was
    doing meanwhile; on a busy machine it says more than the wall clock does.
    """

    def __enter__(self) -> _Measure:
        _reset_peak_rss()
        self._rss_before = _process_status_mib("VmRSS")
        self._backends = _backend_cpu()
        self._machine = _machine_ticks()
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc_info) -> None:
        wall, cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu
        machine = _machine_busy(self._machine)
        before, after = self._backends, _backend_cpu()
        self.result = Measured(
            wall,
            cpu,
            _server_cpu(before, after),
            self._rss_before,
            _process_status_mib("VmHWM"),
            machine,
        )


def _server_cpu(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    if before is None or after is None:
        return None
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _machine_ticks() -> tuple[int, int] | None:
    """Busy and total ticks of all the machine's CPUs so far (Linux: /proc/stat)."""
    try:
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    total = sum(ticks[:8])  # user nice system idle iowait irq softirq steal
    return total - ticks[3] - ticks[4], total


def _machine_busy(before: tuple[int, int] | None) -> float | None:
    after = _machine_ticks()
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def _backend_cpu() -> dict[int, float] | None:
    """CPU seconds so far of each server process connected to this database, by pid."""
    with db.engine.connect() as connection:
        pids = connection.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        process = Path(f"/proc/{pid}")
        try:
            if not process.joinpath("cmdline").read_bytes().startswith(b"postgres"):
                return None  # a pid of another machine's server
            # Fields 14 and 15 of stat, user and system time, counted after the ")" that
            # ends the command name (which may itself hold spaces).
            fields = process.joinpath("stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def _reset_peak_rss() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM (and ru_maxrss with it), so the peak read
    # after a pass is its own rather than that of create_app() and the migrations.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _process_status_mib(field: str) -> float | None:
    # VmRSS: resident now; VmHWM: the peak since _reset_peak_rss(). Both in kB.
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return None


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def _anchors_ending_on(day: date) -> list[date]:
    """Every anchor whose monthly period 0 ends on `day`, the plain one first: Jan 28 to 31
    for Feb 28, one anchor for most days, none for Mar 29 to 31 (no Feb day leads there)."""
    plain = day - relativedelta(months=1)
    candidates = (plain + relativedelta(days=extra) for extra in range(4))
    return [
        anchor
        for anchor in candidates
        if anchor.month == plain.month and anchor + relativedelta(months=1) == day
    ]


def _load_fixture(connection: Connection, count: int, day: date) -> None:
    """Users, saved cards and due subscriptions, N of each, in three set-based statements."""
    plan_id = connection.scalar(
        text(
            "INSERT INTO subscription_plans (code, name, audience, is_active, sort_order,"
            " created_at, updated_at)"
            " VALUES ('bench-parents', 'Bench parents', 'parents', true, 0,"
            " timezone('UTC', now()), timezone('UTC', now())) RETURNING id"
        )
    )
    insert_price = text(
        "INSERT INTO plan_prices (subscription_plan_id, billing_cycle, currency, amount,"
        " kdv_included, trial_days, status, created_at, archived_at)"
        " VALUES (:plan, 'monthly', 'TRY', :amount, :kdv_included, 0, :status,"
        " timezone('UTC', now()), CASE WHEN :archived THEN timezone('UTC', now()) END)"
        " RETURNING id"
    )
    price_id = connection.scalar(
        insert_price,
        dict(plan=plan_id, amount=PRICE, kdv_included=True, status="active", archived=False),
    )
    archived_price_id = connection.scalar(
        insert_price,
        dict(
            plan=plan_id,
            amount=ARCHIVED_PRICE,
            kdv_included=False,
            status="archived",
            archived=True,
        ),
    )
    parent_type = connection.scalar(text("SELECT id FROM users_types WHERE code = 'parent'"))
    # E-mails are lower case and unique, as the users table insists; tokens are what the
    # sandbox hands out for 4242 4242 4242 4242 (sbx_ok_ and 24 hex digits), unique per card.
    connection.execute(
        text(
            "WITH parent AS ("
            " INSERT INTO users (name, email, user_type_id, locale, email_verified_at,"
            "  created_at, updated_at)"
            " SELECT 'Bench Veli ' || n, 'veli' || n || '@bench.example.com', :parent_type,"
            "  'tr', timezone('UTC', now()), timezone('UTC', now()), timezone('UTC', now())"
            " FROM generate_series(1, :count) AS n"
            " RETURNING id)"
            " INSERT INTO user_payment_cards (user_id, gateway, token, brand, last4,"
            "  exp_month, exp_year, created_at, updated_at)"
            " SELECT id, 'sandbox', 'sbx_ok_' || lpad(to_hex(id), 24, '0'), 'visa', '4242',"
            "  12, :exp_year, timezone('UTC', now()), timezone('UTC', now())"
            " FROM parent"
        ),
        dict(parent_type=parent_type, count=count, exp_year=day.year + 3),
    )
    anchors = _anchors_ending_on(day)
    slots = [anchors[0]] * (ANCHOR_SLOTS - len(anchors) + 1) + anchors[1:]
    connection.execute(
        text(
            "INSERT INTO user_subscriptions (user_id, subscription_plan_id, plan_price_id,"
            " billing_cycle, amount, currency, kdv_included, anchor_date, start_date, end_date,"
            " period_index, status, auto_renew, cancel_at_period_end, next_billing_date,"
            " last_payment_date, retry_count, created_at, updated_at, user_payment_card_id)"
            " SELECT card.user_id, price.subscription_plan_id, price.id, price.billing_cycle,"
            "  price.amount, price.currency, price.kdv_included, slot.anchor, slot.anchor,"
            "  :day, 0, 'active', true, false, :day, slot.anchor, 0,"
            "  timezone('UTC', now()), timezone('UTC', now()), card.id"
            " FROM user_payment_cards AS card"
            " JOIN plan_prices AS price ON price.id = CASE WHEN card.id % :archived_every = 0"
            "  THEN :archived_price ELSE :price END"
            " CROSS JOIN LATERAL (SELECT (CAST(:slots AS date[]))"
            "  [1 + card.id % cardinality(CAST(:slots AS date[]))] AS anchor) AS slot"
            " ORDER BY card.id"
        ),
        dict(
            day=day,
            slots=slots,
            price=price_id,
            archived_price=archived_price_id,
            archived_every=ARCHIVED_PRICE_EVERY,
        ),
    )


def _reset() -> None:
    """Back to the starting state, physically alike for both passes: the tables reloaded,
    vacuumed and analysed, and dirty pages written out so neither pass pays for the other."""
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("TRUNCATE payments, user_subscriptions"))
        connection.execute(
            text("INSERT INTO user_subscriptions TABLE bench_start_subscriptions ORDER BY id")
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) user_subscriptions, payments"))
        connection.execute(text("CHECKPOINT"))


def _time_renew(args: argparse.Namespace, day: date) -> Measured:
    """One renew() run, commits included."""
    gateway = SandboxGateway()
    profiler = cProfile.Profile() if args.profile else None
    with _Measure() as measure:
        if profiler:
            profiler.enable()
        report = renew(db.session, gateway, day, batch_size=args.batch_size, now=utcnow())
        db.session.commit()  # renew() commits every batch; this ends the final empty read
        if profiler:
            profiler.disable()
    db.session.remove()
    if profiler:
        profiler.dump_stats(args.profile)
        _print_profile(profiler)
    _check_reports([report], args.count)
    return measure.result


@dataclass
class _WorkerDone:
    """What one worker process sends back."""

    report: RenewalReport
    wall: float
    cpu: float
    rss_before_mib: float | None
    peak_rss_mib: float | None


def _time_workers(args: argparse.Namespace, workers: int) -> Measured:
    """`workers` processes, each with its own app, engine and session, run renew() for the
    same business date at once; timed from their common start to the last one's commit.

    Each connects before the start, so the server's CPU is counted from the same backends at
    both ends, and none pays for its app or its connection inside the timing.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers + 1)
    results = context.Queue()
    url = db.engine.url.render_as_string(hide_password=False)
    now = utcnow()  # one run's time, as cron's processes started together would record
    processes = [
        context.Process(
            target=_renew_worker,
            args=(url, args.date, args.batch_size, now, barrier, results),
            daemon=True,
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    done: list[_WorkerDone | str] = []
    try:
        barrier.wait(WORKER_TIMEOUT)  # every worker has its app and its connection
        backends = _backend_cpu()
        machine = _machine_ticks()
        barrier.wait(WORKER_TIMEOUT)  # go
        started = time.perf_counter()
        for _ in processes:
            done.append(results.get(timeout=WORKER_TIMEOUT))
            if isinstance(done[-1], str):
                raise BenchFailure(f"a renewal worker failed:\n{done[-1]}")
        wall = time.perf_counter() - started
        busy = _machine_busy(machine)
        after = _backend_cpu()
        barrier.wait(WORKER_TIMEOUT)  # the workers may disconnect
    except (threading.BrokenBarrierError, queue.Empty) as error:
        failures = [d for d in done if isinstance(d, str)]
        while not results.empty():
            failures.append(results.get())
        raise BenchFailure(f"renewal workers did not finish ({error!r}): {failures}") from None
    finally:
        for process in processes:
            process.join(WORKER_TIMEOUT)
            if process.is_alive():
                process.terminate()
    finished = [d for d in done if isinstance(d, _WorkerDone)]
    _check_reports([d.report for d in finished], args.count)
    befores = [d.rss_before_mib for d in finished if d.rss_before_mib is not None]
    peaks = [d.peak_rss_mib for d in finished if d.peak_rss_mib is not None]
    return Measured(
        wall,
        sum(d.cpu for d in finished),
        _server_cpu(backends, after),
        max(befores) if befores else None,
        max(peaks) if peaks else None,
        busy,
        split="charged: " + " / ".join(f"{d.report.charged:,} in {d.wall:.2f} s" for d in finished),
    )


WORKER_TIMEOUT = 1800  # seconds: no pass of this benchmark comes near it


def _renew_worker(url, day, batch_size, now, barrier, results) -> None:
    """One renewal process: its app, its engine and session, one renew() run."""
    try:
        app = bench_app(url)
        with app.app_context():
            try:
                db.session.execute(text("SELECT 1"))  # connected before the start
                db.session.commit()
                gateway = SandboxGateway()
                _reset_peak_rss()
                rss_before = _process_status_mib("VmRSS")
                barrier.wait(WORKER_TIMEOUT)
                barrier.wait(WORKER_TIMEOUT)
                cpu, started = time.process_time(), time.perf_counter()
                report = renew(db.session, gateway, day, batch_size=batch_size, now=now)
                db.session.commit()  # renew() commits every batch; this ends the final read
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                results.put(
                    _WorkerDone(report, wall, cpu, rss_before, _process_status_mib("VmHWM"))
                )
                barrier.wait(WORKER_TIMEOUT)
            finally:
                db.session.remove()
                db.engine.dispose()
    except BaseException:
        results.put(traceback.format_exc())
        barrier.abort()


def _check_reports(reports: list[RenewalReport], count: int) -> None:
    expected = dict(charged=count, failed=0, trials_converted=0, changed=0, ended=0)
    got = {key: sum(getattr(r, key) for r in reports) for key in expected}
    if got != expected:
        raise BenchFailure(f"renew() reported {got}, expected {expected}")


def _print_profile(profiler: cProfile.Profile) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(30)
        print(out.getvalue())


def _check_renewed(count: int, day: date) -> None:
    """N succeeded payments of the right amounts, one per due period and none else, every
    subscription exactly one period on, nothing still due."""
    with db.engine.connect() as connection:
        total, periods_paid, subscriptions_paid = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT (user_subscription_id, charged_period)),"
                " count(DISTINCT user_subscription_id) FROM payments"
            )
        ).one()
        if not total == periods_paid == subscriptions_paid == count:
            raise BenchFailure(
                f"{total} payments for {periods_paid} periods of {subscriptions_paid}"
                f" subscriptions; expected one for each of {count}"
            )
        payments = connection.execute(
            text(
                "SELECT amount_paid.net_amount, amount_paid.kdv_amount, amount_paid.gross_amount,"
                " start.amount, start.kdv_included, count(*)"
                " FROM payments AS amount_paid"
                " JOIN bench_start_subscriptions AS start"
                "  ON start.id = amount_paid.user_subscription_id"
                " WHERE amount_paid.status = 'succeeded' AND amount_paid.purpose = 'renewal'"
                "  AND amount_paid.charged_period = start.end_date"
                " GROUP BY 1, 2, 3, 4, 5"
            )
        ).all()
        if sum(row[-1] for row in payments) != count:
            raise BenchFailure(f"expected {count} succeeded renewal payments: {payments}")
        for net, kdv, gross, amount, kdv_included, _ in payments:
            charge = charge_for(amount, kdv_included)
            if (net, kdv, gross) != (charge.net, charge.kdv, charge.gross):
                raise BenchFailure(f"{amount} charged as {net} + {kdv} = {gross}, not {charge}")
        periods = connection.execute(
            text(
                "SELECT start.anchor_date, start.period_index, renewed.period_index,"
                " renewed.end_date, renewed.next_billing_date, count(*)"
                " FROM user_subscriptions AS renewed"
                " JOIN bench_start_subscriptions AS start ON start.id = renewed.id"
                " WHERE renewed.status = 'active' AND renewed.retry_count = 0"
                "  AND renewed.last_payment_date = :day"
                " GROUP BY 1, 2, 3, 4, 5"
            ),
            dict(day=day),
        ).all()
        if sum(row[-1] for row in periods) != count:
            raise BenchFailure(f"expected {count} renewed subscriptions: {periods}")
        for anchor, index_before, index, end, next_billing, _ in periods:
            expected_end = period_end(anchor, MONTHLY, index_before + 1)
            if index != index_before + 1 or end != expected_end or next_billing != end:
                raise BenchFailure(
                    f"anchor {anchor}: period {index_before} -> {index}, end {end}, "
                    f"next billing {next_billing}; expected period {index_before + 1} "
                    f"ending {expected_end}"
                )
        still_due = connection.scalar(
            text(
                "SELECT count(*) FROM user_subscriptions"
                " WHERE status IN ('trial', 'active') AND next_billing_date <= :day"
            ),
            dict(day=day),
        )
        if still_due:
            raise BenchFailure(f"{still_due} subscriptions are still due after renew()")


# The rows renew() handles when all goes well: trial or active, due, monthly, no cancellation
# or change waiting, exactly one period due (no catch-up), a saved card that is not removed.
DUE = (
    "card.id = s.user_payment_card_id AND card.deleted_at IS NULL"
    " AND s.status IN ('trial', 'active') AND s.next_billing_date <= :day"
    " AND s.next_billing_date = s.end_date AND s.billing_cycle = 'monthly'"
    " AND NOT s.cancel_at_period_end AND s.scheduled_plan_price_id IS NULL"
    " AND s.anchor_date + make_interval(months => s.period_index + 2) > :day"
    " AND card.token LIKE 'sbx\\_ok\\_%'"
)
# charge_for(): ROUND_HALF_UP at the kuruş once; PostgreSQL rounds numeric halves away from
# zero, which is the same for amounts that are never negative.
NET = "CASE WHEN s.kdv_included THEN round(s.amount / (1 + :rate), 2) ELSE s.amount END"
KDV = (
    "CASE WHEN s.kdv_included THEN s.amount - round(s.amount / (1 + :rate), 2)"
    " ELSE round(s.amount * :rate, 2) END"
)
GROSS = "CASE WHEN s.kdv_included THEN s.amount ELSE s.amount + round(s.amount * :rate, 2) END"
# renew()'s key, f"sub{id}:{due.isoformat()}:{retry_count}", and the sandbox's reference,
# "sbx_ch_" + sha256(f"{key}|{token}")[:24].
KEY = "'sub' || s.id || ':' || to_char(s.end_date, 'YYYY-MM-DD') || ':' || s.retry_count"
REFERENCE = (
    f"'sbx_ch_' || left(encode(sha256(convert_to({KEY} || '|' || card.token, 'UTF8')), 'hex'), 24)"
)
# The next period's end from the anchor in one step, as periods.period_end() does with
# relativedelta: PostgreSQL's date + interval 'n months' clamps to the month's last day alike.
NEXT_END = "CAST(s.anchor_date + make_interval(months => s.period_index + 2) AS date)"

# What renew() and new_payment() write in each column of a payment that succeeded.
PAYMENT_VALUES = {
    "user_subscription_id": "s.id",
    "user_id": "s.user_id",
    "customer_id": "s.customer_id",
    "purpose": "CASE WHEN s.status = 'trial' THEN 'trial_end' ELSE 'renewal' END",
    "plan_price_id": "s.plan_price_id",
    "net_amount": NET,
    "kdv_amount": KDV,
    "gross_amount": GROSS,
    "currency": "s.currency",
    "status": "'succeeded'",
    "gateway": ":gateway",
    "gateway_reference": REFERENCE,
    "failure_code": "NULL",
    "idempotency_key": KEY,
    "charged_period": "s.end_date",
    "card_brand": "card.brand",
    "card_last4": "card.last4",
    "created_at": "timezone('UTC', now())",
}
SET_BASED_SUBSCRIPTIONS = text(
    "UPDATE user_subscriptions AS s SET status = 'active', period_index = s.period_index + 1,"
    f" end_date = {NEXT_END}, next_billing_date = {NEXT_END}, retry_count = 0,"
    " last_payment_date = :day, updated_at = timezone('UTC', now())"
    f" FROM user_payment_cards AS card WHERE {DUE}"
)


def _time_set_based(count: int, day: date) -> Measured:
    """The set-based pass: both statements in one transaction, commit included."""
    with db.engine.connect() as connection:
        # Only the columns this schema has (a payment's plan_price_id came with revision 0005);
        # a column written here and not by renew(), or the reverse, fails the comparison.
        columns = [c for c in _columns(connection, "payments") if c in PAYMENT_VALUES]
    payments = text(
        f"INSERT INTO payments ({', '.join(columns)})"
        f" SELECT {', '.join(PAYMENT_VALUES[c] for c in columns)}"
        f" FROM user_subscriptions AS s, user_payment_cards AS card WHERE {DUE} ORDER BY s.id"
    )
    params = dict(day=day, rate=KDV_RATE, gateway=SandboxGateway.name)
    with _Measure() as measure, db.engine.begin() as connection:
        inserted = connection.execute(payments, params).rowcount
        updated = connection.execute(SET_BASED_SUBSCRIPTIONS, params).rowcount
    if inserted != count or updated != count:
        raise BenchFailure(f"set-based pass: {inserted} payments, {updated} subscriptions")
    return measure.result


def _columns(connection: Connection, table: str) -> list[str]:
    # Read from the database, so a column added by a later migration is compared too.
    return list(
        connection.scalars(
            text(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = :table"
                " ORDER BY ordinal_position"
            ),
            dict(table=table),
        )
    )


def _compared_columns(connection: Connection, table: str) -> list[str]:
    return [name for name in _columns(connection, table) if name not in NOT_COMPARED[table]]


def _check_same_writes(count: int) -> None:
    """The set-based pass wrote exactly the rows renew() wrote, column for column."""
    with db.engine.connect() as connection:
        for table in NOT_COMPARED:
            columns = ", ".join(_compared_columns(connection, table))
            renewed = f"bench_renewed_{table}"
            for left, right in ((table, renewed), (renewed, table)):
                differing = connection.scalar(
                    text(
                        f"SELECT count(*) FROM (SELECT {columns} FROM {left}"
                        f" EXCEPT ALL SELECT {columns} FROM {right}) AS differing"
                    )
                )
                if differing:
                    raise BenchFailure(f"{differing} rows of {left} are not in {right}")
            rows = connection.scalar(text(f"SELECT count(*) FROM {table}"))
            if rows != count:
                raise BenchFailure(f"{table} has {rows} rows, expected {count}")


if __name__ == "__main__":
    sys.exit(main())
