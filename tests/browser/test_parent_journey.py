"""A new parent's whole journey in a real browser, once with JavaScript on and once off.

Register, read the code from the captured mail, verify (which signs in the browser that
registered), sign out and in again with no second code, edit the profile and a contact,
favorite a school and a campus, read the activity log, end another session and delete the
account. Every step asserts what the person sees.

Labels are being translated while this is written, so fields are found by their `name`/`id`
and buttons by names that accept Turkish and English; only messages already translated in
messages.po are matched as sentences.
"""

import re
import time
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import last_code_mailed_to, settle, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "journey-pass-2026"
NAME = "Ayşe Yılmaz"
SIGN_IN = re.compile(r"^\s*(Giriş yap|Sign in)\s*$")
SAVE = re.compile(r"^\s*(Kaydet|Save)\s*$")
CODE = re.compile(r"\b\d{6}\b")


def mails_to(app, email: str) -> list:
    return [m for m in app.extensions.get("mail_outbox", []) if m.to == email]


def code_mailed_after(app, email: str, seen: int) -> str:
    """The code in the newest mail to `email`, once more than `seen` mails have arrived."""
    deadline = time.monotonic() + 5
    while len(mails_to(app, email)) <= seen:
        assert time.monotonic() < deadline, f"no new mail to {email}"
        time.sleep(0.05)
    return last_code_mailed_to(app, email)


def submit(form) -> None:
    form.locator("button[type=submit]").click()


def flash(page: Page, category: str):
    return page.locator(f"main .flashes .flash-{category}")


