"""The forms of the schools' own pages: the school's fields, a campus's fees, listing."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, IntegerField, SelectMultipleField, TextAreaField
from wtforms.fields import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from portal.forms import AmountField, Form, PhoneField, strip_or_none
from portal.i18n import LEVEL_NAMES
from portal.models.base import MAX_ID
from portal.models.schools import SCHOOL_LEVELS

DESCRIPTION_LENGTH = 5000
# The two school years a campus's fee table shows: this one and the next.
YEAR_SLOTS = ("this", "next")


def _website(value):
    """A filter: a bare host name is read as an https address (the page links it so)."""
    if isinstance(value, str) and value and "://" not in value:
        return "https://" + value
    return value


def _is_web_address(form, field):
    """http(s), a host with a dot, no spaces or quotes: what the public page may link to."""
    value = field.data
    if not value:
        return
    scheme, _, rest = value.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if (
        scheme.lower() not in ("http", "https")
        or "." not in host.strip(".")
        or any(ch.isspace() or ch in "\"'<>\\" for ch in value)
        or "@" in host
    ):
        raise ValidationError(_l("Enter a web address, for example https://okul.example."))


class SchoolDetailsForm(Form):
    """The school's own fields on its public page, and the levels it teaches."""

    description = TextAreaField(
        _l("About the school"),
        filters=[strip_or_none],
        validators=[Optional(), Length(max=DESCRIPTION_LENGTH)],
    )
    address_line = TextAreaField(
        _l("Address"), filters=[strip_or_none], validators=[Optional(), Length(max=500)]
    )
    phone = PhoneField(_l("Phone"), filters=[strip_or_none], validators=[Optional()])
    email = EmailField(
        _l("E-mail"), filters=[strip_or_none], validators=[Optional(), Email(), Length(max=255)]
    )
    website = StringField(
        _l("Website"),
        filters=[strip_or_none, _website],
        validators=[Optional(), Length(max=255), _is_web_address],
    )
    levels = SelectMultipleField(
        _l("Levels taught"),
        choices=[SelectChoice(level, LEVEL_NAMES[level]) for level in SCHOOL_LEVELS],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class CampusFeesForm(Form):
    """One campus's yearly fees: a fee per level for this school year (`<level>_this`) and the
    next (`<level>_next`); empty publishes none. `school_year` is the first of the two years
    the form was made for, so a form made before September 1st is not read as the next year's.
    """

    campus_id = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)]
    )
    school_year = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=2000, max=2200)]
    )

    def fee_fields(self):
        """(level, slot, field) for every cell of the table, youngest level first."""
        return [
            (level, slot, self[f"{level}_{slot}"]) for level in SCHOOL_LEVELS for slot in YEAR_SLOTS
        ]

    def fees(self) -> dict[tuple[str, int], Decimal | None]:
        """The fees as the domain takes them: by (level, school year)."""
        first = self.school_year.data
        return {
            (level, first + YEAR_SLOTS.index(slot)): field.data
            for level, slot, field in self.fee_fields()
        }


def _positive(form, field):
    if field.data is not None and not field.data > 0:
        raise ValidationError(_l("A fee is more than zero; leave it empty to publish none."))


# One amount field per level and school year, named so that a post names the cell it fills.
for _level in SCHOOL_LEVELS:
    for _slot in YEAR_SLOTS:
        setattr(CampusFeesForm, f"{_level}_{_slot}", AmountField(validators=[_positive]))


class ListingForm(Form):
    """List the school on the portal, or take it off: the button's value."""

    listed = HiddenField(validators=[InputRequired(), AnyOf(("yes", "no"))])
