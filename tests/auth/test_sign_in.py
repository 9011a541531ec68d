"""Signing in with e-mail and password, and out again."""

from portal.auth.passwords import hash_password, verify_password
from tests.helpers import HTMX, csrf_token, last_code_mailed_to, page_without_secrets


def test_parent_signs_in_and_lands_in_their_area(client, make, session, auth):
    parent = make.user("parent", email="veli@example.com", name="Elif Şahin")
    session.commit()

    response = auth.login("  VELI@example.com ")

    assert response.status_code == 303
    assert response.headers["Location"] == "/account/"
    assert "Elif Şahin" in client.get("/account/").get_data(as_text=True)
    assert parent.email == "veli@example.com"


def test_sign_in_goes_back_to_the_page_that_asked_for_it(client, make, session, auth):
    staff = make.customer_user()
    session.commit()
    client.get("/customer/company")

    response = auth.login(staff.user.email, next="/customer/company")
    assert response.headers["Location"] == "/customer/company"


def test_unknown_email_and_wrong_password_get_the_same_answer(client, make, session):
    make.user(email="veli@example.com")
    session.commit()

    def attempt(email, password):
        return client.post(
            "/auth/login",
            data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        )

    wrong_password = attempt("veli@example.com", "not the password")
    unknown_email = attempt("nobody@example.com", "not the password")

    assert wrong_password.status_code == unknown_email.status_code == 422
    assert page_without_secrets(wrong_password.get_data(as_text=True), "veli@example.com") == (
        page_without_secrets(unknown_email.get_data(as_text=True), "nobody@example.com")
    )
    assert "E-posta ya da parola hatalı." in wrong_password.get_data(as_text=True)


def test_unverified_or_deleted_account_cannot_sign_in(client, make, session, auth):
    unverified = make.user(email="yeni@example.com", email_verified_at=None)
    deleted = make.user(email="eski@example.com")
    deleted.soft_delete()
    session.commit()

    assert auth.login(unverified.email).status_code == 422
    assert auth.login("eski@example.com").status_code == 422


def test_failed_htmx_sign_in_returns_the_form_fragment_with_422(client, make, session):
    client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={"email": "nobody@example.com", "password": "x", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="login-form"') and "<html" not in html
    assert 'aria-invalid="true"' in html


def test_successful_htmx_sign_in_navigates_with_hx_redirect(client, make, session):
    parent = make.user("parent")
    session.commit()
    client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={"email": parent.email, "password": make.PASSWORD, "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/auth/one-time-code"

    response = client.post(
        "/auth/one-time-code",
        data={
            "code": last_code_mailed_to(client.application, parent.email),
            "csrf_token": csrf_token(client),
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/account/"


def test_sign_in_refuses_to_redirect_off_site(client, make, session, auth):
    parent = make.user("parent")
    session.commit()

    response = auth.login(parent.email, next="https://evil.example.com/")
    assert response.headers["Location"] == "/account/"


def test_sign_out_ends_access(client, make, session, auth):
    parent = make.user("parent")
    session.commit()
    auth.login(parent.email)

    assert auth.logout().status_code == 303
    assert client.get("/account/").status_code == 303


def test_passwords_are_hashed_with_argon2id_at_rfc_9106_cost():
    stored = hash_password("correct horse battery")
    # argon2-cffi's defaults: RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes).
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse battery" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
