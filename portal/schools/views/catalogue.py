"""The home page: the school search."""

from decimal import Decimal
from typing import NamedTuple

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Length, Optional

from portal import htmx
from portal.access import ANONYMOUS, PARENT, allow, audience_of_user
from portal.caching import remembered, short_lived
from portal.clock import istanbul_today
from portal.extensions import db
from portal.forms import AmountField, Form, LazyForm, strip_or_none
from portal.i18n import LEVEL_NAMES
from portal.models.schools import SCHOOL_LEVELS
from portal.paging import page_number
from portal.schools import bp, search
from portal.schools.fees import school_year_label, school_years_offered
from portal.schools.marks import NO_MARKS, Marks, marks_of
from portal.turkish import format_amount

NOT_LISTED = _l("Choose one of the options in the list.")


class SearchForm(Form):
    """The search's filters, read from the query string (a GET form: no CSRF token, nothing
    changes). A city or district that no longer has schools is ignored, not refused: it
    comes from an old shared link, not from a mistake the visitor can correct."""

    class Meta:
        csrf = False

    q = StringField(
        _l("School name"),
        filters=[strip_or_none],
        validators=[Optional(), Length(max=100)],
        render_kw={"type": "search", "autocomplete": "off"},
    )
    city = SelectField(_l("City"), validate_choice=False)
    district = SelectField(_l("District"), validate_choice=False)
    level = SelectField(
        _l("Level"),
        choices=[
            SelectChoice("", _l("All levels")),
            *(SelectChoice(*c) for c in LEVEL_NAMES.items()),
        ],
        default="",
        validate_choice=False,
        validators=[AnyOf(["", *SCHOOL_LEVELS], message=NOT_LISTED)],
    )
    school_year = SelectField(_l("School year"), validate_choice=False)
    fee_min = AmountField(_l("Yearly fee from"))
    fee_max = AmountField(_l("Yearly fee up to"))
    sort = SelectField(
        _l("Sort by"),
        choices=[
            SelectChoice("name", _l("Name (A–Z)")),
            SelectChoice("fee_asc", _l("Fee, lowest first")),
            SelectChoice("fee_desc", _l("Fee, highest first")),
        ],
        default="name",
        validate_choice=False,
        validators=[AnyOf(search.SORTS, message=NOT_LISTED)],
    )

    def __init__(self, formdata, school_years: list[int], **data):
        super().__init__(formdata, school_year=str(school_years[0]), **data)
        self.school_year.choices = [
            SelectChoice(str(y), school_year_label(y)) for y in school_years
        ]
        self.school_year.validators = [AnyOf([str(y) for y in school_years], message=NOT_LISTED)]

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the range: its error goes next to the highest amount."""
        valid = super().validate(extra_validators)
        low, high = self.fee_min.data, self.fee_max.data
        if valid and low is not None and high is not None and low > high:
            self.fee_max.errors.append(
                _l("The highest amount cannot be lower than the lowest amount.")
            )
            valid = False
        return valid


class SearchReading(NamedTuple):
    """What a search's address asks for, as SearchForm reads and checks it. A city no longer
    offered is read as none; the district is as sent: the view checks it against its city's
    districts, a list that may change while this reading is kept."""

    valid: bool
    q: str
    city: str
    district: str
    level: str
    school_year: str
    fee_min: Decimal | None
    fee_max: Decimal | None
    sort: str


@bp.route("/")
@allow(ANONYMOUS)
def index():
    """The school search: a GET form whose every filter is in the address, so a search can
    be shared, bookmarked and reloaded; htmx applies it in place as the parent types or
    chooses (the results block, with the field messages and the district options swapped
    out of band), and the pager's links keep the filters.

    A signed-in parent's saved budget fills the fee range when the address has no query at
    all; once the form is sent, the address rules. Invalid filters answer 422 with messages
    next to their fields and no results. A page past the end shows the last, junk the first.
    """
    years = tuple(school_years_offered(istanbul_today()))
    is_parent = audience_of_user(current_user) == PARENT
    budget = {}
    if is_parent and not request.query_string:
        low, high = search.budget_of(current_user.details)
        budget = {k: v for k, v in (("fee_min", low), ("fee_max", high)) if v is not None}
    address = tuple(request.args.items(multi=True))

    # The lists, the count and which schools make the page may lag the database by
    # SEARCH_CACHE_SECONDS (portal/caching.py): on every search they were most of its database
    # time. What the page shows of its schools is read afresh (search.search_schools).
    cities = short_lived("search-cities", None, lambda: tuple(search.cities(db.session)))
    # Reading the address through the form is the same work for the same address (a quarter
    # of a millisecond, the most of a search's own Python after its cards): remembered.
    reading = remembered(
        "search-reading",
        (address, tuple(budget.items()), years, cities),
        lambda: _read(_search_form(years, budget, cities)),
    )
    city = reading.city
    districts = (
        short_lived("search-districts", city, lambda: tuple(search.districts(db.session, city)))
        if city
        else ()
    )
    district = reading.district if reading.district in districts else ""

    page = None
    # "ilkokul" typed into the name box is the level primary (the level list, when chosen,
    # wins); the page says how it read the words.
    name, level_in_q = search.level_words(reading.q)
    if reading.valid:
        filters = search.SchoolSearch(
            school_year=int(reading.school_year),
            q=name,
            city=city or None,
            district=district or None,
            level=reading.level or level_in_q,
            fee_min=reading.fee_min,
            fee_max=reading.fee_max,
            sort=reading.sort,
        )
        total = short_lived(
            "search-count", filters, lambda: search.count_schools(db.session, filters)
        )
        page = search.search_schools(
            db.session,
            filters,
            page_number(request.args.get("page")),
            total=total,
            keep=lambda key, compute: short_lived("search-page", key, compute),
            # A parent's toggles are marked from the page's own statement.
            marks_for=current_user.id if is_parent else None,
        )
    args = _filter_args(reading, district, years[0])
    return htmx.render(
        "schools/index.html",
        "school_list",
        status=200 if reading.valid else 422,
        # Built only when its kept markup is missing (below).
        form=LazyForm(lambda: _search_form(years, budget, cities, districts)),
        page=page,
        args=args,
        loosen=_loosen(args) if page is not None and not page.total else [],
        using_budget=bool(budget),
        level_in_q=None if reading.level else level_in_q,
        # The results block carries the field messages and district options out of band.
        fragment=htmx.wants_fragment(),
        # Everything the form's markup follows from: it is kept rendered under this key.
        form_key=(address, tuple(budget.items()), years, cities, districts),
    )


def _read(form: SearchForm) -> SearchReading:
    """What the checked form holds, as the view uses it (valid: no field has a message)."""
    return SearchReading(
        valid=not form.errors,
        q=form.q.data or "",
        city=form.city.data,
        district=form.district.data or "",
        level=form.level.data or "",
        school_year=form.school_year.data,
        fee_min=form.fee_min.data,
        fee_max=form.fee_max.data,
        sort=form.sort.data,
    )


def _search_form(years, budget, cities, districts=None) -> SearchForm:
    """The form as the page shows it: its lists filled, a city or district they no longer
    offer shown as none, its fields checked (their messages are shown). Without `districts`
    the district stays as sent: the reading is checked against its city's list by the view."""
    form = SearchForm(request.args, years, **budget)
    form.city.choices = [SelectChoice("", _("All cities")), *(SelectChoice(c, c) for c in cities)]
    if form.city.data not in cities:
        form.city.data = ""
    if districts is not None:
        form.district.choices = [
            SelectChoice("", _("All districts")),
            *(SelectChoice(d, d) for d in districts),
        ]
        if form.district.data not in districts:
            form.district.data = ""
    form.validate()
    return form


