"""What a production deployment's settings must be, checked the way Django's
`check --deploy` does: each problem named by a code, with what to set instead.

`problems()` is what `flask check-deploy` prints; the ones in `REFUSED_AT_START` also stop
`create_app()` in production, because serving with them would be unsafe from the first
request (no secret, limits multiplied per worker, links built from any Host, receipts naming
a placeholder issuer).
A deployment that knowingly differs lists codes in DEPLOY_CHECKS_SILENCED, as Django's
SILENCED_SYSTEM_CHECKS; the refusals at start cannot be silenced.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from portal.turkish import tc_kimlik_no_error, vkn_error

# Secrets that ship in this repository or that people type when asked for one.
KNOWN_SECRETS = {"dev-only-not-secret", "test-only-not-secret", "secret", "changeme", "change-me"}
SECRET_MIN_LENGTH = 32
SECRET_MIN_DISTINCT = 10
# The issuer lines in portal/config.py are a placeholder until the company's are set.
PLACEHOLDER_TAX_NUMBER = "0000000000"

# A number of 10 or 11 digits standing alone in an issuer line: the VKN (or a sole
# proprietor's TC Kimlik No) that must pass its check digits.
_TAX_ID = re.compile(r"(?<!\d)(\d{10}|\d{11})(?!\d)", re.ASCII)

# receipt-issuer: every receipt names its issuer, and one issued under the placeholder or a
# tax number that does not exist cannot be taken back; so it is refused before the first sale.
REFUSED_AT_START = {
    "secret-key-missing",
    "limiter-memory",
    "trusted-hosts-missing",
    "receipt-issuer",
}


@dataclass(frozen=True)
class Problem:
    """One setting that is not fit for production: a code, what is wrong, and the fix."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def problems(config: Mapping, storage_reachable: bool | None = None) -> list[Problem]:
    """Every problem of these settings, minus the silenced ones; `storage_reachable` is the
    answer of the limiter's storage to a ping (None: not asked)."""
    found = [
        *_secret_key(config),
        *_debug(config),
        *_cookies(config),
        *_hosts_and_proxies(config),
        *_limiter(config, storage_reachable),
        *_mail(config),
        *_payments(config),
        *_agreements(config),
        *_bench(config),
    ]
    silenced = set(config.get("DEPLOY_CHECKS_SILENCED") or ()) - REFUSED_AT_START
    return [problem for problem in found if problem.code not in silenced]


def refused_at_start(config: Mapping) -> list[Problem]:
    """The problems that stop create_app() in production."""
    return [problem for problem in problems(config) if problem.code in REFUSED_AT_START]


def _secret_key(config: Mapping) -> list[Problem]:
    key = config.get("SECRET_KEY") or ""
    if isinstance(key, bytes):
        key = key.decode("latin-1")
    if not key:
        return [Problem("secret-key-missing", "SECRET_KEY is not set.")]
    if key in KNOWN_SECRETS or len(key) < SECRET_MIN_LENGTH or len(set(key)) < SECRET_MIN_DISTINCT:
        return [
            Problem(
                "secret-key-weak",
                f"SECRET_KEY is weak (a known value, shorter than {SECRET_MIN_LENGTH} characters"
                f" or fewer than {SECRET_MIN_DISTINCT} distinct ones): set one made by"
                " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
            )
        ]
    return []


def _debug(config: Mapping) -> list[Problem]:
    found = []
    if config.get("ENV_NAME") != "production":
        found.append(
            Problem(
                "environment-not-production",
                f"PORTAL_ENV is {config.get('ENV_NAME')!r}: production needs PORTAL_ENV=production"
                " (development and test settings have fixed secrets and insecure cookies).",
            )
        )
    if config.get("DEBUG"):
        found.append(Problem("debug-on", "DEBUG is on: turn it off (FLASK_DEBUG unset or 0)."))
    if config.get("TESTING"):
        found.append(Problem("testing-on", "TESTING is on: it is for the test suite only."))
    return found


def _cookies(config: Mapping) -> list[Problem]:
    found = []
    cookies = {
        "SESSION_COOKIE": config.get("SESSION_COOKIE_NAME", ""),
        "REMEMBER_COOKIE": config.get("REMEMBER_COOKIE_NAME", ""),
    }
    for prefix in cookies:
        for flag in ("SECURE", "HTTPONLY"):
            if not config.get(f"{prefix}_{flag}"):
                found.append(Problem("cookie-flags", f"{prefix}_{flag} must be True."))
        if config.get(f"{prefix}_SAMESITE") not in ("Lax", "Strict"):
            found.append(Problem("cookie-flags", f"{prefix}_SAMESITE must be 'Lax' or 'Strict'."))
        if config.get(f"{prefix}_DOMAIN"):
            found.append(
                Problem(
                    "cookie-flags",
                    f"{prefix}_DOMAIN is set: a __Host- cookie must have no Domain.",
                )
            )
    names = {**cookies, "DEVICE_COOKIE": config.get("DEVICE_COOKIE_NAME", "")}
    for setting, name in names.items():
        if not str(name).startswith("__Host-"):
            found.append(
                Problem(
                    "cookie-name",
                    f"{setting}_NAME is {name!r}: production cookies are named __Host-…, so the"
                    " browser keeps them only when Secure, on / and without a Domain.",
                )
            )
    return found


