"""Registering a parent: KVKK consent with its evidence, e-mail codes and their rules."""

import re
from datetime import timedelta
from hashlib import sha256

import pytest
from sqlalchemy import func, select

from portal.auth import registration
from portal.auth.codes import policy_from
from portal.clock import utcnow
from portal.extensions import db
from portal.models import ConsentText, User, UserConsent, UserLog, VerificationCode
from tests.helpers import csrf_token, in_parallel, page_without_secrets

PASSWORD = "uzun-bir-parola-2026"


def outbox(app):
    return app.extensions.setdefault("mail_outbox", [])


def register(client, email="yeni.veli@example.com", consent=True, **extra):
    client.get("/auth/register")
    data = {
        "name": "Yeni Veli",
        "email": email,
        "password": PASSWORD,
        "csrf_token": csrf_token(client),
        **extra,
    }
    if consent:
        data["kvkk_consent"] = "y"
    return client.post("/auth/register", data=data, headers={"User-Agent": "TestBrowser/1.0"})


def mailed_code(app, to="yeni.veli@example.com") -> str:
    body = [m for m in outbox(app) if m.to == to][-1].body
    return re.search(r"\b(\d{6})\b", body).group(1)


def verify(client, code, email="yeni.veli@example.com"):
    return client.post(
        "/auth/verify", data={"email": email, "code": code, "csrf_token": csrf_token(client)}
    )


def test_registration_with_consent_keeps_the_evidence(app, client, session):
    response = register(client)

    assert response.status_code == 303 and response.headers["Location"] == "/auth/verify"
    user = session.scalar(select(User).where(User.email == "yeni.veli@example.com"))
    assert user.email_verified_at is None and user.type_code == "parent"
    consent = session.scalar(select(UserConsent).where(UserConsent.user_id == user.id))
    text = session.get(ConsentText, consent.consent_text_id)
    assert text.kind == "kvkk_consent"
    assert consent.text_sha256 == sha256(text.body.encode()).hexdigest() == text.body_sha256
    assert consent.ip_address == "127.0.0.1" and consent.user_agent == "TestBrowser/1.0"
    assert consent.method == "registration_form" and consent.withdrawn_at is None
    assert user.details.kvkk_accepted_at == consent.given_at


def test_registration_without_consent_records_none(client, session):
    register(client, consent=False)

    user = session.scalar(select(User).where(User.email == "yeni.veli@example.com"))
    assert session.scalar(select(func.count()).select_from(UserConsent)) == 0
    assert user.details.kvkk_accepted_at is None


def test_registration_page_shows_the_notice_apart_from_an_unticked_consent_box(client):
    html = client.get("/auth/register").get_data(as_text=True)

    assert "KVKK Aydınlatma Metni" in html and "Açık Rıza Metni" in html
    box = re.search(r'<input[^>]*name="kvkk_consent"[^>]*>', html).group(0)
    assert 'type="checkbox"' in box and "checked" not in box


def test_taken_address_looks_like_success_and_warns_its_owner(app, client, session, make):
    make.user(email="veli@example.com")
    session.commit()

    taken = register(client, email="VELI@example.com")
    fresh = register(client, email="baska@example.com")

    assert taken.status_code == fresh.status_code == 303
    assert taken.headers["Location"] == fresh.headers["Location"]
    assert session.scalar(select(func.count()).select_from(User)) == 2
    warning = [m for m in outbox(app) if m.to == "veli@example.com"]
    assert len(warning) == 1 and not re.search(r"\b\d{6}\b", warning[0].body)


def test_verified_parent_can_sign_in_and_unverified_cannot(app, client, auth):
    register(client)
    assert auth.login("yeni.veli@example.com", PASSWORD).status_code == 422
    elsewhere = app.test_client()  # the code entered in a browser that did not register

    response = verify(elsewhere, mailed_code(app))

    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert auth.login("yeni.veli@example.com", PASSWORD).headers["Location"] == "/account/"


def test_code_is_stored_only_as_a_hash(app, client, session):
    register(client)
    code = mailed_code(app)

    row = session.scalar(select(VerificationCode))
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert all(code not in str(value) for value in session.execute(select(UserLog)).scalars())


