"""Agreement texts: versions never edited, windows of a kind never overlapping, exactly one
text valid at any time."""

from datetime import timedelta

import pytest

from portal.agreements import texts
from portal.agreements.texts import (
    NoValidText,
    OverlappingWindow,
    TemplateError,
    TextError,
    publish_text,
    text_valid_at,
)
from portal.models.customers import AgreementKind

KIND = AgreementKind.COMPANY_SERVICE
BODY = "{company_legal_name} ile {provider_legal_name} arasında.\n{products}\n"


def publish(session, now, start, **values):
    return publish_text(
        session,
        KIND,
        title="Hizmet Sözleşmesi",
        body=values.pop("body", BODY),
        started_at=start,
        now=now,
        **values,
    )


def test_each_version_closes_the_one_before_and_one_text_is_valid_at_any_time(session, now):
    first = publish(session, now, now)
    second = publish(session, now, now + timedelta(days=30))
    third = publish(session, now, now + timedelta(days=60))
    session.commit()

    assert (first.version, second.version, third.version) == (1, 2, 3)
    assert first.finished_at == second.started_at
    assert second.finished_at == third.started_at
    assert third.finished_at is None
    for offset, expected in [
        (0, first),
        (29, first),
        (30, second),
        (59, second),
        (60, third),
        (3650, third),
    ]:
        assert text_valid_at(session, KIND, now + timedelta(days=offset)).id == expected.id


def test_no_text_before_the_first_version_nor_of_another_kind(session, now):
    publish(session, now, now + timedelta(days=1))

    with pytest.raises(NoValidText):
        text_valid_at(session, KIND, now)
    with pytest.raises(NoValidText):
        text_valid_at(session, AgreementKind.PARENT_DISTANCE_SALES, now + timedelta(days=2))


def test_an_overlapping_window_is_refused_and_nothing_changes(session, now):
    first = publish(session, now, now)
    second = publish(session, now, now + timedelta(days=30), finished_at=now + timedelta(days=60))
    session.commit()

    # Inside the scheduled second version's window, and over it.
    for start in (now + timedelta(days=40), now + timedelta(days=10)):
        with pytest.raises(OverlappingWindow):
            publish(session, now, start)
        session.rollback()
    # Starting exactly when the open-ended one did would replace it: refused too.
    third = publish(session, now, now + timedelta(days=60))
    session.commit()
    with pytest.raises(OverlappingWindow):
        publish(session, now, third.started_at)
    session.rollback()

    assert first.finished_at == second.started_at
    assert [t.version for t in session.query(texts.AgreementText).order_by("version")] == [1, 2, 3]


def test_a_version_cannot_start_in_the_past(session, now):
    with pytest.raises(TextError) as refused:
        publish(session, now, now - timedelta(seconds=1))
    assert refused.value.code == "starts_in_the_past"


@pytest.mark.parametrize(
    "body",
    [
        "{unknown_field}",
        "{company_name.__class__}",
        "{company_name!r}",
        "{total_net:>20}",
        "{products[0]}",
        "a lone { brace",
    ],
)
def test_a_template_with_an_unknown_or_clever_placeholder_is_refused(session, now, body):
    with pytest.raises(TemplateError):
        publish(session, now, now, body=body)


def test_literal_braces_are_written_doubled():
    assert texts.fill("{{x}} {company_name}", {"company_name": "Bilge"}) == "{x} Bilge"


def test_filling_refuses_a_missing_value():
    with pytest.raises(TemplateError):
        texts.fill("{company_name} {products}", {"company_name": "Bilge"})
