"""Security headers, cookies and the Host allow-list: what every response tells the browser,
what the cookies carry, and that no link or redirect is built from a forged Host."""

import json
import re
from pathlib import Path

import pytest

from portal import create_app
from portal.config import Config
from portal.extensions import db
from tests.conftest import IsolatedClient
from tests.helpers import HTMX, post

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# The cookie settings production runs with (portal/config.py), for tests over https.
PRODUCTION_COOKIES = {
    name: getattr(Config, name)
    for name in (
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "REMEMBER_COOKIE_NAME",
        "REMEMBER_COOKIE_SECURE",
        "DEVICE_COOKIE_NAME",
    )
}


def policy(response) -> dict[str, str]:
    """The Content-Security-Policy header as directive -> sources."""
    directives = (part.strip() for part in response.headers["Content-Security-Policy"].split(";"))
    return dict(part.split(" ", 1) for part in directives if part)


@pytest.fixture
def app_with(database_url):
    """create_app(settings) on the test database, for settings fixed at creation."""
    apps = []

    def make(**settings):
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **settings})
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


# --- Headers on every response -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "headers", "status"),
    [
        ("GET", "/", {}, 200),
        ("GET", "/auth/login", {}, 200),
        ("GET", "/plans", HTMX, 200),
        ("GET", "/static/css/portal.css", {}, 200),
        ("GET", "/no-such-page", {}, 404),
        ("POST", "/language", {}, 400),  # no CSRF token
    ],
)
def test_every_response_carries_the_security_headers(client, method, url, headers, status):
    response = client.open(url, method=method, headers=headers)

    assert response.status_code == status
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    csp = policy(response)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["form-action"] == "'self'"


def test_the_policy_allows_no_inline_code_and_no_eval(client):
    header = client.get("/").headers["Content-Security-Policy"]

    for loophole in ("unsafe-inline", "unsafe-eval", "unsafe-hashes", "nonce-", "sha256-", "*"):
        assert loophole not in header


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers

    secure = client.get("/", base_url="https://localhost")

    max_age = re.fullmatch(r"max-age=(\d+)", secure.headers["Strict-Transport-Security"])
    assert int(max_age.group(1)) >= 365 * 24 * 3600


def test_hsts_behind_the_trusted_proxy_follows_the_scheme_it_saw(app_with):
    behind_proxy = app_with(TRUSTED_PROXY_COUNT=1).test_client()
    direct = app_with(TRUSTED_PROXY_COUNT=0).test_client()
    https = {"X-Forwarded-Proto": "https"}

    assert "Strict-Transport-Security" in behind_proxy.get("/", headers=https).headers
    # Nobody in front: the header is the client's own claim, and it changes nothing.
    assert "Strict-Transport-Security" not in direct.get("/", headers=https).headers


# --- No inline code in the pages ---------------------------------------------------------

INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "htmx hx-on (eval)": re.compile(r"\shx-on", re.I),
    "javascript: URL or js: value": re.compile(r"""["'](javascript|js):""", re.I),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=str)
def test_no_template_has_inline_script_or_style(template):
    source = template.read_text()

    found = [what for what, pattern in INLINE.items() if pattern.search(source)]

    assert found == [], f"{template.relative_to(TEMPLATES)}: {found}"


def test_htmx_is_told_not_to_inject_its_indicator_styles(client):
    html = client.get("/").get_data(as_text=True)

    config = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", html)
    assert json.loads(config.group(1))["includeIndicatorCSS"] is False
    css = client.get("/static/css/portal.css").get_data(as_text=True)
    assert ".htmx-indicator" in css


# --- Cookies -----------------------------------------------------------------------------


@pytest.mark.config(PREFERRED_URL_SCHEME="https", **PRODUCTION_COOKIES)
def test_production_cookies_are_host_only_secure_and_samesite(client, auth, parent):
    # Over https Flask-WTF also checks that a form was posted from the portal's own pages.
    client.environ_base["HTTP_REFERER"] = "https://localhost/auth/login"
    auth.login(parent.email, remember="y")

    for name in ("__Host-session", "__Host-remember_token", "__Host-okul_device"):
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        assert cookie.secure and cookie.http_only, name
        assert cookie.same_site == "Lax", name
        # What the __Host- prefix demands: no Domain attribute, the whole site as the path.
        assert cookie.origin_only and cookie.path == "/", name


