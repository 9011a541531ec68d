"""The staff's agreement pages: the list, the agreement with its two signing steps (a fresh
code by e-mail, then the code, the ticked box and the document's hash), the decline, the
evidence page, the dashboard's list of agreements to sign; and every refusal: no permission,
another company's agreement, a wrong code, an unticked box, a changed document, and a forged
X-Forwarded-For that is believed only as far as the trusted proxies go."""

import re

import pytest
from sqlalchemy import select

from portal.access.permissions import Role
from portal.agreements import agreements
from portal.clock import istanbul_today
from portal.models import (
    CustomerAgreement,
    CustomerUserAgreementSign,
    CustomerUserDailyActivityLog,
    OtpCode,
    UserLog,
)
from portal.models.customers import AgreementStatus
from tests.agreements.conftest import PROVIDER
from tests.helpers import HTMX, last_code_mailed_to, post
from tests.test_html import assert_valid_html

LIST = "/customer/agreements"


def page_of(agreement) -> str:
    return f"{LIST}/{agreement.id}"


@pytest.fixture
def admin(session, signers, auth):
    """The company's admin, reading in English, signed in."""
    member = signers[Role.ADMIN]
    member.user.locale = "en"
    session.commit()
    auth.login(member.user.email)
    return member


def mails_to(app, email: str) -> list:
    return [m for m in app.extensions.get("mail_outbox", []) if m.to == email]


def signing_codes(session) -> list[OtpCode]:
    """The signing codes issued (sign-in codes from a new browser are otp_codes rows too)."""
    session.commit()
    return list(session.scalars(select(OtpCode).where(OtpCode.purpose == "agreement_sign")))


def sign_rows(session) -> list[CustomerUserAgreementSign]:
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    return list(session.scalars(select(CustomerUserAgreementSign)))


def events(session, name: str) -> list[UserLog]:
    session.commit()
    return list(session.scalars(select(UserLog).where(UserLog.event == name).order_by(UserLog.id)))


def status_of(session, agreement) -> str:
    session.commit()
    return session.scalar(
        select(CustomerAgreement.status).where(CustomerAgreement.id == agreement.id)
    )


def send_code(client, agreement, headers=None):
    return post(client, f"{page_of(agreement)}/code", headers=headers)


def sign_with(client, agreement, code, headers=None, **fields):
    values = {"code": code, "confirm": "y", "document_sha256": agreement.document_sha256}
    values.update(fields)
    return post(client, f"{page_of(agreement)}/sign", headers=headers, **values)


# --- The whole flow -------------------------------------------------------------------------


def test_a_signer_signs_with_a_mailed_code_and_the_record_is_the_evidence(
    app, client, session, sent, admin
):
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert f'data-agreement="{sent.id}" data-status="awaiting_signature"' in listed.text
    shown = client.get(page_of(sent))
    assert shown.status_code == 200
    assert_valid_html(shown.text, "the agreement page")
    assert f'id="document-sha256" class="hash">{sent.document_sha256}<' in shown.text
    assert 'id="signing-code-form"' in shown.text and 'id="sign-form"' in shown.text
    assert f'name="document_sha256" value="{sent.document_sha256}"' in shown.text

    mailed = len(mails_to(app, admin.user.email))
    asked = send_code(client, sent)
    assert asked.status_code == 303
    assert asked.headers["Location"] == page_of(sent)
    assert len(mails_to(app, admin.user.email)) == mailed + 1
    code = last_code_mailed_to(app, admin.user.email)
    assert [c.user_id for c in signing_codes(session)] == [admin.user_id]

    signed = sign_with(client, sent, code)

    assert signed.status_code == 303
    assert signed.headers["Location"] == page_of(sent)
    [row] = sign_rows(session)
    assert (row.customer_agreement_id, row.customer_user_id, row.signer_role) == (
        sent.id,
        admin.id,
        "admin",
    )
    assert row.document_sha256 == sent.document_sha256
    assert row.document_text == sent.document_text
    assert row.auth_method == "password+email_code"
    assert row.client_ip == row.peer_ip == "127.0.0.1"
    assert row.sequence == 1 and row.previous_hash is None
    assert status_of(session, sent) == AgreementStatus.AWAITING_SIGNATURE  # finance is to sign
    [logged] = events(session, "agreement_signed")
    assert logged.user_id == admin.user_id
    assert logged.data["agreement_id"] == sent.id and logged.data["sign_id"] == row.id
    # The admin's day at work counts the signature.
    day = session.scalar(
        select(CustomerUserDailyActivityLog).where(
            CustomerUserDailyActivityLog.customer_user_id == admin.id,
            CustomerUserDailyActivityLog.activity_date == istanbul_today(),
        )
    )
    session.refresh(day)
    assert day.agreement_sign_count == 1
    # The page now says who signed and offers no second signature.
    after = client.get(page_of(sent))
    assert 'data-role="admin" data-signed="yes"' in after.text
    assert 'data-role="finance" data-signed="no"' in after.text
    assert 'id="sign-form"' not in after.text
    # The code was used once: it signs nothing again.
    assert sign_with(client, sent, code).status_code == 422


