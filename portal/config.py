"""Settings, read from the environment; no secret has a default outside development and tests."""

import os
from datetime import timedelta

# No inline script or style and no eval anywhere: htmx is configured for it in base.html
# (its indicator styles are in portal.css), and every script and stylesheet is a static file.
# form-action is 'self' because every form posts to the portal; a real payment provider's
# hosted page would be added here by name.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def _env_list(name: str) -> list[str] | None:
    """A comma-separated setting as a list; unset or empty means None."""
    items = [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
    return items or None


class Config:
    """Production settings: everything secret must come from the environment."""

    ENV_NAME = "production"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    # DATABASE_URL picks the database; unset means a SQLite file in the instance folder
    # (filled in by create_app, which knows where that folder is).
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # The benchmark's reference routes (/_bench/hello, /_bench/reference; bench/README.md):
    # only the benchmark turns them on, and `flask check-deploy` refuses them.
    BENCH_ROUTES = os.environ.get("PORTAL_BENCH_ROUTES", "false") == "true"

    # How long the search's city and district lists and its result counts may lag the
    # database (portal/caching.py); 0: not kept.
    SEARCH_CACHE_SECONDS = float(os.environ.get("SEARCH_CACHE_SECONDS", "60"))
    # A serving process moves what it holds once the app is built out of the garbage
    # collector's sight (gc.freeze): the app's modules, models and settings live as long as the
    # process, and every full collection would walk them again (docs/performance.md measured
    # it). Off in development and tests, which build many apps in one process.
    FREEZE_HEAP_AT_START = True
    # With the freeze, the youngest generation is collected every this many allocations (not
    # Python's 700): a request holds thousands of objects at once, and at 700 they were
    # promoted while in use, died old and brought full collections of 7-9 ms (decisions.md,
    # "the collector's young generation").
    GC_YOUNG_THRESHOLD = 5000

    BABEL_DEFAULT_LOCALE = "tr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Istanbul"
    LANGUAGES = ("tr", "en")

    # The host names the portal answers to (Flask refuses any other Host with 400), so no
    # link or redirect is built from a forged Host header. Required in production.
    TRUSTED_HOSTS: list[str] | None = _env_list("TRUSTED_HOSTS")

    # Cookies: __Host- names make the browser refuse them unless Secure, Path=/ and without a
    # Domain, so no other subdomain can set or shadow them. Every cookie has SameSite.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_NAME = "__Host-remember_token"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Live sessions (portal/auth/sessions.py). The cookie may outlive a row, never the reverse.
    SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_TIMEOUT = timedelta(hours=2)
    REMEMBERED_SESSION_LIFETIME = timedelta(days=30)
    REMEMBERED_IDLE_TIMEOUT = timedelta(days=7)
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    # The cookie is set at sign-in to outlive every row (30 days), and the row, not the cookie,
    # decides when a session ends: re-signing and re-sending it on every answer bought nothing
    # and cost each signed-in page a serialisation and a Set-Cookie.
    SESSION_REFRESH_EACH_REQUEST = False
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    # The long-lived cookie naming this browser, so a sign-in from a new one asks for a code.
    DEVICE_COOKIE_NAME = "__Host-okul_device"
    DEVICE_COOKIE_LIFETIME = timedelta(days=400)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session does

    # No page takes a file, and the largest form is a few kilobytes: bigger requests, and
    # forms of more parts than any page has, are refused with 413 before they are parsed.
    MAX_CONTENT_LENGTH = 256 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    MAX_FORM_PARTS = 100

    # Flask-Limiter. Memory counts per process, so under `gunicorn -w 4` every limit would be
    # four times what it says: production refuses it (create_app) unless RATELIMIT_SINGLE_PROCESS
    # says only one process serves. Redis shares the counts between processes and machines.
    # Stated, not left to Flask-Limiter: its one limiter object would otherwise carry the last
    # app's value into the next app made in the same process.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_SINGLE_PROCESS = os.environ.get("RATELIMIT_SINGLE_PROCESS", "false") == "true"
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "okul")
    RATELIMIT_HEADERS_ENABLED = True

    # Response headers (portal/core/views/headers.py). HSTS is sent only on HTTPS requests.
    CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY
    HSTS_MAX_AGE = timedelta(days=365)

    # How many proxies in front of us may set X-Forwarded-*; 0 trusts none of them.
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

    # Mail: smtp in production (MAIL_SERVER must be set), the log in development, memory in tests.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "true") == "true"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Okul <no-reply@okul-portal.example.com>")
    # The outbox (portal/outbox.py): a delivery may hold a mail this long before another
    # deliverer may take it again; failures wait MAIL_RETRY_FIRST, doubling up to
    # MAIL_RETRY_LONGEST, and are retried for as long as it takes; delivered rows (address
    # only, subject and body blanked) are deleted MAIL_KEEP_SENT after delivery.
    MAIL_CLAIM_TIMEOUT = timedelta(minutes=5)
    MAIL_RETRY_FIRST = timedelta(seconds=30)
    MAIL_RETRY_LONGEST = timedelta(hours=1)
    MAIL_KEEP_SENT = timedelta(days=int(os.environ.get("MAIL_KEEP_SENT_DAYS", "7")))
    MAIL_BATCH_SIZE = 20
    # The pauses before the after-response hand-off tries again when the database refuses its
    # claim (a busy SQLite); after the last one the mail waits for `flask mail deliver`.
    MAIL_HANDOFF_RETRIES = (
        timedelta(milliseconds=100),
        timedelta(milliseconds=300),
        timedelta(seconds=1),
    )

    # E-mail codes (verification, sign-in): how long one lives, how many tries kill it, and how
    # soon another may be sent to the same account.
    CODE_LIFETIME = timedelta(minutes=15)
    CODE_MAX_ATTEMPTS = 5
    CODE_RESEND_INTERVAL = timedelta(seconds=60)
    # Per account and purpose, whatever the number of browsers and IPs: codes sent, and wrong
    # guesses across all of them, in CODE_LIMIT_WINDOW (portal/auth/codes.py).
    CODE_ISSUE_LIMIT = 10
    CODE_GUESS_LIMIT = 10
    CODE_LIMIT_WINDOW = timedelta(hours=1)
    # An account whose sign-ins from unknown devices hit their limit: its owner is told by
    # e-mail at most once in this interval (portal/auth/failures.py).
    SIGN_IN_ATTACK_NOTICE_INTERVAL = timedelta(hours=24)
    # Favorites a parent may keep without a plan; a plan's "favorites" feature overrides it.
    FAVORITES_LIMIT_DEFAULT = 20
    # Schools or campuses a parent may compare at once without a plan: two, enough to try the
    # comparison (and the issue's journey, two campuses side by side); the parent plans sell
    # it unlimited ("school_comparison", portal/schools/comparison.py).
    COMPARISON_LIMIT_DEFAULT = 2

    # The payment gateway (portal.billing.gateway.GATEWAYS). The sandbox takes only its test
    # cards and needs no network; a real gateway is added there and named here.
    PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "sandbox")
    # Who issues the receipts, line by line as printed on them (RECEIPT_ISSUER="name|address|
    # tax office · VKN"); the default is a placeholder that `flask check-deploy` refuses.
    RECEIPT_ISSUER = tuple(
        line.strip()
        for line in os.environ.get(
            "RECEIPT_ISSUER",
            "Okul Portal Teknoloji A.Ş.|Büyükdere Cad. No: 1, Sarıyer / İstanbul"
            "|Maslak V.D. · VKN 0000000000",
        ).split("|")
    )

    # Okul as the company agreements name it (portal.agreements.agreements.Party), from
    # AGREEMENT_PROVIDER_NAME, _LEGAL_NAME, _TAX_OFFICE, _TAX_ID, _ADDRESS and _KEP_ADDRESS.
    # The operators' Send refuses while the name or legal name is empty.
    AGREEMENT_PROVIDER = {
        key: os.environ.get(f"AGREEMENT_PROVIDER_{key.upper()}", "")
        for key in ("name", "legal_name", "tax_office", "tax_id", "address", "kep_address")
    }

    # Codes of `flask check-deploy` that this deployment knowingly accepts (portal/deployment.py).
    DEPLOY_CHECKS_SILENCED = _env_list("DEPLOY_CHECKS_SILENCED") or []


