"""The benchmark's reference routes (portal/bench): off unless BENCH_ROUTES is on, and then
open to anyone, the reference page listing 20 schools in the base layout with one query."""

import html5lib
import pytest
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from tests.helpers import AuthActions

BENCH_PATHS = ("/_bench/hello", "/_bench/reference")


@pytest.fixture
def bench_app(app):
    """The same database and settings as `app`, with the reference routes on."""
    bench_app = create_app({**app.config, "BENCH_ROUTES": True})
    bench_app.test_client_class = app.test_client_class  # each request closed, mail sent
    yield bench_app
    with bench_app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", BENCH_PATHS)
def test_reference_routes_do_not_exist_by_default(client, path):
    assert client.get(path).status_code == 404


def test_hello_is_plain_text(bench_app):
    response = bench_app.test_client().get("/_bench/hello")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "hello"


def test_reference_page_lists_the_first_20_schools_in_the_layout_with_one_query(
    bench_app, make, session
):
    customer = make.customer()
    names = [f"Okul {number:02d}" for number in range(25)]
    for name in reversed(names):
        make.school(customer=customer, name=name)
    session.commit()
    client = bench_app.test_client()
    client.get("/_bench/reference")  # the first request of an app may set things up
    with bench_app.app_context():
        engine = db.engine  # bench_app's own engine, not the one of the `session` fixture
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/_bench/reference")
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert response.status_code == 200
    document = html5lib.parse(response.get_data(as_text=True), namespaceHTMLElements=False)
    assert [item.text for item in document.findall(".//main//li")] == names[:20]
    assert document.find(".//header[@class='site-header']") is not None  # the base layout
    assert len(statements) == 1


@pytest.mark.parametrize("path", BENCH_PATHS)
def test_reference_routes_answer_a_signed_in_parent(bench_app, make, session, path):
    parent = make.user("parent")
    session.commit()
    client = bench_app.test_client()
    AuthActions(client).login(parent.email)

    assert client.get(path).status_code == 200
