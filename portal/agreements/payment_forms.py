"""The form that pays a signed agreement's installment: which card, which installment, and the
attempt's idempotency key.

No card field: a new card is typed on the provider's hosted page only, as at a subscription's
checkout. A saved card is named by its id; whether the id is the company's own is the view's
question (another's is a 404, as on the cards page), whether it is one at all is the form's.
"""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField
from wtforms.validators import InputRequired, Regexp, ValidationError

from portal.billing.forms import new_idempotency_key
from portal.forms import Form

NEW_CARD = "new"
# Ids are bigint: a longer number names nothing (and PostgreSQL refuses to compare it).
_CARD = re.compile(r"[1-9][0-9]{0,17}")


def _card_choice(form, field) -> None:
    if not (
        isinstance(field.data, str) and (field.data == NEW_CARD or _CARD.fullmatch(field.data))
    ):
        raise ValidationError(_l("Choose a saved card or a new card."))


class AgreementPaymentForm(Form):
    """Pay the installment of `due_on` with a saved card (charged at once) or a new one (typed
    on the hosted page first)."""

    card = RadioField(
        _l("Pay with"),
        validate_choice=False,  # another's or an unknown card is the view's 404, not a 422
        validators=[InputRequired(_l("Choose a saved card or a new card.")), _card_choice],
    )
    # The installment the page showed: a form sent after it was paid pays nothing else.
    due_on = HiddenField(validators=[InputRequired(), Regexp(r"^\d{4}-\d{2}-\d{2}$")])
    idempotency_key = HiddenField(validators=[Regexp(r"^[0-9a-f]{32}$")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = new_idempotency_key()

    def with_cards(self, cards, label) -> "AgreementPaymentForm":
        """The choices: the company's usable saved cards, each named by `label(card)`, then a
        new card."""
        self.card.choices = [(str(card.id), label(card)) for card in cards]
        self.card.choices.append((NEW_CARD, _l("A new card (typed on the payment page)")))
        return self

    @property
    def card_id(self) -> int | None:
        """The saved card chosen, or None for a new card."""
        return None if self.card.data == NEW_CARD else int(self.card.data)

    @property
    def due_date(self) -> date | None:
        """The installment's day as sent; None when it is no calendar date (2027-02-30)."""
        try:
            return date.fromisoformat(self.due_on.data)
        except (TypeError, ValueError):
            return None
