"""Forms and fields shared by every feature."""

import unicodedata
from collections.abc import Callable, Hashable, Mapping
from functools import lru_cache
from types import MappingProxyType

from babel import support
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import EmailField, Field, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.widgets import EmailInput, HiddenInput, SearchInput, TelInput, TextInput, URLInput
from wtforms.widgets.core import clean_key

from portal import turkish
from portal.email_address import normalize_email
from portal.i18n import locale_name
from portal.models.base import MAX_ID

# --- Text that a form or a query string may carry ------------------------------------------
# What a browser sends from a keyboard or a paste is printable text. Control characters (NUL
# makes PostgreSQL refuse the statement), lone surrogates (no database can store them), the
# U+FFFD that stands for bytes that were not UTF-8, and the bidi overrides that make text read
# differently from how it is stored are refused, never stored. Combining marks are letters'
# accents (Turkish and other names need them) and are accepted.

NOT_TEXT = _l("A file was sent where text was expected.")
CONTROL_CHARACTERS = _l(
    "This text had invisible control characters. They have been removed: check the text and "
    "send it again."
)
UNREADABLE = _l(
    "This text had characters that could not be read. They have been removed: check the text "
    "and send it again."
)
SENT_TWICE = _l("This field was sent more than once.")

_LINE_BREAKS = frozenset("\t\n\r")
_DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unreadable(ch: str) -> bool:
    return ch == "\ufffd" or "\ud800" <= ch <= "\udfff"


def _control(ch: str, multiline: bool) -> bool:
    if ch in _DIRECTION_CONTROLS:
        return True
    return unicodedata.category(ch) == "Cc" and not (multiline and ch in _LINE_BREAKS)


def text_problem(value: str, multiline: bool = False):
    """What is wrong with typed text (a message), or None; `multiline` allows tabs and breaks."""
    if value.isascii() and value.isprintable():
        return None  # the common case, decided without looking at each character
    if any(_unreadable(ch) for ch in value):
        return UNREADABLE
    if any(_control(ch, multiline) for ch in value):
        return CONTROL_CHARACTERS
    return None


def clean_text(value: str, multiline: bool = False) -> str:
    """`value` without the characters text_problem() refuses."""
    return "".join(ch for ch in value if not (_unreadable(ch) or _control(ch, multiline)))


def _normalized_email(value):
    return normalize_email(value) if isinstance(value, str) else value


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """The base of every form: what is not plain text is refused next to its field (422),
    but a file in a FileField.

    A file posted in a text field, a JSON body's numbers, lists and nulls, control characters,
    unreadable characters and a field sent twice each give the field a clear error instead of
    reaching a validator, a parser or the database. The refused characters are taken out of
    what is shown again, so the page can render it and the person can send it once checked.
    """

    class Meta:
        def get_translations(self, form):
            # WTForms' own messages in the visitor's language. Flask-WTF reads and parses that
            # catalogue from disk once a request (~0.4 ms, on every page with a form); it does
            # not change while the process runs, so it is kept per language.
            return _wtforms_translations(locale_name())

        def bind_field(self, form, unbound_field, options):
            # An address is validated and handed on in its stored form (the one rule).
            if issubclass(unbound_field.field_class, EmailField):
                filters = options.get("filters", unbound_field.kwargs.get("filters", ()))
                options["filters"] = [*filters, _normalized_email]
            return super().bind_field(form, unbound_field, options)

        def wrap_formdata(self, form, formdata):
            try:
                formdata = super().wrap_formdata(form, formdata)
            except (TypeError, ValueError):
                formdata = MultiDict()  # a JSON body that is not an object: no field at all
            form.refused_input = {}
            if formdata is None:
                return None
            multiline = {f.name for f in form if isinstance(f, TextAreaField)}
            uploads = {f.name for f in form if isinstance(f, FileField)}
            clean = MultiDict()
            for name, value in formdata.items(multi=True):
                if name in uploads and isinstance(value, FileStorage):
                    clean.add(name, value)  # a file field's file, the one place one belongs
                    continue
                if not isinstance(value, str):
                    form.refused_input.setdefault(name, NOT_TEXT)
                    continue
                if problem := text_problem(value, name in multiline):
                    form.refused_input.setdefault(name, problem)
                    value = clean_text(value, name in multiline)
                clean.add(name, value)
            return clean

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, then the refusals of what was not plain text."""
        valid = super().validate(extra_validators)
        refused = getattr(self, "refused_input", {})
        for field in self:
            if field.name in refused:
                field.errors = [refused[field.name]]
            elif len(field.raw_data or ()) > 1 and not isinstance(field, SelectMultipleField):
                field.errors = [SENT_TWICE]
            else:
                continue
            valid = False
        return valid


class EmptyForm(Form):
    """A form with no fields, so that a bare POST button still carries a CSRF token."""


def posted_id(value: object) -> int | None:
    """The id a form or an address sent, or None: ASCII digits making a number from 1 to
    MAX_ID. int() alone would take " 3 ", "1_000", "²" and Arabic-Indic digits, and an id
    beyond bigint makes the database refuse the comparison instead of finding no row."""
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID))):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def strip_or_none(value):
    """A WTForms filter: trim text, and store an empty answer as NULL rather than ''."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# --- Turkish input (the rules are in portal.turkish) ---------------------------------------
