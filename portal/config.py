"""Settings, read from the environment; no secret has a default outside development and tests."""

import os
from datetime import timedelta


class Config:
    """Production settings: everything secret must come from the environment."""

    ENV_NAME = "production"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    # DATABASE_URL picks the database; unset means a SQLite file in the instance folder
    # (filled in by create_app, which knows where that folder is).
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    BABEL_DEFAULT_LOCALE = "tr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Istanbul"
    LANGUAGES = ("tr", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    # Live sessions (portal/auth/sessions.py). The cookie may outlive a row, never the reverse.
    SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_TIMEOUT = timedelta(hours=2)
    REMEMBERED_SESSION_LIFETIME = timedelta(days=30)
    REMEMBERED_IDLE_TIMEOUT = timedelta(days=7)
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    # The long-lived cookie naming this browser, so a sign-in from a new one asks for a code.
    DEVICE_COOKIE_NAME = "okul_device"
    DEVICE_COOKIE_LIFETIME = timedelta(days=400)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session does

    # Flask-Limiter: memory works for one process; point it at Redis for several.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True

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

    # E-mail codes (verification, sign-in): how long one lives, how many tries kill it, and how
    # soon another may be sent to the same account.
    CODE_LIFETIME = timedelta(minutes=15)
    CODE_MAX_ATTEMPTS = 5
    CODE_RESEND_INTERVAL = timedelta(seconds=60)
    # Favorites a parent may keep without a plan; a plan's "favorites" feature overrides it.
    FAVORITES_LIMIT_DEFAULT = 20

    # The payment gateway (portal.billing.gateway.GATEWAYS). The sandbox takes only its test
    # cards and needs no network; a real gateway is added there and named here.
    PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "sandbox")
    # Who issues the receipts, line by line as printed on them.
    RECEIPT_ISSUER = (
        "Okul Portal Teknoloji A.Ş.",
        "Büyükdere Cad. No: 1, Sarıyer / İstanbul",
        "Maslak V.D. · VKN 0000000000",
    )


class DevelopmentConfig(Config):
    """Local development: a fixed secret and cookies that work over plain http."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")


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
