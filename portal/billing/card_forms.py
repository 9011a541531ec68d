"""The cards page's forms: add a card (through the hosted page), choose the default, remove one.

No form here has a card field: a card is typed on the provider's hosted page only. A card is
named by its id; whether that id is the subscriber's own is the view's question (another's
card is a 404, the same as an unknown one), whether it is a number at all is the form's.
"""

import re

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField
from wtforms.validators import InputRequired, ValidationError

from portal.billing.forms import CheckoutForm
from portal.forms import Form

# Ids are bigint: a longer number names nothing (and PostgreSQL refuses to compare it).
_ID = re.compile(r"[1-9][0-9]{0,17}")


def _card_id(form, field) -> None:
    if not (isinstance(field.data, str) and _ID.fullmatch(field.data)):
        raise ValidationError(_l("Choose one of your saved cards."))


class AddCardForm(CheckoutForm):
    """Go to the hosted payment page to save a card; the key names this attempt."""


class DefaultCardForm(Form):
    """Which saved card renewals charge: one radio button per card."""

    card = RadioField(
        _l("Card that renewals charge"),
        validate_choice=False,  # another's or an unknown id is the view's 404, not a 422
        validators=[InputRequired(_l("Choose the card that renewals charge.")), _card_id],
    )

    def with_cards(self, cards, label) -> "DefaultCardForm":
        """The choices: the subscriber's cards, each named by `label(card)`."""
        self.card.choices = [(str(card.id), label(card)) for card in cards]
        return self


class RemoveCardForm(Form):
    """Remove one saved card (a button on its row)."""

    card = HiddenField(validators=[InputRequired(_l("Choose one of your saved cards.")), _card_id])

    @property
    def card_id(self) -> int:
        return int(self.card.data)
