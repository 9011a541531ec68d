"""Forms and fields shared by every feature."""

from collections.abc import Callable

from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.widgets import TextInput

from portal import turkish


class EmptyForm(FlaskForm):
    """A form with no fields, so that a bare POST button still carries a CSRF token."""


def strip_or_none(value):
    """A WTForms filter: trim text, and store an empty answer as NULL rather than ''."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# --- Turkish input (the rules are in portal.turkish) ---------------------------------------
# Each field turns what was typed into what is stored while the form reads the post, as
# WTForms' own DecimalField does: a valid entry's `data` is already the stored form, and a
# ValueError's message becomes the field's error. What was typed is shown again as typed.


class _TurkishTextField(StringField):
    """Text whose data is its stored form; empty is left to Optional/DataRequired."""

    # A function from portal.turkish: the stored form, or ValueError saying what is wrong.
    normalize: Callable[[str], str]
    # The on-screen keyboard a mobile browser opens for this entry (inputmode).
    input_mode: str

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": self.input_mode})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data and self.data.strip():
            # On a ValueError `data` keeps the text, so a required-field check sees an answer.
            self.data = type(self).normalize(self.data)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return super()._value()


class PhoneField(_TurkishTextField):
    """A Turkish mobile or landline number, stored +90XXXXXXXXXX."""

    normalize = staticmethod(turkish.normalize_phone)
    input_mode = "tel"


class TcKimlikNoField(_TurkishTextField):
    """A TC Kimlik No, stored as its 11 digits (spaces, dashes and dots may group them)."""

    normalize = staticmethod(turkish.normalize_tc_kimlik_no)
    input_mode = "numeric"


class VknField(_TurkishTextField):
    """A VKN, stored as its 10 digits (spaces, dashes and dots may group them)."""

    normalize = staticmethod(turkish.normalize_vkn)
    input_mode = "numeric"


class AmountField(Field):
    """A lira amount typed as text (a number input would refuse `150.000,50`)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = None  # stays None when the text is not an amount
            self.data = turkish.parse_try_amount(valuelist[0])

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]  # what was typed comes back as typed, to be corrected
        return "" if self.data is None else turkish.format_amount(self.data)
