"""The KVKK texts in English (issue 14, item 8): an English reader gets the translation with a
line saying the Turkish text is the legally binding one, and the Turkish text one click away; a
Turkish reader gets the Turkish text alone; a consent given in English is recorded against the
binding Turkish text."""

from hashlib import sha256

import html5lib
from sqlalchemy import select

from portal.models import ConsentText, User, UserConsent
from tests.auth.test_registration import register
from tests.helpers import csrf_token
from tests.test_html import assert_valid_html

BINDING = "The Turkish text is the legally binding one."


def to_english(client):
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})


def newest(session, kind) -> ConsentText:
    return session.scalar(
        select(ConsentText).where(ConsentText.kind == kind).order_by(ConsentText.version.desc())
    )


def legal_texts(html: str) -> list[tuple[str | None, str]]:
    """(lang, text) of each .legal-text on the page, in order."""
    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)
    return [
        (div.get("lang"), "".join(div.itertext()))
        for div in tree.iter("div")
        if "legal-text" in (div.get("class") or "").split()
    ]


def test_both_kvkk_texts_have_an_english_translation(session):
    for kind in ("kvkk_notice", "kvkk_consent"):
        text = newest(session, kind)
        assert text.title_en and text.body_en
        assert text.title_en != text.title and text.body_en != text.body


def test_the_notice_page_in_english_shows_the_translation_and_says_which_text_binds(
    client, session
):
    to_english(client)
    notice = newest(session, "kvkk_notice")

    html = client.get("/kvkk").get_data(as_text=True)

    assert f'<h1 id="notice-title">{notice.title_en}</h1>' in html
    assert legal_texts(html) == [("en", notice.body_en), ("tr", notice.body)]
    assert BINDING in html
    assert "<details" in html and "Turkish text (legally binding)" in html
    assert_valid_html(html, "kvkk-en")


def test_the_notice_page_in_turkish_is_the_turkish_text_alone(client, session):
    notice = newest(session, "kvkk_notice")

    html = client.get("/kvkk").get_data(as_text=True)

    assert f'<h1 id="notice-title">{notice.title}</h1>' in html
    assert legal_texts(html) == [("tr", notice.body)]
    assert notice.body_en not in html and "<details" not in html


def test_registering_in_english_shows_both_texts_in_english_and_records_the_turkish_one(
    client, session
):
    to_english(client)
    notice, consent_text = newest(session, "kvkk_notice"), newest(session, "kvkk_consent")

    html = client.get("/auth/register").get_data(as_text=True)
    response = register(client)

    shown = legal_texts(html)
    assert ("en", notice.body_en) in shown and ("en", consent_text.body_en) in shown
    assert html.count(BINDING) == 2
    assert_valid_html(html, "register-en")
    assert response.status_code == 303
    user = session.scalar(select(User).where(User.email == "yeni.veli@example.com"))
    consent = session.scalar(select(UserConsent).where(UserConsent.user_id == user.id))
    assert consent.consent_text_id == consent_text.id
    assert consent.text_sha256 == sha256(consent_text.body.encode()).hexdigest()
