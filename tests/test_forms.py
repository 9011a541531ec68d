"""The shared fields for Turkish input: what a form hands on is what the database keeps."""

from decimal import Decimal

import pytest
from flask import request, session
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import (
    EmailField,
    Form,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TelField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from portal.access.permissions import Role
from portal.customer.forms import CompanyForm
from portal.customer.school_forms import SchoolDetailsForm
from portal.forms import (
    PLAIN_INPUTS,
    AmountField,
    BlankForm,
    PhoneField,
    TcKimlikNoField,
    VknField,
    blank_key,
    posted_id,
    render_input,
)
from portal.forms import Form as PortalForm
from portal.models import Customer
from portal.turkish import make_tc_kimlik_no, make_vkn, phone_error, tc_kimlik_no_error, vkn_error
from tests.helpers import post

TCKN = make_tc_kimlik_no("284619375")
VKN = make_vkn("987654321")


class TurkishForm(Form):
    phone = PhoneField(validators=[Optional()])
    tc_no = TcKimlikNoField(validators=[Optional()])
    tax_number = VknField(validators=[DataRequired()])
    amount = AmountField()


def spaced(digits: str) -> str:
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def test_valid_entries_are_handed_on_in_their_stored_form(app):
    with app.test_request_context():
        form = TurkishForm(
            MultiDict(
                {
                    "phone": "0 (216) 555-01-01",
                    "tc_no": spaced(TCKN),
                    "tax_number": spaced(VKN),
                    "amount": "150.000,50",
                }
            )
        )

        assert form.validate(), form.errors
    assert form.data == {
        "phone": "+902165550101",
        "tc_no": TCKN,
        "tax_number": VKN,
        "amount": Decimal("150000.50"),
    }


def test_invalid_entries_are_refused_field_by_field_and_shown_again_as_typed(app):
    typed = {"phone": "abc 😀", "tc_no": "100 000 001 47", "tax_number": "123 456 7891"}
    with app.test_request_context():
        form = TurkishForm(MultiDict(typed))

        assert not form.validate()
        # The module's own message, and one each: the refused text still counts as an answer
        # for DataRequired.
        assert [str(e) for e in form.tc_no.errors] == [str(tc_kimlik_no_error(typed["tc_no"]))]
        assert [str(e) for e in form.tax_number.errors] == [str(vkn_error(typed["tax_number"]))]
        assert [str(e) for e in form.phone.errors] == [str(phone_error(typed["phone"]))]
        for name, text in typed.items():
            assert f'value="{text}"' in form[name]()


@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_optional_entries_are_no_answer_and_no_error(app, empty):
    with app.test_request_context():
        form = TurkishForm(MultiDict({"phone": empty, "tc_no": empty, "tax_number": VKN}))

        assert form.validate(), form.errors
    assert form.phone.errors == [] and form.tc_no.errors == []


def test_a_stored_value_is_shown_as_stored(app):
    with app.test_request_context():
        form = TurkishForm(data={"phone": "+902165550101", "tax_number": VKN})

        assert 'value="+902165550101"' in form.phone()
        assert 'inputmode="tel"' in form.phone() and 'inputmode="numeric"' in form.tax_number()


def company_post(**values) -> dict:
    return {
        "name": "Yeni Marka",
        "customer_type": "company",
        "tax_number": VKN,
        "tc_no": "",
        **values,
    }


def test_the_company_form_hands_on_cleaned_identifiers_and_phone(app):
    typed = company_post(tax_number=spaced(VKN), tc_no=f" {spaced(TCKN)} ", phone="0216 555 01 01")
    with app.test_request_context(method="POST", data=typed):
        form = CompanyForm(meta={"csrf": False})

        assert form.validate(), form.errors
    assert (form.tax_number.data, form.tc_no.data, form.phone.data) == (
        VKN,
        TCKN,
        "+902165550101",
    )


@pytest.mark.parametrize("phone", ["abc 😀", "+44 20 7946 0958", "0532 123 45"])
def test_the_company_phone_follows_the_parents_rule(app, phone):
    with app.test_request_context(method="POST", data=company_post(phone=phone)):
        form = CompanyForm(meta={"csrf": False})

        assert not form.validate()
        assert list(form.errors) == ["phone"]


def test_the_company_page_stores_the_cleaned_values(client, session, make, auth):
    admin = make.customer_user(role=Role.ADMIN)
    session.commit()
    auth.login(admin.user.email)

    response = post(
        client,
        "/customer/company",
        **company_post(
            customer_type="sole_proprietor",
            tax_number=spaced(VKN),
            tc_no=spaced(TCKN),
            phone="+90 (232) 555-02-02",
        ),
    )

    assert response.status_code == 303
    session.expire_all()
    customer = session.scalar(select(Customer).where(Customer.id == admin.customer_id))
    assert (customer.tax_number, customer.tc_no, customer.phone) == (VKN, TCKN, "+902325550202")


class SchoolFilter(Form):
    school = SelectField(
        choices=[
            SelectChoice("", "All schools"),
            SelectChoice("7", 'Ayşe & "Ali" <Koleji>'),
            SelectChoice("9", "Işık"),
        ]
    )
    target = SelectField(
        choices=[SelectChoice(str(n), f"Okul {n}") for n in range(60)],
        validators=[DataRequired()],
        render_kw={"autocomplete": "off"},
    )


@pytest.mark.parametrize("chosen", ["", "7", "9", "not a choice"])
def test_long_select_writes_what_the_wtforms_widget_writes(app, chosen):
    # The macro replaces the widget on selects of many options (a company's schools): a
    # browser, a screen reader and the form's validation must not tell them apart.
    with app.test_request_context():
        form = SchoolFilter(MultiDict({"school": chosen, "target": "42"}))
        macros = app.jinja_env.get_template("_macros.html").module
        assert str(macros.long_select(form.school)) == str(form.school())
        described = {"aria-describedby": "target-hint", "aria-invalid": "true"}
        assert str(macros.long_select(form.target, **described)) == str(form.target(**described))
        assert 'selected value="42"' in str(macros.field(form.target))
        form.target.choices = {
            'Ayşe & "Ali"': [
                SelectChoice("school:7", "Bütün okul"),
                SelectChoice("campus:9", "<Moda>"),
            ],
            "Işık": [SelectChoice("school:8", "Bütün okul")],
        }
        form.target.data = "campus:9"
        assert str(macros.long_select(form.target)) == str(form.target())
        assert "<optgroup" in str(macros.field(form.target))


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("7", 7),
        ("007", 7),
        (42, 42),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),  # beyond bigint: the databases would refuse the comparison
        ("9" * 40, None),
        ("0", None),
        ("", None),
        (None, None),
        (" 3 ", None),
        ("1_000", None),
        ("²", None),
        ("٣", None),  # an Arabic-Indic three: int() reads it, an id is ASCII
        ("-1", None),
    ],
)
def test_posted_id_reads_ascii_digits_within_bigint_and_nothing_else(sent, expected):
    assert posted_id(sent) == expected


