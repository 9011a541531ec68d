"""Forms of the parent's area."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
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
from wtforms.widgets import HiddenInput

from portal.auth.forms import code_field
from portal.forms import AmountField, Form, PhoneField, strip_or_none
from portal.models.base import MAX_ID
from portal.models.users import FAVORITABLE_TYPES
from portal.turkish import phone_error


class FavoriteForm(Form):
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


class ProfileForm(Form):
    """The parent's name, phone and school-fee budget. Nothing else is read from the post."""

    name = StringField(
        _l("Full name"), filters=[strip_or_none], validators=[DataRequired(), Length(max=255)]
    )
    phone = PhoneField(
        _l("Phone"),
        filters=[strip_or_none],
        validators=[Optional()],
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


class ContactForm(Form):
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


class EmailChangeForm(Form):
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


class EmailCodeForm(Form):
    """The 6-digit code mailed to the new address."""

    code = code_field()


class DeleteAccountForm(Form):
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