# Each field turns what was typed into what is stored while the form reads the post, as
# WTForms' own DecimalField does: a valid entry's `data` is already the stored form, and a
# ValueError's message becomes the field's error. What was typed is shown again as typed.


class _TurkishTextField(StringField):
    """Text whose data is its stored form; empty is left to Optional/DataRequired."""

    # A function from portal.turkish: the stored form, or ValueError saying what is wrong.
    normalize: Callable[[str], str]
    # The on-screen keyboard a mobile browser opens for this entry (inputmode).
    input_mode: str

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": self.input_mode})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data and self.data.strip():
            # On a ValueError `data` keeps the text, so a required-field check sees an answer.
            self.data = type(self).normalize(self.data)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return super()._value()


class PhoneField(_TurkishTextField):
    """A Turkish mobile or landline number, stored +90XXXXXXXXXX."""

    normalize = staticmethod(turkish.normalize_phone)
    input_mode = "tel"


class TcKimlikNoField(_TurkishTextField):
    """A TC Kimlik No, stored as its 11 digits (spaces, dashes and dots may group them)."""

    normalize = staticmethod(turkish.normalize_tc_kimlik_no)
    input_mode = "numeric"


class VknField(_TurkishTextField):
    """A VKN, stored as its 10 digits (spaces, dashes and dots may group them)."""

    normalize = staticmethod(turkish.normalize_vkn)
    input_mode = "numeric"