class CountForm(PortalForm):
    count = IntegerField()


@pytest.mark.parametrize(
    ("language", "message"),
    [("tr", "Geçerli bir tam sayı değeri değil."), ("en", "Not a valid integer value.")],
)
def test_wtforms_own_messages_are_in_the_visitors_language(app, language, message):
    # WTForms' catalogue is kept per language (portal.forms): one language's message must not
    # reach a visitor of the other, whichever came first.
    for first in ("tr", "en"):
        with app.test_request_context(method="POST", data={"count": "yedi"}):
            session["lang"] = first
            CountForm(meta={"csrf": False}).validate()
        with app.test_request_context(method="POST", data={"count": "yedi"}):
            session["lang"] = language
            form = CountForm(meta={"csrf": False})
            assert not form.validate()
            assert form.count.errors == [message]


class InputsForm(Form):
    name = StringField(validators=[DataRequired(), Length(min=2, max=255)])
    email = EmailField(render_kw={"autocomplete": "email", "data_kind": "mail"})
    phone = PhoneField(validators=[Optional()])
    site = URLField(render_kw={"placeholder": 'https://"okul".example <ana>', "disabled": False})
    search = SearchField(render_kw={"autofocus": True})
    tel = TelField(validators=[Length(max=20)], render_kw={"class_": "wide"})
    campus_id = IntegerField(widget=HiddenInput())


@settings(max_examples=200, deadline=None)
@given(
    value=st.text(max_size=30),
    described=st.sampled_from([{}, {"aria-describedby": "x-hint"}, {"aria_invalid": "true"}]),
)
def test_render_input_writes_what_the_wtforms_widget_writes(value, described):
    # The field() macro writes plain inputs itself (portal.forms.render_input): a browser, a
    # screen reader and the form's validation must not tell them from WTForms' own.
    names = ("name", "email", "phone", "site", "search", "tel", "campus_id")
    form = InputsForm(MultiDict({name: value for name in names}))
    for field in form:
        assert str(render_input(field, **described)) == str(field(**described)), field.name


