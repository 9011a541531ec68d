"""Security headers on every response: the Content-Security-Policy (a setting in
portal/config.py), frame and sniffing protection, the Referrer-Policy, and HSTS when the request
came over HTTPS; and the answer to a Host outside the allow-list (TRUSTED_HOSTS)."""

from flask import Flask, Response, request
from werkzeug.exceptions import SecurityError


def policy_text(policy: dict[str, str]) -> str:
    """The header value of a policy given as directive -> sources."""
    return "; ".join(f"{directive} {sources}".strip() for directive, sources in policy.items())


def register(app: Flask) -> None:
    """Add the headers to every response of the app (errors and static files included)."""
    csp = policy_text(app.config["CONTENT_SECURITY_POLICY"])
    # Not includeSubDomains: other hosts under the domain are not the portal's to bind, and the
    # __Host- cookies already keep subdomains out of the portal's session.
    hsts = f"max-age={int(app.config['HSTS_MAX_AGE'].total_seconds())}"

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        # frame-ancestors does the work; X-Frame-Options is for browsers that predate it.
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # A page's URL can name a school, a payment or a receipt: it never leaves the portal.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # is_secure is the scheme ProxyFix took from the trusted proxy (TRUSTED_PROXY_COUNT);
        # over plain http the header would be ignored by browsers anyway.
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", hsts)
        return response

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError) -> Response:
        # Plain text, not the error page: every link on a page would be built from the very
        # Host that was just refused (and Flask has no URL adapter for it).
        return Response("Bad Request: unknown host.\n", status=400, mimetype="text/plain")
