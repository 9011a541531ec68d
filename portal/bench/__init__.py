"""The benchmark's yardsticks (bench/pages.py): a bare "hello" and the reference page.

Registered only when BENCH_ROUTES is on (PORTAL_BENCH_ROUTES=true), which only the benchmark
does; `flask check-deploy` refuses it (code bench-routes). Both routes are open to anyone, so
every audience is measured against the same two pages served by the same processes.
"""

from flask import Blueprint

bp = Blueprint("bench", __name__, url_prefix="/_bench")

from portal.bench import views  # noqa: E402,F401