def test_render_input_writes_every_plain_input_of_the_apps_forms_as_wtforms_does(app):
    forms = [PortalForm, *_subclasses(PortalForm)]
    checked = 0
    with app.test_request_context():
        for form_class in forms:
            try:
                form = form_class(formdata=None)
            except TypeError:  # a form that needs arguments of its own
                continue
            for field in form:
                if type(field.widget) in PLAIN_INPUTS:
                    assert str(render_input(field)) == str(field()), (form_class, field.name)
                    checked += 1
    assert checked > 30  # the app's forms were found and their plain inputs written


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


class OfferLikeForm(PortalForm):
    fee = AmountField()
    assignee = SelectField(choices=[], validate_choice=False)
    grouped = SelectField(
        choices=[SelectChoice("1", "Kadıköy", optgroup="İstanbul"), SelectChoice("2", "Çankaya")]
    )


def _offer_like(formdata=None, assignees=(("", "Nobody"), ("7", "Ayşe")), chosen=""):
    form = OfferLikeForm(formdata=formdata, data={"assignee": chosen} if formdata is None else None)
    form.assignee.choices = [SelectChoice(value, label) for value, label in assignees]
    return form


def test_a_blank_form_is_kept_by_what_it_shows_and_a_posted_one_never(app):
    """portal.forms.blank_key: the key the lead page keeps its blank forms' fields by."""
    with app.test_request_context():
        blank = blank_key(_offer_like())
        assert blank is not None
        # The same blank form has the same key; the visitor's CSRF token is not part of it.
        assert blank_key(_offer_like()) == blank
        assert all(name != "csrf_token" for name, *_ in blank)
        # Whatever the fields would show differently is a different key.
        assert blank_key(_offer_like(chosen="7")) != blank
        assert blank_key(_offer_like(assignees=(("", "Nobody"), ("8", "Ayşe")))) != blank
        assert blank_key(_offer_like(assignees=(("", "Nobody"), ("7", "Ayse")))) != blank
        # A form with a multiple choice (its data a list) has a key that can be kept by.
        levels = SchoolDetailsForm(formdata=None, data={"levels": ["primary", "middle"]})
        assert hash(blank_key(levels)) == hash(
            blank_key(SchoolDetailsForm(formdata=None, data={"levels": ["primary", "middle"]}))
        )
        assert blank_key(levels) != blank_key(
            SchoolDetailsForm(formdata=None, data={"levels": ["primary"]})
        )
    with app.test_request_context(method="POST", data={"fee": "150.000"}):
        # Posted, typed into: shown as typed, so never kept.
        assert blank_key(_offer_like(formdata=request_form())) is None
    with app.test_request_context(method="POST", data={"fee": ""}):
        posted = _offer_like(formdata=request_form())
        posted.form_errors.append("The offer could not be sent.")
        assert blank_key(posted) is None


def request_form():
    return request.form


def test_a_blank_form_is_built_only_when_its_kept_fields_are_missing(app):
    """portal.forms.BlankForm: a page's blank form, found kept by its key, is not built; what
    is shown is what the built form shows, and other values show their own."""
    built = []

    def blank(fee):
        def build():
            built.append(fee)
            return OfferLikeForm(formdata=None, data={"fee": fee})

        return BlankForm(build, ("offer-like", fee))

    page = app.jinja_env.from_string(
        '{% from "_macros.html" import kept_fields %}'
        "{% if form.errors or form.form_errors %}error{% endif %}"
        '{% call kept_fields("offer-like-fee", form) %}{{ form.fee() }}{% endcall %}'
    )
    with app.test_request_context():
        first = page.render(form=blank(Decimal("150000")))
        assert built == [Decimal("150000")]
        assert 'value="150000"' in first and "error" not in first
        # The same page again: the same markup, and the form never built.
        assert page.render(form=blank(Decimal("150000"))) == first
        assert built == [Decimal("150000")]
        # Another stored value is another key: built, and shown.
        assert 'value="90000"' in page.render(form=blank(Decimal("90000")))
        assert built == [Decimal("150000"), Decimal("90000")]
        # BlankForm.of keys by the class and the values it fills the form with.
        assert blank_key(BlankForm.of(OfferLikeForm, fee=Decimal("1"))) == blank_key(
            BlankForm.of(OfferLikeForm, fee=Decimal("1"))
        )
        assert blank_key(BlankForm.of(OfferLikeForm, fee=Decimal("1"))) != blank_key(
            BlankForm.of(OfferLikeForm, fee=Decimal("2"))
        )
        assert blank_key(BlankForm.of(OfferLikeForm, fee=Decimal("1"))) != blank_key(
            BlankForm.of(SchoolDetailsForm, fee=Decimal("1"))
        )
        # Anything else a template reads builds the form once, with the values given.
        lazy = BlankForm.of(OfferLikeForm, fee=Decimal("5"))
        assert lazy.fee.data == Decimal("5") and lazy.form is lazy.form
