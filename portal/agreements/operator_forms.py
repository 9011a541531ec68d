"""The forms of the operators' agreement pages (publish a text version, draft, void) and of
the public verification page."""

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms import Form as PlainForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.access.permissions import ROLE_NAMES, Permission, roles_with
from portal.agreements import verification
from portal.agreements.agreements import (
    MAX_QUANTITY,
    NAME_LENGTH,
    PRODUCT_PERIODS,
    REASON_LENGTH,
    Product,
)
from portal.agreements.texts import TITLE_LENGTH
from portal.clock import ISTANBUL
from portal.forms import AmountField, Form, strip_or_none
from portal.models.customers import AgreementKind

KIND_NAMES = {
    AgreementKind.COMPANY_SERVICE: _l("Company service agreement"),
    AgreementKind.PARENT_DISTANCE_SALES: _l("Parent's distance sales contract"),
    AgreementKind.PARENT_PRE_INFORMATION: _l("Pre-information form"),
}
PERIOD_LABELS = {
    "one_time": _l("One time"),
    "monthly": _l("Monthly"),
    "yearly": _l("Yearly"),
}
# Rows of products a draft offers; empty rows are skipped.
PRODUCT_ROWS = 3
BODY_LENGTH = 100_000


class PublishTextForm(Form):
    """A new version of a kind's text: its title, its body with {placeholders}, and when it
    starts (Istanbul time; empty: now)."""

    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(str(kind), label) for kind, label in KIND_NAMES.items()],
        default=str(AgreementKind.COMPANY_SERVICE),
    )
    title = StringField(
        _l("Title"),
        filters=[strip_or_none],
        validators=[DataRequired(message=_l("Write the title.")), Length(max=TITLE_LENGTH)],
        render_kw={"maxlength": TITLE_LENGTH},
    )
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(message=_l("Write the text.")), Length(max=BODY_LENGTH)],
        render_kw={"rows": 14},
    )
    started_at = DateTimeLocalField(
        _l("Valid from"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
    )

    def start_utc(self, now: datetime) -> datetime:
        """The start as an aware UTC instant: the typed Istanbul time, or `now` when empty."""
        if self.started_at.data is None:
            return now
        return self.started_at.data.replace(tzinfo=ISTANBUL).astimezone(UTC)


class ProductRow(PlainForm):
    """One line of the agreement; a row with nothing typed is skipped."""

    name = StringField(
        _l("Product"), filters=[strip_or_none], validators=[Optional(), Length(max=NAME_LENGTH)]
    )
    quantity = IntegerField(
        _l("Quantity"), validators=[Optional(), NumberRange(min=1, max=MAX_QUANTITY)]
    )
    unit_price = AmountField(_l("Unit price (₺, net of KDV)"), validators=[Optional()])
    period = SelectField(
        _l("Period"),
        choices=[SelectChoice(period, PERIOD_LABELS[period]) for period in PRODUCT_PERIODS],
        default="yearly",
    )

    def is_blank(self) -> bool:
        typed = (self.name, self.quantity, self.unit_price)
        return not any((field.raw_data or [""])[0].strip() for field in typed)


def signing_roles() -> list[SelectChoice]:
    """The roles that may sign agreements, as checkbox choices (code, name)."""
    return [
        SelectChoice(str(role), ROLE_NAMES[role]) for role in roles_with(Permission.SIGN_AGREEMENTS)
    ]


class DraftForm(Form):
    """A draft for a company: the products, the term and the roles that must sign. The
    company is `customer_id`, typed (many companies) or chosen (few; see draft_form)."""

    customer_id = StringField(
        _l("Company id"),
        filters=[strip_or_none],
        validators=[DataRequired(message=_l("Choose the company."))],
        render_kw={"inputmode": "numeric"},
    )
    products = FieldList(FormField(ProductRow), min_entries=PRODUCT_ROWS, max_entries=10)
    starts_on = DateField(
        _l("Term starts"), validators=[InputRequired(message=_l("Enter the first day."))]
    )
    ends_on = DateField(
        _l("Term ends"), validators=[InputRequired(message=_l("Enter the last day."))]
    )
    required_roles = SelectMultipleField(
        _l("Roles that must sign"),
        choices=signing_roles,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )

    def validate_ends_on(self, field) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The term cannot end before it starts."))

    def validate_products(self, field) -> None:
        rows = [row.form for row in field]
        entered = [row for row in rows if not row.is_blank()]
        if not entered:
            rows[0].name.errors = [*rows[0].name.errors, _l("Enter at least one product.")]
            raise ValidationError(_l("Enter at least one product."))
        for row in entered:
            if not row.name.data:
                row.name.errors = [*row.name.errors, _l("Name the product.")]
            if row.quantity.data is None and not row.quantity.errors:
                row.quantity.errors = [*row.quantity.errors, _l("Enter the quantity.")]
            if row.unit_price.data is None and not row.unit_price.errors:
                row.unit_price.errors = [*row.unit_price.errors, _l("Enter the unit price.")]
        if any(row.errors for row in rows):
            raise ValidationError(_l("Correct the products."))

    def product_lines(self) -> list[Product]:
        """The rows entered, as products (after validate()).

        :raise AgreementError: a row the domain refuses (a price with fractions of kuruş).
        """
        return [
            Product(row.name.data, row.quantity.data, row.unit_price.data, row.period.data)
            for row in (entry.form for entry in self.products)
            if not row.is_blank()
        ]


class ChosenCompanyDraftForm(DraftForm):
    """The draft form when there are few companies: the company chosen by name."""

    customer_id = SelectField(
        _l("Company"),
        validators=[DataRequired(message=_l("Choose the company."))],
        validate_choice=False,  # the view looks the company up, as for a typed id
    )


def draft_form(companies: list[tuple[int, str]] | None, **kwargs) -> DraftForm:
    """The draft form: a select of `companies` (id, name) when given, a typed id otherwise."""
    if companies is None:
        return DraftForm(**kwargs)
    form = ChosenCompanyDraftForm(**kwargs)
    form.customer_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(id_), name) for id_, name in companies
    ]
    return form


class VoidForm(Form):
    """Voiding an agreement: the reason is required and kept with it."""

    reason = TextAreaField(
        _l("Why is it voided?"),
        filters=[strip_or_none],
        validators=[
            DataRequired(message=_l("Write the reason: it is kept with the agreement.")),
            Length(max=REASON_LENGTH),
        ],
        render_kw={"rows": 3, "maxlength": REASON_LENGTH},
    )


def _sha256(form, field) -> None:
    try:
        field.data = verification.normalize(field.data)
    except verification.MalformedHash:
        raise ValidationError(
            _l("A SHA-256 is 64 characters, the digits 0–9 and the letters a–f.")
        ) from None


class VerifyForm(Form):
    """The public check: one SHA-256 in hexadecimal (read from the query string)."""

    class Meta:
        csrf = False  # a GET that changes nothing

    sha256 = StringField(
        _l("SHA-256"),
        validators=[DataRequired(message=_l("Enter the SHA-256 to check.")), _sha256],
        render_kw={"maxlength": 100, "autocomplete": "off", "spellcheck": "false"},
    )


class VerifyPdfForm(Form):
    """The public check of an uploaded evidence PDF (a POST: the file is its body)."""

    NOT_OURS = _l(
        "This file is not an evidence PDF made by Okul: download it again from the agreement's "
        "evidence page."
    )

    evidence_pdf = FileField(
        _l("Evidence PDF"),
        validators=[FileRequired(message=_l("Choose the evidence PDF to check."))],
        render_kw={"accept": "application/pdf,.pdf"},
    )
