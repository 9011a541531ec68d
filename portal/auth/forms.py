"""Forms of signing in, registering and verifying an e-mail address."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Regexp

from portal.forms import Form, strip_or_none


def code_field() -> StringField:
    """The field of a 6-digit e-mailed code (every form that asks for one)."""
    return StringField(
        _l("Code"),
        filters=[strip_or_none],
        validators=[
            DataRequired(),
            Regexp(r"^\d{6}$", message=_l("The code is the 6 digits from the e-mail.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )


class LoginForm(Form):
    """E-mail and password; `next` is where to go afterwards (checked before use)."""

    email = EmailField(
        _l("E-mail"),
        filters=[strip_or_none],  # addresses pasted with a space around them are common
        validators=[DataRequired(), Email(), Length(max=255)],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class RegisterForm(Form):
    """A new parent account. Consent is its own unticked box, separate from the notice."""

    name = StringField(
        _l("Full name"), filters=[strip_or_none], validators=[DataRequired(), Length(max=255)]
    )
    email = EmailField(
        _l("E-mail"),
        filters=[strip_or_none],
        validators=[DataRequired(), Email(), Length(max=255)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(min=10, max=256, message=_l("Use at least 10 characters.")),
        ],
    )
    kvkk_consent = BooleanField(_l("I give my explicit consent as written in the text above."))
    consent_text_id = HiddenField()
    next = HiddenField()  # where to go once the address is verified (checked before use)


class VerifyForm(Form):
    """The e-mailed code, with the address it was sent to."""

    email = EmailField(
        _l("E-mail"),
        filters=[strip_or_none],
        validators=[DataRequired(), Email(), Length(max=255)],
    )
    code = code_field()


class ResendForm(Form):
    """Ask for a new code."""

    email = EmailField(
        _l("E-mail"),
        filters=[strip_or_none],
        validators=[DataRequired(), Email(), Length(max=255)],
    )


class OneTimeCodeForm(Form):
    """The sign-in code."""

    code = code_field()


class PasswordChangeForm(Form):
    """The current password, and the new one."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=10, max=256, message=_l("Use at least 10 characters.")),
        ],
    )


class TwoStepForm(Form):
    """Whether to ask for an e-mailed code at every sign-in."""

    two_step_enabled = BooleanField(_l("Ask for an e-mailed code every time I sign in"))


class ResetRequestForm(Form):
    """The address to send a reset code to."""

    email = EmailField(
        _l("E-mail"),
        filters=[strip_or_none],
        validators=[DataRequired(), Email(), Length(max=255)],
    )


class ResetForm(Form):
    """The reset code and the new password."""

    email = EmailField(
        _l("E-mail"),
        filters=[strip_or_none],
        validators=[DataRequired(), Email(), Length(max=255)],
    )
    code = code_field()
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=10, max=256, message=_l("Use at least 10 characters.")),
        ],
    )
