"""The company details form."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.forms import Form, PhoneField, TcKimlikNoField, VknField, strip_or_none
from portal.turkish import PROVINCES


class CompanyForm(Form):
    """What a company admin may change about the company's invoice and contact details.

    The stored TC Kimlik No is never written into the page: the view puts it in
    `stored_tc_no`, the field starts empty, and an empty field keeps it (see validate()).
    """

    stored_tc_no: str | None = None

    class Meta:
        # Every text field is trimmed, and an empty one is stored as NULL.
        def bind_field(self, form, unbound_field, options):
            if unbound_field.field_class not in (RadioField, BooleanField, SelectField):
                options["filters"] = [strip_or_none, *options.get("filters", ())]
            return unbound_field.bind(form=form, **options)

    name = StringField(_l("Brand name"), validators=[DataRequired(), Length(max=255)])
    legal_name = StringField(_l("Legal name (unvan)"), validators=[Optional(), Length(max=255)])
    customer_type = RadioField(
        _l("Type"),
        choices=[
            SelectChoice("company", _l("Company")),
            SelectChoice("sole_proprietor", _l("Sole proprietor")),
        ],
        validators=[DataRequired()],
    )
    tax_office = StringField(_l("Tax office"), validators=[Optional(), Length(max=100)])
    tax_number = VknField(_l("Tax number (VKN)"), validators=[Optional()])
    tc_no = TcKimlikNoField(_l("TC Kimlik No"), validators=[Optional()])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=255)])
    phone = PhoneField(_l("Phone"), validators=[Optional()])
    address_line = TextAreaField(_l("Address"), validators=[Optional(), Length(max=500)])
    district = StringField(_l("District"), validators=[Optional(), Length(max=100)])
    city = SelectField(_l("City"), choices=[], validate_choice=False)
    is_inflation_auto_updated = BooleanField(
        _l("Renew our agreements with the yearly inflation rate applied to the prices")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The 81 provinces, and a city an older record holds outside them, so that saving
        # the form never loses it.
        cities = list(PROVINCES)
        if self.city.object_data and self.city.object_data not in cities:
            cities.append(self.city.object_data)
        self.city.choices = [SelectChoice("", "—"), *(SelectChoice(c, c) for c in cities)]

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the tax identity the customer type needs.

        Done here rather than in validate_<field>: Optional() ends a field's checks when it is
        empty, which is exactly the case to catch.
        """
        valid = super().validate(extra_validators)
        self.city.data = self.city.data or None
        if self.city.data is not None and self.city.data not in {
            choice.value for choice in self.city.choices
        }:
            self.city.errors.append(_l("Choose the city from the list."))
            valid = False
        if self.customer_type.data == "company" and not self.tax_number.data:
            self.tax_number.errors.append(_l("A company needs its tax number (VKN)."))
            valid = False
        if self.customer_type.data == "sole_proprietor" and not (
            self.tc_no.data or self.stored_tc_no
        ):
            self.tc_no.errors.append(_l("A sole proprietor needs their TC Kimlik No."))
            valid = False
        return valid