def test_the_last_required_role_makes_the_agreement_signed(
    app, client, session, sent, signers, auth
):
    for role in (Role.ADMIN, Role.FINANCE):
        member = signers[role]
        auth.login(member.user.email)
        assert send_code(client, sent).status_code == 303
        code = last_code_mailed_to(app, member.user.email)
        assert sign_with(client, sent, code).status_code == 303
        auth.logout()

    assert status_of(session, sent) == AgreementStatus.SIGNED
    rows = sign_rows(session)
    assert [r.signer_role for r in rows] == ["admin", "finance"]
    assert rows[1].previous_hash == rows[0].record_hash


def test_the_evidence_page_shows_each_record_and_that_the_chain_verifies(
    app, client, session, sent, admin
):
    send_code(client, sent)
    sign_with(client, sent, last_code_mailed_to(app, admin.user.email))
    [row] = sign_rows(session)

    page = client.get(f"{page_of(sent)}/evidence")

    assert page.status_code == 200
    html = page.text
    assert_valid_html(html, "the evidence page")
    assert 'id="chain-status" data-verified="yes"' in html
    assert sent.document_sha256 in html
    record = html[html.index('id="sign-record-1"') :]
    assert f'data-record-hash="{row.record_hash}"' in html
    assert row.signer_name in record and 'data-role="admin"' in record
    assert 'class="client-ip">127.0.0.1<' in record and 'class="peer-ip">127.0.0.1<' in record
    assert 'class="auth-method">password+email_code<' in record
    assert row.record_hash in record
    istanbul = re.search(r'class="signed-at-istanbul"><time datetime="([^"]+)">([^<]+)<', record)
    assert istanbul.group(1).endswith("Z")  # UTC, the hash's own form
    assert istanbul.group(2).endswith("+03:00")  # Istanbul time, with its offset
    assert re.search(r'class="signed-at-utc">\d{4}-\d\d-\d\dT[\d:.]+Z<', record)
    # Fragment for htmx: the evidence block alone.
    fragment = client.get(f"{page_of(sent)}/evidence", headers=HTMX)
    assert fragment.text.lstrip().startswith('<div id="agreement-evidence">')


def test_the_evidence_page_says_when_a_record_no_longer_verifies(
    app, client, session, sent, admin, monkeypatch
):
    send_code(client, sent)
    sign_with(client, sent, last_code_mailed_to(app, admin.user.email))
    # A changed row is refused by the database; what the page shows when one slips through is
    # taken from the check, so the check is made to find one.
    from portal.agreements import evidence

    monkeypatch.setattr(evidence, "sign_record_hash", lambda row: "0" * 64)

    html = client.get(f"{page_of(sent)}/evidence").text

    assert 'id="chain-status" data-verified="no"' in html
    assert 'data-problem="record_hash"' in html


# --- Refusals -------------------------------------------------------------------------------


def test_a_wrong_code_is_refused_next_to_the_field_and_nothing_is_signed(
    app, client, session, sent, admin
):
    send_code(client, sent)
    right = last_code_mailed_to(app, admin.user.email)
    wrong = "000000" if right != "000000" else "111111"

    refused = sign_with(client, sent, wrong)

    assert refused.status_code == 422
    assert 'id="code-error"' in refused.text
    assert_valid_html(refused.text, "the sign form refused")
    assert sign_rows(session) == []
    assert [c.attempts for c in signing_codes(session)] == [1]  # the try is spent
    assert [e.data["purpose"] for e in events(session, "email_code_failed")] == ["agreement_sign"]
    # htmx gets the signing block alone, with the same refusal.
    fragment = sign_with(client, sent, wrong, headers=HTMX)
    assert fragment.status_code == 422
    assert fragment.text.lstrip().startswith('<div id="agreement-signing">')
    assert 'id="code-error"' in fragment.text


