"""Forms of the parent's area."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import AnyOf, InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from portal.models.users import FAVORITABLE_TYPES

# Ids are bigint: a larger number names nothing, and PostgreSQL would refuse to compare it.
_MAX_ID = 2**63 - 1


class FavoriteForm(FlaskForm):
    """Which school or campus to add or remove; the user is always the one signed in.

    Every field is hidden: the form is a toggle button, so a failure means a tampered or
    stale request, not a typing mistake to show next to a field.
    """

    kind = HiddenField(validators=[InputRequired(), AnyOf(FAVORITABLE_TYPES)])
    target_id = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=_MAX_ID)]
    )
    # Where a plain request returns to (checked with portal.urls.safe_next before use).
    next = HiddenField()
    # What an htmx request wants back: "toggle" (the button) or "favorite_list" (the list on
    # the favorites page, recounted after a removal).
    fragment = HiddenField()
