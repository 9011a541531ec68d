"""`flask check-deploy` and the refusals at start: production settings are checked the way
Django's `check --deploy` checks them, each problem named by its code."""

import gc
from datetime import timedelta

import pytest

from portal import create_app

STRONG_SECRET = "kZ3v9Qm1xR7tL2pW8yB4nC6dF0gH5jK-aSeUiOo_EzTq"

# A production deployment as the README sets it up: every check passes.
PRODUCTION = {
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "SECRET_KEY": STRONG_SECRET,
    "TRUSTED_HOSTS": ["okul.example.org"],
    # check-deploy pings the storage; memory always answers, and one process is declared.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_SINGLE_PROCESS": True,
    "TRUSTED_PROXY_COUNT": 1,
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "smtp.okul.example.org",
    "MAIL_USE_TLS": True,
    "MAIL_USERNAME": "portal",
    "MAIL_PASSWORD": "mail-password",
    "MAIL_SENDER": "Okul <no-reply@okul.example.org>",
    "PAYMENT_GATEWAY": "iyzico",
    "RECEIPT_ISSUER": (
        "Okul A.Ş.",
        "Maslak Mah. 1, Sarıyer / İstanbul",
        "Maslak V.D. · 1234567890",
    ),
    "AGREEMENT_PROVIDER": {
        "name": "Okul",
        "legal_name": "Okul A.Ş.",
        "tax_office": "Maslak",
        "tax_id": "1234567890",
        "address": "Maslak Mah. 1, Sarıyer / İstanbul",
        "kep_address": "",
    },
    # The test process builds many apps: frozen, each one's cycles would never be collected.
    "FREEZE_HEAP_AT_START": False,
}


@pytest.fixture
def production(monkeypatch):
    """create_app(overrides) with PORTAL_ENV=production and the settings above."""
    monkeypatch.setenv("PORTAL_ENV", "production")

    def make(**overrides):
        return create_app({**PRODUCTION, **overrides})

    return make


def check_deploy(app):
    return app.test_cli_runner().invoke(args=["check-deploy"])


def test_production_settings_as_documented_pass(production):
    result = check_deploy(production())

    assert result.exit_code == 0, result.stderr
    assert "no problem found" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"SECRET_KEY": "short-secret"}, "secret-key-weak"),
        ({"SECRET_KEY": "a" * 64}, "secret-key-weak"),
        ({"SESSION_COOKIE_SECURE": False}, "cookie-flags"),
        ({"REMEMBER_COOKIE_SAMESITE": None}, "cookie-flags"),
        ({"SESSION_COOKIE_DOMAIN": "okul.example.org"}, "cookie-flags"),
        ({"DEVICE_COOKIE_NAME": "okul_device"}, "cookie-name"),
        ({"TRUSTED_PROXY_COUNT": 0}, "proxy-count"),
        ({"TRUSTED_PROXY_COUNT": 5}, "proxy-count"),
        ({"RATELIMIT_ENABLED": False}, "limiter-disabled"),
        ({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1"}, "limiter-storage-down"),
        ({"MAIL_BACKEND": "log"}, "mail-backend"),
        ({"MAIL_SERVER": None}, "mail-server"),
        ({"MAIL_USE_TLS": False}, "mail-tls"),
        ({"MAIL_PASSWORD": None}, "mail-credentials"),
        ({"MAIL_SENDER": "Okul <no-reply@okul-portal.example.com>"}, "mail-sender"),
        ({"PAYMENT_GATEWAY": "sandbox"}, "payment-sandbox"),
        ({"HSTS_MAX_AGE": timedelta(days=1)}, "hsts"),
        ({"BENCH_ROUTES": True}, "bench-routes"),
        (
            {"AGREEMENT_PROVIDER": {**PRODUCTION["AGREEMENT_PROVIDER"], "tax_id": ""}},
            "agreement-provider",
        ),
    ],
)
def test_each_problem_is_named_and_fails_the_command(production, overrides, code):
    result = check_deploy(production(**overrides))

    assert result.exit_code == 1
    assert f"{code}: " in result.stderr
    assert "1 deployment problem(s)" in result.stderr


