"""The portal in a real browser: home page, language switch, city filter, keyboard, sign-in.

Assertions are on what a visitor sees or can do (text, focus, URL), with JavaScript on (htmx)
and, where the page must work without it, with JavaScript off.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import enter_sign_in_code

pytestmark = pytest.mark.browser

DEMO_SCHOOLS = ["Bilge Koleji", "Bilge Fen Lisesi", "Bilge Ortaokulu Bursa", "Deniz Anaokulu"]
PARENT_EMAIL = "elif.sahin@example.com"
PARENT_PASSWORD = "okul-demo-2026"

# Labels in either language: the tests read the page as a visitor does, whatever the language.
EMAIL_LABEL = re.compile(r"^\s*(E-posta|E-mail)\s*$")
PASSWORD_LABEL = re.compile(r"^\s*(Parola|Password)\s*$")
CITY_LABEL = re.compile(r"^\s*(Şehir|City)\s*$")


def school_names(page: Page):
    """The school names as links in the list cards."""
    return page.locator("#school-list li.card").get_by_role("link")


def expect_schools(page: Page, names: list[str]) -> None:
    """The list shows exactly these schools (in whatever order the page sorts them)."""
    expect(school_names(page)).to_have_count(len(names))
    for name in names:
        expect(school_names(page).get_by_text(name, exact=True)).to_be_visible()


def expect_turkish_home(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Okul bul")


def expect_english_home(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a school")


def switch_language(page: Page, name: str, lang: str) -> None:
    """Press the header's language button `name`; wait for the page to load in `lang`."""
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.wait_for_load_state("load")


# 1. Home page


def test_home_page_lists_the_demo_schools_in_turkish(page: Page, assert_accessible):
    page.goto("/")

    expect_turkish_home(page)
    expect_schools(page, DEMO_SCHOOLS)
    assert_accessible(page)

    switch_language(page, "English", "en")
    expect_english_home(page)
    assert_accessible(page)


# 2. Language switch


def test_language_switch_reloads_the_page_in_english_and_back(page: Page):
    page.goto("/")
    expect_turkish_home(page)
    expect(page.get_by_role("button", name="Türkçe", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )

    switch_language(page, "English", "en")

    expect_english_home(page)
    expect(page).to_have_url(re.compile(r"/$"))
    expect_schools(page, DEMO_SCHOOLS)
    expect(page.get_by_role("button", name="English", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_role("button", name="Türkçe", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )

    switch_language(page, "Türkçe", "tr")

    expect_turkish_home(page)
    expect_schools(page, DEMO_SCHOOLS)


def test_language_switch_works_without_javascript(nojs_page: Page):
    nojs_page.goto("/")
    switch_language(nojs_page, "English", "en")
    expect_english_home(nojs_page)
    expect_schools(nojs_page, DEMO_SCHOOLS)


# 3. City filter


def test_city_filter_updates_the_list_in_place_with_javascript(page: Page):
    page.goto("/")
    expect(school_names(page)).to_have_count(len(DEMO_SCHOOLS))
    # A full page load would wipe this; htmx swapping #school-list keeps it.
    page.evaluate("() => { window.__sameDocument = true; }")

    page.get_by_label(CITY_LABEL).select_option("Ankara")

    expect_schools(page, ["Bilge Fen Lisesi"])
    expect(page).to_have_url(re.compile(r"[?&]city=Ankara(&|$)"))
    assert page.evaluate("() => window.__sameDocument === true"), "the filter reloaded the page"
    expect(page.get_by_label(CITY_LABEL)).to_have_value("Ankara")


def test_city_filter_reloads_the_page_without_javascript(nojs_page: Page):
    nojs_page.goto("/")
    expect(school_names(nojs_page)).to_have_count(len(DEMO_SCHOOLS))
    form = nojs_page.locator("form.filter-form")

    form.get_by_label(CITY_LABEL).select_option("Ankara")
    form.locator("button[type=submit]").click()

    nojs_page.wait_for_url(re.compile(r"[?&]city=Ankara(&|$)"))
    expect_schools(nojs_page, ["Bilge Fen Lisesi"])
    expect(nojs_page.get_by_label(CITY_LABEL)).to_have_value("Ankara")


# 4. Keyboard


def test_first_tab_focuses_the_skip_link_which_moves_focus_to_the_content(page: Page):
    page.goto("/")

    page.keyboard.press("Tab")

    focused = page.locator(":focus")
    expect(focused).to_have_attribute("href", re.compile(r"#main$"))
    expect(focused).to_be_in_viewport()

    page.keyboard.press("Enter")

    expect(page.locator("main#main")).to_be_focused()


# 5. Sign in


def submit_sign_in(page: Page, email: str, password: str) -> None:
    """The sign-in form, found by its labels as a person finds it."""
    page.goto("/auth/login")
    form = page.locator("#login-form")
    form.get_by_label(EMAIL_LABEL).fill(email)
    form.get_by_label(PASSWORD_LABEL).fill(password)
    form.get_by_role("button", name=re.compile("Giriş yap|Sign in")).click()


JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])


@JAVASCRIPT
def test_parent_signs_in_and_sees_the_account_page(
    new_page, javascript, assert_accessible, live_app
):
    page = new_page(javascript=javascript)

    submit_sign_in(page, PARENT_EMAIL, PARENT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/auth/one-time-code$"))  # a browser new to her
    enter_sign_in_code(page, live_app, PARENT_EMAIL)

    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_role("main")).to_contain_text("Elif Şahin")
    if javascript:  # axe runs as JavaScript in the page
        assert_accessible(page)


@JAVASCRIPT
def test_wrong_password_shows_an_error_at_the_field(new_page, javascript):
    page = new_page(javascript=javascript)

    submit_sign_in(page, PARENT_EMAIL, "not-the-password")

    password = page.get_by_label(PASSWORD_LABEL)
    error = page.locator("#login-form .field").filter(has=password).locator(".error")
    expect(error).to_be_visible()
    expect(error).to_have_text(
        re.compile(r"E-posta ya da parola hatalı\.|The e-mail or password is not right\.")
    )
    # Announced with the field: the input points at the message and is marked invalid.
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute(
        "aria-describedby", re.compile(rf"(^|\s){error.get_attribute('id')}(\s|$)")
    )
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_label(EMAIL_LABEL)).to_have_value(PARENT_EMAIL)
    expect(page.get_by_role("main")).not_to_contain_text("Elif Şahin")


# 6. A school's page


def test_school_page_lists_its_campuses(page: Page, assert_accessible):
    page.goto("/schools/bilge-koleji")

    expect(page.get_by_role("heading", level=1)).to_have_text("Bilge Koleji")
    for campus in ("Moda Kampüsü", "Ataşehir Kampüsü"):
        expect(page.get_by_role("heading", name=campus, exact=True)).to_be_visible()
    assert_accessible(page)
