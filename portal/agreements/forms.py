"""The forms of the staff's signing pages: the code with the explicit act, and the decline."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from portal.agreements.agreements import REASON_LENGTH
from portal.auth.forms import code_field
from portal.forms import Form, strip_or_none


class SignForm(Form):
    """Step 2 of signing: the mailed code, the box ticked by hand, and the SHA-256 of the
    document as the page showed it (a changed document is refused, not signed)."""

    code = code_field()
    confirm = BooleanField(
        _l("I have read the agreement and sign it"),
        validators=[
            DataRequired(message=_l("Tick the box to confirm that you have read and sign it."))
        ],
    )
    document_sha256 = HiddenField(
        validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")],
    )


class DeclineForm(Form):
    """Declining the agreement: the reason is required and kept with it."""

    reason = TextAreaField(
        _l("Why does your company decline it?"),
        filters=[strip_or_none],
        validators=[
            DataRequired(message=_l("Write the reason: it is kept with the agreement.")),
            Length(max=REASON_LENGTH),
        ],
        render_kw={"rows": 3, "maxlength": REASON_LENGTH},
    )