def test_code_works_once(app, client):
    register(client)
    code = mailed_code(app)

    assert verify(client, code).status_code == 303
    assert verify(client, code).status_code == 422


@pytest.mark.config(CODE_LIFETIME=timedelta(seconds=0))
def test_late_code_fails(app, client, session):
    register(client)

    assert verify(client, mailed_code(app)).status_code == 422
    assert session.scalar(select(User.email_verified_at)) is None


def test_sixth_try_fails_even_with_the_right_code(app, client, session):
    register(client)
    code = mailed_code(app)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    for _ in range(5):
        assert verify(client, wrong).status_code == 422
    assert verify(client, code).status_code == 422
    assert session.scalar(select(User.email_verified_at)) is None


def test_wrong_code_and_unknown_address_get_the_same_answer(app, client):
    register(client)
    wrong_code = "000000" if mailed_code(app) != "000000" else "111111"
    wrong = verify(client, wrong_code)
    unknown = verify(client, wrong_code, email="kimse@example.com")

    assert wrong.status_code == unknown.status_code == 422
    assert page_without_secrets(wrong.get_data(as_text=True), "yeni.veli@example.com") == (
        page_without_secrets(unknown.get_data(as_text=True), "kimse@example.com")
    )


def test_resend_is_throttled_and_retires_the_old_code(app, client):
    register(client)
    first = mailed_code(app)
    client.post(
        "/auth/verify/resend",
        data={"email": "yeni.veli@example.com", "csrf_token": csrf_token(client)},
    )
    assert mailed_code(app) == first  # too soon: nothing new was sent

    app.config["CODE_RESEND_INTERVAL"] = timedelta(0)
    client.post(
        "/auth/verify/resend",
        data={"email": "yeni.veli@example.com", "csrf_token": csrf_token(client)},
    )
    second = mailed_code(app)
    assert len([m for m in outbox(app) if m.to == "yeni.veli@example.com"]) == 2
    if second != first:
        assert verify(client, first).status_code == 422
    assert verify(client, second).status_code == 303


def test_extra_fields_cannot_make_an_operator_or_staff_member(client, session, make):
    customer = make.customer()
    session.commit()
    register(client, user_type_id="3", customer_id=str(customer.id))

    user = session.scalar(select(User).where(User.email == "yeni.veli@example.com"))
    assert user.type_code == "parent" and user.customer_id is None


def test_twenty_parallel_submissions_of_one_code_give_one_success(app, client):
    register(client)
    code = mailed_code(app)
    results = in_parallel(
        app,
        lambda: (
            registration.verify_email(
                db.session,
                policy_from(app.config),
                "yeni.veli@example.com",
                code,
                utcnow(),
                registration.Origin(),
            )
            is not None
        ),
    )

    assert results.count(True) == 1
    assert all(r is False for r in results if r is not True), results


def test_kvkk_notice_has_its_own_page(client):
    html = client.get("/kvkk").get_data(as_text=True)

    assert "KVKK Aydınlatma Metni" in html and "6698" in html


def test_parent_withdraws_and_gives_consent_again_from_the_account(client, session, auth, make):
    parent = make.user("parent")
    session.commit()
    auth.login(parent.email)
    text_id = session.scalar(select(ConsentText.id).where(ConsentText.kind == "kvkk_consent"))

    given = client.post(
        "/account/privacy/consent",
        data={"consent_text_id": text_id, "csrf_token": csrf_token(client)},
    )
    assert given.status_code == 303
    withdrawn = client.post("/account/privacy/withdraw", data={"csrf_token": csrf_token(client)})
    assert withdrawn.status_code == 303

    session.expire_all()
    [consent] = session.scalars(select(UserConsent).where(UserConsent.user_id == parent.id))
    assert consent.method == "account_page" and consent.withdrawn_at is not None
    assert consent.withdrawn_method == "account_page"
    assert session.get(User, parent.id).details.kvkk_accepted_at is None
    events = session.scalars(select(UserLog.event).where(UserLog.user_id == parent.id)).all()
    assert {"consent_given", "consent_withdrawn"} <= set(events)
    page = client.get("/account/privacy").get_data(as_text=True)
    assert "Açık Rıza Metni (v1)" in page