def _filter_args(reading: SearchReading, district: str, this_year: int) -> dict[str, str]:
    """The query arguments that give the same results (the pager's links keep them);
    defaults left out, so the plain list pages as /?page=2."""
    args = {
        "q": reading.q,
        "city": reading.city,
        "district": district,
        "level": reading.level,
        "school_year": reading.school_year if reading.school_year != str(this_year) else "",
        "fee_min": format_amount(reading.fee_min) if reading.fee_min is not None else "",
        "fee_max": format_amount(reading.fee_max) if reading.fee_max is not None else "",
        "sort": reading.sort if reading.sort != "name" else "",
    }
    return {name: value for name, value in args.items() if value}


def _loosen(args: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """For an empty result: each filter in use, said plainly, with the arguments of the same
    search without it (an empty `q` keeps the query string, so a saved budget does not
    come back in place of the filter just removed)."""

    def without(*names):
        return {"q": "", **{k: v for k, v in args.items() if k not in names}}

    loosen = []
    if "q" in args:
        loosen.append((_("the name “%(q)s”", q=args["q"]), without("q")))
    if "district" in args:
        loosen.append(
            (_("the district %(district)s", district=args["district"]), without("district"))
        )
    if "city" in args:
        loosen.append((_("the city %(city)s", city=args["city"]), without("city", "district")))
    if "level" in args:
        loosen.append(
            (_("the level %(level)s", level=LEVEL_NAMES[args["level"]]), without("level"))
        )
    if "fee_min" in args or "fee_max" in args:
        loosen.append((_("the fee range"), without("fee_min", "fee_max")))
    return loosen


def marks_of_page(schools=(), campuses=()) -> Marks:
    """Which of the page's schools and campuses the signed-in parent keeps and compares, to
    mark the toggles: one statement for the whole page, whatever the parent keeps elsewhere;
    none for anyone else."""
    if audience_of_user(current_user) != PARENT:
        return NO_MARKS
    return marks_of(db.session, current_user.id, schools, campuses)
