"""Forms of the parent's area."""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import HiddenInput, TextInput

from portal.account.phones import phone_error
from portal.auth.forms import code_field
from portal.forms import strip_or_none
from portal.models.users import FAVORITABLE_TYPES

# Ids are bigint: a larger number names nothing, and PostgreSQL would refuse to compare it.
MAX_ID = 2**63 - 1


class FavoriteForm(FlaskForm):
    """Which school or campus to add or remove; the user is always the one signed in.

    Every field is hidden: the form is a toggle button, so a failure means a tampered or
    stale request, not a typing mistake to show next to a field.
    """

    kind = HiddenField(validators=[InputRequired(), AnyOf(FAVORITABLE_TYPES)])
    target_id = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)]
    )
    # Where a plain request returns to (checked with portal.urls.safe_next before use).
    next = HiddenField()
    # What an htmx request wants back: "toggle" (the button) or "favorite_list" (the list on
    # the favorites page, recounted after a removal).
    fragment = HiddenField()


# --- Profile, contacts, e-mail change and account deletion -------------------------------

# user_details.budget_* are NUMERIC(12, 2): ten digits before the comma.
_AMOUNT_LIMIT = Decimal("10000000000")
# re.ASCII: \d alone would also take other scripts' digits, which Decimal() then reads.
_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+", re.ASCII)  # 150.000, 1.250.000: dots group
_COMMA_DECIMAL = re.compile(r"(\d{1,3}(\.\d{3})+|\d+),\d{1,2}", re.ASCII)  # 150.000,50
_POINT_DECIMAL = re.compile(r"\d+(\.\d{1,2})?", re.ASCII)  # 150000.50, as a browser sends


def parse_try_amount(text: str | None) -> Decimal | None:
    """An amount in lira as Turkish people write it; None when empty.

    A comma is the decimal separator and dots group thousands (`150.000,50`). Without a comma,
    dots before groups of three digits are thousands (`150.000` is a hundred and fifty
    thousand, never 150), and a point before one or two digits is a decimal point.

    :raise ValueError: with a message saying what is wrong.
    """
    value = (text or "").strip()
    for suffix in ("₺", "TL", "tl"):
        value = value.removesuffix(suffix).strip()
    value = re.sub(r"[\s\u00a0\u202f]", "", value)  # spaces, also non-breaking, group digits
    if not value:
        return None
    if value.startswith("-"):
        raise ValueError(_l("The amount cannot be negative."))
    if _COMMA_DECIMAL.fullmatch(value):
        amount = Decimal(value.replace(".", "").replace(",", "."))
    elif _THOUSANDS.fullmatch(value):
        amount = Decimal(value.replace(".", ""))
    elif _POINT_DECIMAL.fullmatch(value):
        amount = Decimal(value)
    else:
        raise ValueError(_l("Enter an amount in lira, for example 150.000 or 150000,50."))
    if amount >= _AMOUNT_LIMIT:
        raise ValueError(_l("The amount is too large."))
    return amount


def format_amount(amount: Decimal) -> str:
    """An amount as the form shows it again: no thousands dots, a comma before any kuruş."""
    text = f"{amount:.2f}".replace(".", ",")
    return text.removesuffix(",00")


class AmountField(Field):
    """A lira amount typed as text (a number input would refuse `150.000,50`)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = None  # stays None when the text is not an amount
            self.data = parse_try_amount(valuelist[0])

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]  # what was typed comes back as typed, to be corrected
        return "" if self.data is None else format_amount(self.data)


class TurkishPhone:
    """A WTForms validator: a Turkish mobile or landline number; empty is left to Optional."""

    def __call__(self, form, field):
        if field.data and (error := phone_error(field.data)):
            raise ValidationError(error)


class ProfileForm(FlaskForm):
    """The parent's name, phone and school-fee budget. Nothing else is read from the post."""

    name = StringField(
        _l("Full name"), filters=[strip_or_none], validators=[DataRequired(), Length(max=255)]
    )
    phone = StringField(
        _l("Phone"),
        filters=[strip_or_none],
        validators=[Optional(), Length(max=32), TurkishPhone()],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    budget_min = AmountField(_l("Lowest yearly fee"))
    budget_max = AmountField(_l("Highest yearly fee"))

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the range: its error goes next to the highest amount."""
        valid = super().validate(extra_validators)
        low, high = self.budget_min.data, self.budget_max.data
        if valid and low is not None and high is not None and low > high:
            self.budget_max.errors.append(
                _l("The highest amount cannot be lower than the lowest amount.")
            )
            valid = False
        return valid


CONTACT_TYPE_NAMES = {
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "address": _l("Address"),
    "other": _l("Other"),
}


class ContactForm(FlaskForm):
    """One extra way to reach the parent; the value is checked by its type.

    Several of these are on one page (the add form and a row being edited), so each gets a
    prefix (`new`, `contact-<id>`) and with it its own field names and ids.
    """

    contact_type = SelectField(
        _l("Type"),
        choices=[SelectChoice(code, name) for code, name in CONTACT_TYPE_NAMES.items()],
        validators=[InputRequired()],
    )
    label = StringField(
        _l("Label"), filters=[strip_or_none], validators=[Optional(), Length(max=64)]
    )
    value = StringField(
        _l("Contact detail"),
        filters=[strip_or_none],
        validators=[DataRequired(), Length(max=255)],
    )

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the value by its type (done here: it depends on two fields)."""
        valid = super().validate(extra_validators)
        if not valid or not self.value.data:
            return valid
        if self.contact_type.data == "email":
            try:
                Email(message=_l("Enter an e-mail address, such as name@example.com."))(
                    self, self.value
                )
            except ValidationError as error:
                self.value.errors.append(str(error))
                return False
        if self.contact_type.data == "phone" and (error := phone_error(self.value.data)):
            self.value.errors.append(error)
            return False
        return True


class EmailChangeForm(FlaskForm):
    """The new address, and the current password to prove it is the owner asking."""

    new_email = EmailField(
        _l("New e-mail address"),
        filters=[strip_or_none],
        validators=[DataRequired(), Email(), Length(max=255)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class EmailCodeForm(FlaskForm):
    """The 6-digit code mailed to the new address."""

    code = code_field()


class DeleteAccountForm(FlaskForm):
    """The current password and an explicit tick: deleting cannot be undone."""

    password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    understood = BooleanField(
        _l("I understand that my account and personal details will be deleted for good."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
