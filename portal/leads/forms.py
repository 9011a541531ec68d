"""Forms of the parent's side of leads: asking a school, answering an offer."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Regexp

from portal.forms import Form, strip_or_none
from portal.i18n import in_language
from portal.leads.leads import REQUEST_KEY_LENGTH
from portal.models.leads import CONTACT_PREFERENCES

MESSAGE_LENGTH = 2000

CONTACT_PREFERENCE_NAMES = {
    "email": _l("By e-mail"),
    "phone": _l("By phone"),
    "either": _l("By e-mail or phone"),
}


def _school_year(value):
    """The posted school year as an int; anything else is None (refused by the choices)."""
    if isinstance(value, int):
        return value
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) == 4 else None


class AskForm(Form):
    """A parent's request for information. The level and school-year choices are set by the
    view from what the school (or campus) teaches and the years offered."""

    level = SelectField(_l("Level of schooling"), validators=[InputRequired()])
    school_year = SelectField(_l("School year"), coerce=_school_year, validators=[InputRequired()])
    message = TextAreaField(
        _l("Your message"),
        filters=[strip_or_none],
        validators=[
            DataRequired(message=_l("Write what you would like to know.")),
            Length(max=MESSAGE_LENGTH),
        ],
    )
    contact_preference = RadioField(
        _l("How should the school contact you?"),
        choices=[
            SelectChoice(code, CONTACT_PREFERENCE_NAMES[code]) for code in CONTACT_PREFERENCES
        ],
        default="email",
        validators=[InputRequired(message=_l("Choose how the school should contact you."))],
    )
    # Made when the form is shown: the same key sent twice is one lead (a double click).
    request_key = HiddenField(
        validators=[
            InputRequired(),
            Length(min=16, max=REQUEST_KEY_LENGTH),
            Regexp(r"^[A-Za-z0-9_-]+$"),
        ]
    )
    # Only when the parent has no live consent: the text shown, and their explicit yes.
    consent_text_id = HiddenField()
    consent = BooleanField(
        _l("I give my explicit consent to share my name and contact details with this school.")
    )


class OfferAnswerForm(Form):
    """Which button the parent pressed on an offer."""

    action = HiddenField(validators=[InputRequired(), AnyOf(("accept", "decline"))])


# Display names of the codes the parent's pages show, in the reader's language.
LEAD_STATE_NAMES = {
    "open": _l("Open"),
    "won": _l("Agreed"),
    "lost": _l("Ended by the school"),
    "closed": _l("Closed"),
}
OFFER_STATUS_NAMES = {
    "open": _l("Awaiting your answer"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
}
LEAD_EVENT_NAMES = {
    "opened": _l("You sent the request"),
    "assigned": _l("Assigned"),
    "note": _l("Note"),
    "offer_sent": _l("The school sent an offer"),
    "offer_accepted": _l("You accepted an offer"),
    "offer_declined": _l("You declined an offer"),
    "won": _l("Agreed with the school"),
    "lost": _l("The school ended the request"),
    "closed": _l("The request was closed"),
}
NAMES = {
    "lead_state_names": LEAD_STATE_NAMES,
    "offer_status_names": OFFER_STATUS_NAMES,
    "lead_event_names": LEAD_EVENT_NAMES,
    "contact_preference_names": CONTACT_PREFERENCE_NAMES,
}


def names_in_language() -> dict[str, dict[str, str]]:
    """NAMES for a template: each mapping's names as plain text in the visitor's language."""
    return {key: in_language(names) for key, names in NAMES.items()}
