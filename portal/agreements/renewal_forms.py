"""The forms of the operators' renewal pages: renew (the inflation rate, typed the Turkish way),
offer a renewal discount, and record a discount's follow-up."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.agreements import renewals
from portal.forms import AmountField, Form, strip_or_none
from portal.models.customers import FOLLOWED_STATUSES

FOLLOWED_NAMES = {
    "pending": _l("Pending"),
    "contacted": _l("Contacted"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
}
RATE_MESSAGE = _l("Enter a percentage from 0 to 999,9999, for example 47,09.")


class RateField(StringField):
    """A percentage typed as text ("47,09"); data is a Decimal, None when empty."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            self.raw_data = valuelist
            try:
                self.data = renewals.parse_rate(valuelist[0])
            except renewals.RenewalError:
                self.data = None
                raise ValueError(RATE_MESSAGE) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data).replace(".", ",")


def _note(label):
    return TextAreaField(
        label,
        filters=[strip_or_none],
        validators=[Optional(), Length(max=renewals.NOTE_LENGTH)],
        render_kw={"rows": 2, "maxlength": renewals.NOTE_LENGTH},
    )


class RenewForm(Form):
    """Renew: the inflation rate (required by the inflation clause; the view says so) and a
    note kept in the renew log. `action` is "preview" (show the new prices) or "renew"."""

    rate = RateField(_l("Inflation rate (%)"))
    note = _note(_l("Note for the renew log"))
    action = StringField(filters=[strip_or_none])

    @property
    def previewing(self) -> bool:
        return self.action.data != "renew"


def _sales_person_field():
    return SelectField(
        _l("Sales person"),
        validators=[DataRequired(message=_l("Choose the sales person."))],
        validate_choice=False,  # the domain checks the user is an operator
    )


class OfferDiscountForm(Form):
    """A renewal discount: a rate or an amount, the sales person, the follow-up date, the
    offer's end and a note."""

    discount_rate = RateField(_l("Discount rate (%)"))
    discount_amount = AmountField(_l("or discount amount (₺)"), validators=[Optional()])
    assigned_user_id = _sales_person_field()
    due_on = DateField(
        _l("Follow up by"), validators=[InputRequired(message=_l("Enter the follow-up date."))]
    )
    valid_until = DateField(_l("Offer valid until"), validators=[Optional()])
    note = _note(_l("Note"))

    def validate_discount_amount(self, field) -> None:
        if self.discount_rate.errors or field.errors:
            return
        if (self.discount_rate.data is None) == (field.data is None):
            raise ValidationError(_l("Enter either a rate or an amount."))


class FollowUpForm(Form):
    """A follow-up of a discount: its status, who follows it, by when, and a note."""

    followed_status = SelectField(
        _l("Status"),
        choices=[SelectChoice(status, FOLLOWED_NAMES[status]) for status in FOLLOWED_STATUSES],
    )
    assigned_user_id = _sales_person_field()
    due_on = DateField(_l("Next follow-up by"), validators=[Optional()])
    note = _note(_l("Note"))


def with_sales_people(form, people):
    """Give the form's sales person select its choices: the operators, (id, name) by name."""
    form.assigned_user_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(user_id), name) for user_id, name in people
    ]
    return form