def test_an_unticked_box_is_refused_and_spends_no_try(app, client, session, sent, admin):
    send_code(client, sent)
    code = last_code_mailed_to(app, admin.user.email)

    refused = sign_with(client, sent, code, confirm="")

    assert refused.status_code == 422
    assert 'id="confirm-error"' in refused.text
    assert sign_rows(session) == []
    assert [c.attempts for c in signing_codes(session)] == [0]
    assert sign_with(client, sent, code).status_code == 303  # the code still works


def test_a_changed_document_hash_is_refused(app, client, session, sent, admin):
    send_code(client, sent)
    code = last_code_mailed_to(app, admin.user.email)

    refused = sign_with(client, sent, code, document_sha256="a" * 64)

    assert refused.status_code == 422
    assert 'id="agreement-refusal"' in refused.text
    assert sign_rows(session) == []
    assert [c.used_at for c in signing_codes(session)] == [None]


def test_a_code_sent_for_one_agreement_signs_no_other(
    app, client, session, make, company, sent, admin, now
):
    other = make.agreement(company, sent.agreement_text, required_roles=(Role.ADMIN,))
    agreements.send_for_signature(session, other, PROVIDER, now=now)
    session.commit()
    send_code(client, sent)
    code = last_code_mailed_to(app, admin.user.email)

    assert sign_with(client, other, code).status_code == 422
    assert sign_rows(session) == []


def test_a_second_code_within_the_resend_interval_is_not_sent(app, client, session, sent, admin):
    mailed = len(mails_to(app, admin.user.email))
    assert send_code(client, sent).status_code == 303
    assert send_code(client, sent).status_code == 303

    assert len(mails_to(app, admin.user.email)) == mailed + 1
    assert len(signing_codes(session)) == 1


def test_members_without_the_permission_are_refused_everywhere(
    client, session, make, company, sent, auth
):
    agent = make.customer_user(company, Role.AGENT)
    session.commit()
    auth.login(agent.user.email)

    for url in (LIST, page_of(sent), f"{page_of(sent)}/evidence"):
        assert client.get(url).status_code == 403, url
    for action in ("code", "sign", "decline"):
        assert post(client, f"{page_of(sent)}/{action}", reason="Hayır").status_code == 403
    assert status_of(session, sent) == AgreementStatus.AWAITING_SIGNATURE


def test_another_companys_agreement_is_the_same_404_as_an_unknown_one(
    app, client, session, make, sent, auth
):
    stranger = make.customer_user(make.customer(name="Başka Eğitim"), Role.ADMIN)
    session.commit()
    auth.login(stranger.user.email)
    mailed = len(mails_to(app, stranger.user.email))

    assert client.get(LIST).status_code == 200
    assert f'data-agreement="{sent.id}"' not in client.get(LIST).text
    for url in (page_of(sent), f"{page_of(sent)}/evidence", f"{LIST}/999999999", f"{LIST}/abc"):
        assert client.get(url).status_code == 404, url
    assert send_code(client, sent).status_code == 404
    assert len(mails_to(app, stranger.user.email)) == mailed
    assert signing_codes(session) == []
    assert post(client, f"{page_of(sent)}/decline", reason="Hayır").status_code == 404
    assert status_of(session, sent) == AgreementStatus.AWAITING_SIGNATURE


def test_a_draft_is_not_shown_to_the_company(client, session, make, company, admin):
    draft = make.agreement(company)
    session.commit()

    assert client.get(page_of(draft)).status_code == 404
    assert f'data-agreement="{draft.id}"' not in client.get(LIST).text


