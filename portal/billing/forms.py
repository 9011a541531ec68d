"""The checkout's form: one button that leads to the payment provider's hosted page, and for a
parent the box that confirms the sale's documents."""

import uuid

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from portal.forms import Form, TcKimlikNoField, strip_or_none


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


class ParentCheckoutForm(CheckoutForm):
    """A parent's checkout: the same button, after confirming the pre-information form and
    the distance sales contract shown above it (Law 6502). The box is never ticked for them;
    the documents' SHA-256 as shown travel with it, so a document that changed in between is
    shown again rather than recorded as confirmed."""

    accept_documents = BooleanField(
        _l(
            "I have read the pre-information form and the distance sales contract, accept them, "
            "and ask for the service to start at once."
        ),
        validators=[
            DataRequired(
                message=_l("Tick the box to confirm the pre-information form and the contract.")
            )
        ],
    )
    # "<form's SHA-256>:<contract's SHA-256>" as the page showed them; empty from a client that
    # never read the page (then what is rendered now is what is recorded).
    documents_sha256 = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{64}:[0-9a-f]{64}$")])
    # The invoice's buyer (portal.billing.invoices): a name and an address as the invoice rules
    # ask, the TC Kimlik No only if the parent wants it on the invoice (checked when given).
    invoice_name = StringField(
        _l("Name on the invoice"),
        filters=[strip_or_none],
        validators=[
            DataRequired(message=_l("Enter the name the invoice is made out to.")),
            Length(max=255),
        ],
        render_kw={"autocomplete": "name"},
    )
    invoice_tc_no = TcKimlikNoField(
        _l("TC Kimlik No (optional)"),
        validators=[Optional()],
    )
    invoice_address = TextAreaField(
        _l("Invoice address"),
        filters=[strip_or_none],
        validators=[
            DataRequired(message=_l("Enter the address for the invoice.")),
            Length(max=1000),
        ],
        render_kw={"autocomplete": "street-address", "rows": 3},
    )


class ChangeForm(Form):
    """Confirm a change of plan or cycle. An upgrade is charged now: the form's key makes a
    double click charge once, and the amount the preview showed is sent back, so a preview
    that went stale (the day turned at midnight) is shown again rather than charged."""

    idempotency_key = HiddenField(validators=[Regexp(r"^[0-9a-f]{32}$")])
    shown_amount = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,10}\.[0-9]{2}$")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = new_idempotency_key()


class PauseForm(Form):
    """Pause renewals until a date the subscriber picks; the view checks the date against
    today and portal.billing.subscriptions.PAUSE_MAX_MONTHS."""

    until = DateField(
        _l("Resume renewals on"),
        validators=[InputRequired(message=_l("Choose the day renewals resume."))],
    )
