"""The staff's forms on a lead: an offer, an internal note, an assignment, an ending; and the
inbox's filters."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import TextInput

from portal.clock import istanbul_today
from portal.forms import AmountField, Form, strip_or_none

NOTE_LENGTH = 2000
# How many days an offer stays open unless the member says otherwise.
OFFER_DAYS = 14

STATE_CHOICES = [
    SelectChoice("open", _l("Open")),
    SelectChoice("won", _l("Won")),
    SelectChoice("lost", _l("Lost")),
    SelectChoice("closed", _l("Closed")),
    SelectChoice("all", _l("All")),
]
ASSIGNED_CHOICES = [
    SelectChoice("anyone", _l("Anyone")),
    SelectChoice("me", _l("Assigned to me")),
    SelectChoice("unassigned", _l("Unassigned")),
]
END_CHOICES = [
    SelectChoice("lost", _l("Lost (no sale)")),
    SelectChoice("closed", _l("Closed (no outcome)")),
]


class InboxFilterForm(Form):
    """The inbox's filters, read from the query string (a GET form: no CSRF token).

    A value that is not one of the choices (an edited address) is not an error to show: the
    view falls back to the filter's default.
    """

    class Meta:
        csrf = False

    state = SelectField(_l("State"), choices=STATE_CHOICES, default="open")
    assigned = SelectField(_l("Assigned"), choices=ASSIGNED_CHOICES, default="anyone")
    # Choices are the schools of the member's grants, set by the view.
    school = SelectField(_l("School"), choices=[], default="")


class PercentField(Field):
    """A percentage typed as text: `10`, `12,5` or `12.5` (a comma is the Turkish decimal
    separator, which a number input would refuse)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip().removeprefix("%").removesuffix("%").strip()
        self.data = None
        if not text:
            return
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValueError(_l("Enter a percentage, for example 10 or 12,5.")) from None
        if not value.is_finite() or not 0 <= value <= 100:
            raise ValueError(_l("A discount is between 0 and 100 percent."))
        if value != value.quantize(Decimal("0.01")):
            raise ValueError(_l("Use at most two decimals."))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data.normalize():f}".replace(".", ",")


class OfferForm(Form):
    """An offer to the parent: a yearly fee before the discount, the discount, until when."""

    yearly_fee = AmountField(_l("Yearly fee (₺, KDV included)"))
    discount_percent = PercentField(_l("Discount (%)"), default=Decimal("0"))
    valid_until = DateField(_l("Valid until"), validators=[InputRequired()])
    note = TextAreaField(
        _l("Note to the parent"),
        filters=[strip_or_none],
        validators=[Optional(), Length(max=NOTE_LENGTH)],
    )

    def validate_yearly_fee(self, field):
        if field.data is None and not field.errors:
            raise ValidationError(_l("Enter the yearly fee."))

    def validate_valid_until(self, field):
        if field.data is not None and field.data < istanbul_today():
            raise ValidationError(_l("An offer cannot end before today."))


class NoteForm(Form):
    """An internal note: the school's staff read it, the parent never does."""

    body = TextAreaField(
        _l("Internal note"),
        filters=[strip_or_none],
        validators=[DataRequired(), Length(max=NOTE_LENGTH)],
    )


class AssignForm(Form):
    """Give the lead to a colleague, or to nobody (an empty value).

    The choices are the colleagues who may work on the lead (set by the view). The view checks
    the posted id against them before this form validates: an id outside them is a 404.
    """

    assignee = SelectField(_l("Assign to"), choices=[], validate_choice=False)


class EndForm(Form):
    """End an open lead without a sale (lost) or without an outcome (closed), saying why."""

    state = RadioField(_l("Outcome"), choices=END_CHOICES, validators=[InputRequired()])
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip_or_none],
        validators=[DataRequired(), Length(max=NOTE_LENGTH)],
    )


# Display names of the codes the staff's pages show.
LEAD_STATE_NAMES = {
    "open": _l("Open"),
    "won": _l("Won"),
    "lost": _l("Lost"),
    "closed": _l("Closed"),
}
EVENT_KIND_NAMES = {
    "opened": _l("Request sent"),
    "assigned": _l("Assigned"),
    "note": _l("Internal note"),
    "offer_sent": _l("Offer sent"),
    "offer_accepted": _l("Offer accepted"),
    "offer_declined": _l("Offer declined"),
    "won": _l("Won"),
    "lost": _l("Lost"),
    "closed": _l("Closed"),
}
OFFER_STATUS_NAMES = {
    "open": _l("Open"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "expired": _l("Expired"),
}
CONTACT_PREFERENCE_NAMES = {
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "either": _l("E-mail or phone"),
}