def test_a_member_whose_role_is_not_required_reads_but_cannot_sign(
    client, session, make, company, now, auth
):
    finance = make.customer_user(company, Role.FINANCE)
    only_admin = make.agreement(company, required_roles=(Role.ADMIN,))
    agreements.send_for_signature(session, only_admin, PROVIDER, now=now)
    session.commit()
    auth.login(finance.user.email)

    shown = client.get(page_of(only_admin))
    assert shown.status_code == 200
    assert 'id="sign-form"' not in shown.text
    refused = send_code(client, only_admin)
    assert refused.status_code == 422
    assert 'id="agreement-refusal"' in refused.text


# --- Where the request came from ------------------------------------------------------------


def sign_from(app, client, sent, admin, forwarded_for):
    client.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    headers = {"X-Forwarded-For": forwarded_for, "User-Agent": "Tarayıcı/1.0 (Test)"}
    post(client, f"{page_of(sent)}/code", headers=headers)
    code = last_code_mailed_to(app, admin.user.email)
    return post(
        client,
        f"{page_of(sent)}/sign",
        headers=headers,
        code=code,
        confirm="y",
        document_sha256=sent.document_sha256,
    )


@pytest.mark.config(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_peer_is_the_proxy_and_the_client_its_last_hop(
    app, client, session, sent, admin
):
    # The client forged the first entry; the proxy (10.0.0.5) appended the address it saw.
    assert sign_from(app, client, sent, admin, "198.51.100.7, 203.0.113.9").status_code == 303

    [row] = sign_rows(session)
    assert row.client_ip == "203.0.113.9"
    assert row.peer_ip == "10.0.0.5"
    assert row.user_agent == "Tarayıcı/1.0 (Test)"


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(app, client, session, sent, admin):
    assert sign_from(app, client, sent, admin, "198.51.100.7, 203.0.113.9").status_code == 303

    [row] = sign_rows(session)
    assert row.client_ip == row.peer_ip == "10.0.0.5"


# --- Decline --------------------------------------------------------------------------------


def test_a_decline_needs_a_reason_and_keeps_the_document(client, session, sent, admin):
    refused = post(client, f"{page_of(sent)}/decline", reason="  ")
    assert refused.status_code == 422
    assert 'id="reason-error"' in refused.text
    assert status_of(session, sent) == AgreementStatus.AWAITING_SIGNATURE

    declined = post(client, f"{page_of(sent)}/decline", reason="Fiyatlar yüksek.")

    assert declined.status_code == 303
    session.commit()
    row = session.get(CustomerAgreement, sent.id)
    assert row.status == AgreementStatus.DECLINED
    assert row.ended_reason == "Fiyatlar yüksek."
    assert row.ended_by_user_id == admin.user_id
    assert row.document_sha256 == sent.document_sha256
    assert [e.data["agreement_id"] for e in events(session, "agreement_declined")] == [sent.id]
    page = client.get(page_of(sent)).text
    assert 'data-status="declined"' in page and "Fiyatlar yüksek." in page
    assert 'id="decline-form"' not in page


# --- The dashboard and the menu --------------------------------------------------------------


def test_the_dashboard_lists_agreements_waiting_for_the_members_signature(
    app, client, session, make, company, sent, admin, auth
):
    home = client.get("/customer/")
    assert 'id="agreements-to-sign"' in home.text
    assert f'href="{page_of(sent)}"' in home.text
    assert f'href="{LIST}"' in home.text  # the menu

    send_code(client, sent)
    sign_with(client, sent, last_code_mailed_to(app, admin.user.email))
    assert 'id="agreements-to-sign"' not in client.get("/customer/").text

    agent = make.customer_user(company, Role.AGENT)
    session.commit()
    auth.logout()
    auth.login(agent.user.email)
    home = client.get("/customer/")
    assert 'id="agreements-to-sign"' not in home.text
    assert f'href="{LIST}"' not in home.text


def test_the_dashboard_asks_one_statement_for_any_number_of_agreements(
    app, session, make, company, sent, signers, now
):
    from portal.agreements.company import waiting_for
    from tests.helpers import counted_statements

    for _ in range(5):
        more = make.agreement(company, sent.agreement_text, required_roles=(Role.ADMIN,))
        agreements.send_for_signature(session, more, PROVIDER, now=now)
    session.commit()
    admin = signers[Role.ADMIN]
    assert admin.role.code == "admin"  # loaded before counting

    with counted_statements(app) as statements:
        waiting = waiting_for(session, admin)

    assert len(waiting) == 6 and waiting[0].id == sent.id
    assert len(statements) == 1
