"""The staff's side of leads: the inbox of the leads their grants cover, and working one."""

from portal.leads import bp  # noqa: F401
