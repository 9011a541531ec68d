"""The hosted payment page's card form (the provider's, never the portal's)."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from portal.billing.gateway import luhn_valid
from portal.clock import istanbul_today
from portal.forms import Form, strip_or_none

YEARS_AHEAD = 15


class CardForm(Form):
    """The card to pay with. The number and CVC go to the gateway and are never stored; the
    CVC is never sent back to the browser."""

    holder_name = StringField(
        _l("Name on card"),
        filters=[strip_or_none],
        validators=[DataRequired(_l("Enter the name on the card.")), Length(max=255)],
        render_kw={"autocomplete": "cc-name"},
    )
    number = StringField(
        _l("Card number"),
        validators=[DataRequired(_l("Enter the card number."))],
        render_kw={"autocomplete": "cc-number", "inputmode": "numeric"},
    )
    # Both start on an empty choice: a preselected January of this year was a date already
    # past for most of the year, and a card's expiry is read off the card, never guessed.
    exp_month = SelectField(
        _l("Expiry month"),
        choices=[SelectChoice("", _l("Month"))]
        + [SelectChoice(f"{m:02d}", f"{m:02d}") for m in range(1, 13)],
        validators=[DataRequired(_l("Choose the month printed on the card."))],
        render_kw={"autocomplete": "cc-exp-month"},
    )
    exp_year = SelectField(
        _l("Expiry year"),
        validators=[DataRequired(_l("Choose the year printed on the card."))],
        render_kw={"autocomplete": "cc-exp-year"},
    )
    cvc = PasswordField(
        _l("Security code (CVC)"),
        validators=[
            DataRequired(_l("Enter the 3 or 4 digits on the back of the card.")),
            Regexp(r"^\d{3,4}$", message=_l("Enter the 3 or 4 digits on the back of the card.")),
        ],
        render_kw={"autocomplete": "cc-csc", "inputmode": "numeric"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        year = istanbul_today().year
        self.exp_year.choices = [SelectChoice("", _l("Year"))] + [
            SelectChoice(str(y), str(y)) for y in range(year, year + YEARS_AHEAD + 1)
        ]

    def validate_number(self, field) -> None:
        """Spaces and dashes are fine; the digits must pass the card check digit."""
        digits = re.sub(r"[\s-]", "", field.data or "")
        if not luhn_valid(digits):
            raise ValidationError(_l("Enter a valid card number."))
        field.data = digits

    def validate_exp_year(self, field) -> None:
        """A card that expired before this month cannot pay."""
        if not (str(field.data).isdigit() and str(self.exp_month.data).isdigit()):
            return  # not one of the choices: the selects have said so already
        today = istanbul_today()
        if (int(field.data), int(self.exp_month.data)) < (today.year, today.month):
            raise ValidationError(_l("This card has expired."))
