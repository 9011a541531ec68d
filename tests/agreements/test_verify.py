"""The public verification page: a signed agreement's document hash and a sign record's hash
say yes with the time; an unknown hash says no in the same shape; a malformed one is refused
next to the field; a hash asked too often meets the rate limit."""

import re

import pytest

from portal.access.permissions import Role
from portal.agreements import agreements, evidence, verification
from tests.agreements.conftest import WITNESS
from tests.helpers import HTMX
from tests.test_html import assert_valid_html

VERIFY = "/agreements/verify"
UNKNOWN = "0" * 63 + "1"


def answer_of(html: str) -> tuple[str, str]:
    """(matched, the UTC time) as the answer's data attributes give them."""
    matched = re.search(r'id="verify-answer" data-matched="(\w+)"', html).group(1)
    utc = re.search(r'id="verify-signed-at" data-utc="([^"]*)"', html).group(1)
    return matched, utc


def shape(html: str) -> list[str]:
    """The answer's markup without its text and attribute values: its tags in order."""
    answer = html[html.index('id="verify-answer"') :]
    return re.findall(r"</?\w+", answer[: answer.index("</section>")])


def test_a_signed_agreements_document_hash_matches_with_its_time(client, signed):
    response = client.get(f"{VERIFY}?sha256={signed.document_sha256}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_valid_html(html, VERIFY)
    assert answer_of(html) == ("yes", evidence.instant(signed.signed_at))
    # The time with its UTC offset, and nothing about who.
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d \+03:00", html)
    for sign in signed.signs:
        assert sign.signer_name not in html and sign.signer_email not in html
    assert signed.agreement_no not in html and signed.customer.name not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_a_sign_records_hash_matches_with_its_time(client, signed):
    first = signed.signs[0]

    html = client.get(f"{VERIFY}?sha256={first.record_hash.upper()}").get_data(as_text=True)

    assert answer_of(html) == ("yes", evidence.instant(first.signed_at))


def test_a_document_awaiting_signatures_matches_only_through_its_sign_rows(
    client, session, sent, signers, now
):
    nothing_yet = client.get(f"{VERIFY}?sha256={sent.document_sha256}").get_data(as_text=True)
    assert answer_of(nothing_yet) == ("no", "")

    agreements.sign(
        session, sent, signers[Role.ADMIN], WITNESS, seen_sha256=sent.document_sha256, now=now
    )
    session.commit()

    one = client.get(f"{VERIFY}?sha256={sent.document_sha256}").get_data(as_text=True)
    assert answer_of(one)[0] == "yes"


def test_an_unknown_hash_says_no_in_the_same_shape(client, signed):
    known = client.get(f"{VERIFY}?sha256={signed.document_sha256}")
    unknown = client.get(f"{VERIFY}?sha256={UNKNOWN}")

    assert unknown.status_code == known.status_code == 200
    assert answer_of(unknown.get_data(as_text=True)) == ("no", "")
    assert shape(unknown.get_data(as_text=True)) == shape(known.get_data(as_text=True))


@pytest.mark.parametrize(
    "value",
    ["abc", "g" * 64, "0" * 65, UNKNOWN + " extra", "'; DROP TABLE x; --", ""],
    ids=["short", "not-hex", "long", "trailing", "injection", "empty"],
)
def test_a_malformed_hash_is_refused_next_to_the_field(client, value):
    response = client.get(VERIFY, query_string={"sha256": value}, headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<div id="verification"')
    assert '<p class="error" id="sha256-error">' in html
    assert 'id="verify-answer"' not in html


def test_the_empty_form_is_shown_without_an_answer(client):
    response = client.get(VERIFY)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_valid_html(html, VERIFY)
    assert 'id="verify-form"' in html and 'id="verify-answer"' not in html


def test_the_lookup_is_one_statement_whatever_the_answer(app, session, signed):
    from tests.helpers import counted_statements

    for value in (signed.document_sha256, UNKNOWN):
        with counted_statements(app) as statements:
            verification.lookup(session, value)
        assert len(statements) == 1


def test_normalize_takes_capitals_and_separators_and_refuses_the_rest():
    assert verification.normalize(" AB" * 32) == "ab" * 32
    with pytest.raises(verification.MalformedHash):
        verification.normalize("ab" * 31)


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_asking_too_often_meets_the_rate_limit(client):
    answers = [client.get(f"{VERIFY}?sha256={UNKNOWN}").status_code for _ in range(21)]

    assert answers[:20] == [200] * 20 and answers[20] == 429
    assert client.get(VERIFY).status_code == 200  # the empty form is not counted