def test_debug_mode_is_a_problem(production, monkeypatch):
    # The flask command takes debug from FLASK_DEBUG, as `flask run` does.
    monkeypatch.setenv("FLASK_DEBUG", "1")

    result = check_deploy(production())

    assert result.exit_code == 1
    assert "debug-on: " in result.stderr


def test_a_knowingly_accepted_problem_can_be_silenced(production):
    result = check_deploy(production(TRUSTED_PROXY_COUNT=0, DEPLOY_CHECKS_SILENCED=["proxy-count"]))

    assert result.exit_code == 0, result.stderr


def test_development_settings_are_not_fit_for_production(app):
    result = check_deploy(app)

    assert result.exit_code == 1
    for code in ("environment-not-production", "secret-key-weak", "cookie-flags", "cookie-name"):
        assert f"{code}: " in result.stderr


@pytest.mark.parametrize(
    "issuer",
    [
        # The placeholder of portal/config.py (the development default).
        ("Okul Portal Teknoloji A.Ş.", "Büyükdere Cad. No: 1", "Maslak V.D. · VKN 0000000000"),
        # 1234567891: the last digit of VKN 123456789x must be 0 (hand-checked in test_turkish).
        ("Okul A.Ş.", "Maslak Mah. 1, Sarıyer / İstanbul", "Maslak V.D. · VKN 1234567891"),
        ("Okul A.Ş.", "Maslak Mah. 1, Sarıyer / İstanbul", "Maslak V.D."),  # no tax number
        ("Okul A.Ş.", "Maslak V.D. · VKN 1234567890"),  # no address line
    ],
    ids=["placeholder", "bad-check-digit", "no-number", "two-lines"],
)
def test_production_refuses_to_start_with_a_receipt_issuer_that_is_not_set(production, issuer):
    with pytest.raises(RuntimeError) as refused:
        production(RECEIPT_ISSUER=issuer)

    assert "receipt-issuer" in str(refused.value)


def test_a_sole_proprietor_issuer_with_a_valid_tc_kimlik_no_starts(production):
    app = production(RECEIPT_ISSUER=("Ayşe Okul", "Moda Cad. 3, Kadıköy", "TCKN 10000000146"))

    assert app.config["RECEIPT_ISSUER"][2] == "TCKN 10000000146"


def test_production_refuses_to_start_with_per_process_limits(production):
    with pytest.raises(RuntimeError) as refused:
        production(RATELIMIT_SINGLE_PROCESS=False)

    assert "limiter-memory" in str(refused.value)
    assert "redis://" in str(refused.value)


def test_production_starts_with_shared_limits_or_a_declared_single_process(production):
    shared = production(
        RATELIMIT_SINGLE_PROCESS=False, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379"
    )
    single = production(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_SINGLE_PROCESS=True)

    assert shared.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert single.config["RATELIMIT_SINGLE_PROCESS"] is True


def test_production_refuses_to_start_without_a_host_allow_list(production):
    with pytest.raises(RuntimeError) as refused:
        production(TRUSTED_HOSTS=None, DEPLOY_CHECKS_SILENCED=["trusted-hosts-missing"])

    assert "trusted-hosts-missing" in str(refused.value)


def test_bench_routes_are_named_but_do_not_stop_production(production):
    # bench/pages.py serves the production settings with the reference routes on; only
    # check-deploy, which a real deployment runs, refuses them.
    app = production(BENCH_ROUTES=True)

    hello = app.test_client().get("/_bench/hello", base_url="https://okul.example.org")

    assert hello.status_code == 200
    result = check_deploy(app)
    assert result.exit_code == 1
    assert "bench-routes: " in result.stderr


def test_a_production_process_keeps_what_it_built_out_of_the_collectors_sight(production):
    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        production(FREEZE_HEAP_AT_START=True)
        assert gc.get_freeze_count() > 10_000  # the app, its models and modules
        # and a request's objects die in the youngest generation
        assert gc.get_threshold() == (5000, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
