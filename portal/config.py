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
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session does

    # Flask-Limiter: memory works for one process; point it at Redis for several.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True

    # How many proxies in front of us may set X-Forwarded-*; 0 trusts none of them.
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))


class DevelopmentConfig(Config):
    """Local development: a fixed secret and cookies that work over plain http."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False


class TestConfig(DevelopmentConfig):
    """Tests: same as development, plus Flask's testing mode."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    RATELIMIT_ENABLED = False


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}


def config_for_environment() -> type[Config]:
    """The settings class named by PORTAL_ENV (production when unset)."""
    name = os.environ.get("PORTAL_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"PORTAL_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None
