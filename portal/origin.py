"""The Origin of the current request, for audit rows and consent evidence."""

from flask import request

from portal.audit import Origin


def current_origin() -> Origin:
    """remote_addr is the client as ProxyFix resolved it (TRUSTED_PROXY_COUNT), never a raw
    X-Forwarded-For header that anyone could send."""
    return Origin(ip_address=request.remote_addr, user_agent=request.user_agent.string)