def _hosts_and_proxies(config: Mapping) -> list[Problem]:
    found = []
    if not config.get("TRUSTED_HOSTS"):
        found.append(
            Problem(
                "trusted-hosts-missing",
                "TRUSTED_HOSTS is not set: list the portal's host names (comma-separated), so a"
                " forged Host header gets 400 instead of building links and redirects.",
            )
        )
    count = config.get("TRUSTED_PROXY_COUNT", 0)
    if not isinstance(count, int) or count < 0:
        found.append(Problem("proxy-count", "TRUSTED_PROXY_COUNT must be a whole number >= 0."))
    elif count == 0:
        found.append(
            Problem(
                "proxy-count",
                "TRUSTED_PROXY_COUNT is 0: behind a reverse proxy (the usual setup) every client"
                " would have the proxy's address, sharing one rate limit, and HTTPS would not be"
                " seen (no HSTS). Set the number of proxies in front; silence this code only"
                " when gunicorn faces the Internet itself.",
            )
        )
    elif count > 2:
        found.append(
            Problem(
                "proxy-count",
                f"TRUSTED_PROXY_COUNT is {count}: each trusted proxy lets one more X-Forwarded-For"
                " entry through; a client can forge the ones no proxy of yours wrote.",
            )
        )
    hsts = config.get("HSTS_MAX_AGE")
    if not isinstance(hsts, timedelta) or hsts < timedelta(days=180):
        found.append(Problem("hsts", "HSTS_MAX_AGE must be at least 180 days."))
    return found


def _limiter(config: Mapping, storage_reachable: bool | None) -> list[Problem]:
    found = []
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if config.get("RATELIMIT_ENABLED") is False:
        found.append(Problem("limiter-disabled", "RATELIMIT_ENABLED is off: sign-in is unguarded."))
    if uri.startswith("memory://") and not config.get("RATELIMIT_SINGLE_PROCESS"):
        found.append(
            Problem(
                "limiter-memory",
                "RATELIMIT_STORAGE_URI is memory://, which counts per process: with several"
                " workers every limit is multiplied. Set it to redis://127.0.0.1:6379 (or set"
                " RATELIMIT_SINGLE_PROCESS=true when exactly one process serves).",
            )
        )
    if storage_reachable is False:
        found.append(
            Problem(
                "limiter-storage-down",
                f"The rate-limit storage does not answer ({_without_password(uri)}): every"
                " limited request would fail.",
            )
        )
    return found


def _mail(config: Mapping) -> list[Problem]:
    if config.get("MAIL_BACKEND") != "smtp":
        return [
            Problem(
                "mail-backend",
                f"MAIL_BACKEND is {config.get('MAIL_BACKEND')!r}: production sends mail by smtp"
                " (codes would never reach anyone).",
            )
        ]
    found = []
    if not config.get("MAIL_SERVER"):
        found.append(Problem("mail-server", "MAIL_SERVER is not set."))
    if not config.get("MAIL_USE_TLS") and config.get("MAIL_PORT") != 465:
        found.append(
            Problem("mail-tls", "MAIL_USE_TLS is off: codes and addresses would travel in clear.")
        )
    if bool(config.get("MAIL_USERNAME")) != bool(config.get("MAIL_PASSWORD")):
        found.append(
            Problem("mail-credentials", "MAIL_USERNAME and MAIL_PASSWORD go together: set both.")
        )
    if "example.com" in str(config.get("MAIL_SENDER", "")):
        found.append(
            Problem("mail-sender", "MAIL_SENDER is the example address: set the real sender.")
        )
    return found


def _payments(config: Mapping) -> list[Problem]:
    found = []
    if config.get("PAYMENT_GATEWAY") == "sandbox":
        found.append(
            Problem(
                "payment-sandbox",
                "PAYMENT_GATEWAY is sandbox: it takes only test cards and collects nothing.",
            )
        )
    if not _issuer_is_set(config.get("RECEIPT_ISSUER") or ()):
        found.append(
            Problem(
                "receipt-issuer",
                "RECEIPT_ISSUER is the placeholder or names no valid tax number: set the"
                " company's name, address and tax office with VKN, one line each (separated"
                " by |); the VKN (or a sole proprietor's TC Kimlik No) must pass its check"
                " digits.",
            )
        )
    return found


def _issuer_is_set(lines) -> bool:
    """At least name, address and tax identity, not the placeholder's, with a tax number
    that passes its check digits."""
    issuer = [str(line) for line in lines]
    if len(issuer) < 3 or any(PLACEHOLDER_TAX_NUMBER in line for line in issuer):
        return False
    numbers = [number for line in issuer for number in _TAX_ID.findall(line)]
    return any(
        (vkn_error if len(number) == 10 else tc_kimlik_no_error)(number) is None
        for number in numbers
    )


def _agreements(config: Mapping) -> list[Problem]:
    # Okul as its contracts name it: an agreement sent without it could not be signed, and a
    # wrong tax identity in a signed document cannot be corrected afterwards.
    provider = config.get("AGREEMENT_PROVIDER") or {}
    missing = [
        key
        for key in ("name", "legal_name", "tax_office", "tax_id", "address")
        if not (provider.get(key) or "").strip()
    ]
    if missing:
        names = ", ".join(f"AGREEMENT_PROVIDER_{key.upper()}" for key in missing)
        return [
            Problem(
                "agreement-provider",
                f"{names} not set: agreements name Okul with these, and operators cannot send"
                " one for signature without its name and legal name.",
            )
        ]
    return []


def _bench(config: Mapping) -> list[Problem]:
    # Not refused at start: the benchmark itself serves the production settings with them on.
    if config.get("BENCH_ROUTES"):
        return [
            Problem(
                "bench-routes",
                "BENCH_ROUTES is on (PORTAL_BENCH_ROUTES=true): /_bench/hello and"
                " /_bench/reference answer anyone; they are for bench/pages.py only, unset it.",
            )
        ]
    return []


def _without_password(uri: str) -> str:
    scheme, _, rest = uri.partition("://")
    if "@" in rest:
        rest = "…@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"
