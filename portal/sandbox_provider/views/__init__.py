"""The HTTP side of the sandbox provider: its hosted payment page."""

from portal.sandbox_provider.views import hosted_page  # noqa: F401
