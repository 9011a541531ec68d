"""The checkout's form: one button that leads to the payment provider's hosted page."""

import uuid

from wtforms import HiddenField
from wtforms.validators import Regexp

from portal.forms import Form


def new_idempotency_key() -> str:
    """A fresh key for one checkout attempt; a resubmitted form carries the same one."""
    return uuid.uuid4().hex


class CheckoutForm(Form):
    """Go to the hosted payment page for this attempt. It has no card field: the card is
    typed on the provider's page (portal.sandbox_provider for the sandbox), never here; the
    key travels there and back inside the signed checkout."""

    idempotency_key = HiddenField(validators=[Regexp(r"^[0-9a-f]{32}$")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = new_idempotency_key()