def favorite_button(page: Page, name: str):
    return page.get_by_role(
        "button", name=re.compile(rf"^\s*(Favori|Favorite)\s*:\s*{re.escape(name)}\s*$")
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_parent_journey(new_page, javascript, live_app, assert_accessible):
    email = f"journey-{'js' if javascript else 'nojs'}-{uuid4().hex[:6]}@example.com"
    page = new_page(javascript=javascript)

    def check_accessible() -> None:
        if javascript:  # axe runs as JavaScript in the page
            settle(page)
            assert_accessible(page)

    def settled() -> None:
        if javascript:
            settle(page)

    # 1. Register.
    page.goto("/auth/register")
    check_accessible()
    form = page.locator("#register-form")
    form.locator("input[name=name]").fill(NAME)
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=kvkk_consent]").check()
    submit(form)
    page.wait_for_url(re.compile(r"/auth/verify$"))
    expect(flash(page, "info")).to_be_visible()
    expect(page.locator("#verify-form input[name=email]")).to_have_value(email)
    check_accessible()

    # 2. Verify with the mailed code: this browser, which registered, is signed in at once.
    page.locator("#verify-form input[name=code]").fill(last_code_mailed_to(live_app, email))
    submit(page.locator("#verify-form"))
    page.wait_for_url(re.compile(r"/account/$"))
    expect(flash(page, "success")).to_have_text(
        re.compile(
            r"E-posta adresiniz doğrulandı ve oturumunuz açıldı\."
            r"|Your e-mail address is verified, and you are signed in\."
        )
    )
    expect(page.get_by_role("main")).to_contain_text(NAME)
    expect(page.get_by_role("main")).to_contain_text(email)
    check_accessible()

    # 3. Sign out and in again: the code proved this browser, so no second code is asked.
    seen = len(mails_to(live_app, email))
    page.get_by_role("button", name=re.compile(r"^\s*(Çıkış yap|Sign out)\s*$")).click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/auth/login")
    form = page.locator("#login-form")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_role("button", name=SIGN_IN).click()
    page.wait_for_url(re.compile(r"/account/$"))
    assert len(mails_to(live_app, email)) == seen, "a code was mailed to the known browser"
    expect(page.get_by_role("main")).to_contain_text(NAME)
    # The KVKK consent ticked at registration shows with its date.
    consent = page.locator("section[aria-labelledby=profile-title] dt:has-text('KVKK') + dd")
    expect(consent).to_contain_text(re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}"))
    check_accessible()

    # 4. Profile: an inverted budget is refused at the highest amount, then a valid one saved.
    page.goto("/account/profile")
    check_accessible()
    form = page.locator("#profile-form")
    form.locator("input[name=phone]").fill("0532 123 45 67")
    form.locator("input[name=budget_min]").fill("400.000")
    form.locator("input[name=budget_max]").fill("100.000")
    submit(form)
    budget_max = page.locator("#profile-form input[name=budget_max]")
    expect(budget_max).to_have_attribute("aria-invalid", "true")
    error = page.locator("#profile-form #budget_max-error")
    expect(error).to_be_visible()
    expect(budget_max).to_have_attribute(
        "aria-describedby", re.compile(r"(^|\s)budget_max-error(\s|$)")
    )
    expect(page.locator("#profile-form p.error[role=alert]")).to_be_visible()
    expect(page.locator("#profile-form input[name=budget_min]")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page).to_have_url(re.compile(r"/account/profile$"))
    check_accessible()  # the form with its errors, as htmx swapped it in
    # Nothing was saved: the page opened afresh still has the empty fields.
    page.goto("/account/profile")
    form = page.locator("#profile-form")
    expect(form.locator("input[name=phone]")).to_have_value("")
    expect(form.locator("input[name=budget_min]")).to_have_value("")
    expect(form.locator("input[name=budget_max]")).to_have_value("")

    form.locator("input[name=phone]").fill("0532 123 45 67")
    form.locator("input[name=budget_min]").fill("150.000")
    form.locator("input[name=budget_max]").fill("300.000")
    submit(form)
    expect(flash(page, "success")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/account/profile$"))
    expect(page.locator("#profile-form input[name=budget_max]")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    page.goto("/account/")
    profile = page.locator("section[aria-labelledby=profile-title]")
    expect(profile).to_contain_text("+905321234567")
    expect(profile).to_contain_text(re.compile(r"150\.000,00\s*₺\s*–\s*300\.000,00\s*₺"))

    # 5. Contacts: add one, then edit its label (in place with htmx, a page reload without).
    page.goto("/account/contacts")
    check_accessible()
    form = page.locator("#contact-add-form")
    form.locator("select[name=new-contact_type]").select_option("phone")
    form.locator("input[name=new-label]").fill("Evde")
    form.locator("input[name=new-value]").fill("0216 555 01 01")
    submit(form)
    rows = page.locator("#contact-list > li")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("Evde")
    expect(row).to_contain_text("+902165550101")  # stored and shown in one form
    row_id = row.get_attribute("id")
    settled()
    check_accessible()

    page.evaluate("() => { window.__marker = 1; }")
    row.get_by_role("link", name=re.compile(r"Düzenle|Edit")).click()
    edit_form = page.locator(f"#{row_id} form")
    label = edit_form.locator("input[name$='-label']")
    expect(label).to_have_value("Evde")
    settled()
    label.fill("İş yeri")
    edit_form.get_by_role("button", name=SAVE).click()
    row = page.locator(f"#{row_id}")
    expect(row.locator("form input[name$='-label']")).to_have_count(0)
    expect(row).to_contain_text("İş yeri")
    expect(row).not_to_contain_text("Evde")
    expect(page.locator("#contact-list > li")).to_have_count(1)
    settled()
    if javascript:
        assert page.evaluate("() => window.__marker === 1"), "the edit reloaded the page"
        expect(page).to_have_url(re.compile(r"/account/contacts$"))
    else:
        assert page.evaluate("() => window.__marker") is None, "expected a full page load"
        expect(page).to_have_url(re.compile(r"/account/contacts$"))
        expect(flash(page, "success")).to_be_visible()
    page.reload()
    expect(page.locator(f"#{row_id}")).to_contain_text("İş yeri")

    # 6. Favorites: a school from the list, a campus from the school's page.
    page.goto("/")
    school = favorite_button(page, "Bilge Koleji")
    expect(school).to_have_attribute("aria-pressed", "false")
    school.click()
    expect(favorite_button(page, "Bilge Koleji")).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(re.compile(r"/$"))

    page.goto("/schools/bilge-koleji")
    expect(favorite_button(page, "Bilge Koleji")).to_have_attribute("aria-pressed", "true")
    campus = favorite_button(page, "Moda Kampüsü")
    expect(campus).to_have_attribute("aria-pressed", "false")
    campus.click()
    expect(favorite_button(page, "Moda Kampüsü")).to_have_attribute("aria-pressed", "true")
    expect(favorite_button(page, "Ataşehir Kampüsü")).to_have_attribute("aria-pressed", "false")
    expect(page).to_have_url(re.compile(r"/schools/bilge-koleji$"))

    page.goto("/account/favorites")
    cards = page.locator("#favorite-list li.card")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="Moda Kampüsü")).to_have_count(1)
    expect(cards.filter(has_not_text="Moda Kampüsü")).to_contain_text("Bilge Koleji")
    check_accessible()

    # 7. Activity: sign-ins and changes are listed; no mailed code ever shows.
    page.goto("/account/activity")
    log = page.locator("#activity-log tbody tr")
    expect(log.first).to_be_visible()
    expect(log.filter(has_text=re.compile(r"Giriş yapıldı|Signed in")).first).to_be_visible()
    changes = log.filter(has_text=re.compile(r"Profil değiştirildi|Profile changed"))
    expect(changes.first).to_be_visible()
    check_accessible()
    codes = {c for m in mails_to(live_app, email) for c in CODE.findall(f"{m.subject}\n{m.body}")}
    assert codes, "the registration's code"  # the sign-in codes come with step 8's browser
    text = page.locator("body").inner_text()
    shown = {c for c in codes if c in text}
    assert not shown, f"mailed codes shown on the activity page: {shown}"

    # 8. End another session: a second browser signs in, the first one ends it.
    other = new_page(javascript=javascript)
    sign_in(other, live_app, email, PASSWORD)
    expect(other.get_by_role("main")).to_contain_text(NAME)

    page.goto("/auth/security")
    sessions = page.locator("section[aria-labelledby=sessions-title] tbody tr")
    expect(sessions).to_have_count(2)
    this_device = re.compile(r"bu cihaz|this device")
    expect(sessions.filter(has_text=this_device)).to_have_count(1)
    check_accessible()
    other_row = sessions.filter(has_not_text=this_device)
    other_row.get_by_role("button", name=re.compile(r"^\s*(Sonlandır|End)\s*$")).click()
    page.wait_for_load_state("load")
    expect(flash(page, "success")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/auth/security$"))
    expect(sessions).to_have_count(1)
    expect(sessions).to_contain_text(this_device)

    other.goto("/account/")
    expect(other).to_have_url(re.compile(r"/auth/login"))
    expect(other.locator("#login-form")).to_be_visible()
    expect(other.get_by_role("main")).not_to_contain_text(NAME)

    # The first browser is still signed in.
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/account/$"))

    # 9. Delete the account: signed out, and the old password opens nothing.
    page.goto("/account/delete")
    check_accessible()
    form = page.locator("#delete-form")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=understood]").check()
    submit(form)
    page.wait_for_url(re.compile(r"/$"))
    expect(flash(page, "info")).to_have_text(
        re.compile(
            r"Hesabınız silindi\. Ayrıldığınız için üzgünüz\."
            r"|Your account is deleted\. We are sorry to see you go\."
        )
    )
    header = page.locator("header.site-header")
    expect(header.get_by_role("link", name=SIGN_IN)).to_be_visible()
    expect(header.locator("a[href='/account/']")).to_have_count(0)

    page.goto("/auth/login")
    form = page.locator("#login-form")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_role("button", name=SIGN_IN).click()
    error = page.locator("#login-form #password-error")
    expect(error).to_have_text(
        re.compile(r"E-posta ya da parola hatalı\.|The e-mail or password is not right\.")
    )
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
