"""The Origin of the current request, for audit rows and consent evidence, and the socket
peer behind it, for the evidence of signatures and confirmations."""

from flask import request

from portal.audit import Origin


def current_origin() -> Origin:
    """remote_addr is the client as ProxyFix resolved it (TRUSTED_PROXY_COUNT), never a raw
    X-Forwarded-For header that anyone could send."""
    return Origin(ip_address=request.remote_addr, user_agent=request.user_agent.string)


def peer_address() -> str | None:
    """The address the connection really came from: the socket peer, before ProxyFix put the
    forwarded client in its place (evidence of a signature or a confirmation keeps both)."""
    original = request.environ.get("werkzeug.proxy_fix.orig")
    if original is not None:
        return original.get("REMOTE_ADDR")
    return request.remote_addr