class DevelopmentConfig(Config):
    """Local development: a fixed secret and cookies that work over plain http."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    # Plain http on 127.0.0.1: no Secure flag, so no __Host- names either (browsers drop a
    # __Host- cookie that is not Secure).
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "session"
    REMEMBER_COOKIE_NAME = "remember_token"
    DEVICE_COOKIE_NAME = "okul_device"
    RATELIMIT_SINGLE_PROCESS = True  # `flask run` is one process
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")
    # A school edited by hand shows in the search's lists at once.
    SEARCH_CACHE_SECONDS = float(os.environ.get("SEARCH_CACHE_SECONDS", "0"))
    FREEZE_HEAP_AT_START = False
    AGREEMENT_PROVIDER = {
        "name": "Okul",
        "legal_name": "Okul Bilişim Hizmetleri A.Ş.",
        "tax_office": "Kadıköy",
        "tax_id": "1234567890",
        "address": "Moda Caddesi 1, Kadıköy, İstanbul",
        "kep_address": "",
    }


class TestConfig(DevelopmentConfig):
    """Tests: same as development, plus Flask's testing mode."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    RATELIMIT_ENABLED = False
    MAIL_BACKEND = "memory"


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}


def config_for_environment() -> type[Config]:
    """The settings class named by PORTAL_ENV (production when unset)."""
    name = os.environ.get("PORTAL_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"PORTAL_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None
