"""The parent's side of leads: asking a school, their leads and the offers on them."""

from portal.leads import bp  # noqa: F401
