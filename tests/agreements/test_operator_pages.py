"""The operators' agreement screen: the list and the text versions, publishing a version
(an unknown placeholder and an overlapping window refused next to their field), drafting an
agreement for a company, reviewing it, sending it (its signers mailed a link) and voiding it
(a reason required); and nobody but an operator reaches it."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from portal.access.permissions import Role
from portal.clock import ISTANBUL
from portal.models import AgreementText, CustomerAgreement, UserLog
from portal.models.customers import AgreementStatus
from tests.agreements.conftest import assert_operators_only
from tests.helpers import HTMX, post
from tests.test_html import assert_valid_html

LIST = "/operator/agreements"
NEW = "/operator/agreements/new"


@pytest.fixture
def operator(make, session, auth):
    user = make.user("operator")
    session.commit()
    auth.login(user.email)
    return user


@pytest.fixture
def text(make, session, now):
    row = make.agreement_text(started_at=now - timedelta(days=1))
    session.commit()
    return row


def events(session, name):
    session.commit()
    return list(session.scalars(select(UserLog).where(UserLog.event == name)))


def agreement_rows(session):
    session.commit()
    return list(session.scalars(select(CustomerAgreement).order_by(CustomerAgreement.id)))


def error_of(html: str, field_id: str) -> str:
    """The error text shown next to a field (the macro's `<id>-error`)."""
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def draft_fields(company, **changes):
    fields = {
        "customer_id": str(company.id),
        "products-0-name": "Listeleme",
        "products-0-quantity": "2",
        "products-0-unit_price": "1.500",
        "products-0-period": "yearly",
        "products-1-name": "",
        "products-1-quantity": "",
        "products-1-unit_price": "",
        "products-1-period": "yearly",
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
        "required_roles": [str(Role.ADMIN), str(Role.FINANCE)],
    }
    fields.update(changes)
    return fields


# --- The whole flow -------------------------------------------------------------------------


def test_an_operator_drafts_reviews_and_sends_and_the_signers_are_mailed(
    app, client, session, make, operator, company, signers, text
):
    make.customer_user(company, Role.AGENT)  # may not sign: not told
    inactive = make.customer_user(company, Role.ADMIN)
    inactive.is_active = False
    signers[Role.FINANCE].user.locale = "en"
    session.commit()

    form = client.get(NEW)
    assert form.status_code == 200
    assert_valid_html(form.get_data(as_text=True), NEW)
    assert f'<option value="{company.id}">Bilge Eğitim</option>' in form.get_data(as_text=True)

    made = post(client, NEW, **draft_fields(company))

    [agreement] = agreement_rows(session)
    assert made.status_code == 303
    assert made.headers["Location"] == f"{LIST}/{agreement.id}"
    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.customer_id == company.id and agreement.agreement_text_id == text.id
    assert agreement.products == [
        {"name": "Listeleme", "quantity": 2, "unit_price": "1500.00", "period": "yearly"}
    ]
    assert agreement.required_roles == [str(Role.ADMIN), str(Role.FINANCE)]
    assert [e.data["agreement_id"] for e in events(session, "agreement_drafted")] == [agreement.id]

    review = client.get(f"{LIST}/{agreement.id}")
    html = review.get_data(as_text=True)
    assert review.status_code == 200
    assert_valid_html(html, "operator agreements")
    assert 'id="send-form"' in html and 'id="void-form"' in html
    # The rendering to review: the text filled in with the provider from settings.
    assert "Bilge Eğitim Hizmetleri A.Ş. ile Okul Bilişim Hizmetleri A.Ş. arasında." in html

    sent = post(client, f"{LIST}/{agreement.id}/send")

    assert sent.status_code == 303
    session.refresh(agreement)
    assert agreement.status == AgreementStatus.AWAITING_SIGNATURE
    assert agreement.document_sha256 and len(agreement.document_sha256) == 64
    mails = app.extensions.get("mail_outbox", [])
    told = {m.to: m for m in mails if f"/customer/agreements/{agreement.id}" in m.body}
    assert set(told) == {signers[Role.ADMIN].user.email, signers[Role.FINANCE].user.email}
    assert agreement.agreement_no in told[signers[Role.ADMIN].user.email].subject
    # Each in their language: the admin reads Turkish (the default), finance English.
    for member, locale in ((signers[Role.ADMIN], "tr"), (signers[Role.FINANCE], "en")):
        with force_locale(locale):
            subject = gettext(
                "An agreement awaits your signature: %(number)s", number=agreement.agreement_no
            )
        assert told[member.user.email].subject == subject
    [event] = events(session, "agreement_sent")
    assert event.data["signers_told"] == 2
    assert event.data["document_sha256"] == agreement.document_sha256

    again = client.get(f"{LIST}/{agreement.id}").get_data(as_text=True)
    assert 'id="send-form"' not in again
    assert agreement.document_sha256 in again


def test_the_list_shows_the_agreements_newest_first_and_the_text_versions(
    client, session, make, operator, company, text
):
    older = make.agreement(company, text, agreement_no="OKL-A")
    newer = make.agreement(
        company,
        text,
        agreement_no="OKL-B",
        status="voided",
        ended_reason="x",
        ended_at=text.started_at,
    )
    session.commit()

    response = client.get(LIST)
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert_valid_html(html, "operator agreements")
    assert re.findall(r'data-agreement-id="(\d+)"', html) == [str(newer.id), str(older.id)]
    assert 'data-status="voided"' in html
    assert f'data-version="{text.version}"' in html

    fragment = client.get(LIST + "?page=1", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="operator-agreement-list"')


def test_a_draft_without_products_or_roles_comes_back_with_the_reasons(
    client, session, operator, company, text
):
    response = post(
        client,
        NEW,
        headers=HTMX,
        **draft_fields(
            company,
            **{
                "products-0-name": "",
                "products-0-quantity": "",
                "products-0-unit_price": "",
                "required_roles": [],
            },
        ),
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="draft-form"')
    assert error_of(html, "products-0-name")
    assert 'id="required_roles-error"' in html
    assert agreement_rows(session) == []


def test_an_unknown_company_is_refused_next_to_its_field(client, session, operator, text):
    response = post(client, NEW, **draft_fields(SimpleNamespace(id=999999)))

    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "customer_id")
    assert agreement_rows(session) == []


def test_sending_a_draft_whose_text_is_outdated_is_refused_with_a_message(
    client, session, make, operator, company, text, now
):
    agreement = make.agreement(company, text)
    text.finished_at = now - timedelta(hours=1)
    session.flush()  # PostgreSQL's EXCLUDE refuses the newer window while this one is open
    make.agreement_text(started_at=text.finished_at)
    session.commit()

    response = post(client, f"{LIST}/{agreement.id}/send", headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="agreement-refusal"' in html
    session.refresh(agreement)
    assert agreement.status == AgreementStatus.DRAFT


def test_void_needs_a_reason_and_keeps_it(client, session, make, operator, company, text):
    agreement = make.agreement(company, text)
    session.commit()

    refused = post(client, f"{LIST}/{agreement.id}/void", headers=HTMX, reason="  ")

    assert refused.status_code == 422
    assert error_of(refused.get_data(as_text=True), "reason")
    session.refresh(agreement)
    assert agreement.status == AgreementStatus.DRAFT

    voided = post(client, f"{LIST}/{agreement.id}/void", reason="Yanlış firma")

    assert voided.status_code == 303
    session.refresh(agreement)
    assert agreement.status == AgreementStatus.VOIDED
    assert agreement.ended_reason == "Yanlış firma"
    assert agreement.ended_by_user_id == operator.id
    assert [e.data["agreement_id"] for e in events(session, "agreement_voided")] == [agreement.id]

    again = post(client, f"{LIST}/{agreement.id}/void", reason="Bir daha")
    assert again.status_code == 422
    assert 'id="agreement-refusal"' in again.get_data(as_text=True)


def test_an_unknown_agreement_is_404(client, operator):
    assert client.get(f"{LIST}/999999").status_code == 404
    assert client.get(f"{LIST}/abc").status_code == 404


# --- Publishing a text version ------------------------------------------------------------


def publish(client, headers=HTMX, **fields):
    values = {"kind": "company_service", "title": "Hizmet Sözleşmesi", "started_at": ""}
    values.update(fields)
    return post(client, f"{LIST}/texts", headers=headers, **values)


def versions(session):
    session.commit()
    return list(session.scalars(select(AgreementText).order_by(AgreementText.version)))


def test_a_new_version_is_published_and_closes_the_one_before(client, session, operator, text):
    response = publish(client, headers=None, body="{company_name} ile sözleşme.\n{products}")

    assert response.status_code == 303
    before, published = versions(session)
    assert published.body == "{company_name} ile sözleşme.\n{products}"
    assert before.finished_at == published.started_at
    [event] = events(session, "agreement_text_published")
    assert event.data["agreement_text_id"] == published.id


def test_an_unknown_placeholder_is_refused_next_to_the_text(client, session, operator, text):
    response = publish(client, body="{company_name} ve {sirket_sahibi}")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="publish-form"')
    assert "sirket_sahibi" in error_of(html, "body")
    assert [v.id for v in versions(session)] == [text.id]


def test_an_overlapping_window_is_refused_next_to_the_start(client, session, make, operator, now):
    scheduled = make.agreement_text(started_at=now + timedelta(days=10))
    session.commit()
    start = (now + timedelta(days=2)).astimezone(ISTANBUL)

    response = publish(client, body="{company_name}", started_at=start.strftime("%Y-%m-%dT%H:%M"))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_of(html, "started_at")
    assert [v.id for v in versions(session)] == [scheduled.id]


def test_an_empty_title_is_refused_next_to_it(client, session, operator):
    response = publish(client, title="", body="{company_name}")

    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "title")
    assert versions(session) == []


# --- Who may reach it -----------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, NEW, f"{LIST}/1"], ids=["list", "new", "agreement"])
def test_parents_and_staff_are_refused_and_visitors_sent_to_sign_in(
    client, session, make, auth, url
):
    assert_operators_only(client, session, make, auth, url)


def test_a_staff_member_cannot_send_or_void(client, session, make, auth, company, signers, text):
    agreement = make.agreement(company, text)
    session.commit()
    auth.login(signers[Role.ADMIN].user.email)

    assert post(client, f"{LIST}/{agreement.id}/send").status_code == 403
    assert post(client, f"{LIST}/{agreement.id}/void", reason="x").status_code == 403
    assert post(client, f"{LIST}/texts", body="x", title="x").status_code == 403
    session.refresh(agreement)
    assert agreement.status == AgreementStatus.DRAFT
