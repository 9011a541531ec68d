"""Turkish by default, English on request; the catalogue is complete and compiled."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import render_template_string, session
from flask_babel import force_locale, format_currency, format_date, format_datetime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.clock import ISTANBUL
from portal.i18n import business_date, local_datetime, money
from tests.helpers import AuthActions, csrf_token

TRANSLATIONS = Path(__file__).resolve().parent.parent / "portal" / "translations"


def test_pages_are_turkish_by_default(client):
    html = client.get("/").get_data(as_text=True)

    assert '<html lang="tr">' in html
    assert "<h1>Okul bul</h1>" in html


def test_language_switch_changes_the_page_and_returns_to_it(client):
    response = client.post(
        "/language", data={"lang": "en", "next": "/?city=Ankara", "csrf_token": csrf_token(client)}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/?city=Ankara"
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Find a school</h1>" in html


def test_a_signed_in_users_choice_is_kept_on_the_account_for_their_other_browsers(
    app, client, signed_in, session
):
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})

    session.refresh(signed_in)
    assert signed_in.locale == "en"
    other_browser = app.test_client()
    AuthActions(other_browser).login(signed_in.email)
    assert '<html lang="en">' in other_browser.get("/account/").get_data(as_text=True)


def test_language_switch_refuses_an_unknown_language(client):
    response = client.post("/language", data={"lang": "xx", "csrf_token": csrf_token(client)})

    assert response.status_code == 400
    assert '<html lang="tr">' in client.get("/").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    for target in ("https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com"):
        response = client.post(
            "/language", data={"lang": "en", "next": target, "csrf_token": csrf_token(client)}
        )
        assert response.headers["Location"] == "/", target


def test_money_is_written_the_turkish_way(app):
    with app.test_request_context():
        assert money(Decimal("1234.56")) == "1.234,56\u00a0₺"
        assert money(Decimal("0")) == "0,00\u00a0₺"
        assert money(Decimal("-1234567.5")) == "-1.234.567,50\u00a0₺"


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # Amounts as the database keeps them (two places); + 0 turns -0.00 into 0.00.
    amount=st.decimals(
        min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=2
    ).map(lambda amount: amount + 0),
    language=st.sampled_from(["tr", "en"]),
)
def test_money_writes_what_babel_would(app, amount, language):
    # money() formats by hand for speed; Babel's pattern is the rule it must keep.
    with app.test_request_context():
        session["lang"] = language
        expected = format_currency(amount, "TRY", format="#,##0.00\u00a0₺")
        assert money(amount) == expected


def test_every_message_has_a_turkish_translation():
    catalog = read_po(BytesIO((TRANSLATIONS / "tr/LC_MESSAGES/messages.po").read_bytes()))
    template = read_po(BytesIO((TRANSLATIONS / "messages.pot").read_bytes()))

    def translations(message):
        return message.string if isinstance(message.string, tuple) else (message.string,)

    translated = {
        m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and all(translations(m))
    }
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert wanted - translated == set()


def test_compiled_catalogue_matches_the_po_file():
    po = read_po(BytesIO((TRANSLATIONS / "tr/LC_MESSAGES/messages.po").read_bytes()))
    mo = read_mo(BytesIO((TRANSLATIONS / "tr/LC_MESSAGES/messages.mo").read_bytes()))

    def entries(catalog):
        def text(value):
            return tuple(value) if isinstance(value, (list, tuple)) else value

        return {text(m.id): text(m.string) for m in catalog if m.id}

    assert entries(po) == entries(mo)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    when=st.datetimes(
        min_value=datetime(1950, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
    ),
    language=st.sampled_from(["tr", "en"]),
)
def test_local_datetime_writes_what_babel_would(app, when, language):
    # local_datetime() formats by hand for speed; Babel's pattern is the rule it must keep.
    with app.test_request_context():
        session["lang"] = language
        expected = format_datetime(when.astimezone(ISTANBUL), "dd.MM.yyyy HH:mm xxx")
        assert local_datetime(when) == expected


def test_business_dates_are_written_in_the_visitors_language(app):
    # business_date() keeps what it wrote per date and language: one language's text must not
    # reach a visitor of the other.
    with app.test_request_context():
        session["lang"] = "tr"
        assert business_date(date(2026, 12, 1)) == "1 Aralık 2026"
    with app.test_request_context():
        session["lang"] = "en"
        assert business_date(date(2026, 12, 1)) == "December 1, 2026"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(on=st.dates(min_value=date(1950, 1, 1)), language=st.sampled_from(["tr", "en"]))
def test_business_date_writes_what_babel_would(app, on, language):
    with app.test_request_context():
        session["lang"] = language
        assert business_date(on) == format_date(on, "long")


def test_a_template_in_a_forced_locale_is_translated_into_it(app):
    # The page's catalogue is looked up once a request; a block in another language (a mail
    # in its recipient's language, say) must not get the page's.
    with app.test_request_context():
        session["lang"] = "en"
        template = "{{ _('Find a school') }}"
        assert render_template_string(template) == "Find a school"
        with force_locale("tr"):
            assert render_template_string(template) == "Okul bul"
        assert render_template_string(template) == "Find a school"


def test_the_locale_name_is_babels_in_each_language_and_under_force_locale(app, client):
    from flask_babel import get_locale

    from portal.i18n import locale_name

    with app.test_request_context("/"):
        assert locale_name() == str(get_locale()) == "tr"
        with force_locale("en"):
            assert locale_name() == "en"
        assert locale_name() == "tr"
    with app.app_context():  # a job, outside any request: the default language
        assert locale_name() == "tr"


def test_names_in_language_are_plain_text_in_the_readers_language(app):
    from portal.i18n import LEVEL_NAMES, in_language

    with app.test_request_context("/"):
        turkish = in_language(LEVEL_NAMES)
        with force_locale("en"):
            english = in_language(LEVEL_NAMES)
    assert turkish["primary"] == "İlkokul" and type(turkish["primary"]) is str
    assert english["primary"] == "Primary school"
    assert list(turkish) == list(LEVEL_NAMES)
