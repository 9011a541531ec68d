"""Sign-in form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from portal.forms import strip_or_none


class LoginForm(FlaskForm):
    """E-mail and password; `next` is where to go afterwards (checked before use)."""

    email = EmailField(
        _l("E-mail"),
        filters=[strip_or_none],  # addresses pasted with a space around them are common
        validators=[DataRequired(), Email(), Length(max=255)],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()
