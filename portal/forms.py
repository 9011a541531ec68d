"""Forms shared by every feature."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A form with no fields, so that a bare POST button still carries a CSRF token."""


def strip_or_none(value):
    """A WTForms filter: trim text, and store an empty answer as NULL rather than ''."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
