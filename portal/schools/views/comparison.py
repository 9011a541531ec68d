"""The parent's comparison of schools and campuses, side by side."""

from portal.schools import bp  # noqa: F401