def test_production_names_every_cookie_with_the_host_prefix():
    assert Config.SESSION_COOKIE_NAME.startswith("__Host-")
    assert Config.REMEMBER_COOKIE_NAME.startswith("__Host-")
    assert Config.DEVICE_COOKIE_NAME.startswith("__Host-")
    assert Config.SESSION_COOKIE_SAMESITE == Config.REMEMBER_COOKIE_SAMESITE == "Lax"


def test_the_remember_cookie_has_samesite_in_development_too(client, auth, parent):
    auth.login(parent.email, remember="y")

    assert client.get_cookie("remember_token").same_site == "Lax"


def session_data(app, client) -> str:
    """The session cookie decoded, as anyone holding the cookie can read it."""
    serializer = app.session_interface.get_signing_serializer(app)
    return json.dumps(serializer.loads(client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value))


def test_a_reset_request_keeps_no_address_in_the_session_cookie(app, client, parent):
    post(client, "/auth/reset", email=parent.email)

    assert parent.email not in session_data(app, client)
    # The next page still knows it, so the person does not type it again.
    page = client.get("/auth/reset/new-password").get_data(as_text=True)
    assert f'value="{parent.email}"' in page


def test_a_registration_keeps_no_address_in_the_session_cookie(app, client):
    post(
        client,
        "/auth/register",
        name="Veli",
        email="yeni.veli@example.com",
        password="uzun-parola-123",
        kvkk_consent="y",
    )

    assert "yeni.veli@example.com" not in session_data(app, client)
    page = client.get("/auth/verify").get_data(as_text=True)
    assert 'value="yeni.veli@example.com"' in page


def test_an_altered_sealed_address_is_simply_not_shown(app, client, parent):
    post(client, "/auth/reset", email=parent.email)
    with client.session_transaction() as browser_session:
        browser_session["reset_email"] = browser_session["reset_email"][:-4] + "AAAA"

    page = client.get("/auth/reset/new-password")

    assert page.status_code == 200
    assert parent.email not in page.get_data(as_text=True)


# --- The Host allow-list -----------------------------------------------------------------


def test_a_forged_host_is_refused_before_any_link_is_built(app_with):
    client = app_with(TRUSTED_HOSTS=["okul.example.org"]).test_client()

    assert client.get("/", base_url="http://okul.example.org").status_code == 200
    forged = client.get("/auth/login", base_url="http://evil.example")
    assert forged.status_code == 400
    assert "evil.example" not in forged.get_data(as_text=True)
    assert "Location" not in forged.headers


def test_a_forged_host_cannot_steer_a_redirect(app_with):
    client = app_with(TRUSTED_HOSTS=["okul.example.org"]).test_client()
    page = client.get("/", base_url="http://okul.example.org").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    response = client.post(
        "/language",
        data={"lang": "en", "next": "/", "csrf_token": token},
        base_url="http://evil.example",
    )

    assert response.status_code == 400
    assert "evil.example" not in response.headers.get("Location", "")


def test_x_forwarded_host_counts_only_from_the_trusted_proxy(app_with):
    direct = app_with(TRUSTED_HOSTS=["okul.example.org"]).test_client()
    behind_proxy = app_with(TRUSTED_HOSTS=["okul.example.org"], TRUSTED_PROXY_COUNT=1)
    forwarded = {"X-Forwarded-Host": "evil.example"}

    # Nobody in front: the header is ignored, the real Host is used.
    assert direct.get("/", base_url="http://okul.example.org", headers=forwarded).status_code == 200
    # Behind a proxy the forwarded host is the host, so it too must be on the list.
    proxied = behind_proxy.test_client().get(
        "/", base_url="http://okul.example.org", headers=forwarded
    )
    assert proxied.status_code == 400