class AmountField(Field):
    """A lira amount typed as text (a number input would refuse `150.000,50`)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = None  # stays None when the text is not an amount
            self.data = turkish.parse_try_amount(valuelist[0])

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]  # what was typed comes back as typed, to be corrected
        return "" if self.data is None else turkish.format_amount(self.data)


# --- Forms built only when read, and blank forms kept rendered ---------------------------


class LazyForm:
    """A form built only when something reads it: a page whose form markup was kept
    (portal.caching) finds it by a key it knows without the form, so on most views the form
    is never built. Binding and filling a WTForms form costs some 10 µs a field."""

    def __init__(self, build: Callable[[], FlaskForm]):
        self._build = build
        self._form: FlaskForm | None = None

    @property
    def form(self) -> FlaskForm:
        if self._form is None:
            self._form = self._build()
        return self._form

    def __getattr__(self, name: str):
        # Only for what the class does not answer itself: a field, hidden_tag(), data... Not
        # for special names (markupsafe and copy probe for them: nothing to build for that),
        # nor for its own, which are missing only on an instance not made by __init__.
        if name.startswith("__") or name in ("_build", "_form", "key"):
            raise AttributeError(name)
        return getattr(self.form, name)

    def __iter__(self):
        return iter(self.form)

    def __getitem__(self, name: str):
        return self.form[name]


class BlankForm(LazyForm):
    """A form a page shows blank (filled from stored values, nothing typed), built only when
    something reads it: its kept fields (`kept_fields` in templates/_macros.html) are found by
    `key` without it. Paid on every view of a page of several forms (a lead's page, a
    school's fee tables) for markup that was kept already.

    `key` must hold everything the fields show besides the language: the form's class, the
    values it is filled with, the choices it offers. A blank form carries no error, so
    `errors` and `form_errors` answer without building it; anything else builds it once.
    """

    errors: Mapping = MappingProxyType({})
    form_errors: tuple = ()

    def __init__(self, build: Callable[[], FlaskForm], key: Hashable):
        super().__init__(build)
        self.key = key

    @classmethod
    def of(cls, form_class: type[FlaskForm], **data) -> "BlankForm":
        """`form_class` filled with `data` (hashable values), keyed by exactly that."""
        return cls(
            lambda: form_class(formdata=None, data=data),
            (form_class.__module__, form_class.__qualname__, tuple(sorted(data.items()))),
        )


def blank_key(form: "FlaskForm | BlankForm") -> tuple | None:
    """What `form` shows while nothing was typed into it and it carries no error: each field's
    value as shown and, for a choice, its choices. The key its rendered fields may be kept by
    (portal.caching, `cached_html`), as a page renders the same blank form on every view.
    None for a form that was posted or carries an error: it shows what was typed, as typed.
    A BlankForm brings its own key, so that finding its kept fields does not build it.

    The CSRF field is left out: a kept block must not hold it (it is the visitor's own), so
    the template writes it outside the block.
    """
    if isinstance(form, BlankForm):
        return ("blank", form.key)
    if form.errors:
        return None
    key = []
    for field in form:
        if field.type == "CSRFTokenField":
            continue
        if field.raw_data:
            return None
        choices = getattr(field, "choices", None)
        shown = field._value() if hasattr(field, "_value") else None
        data = tuple(field.data) if isinstance(field.data, list) else field.data  # hashable
        key.append((field.name, shown, data, _choices_key(choices) if choices else None))
    return tuple(key)


def _choices_key(choices) -> tuple:
    """A field's choices as a key: WTForms' SelectChoice does not hash."""
    if isinstance(choices, dict):  # grouped the old way: {optgroup label: choices}
        return tuple((str(group), _choices_key(grouped)) for group, grouped in choices.items())
    key = []
    for choice in choices:
        if isinstance(choice, SelectChoice):
            attributes = tuple(sorted((choice.render_kw or {}).items()))
            key.append((choice.value, str(choice.label), choice.optgroup, attributes))
        else:  # (value, label) or (value, label, render_kw)
            key.append(tuple(str(part) if i == 1 else repr(part) for i, part in enumerate(choice)))
    return tuple(key)


# --- Inputs written fast -----------------------------------------------------------------
# WTForms' Input widget builds each attribute with Markup.format, whose escaping formatter
# costs some 10 µs an attribute: a form page of a dozen fields (a school's page, a company's
# details) spent a tenth of its time there. `render_input` writes the same markup directly for
# the widgets that are a plain Input (no __call__ of their own, no datalist), and leaves every
# other widget to WTForms; tests/test_forms.py holds the two equal.

PLAIN_INPUTS = (TextInput, EmailInput, TelInput, URLInput, SearchInput, HiddenInput)


def render_input(field: Field, **attributes) -> Markup:
    """`field(**attributes)`, as WTForms would write it."""
    widget = field.widget
    if type(widget) not in PLAIN_INPUTS or getattr(field, "_datalist", None) is not None:
        return field(**attributes)
    # As meta.render_field and Input.__call__ do, in their order.
    params = {clean_key(key): value for key, value in (field.render_kw or {}).items()}
    params.update((clean_key(key), value) for key, value in attributes.items())
    params.setdefault("id", field.id)
    params.setdefault("type", widget.input_type)
    if "value" not in params:
        params["value"] = field._value()
    flags = field.flags
    for key in widget.validation_attrs:
        if key not in params and key in vars(flags):
            value = getattr(flags, key)
            params[key] = value() if callable(value) else value
    params["name"] = field.name
    written = []
    for key, value in sorted(params.items()):
        if value is True:
            written.append(key)
        elif value is not False:
            written.append(f'{key}="{escape(value)}"')
    # Every value is escaped just above; the keys are the app's own attribute names.
    return Markup(f"<input {' '.join(written)}>")  # nosec B704
