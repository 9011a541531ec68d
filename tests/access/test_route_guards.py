"""Guards every route inherits, proved by walking app.url_map (new routes are covered too)."""

import pytest
from flask import url_for

from portal.access import ANONYMOUS, AUDIENCES, audiences_of

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLE_ARGUMENTS = {"slug": "no-such-school", "integer": 1, "string": "x", "path": "x"}


def rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def sample_url(app, rule):
    """A URL for the rule, with a plausible value for each argument."""
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__.replace("Converter", "").lower()
        values[name] = SAMPLE_ARGUMENTS.get(name, SAMPLE_ARGUMENTS.get(converter, "x"))
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def test_every_route_declares_who_may_reach_it(app):
    with app.test_request_context():
        undeclared = [r.endpoint for r in rules(app) if audiences_of(r.endpoint) is None]
        unknown = [r.endpoint for r in rules(app) if not audiences_of(r.endpoint) <= set(AUDIENCES)]
    assert undeclared == []
    assert unknown == []


def protected_rules(app):
    with app.test_request_context():
        return [r for r in rules(app) if ANONYMOUS not in audiences_of(r.endpoint)]


def test_there_are_protected_routes_to_check(app):
    # The walk below proves nothing if nothing is protected.
    assert {r.endpoint for r in protected_rules(app)} >= {
        "account.index",
        "customer.index",
        "operator.index",
    }


def test_anonymous_request_to_a_protected_route_is_sent_to_log_in(app, client):
    for rule in protected_rules(app):
        url = sample_url(app, rule)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods & STATE_CHANGING)[0]
        if method != "GET":
            continue  # a POST without a token is refused before this (the CSRF test)
        response = client.open(url, method=method)
        assert response.status_code == 303, url
        assert response.headers["Location"].startswith("/auth/login?next="), url


def test_anonymous_htmx_request_to_a_protected_route_gets_hx_redirect(app, client):
    for rule in protected_rules(app):
        if "GET" not in rule.methods:
            continue
        url = sample_url(app, rule)
        response = client.get(url, headers={"HX-Request": "true", "HX-Request-Type": "partial"})
        assert response.status_code == 200, url
        assert response.headers["HX-Redirect"].startswith("/auth/login?next="), url
        assert response.get_data(as_text=True) == "", url


@pytest.mark.parametrize("with_login", [False, True])
def test_every_state_changing_route_refuses_a_request_without_csrf_token(
    app, client, make, session, auth, with_login
):
    operator = make.user("operator")
    session.commit()
    if with_login:
        auth.login(operator.email)
    checked = 0
    for rule in rules(app):
        for method in sorted(rule.methods & STATE_CHANGING):
            url = sample_url(app, rule)
            response = client.open(url, method=method, data={"anything": "1"})
            assert response.status_code == 400, f"{method} {url}"
            assert "Formun süresi dolmuş" in response.get_data(as_text=True), f"{method} {url}"
            checked += 1
    assert checked >= 3  # login, logout, language, company...


def test_signed_in_user_of_another_audience_gets_403(app, client, make, session, auth):
    parent = make.user("parent")
    session.commit()
    auth.login(parent.email)

    assert client.get("/operator/").status_code == 403
    assert client.get("/customer/").status_code == 403
    assert client.get("/account/").status_code == 200


def test_staff_whose_company_access_is_inactive_reach_no_staff_page(client, make, session, auth):
    staff = make.customer_user(is_active=False)
    session.commit()
    auth.login(staff.user.email)

    assert client.get("/customer/").status_code == 403


def test_route_without_declaration_is_refused_not_public(app, client):
    @app.route("/undeclared-for-test")
    def undeclared():
        return "secret"

    response = client.get("/undeclared-for-test")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)
