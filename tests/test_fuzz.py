"""Hypothesis on every form, JSON and query-string endpoint: never a 500, never a partial write.

The routes come from app.url_map, so a new one is fuzzed without being listed. Each is reached
as the audience it allows (signed in through the real forms, with a valid CSRF token) and sent
generated fields: random, huge, missing, duplicated, as multipart files, as raw bytes that are
not UTF-8, as JSON of any shape, with NULs, controls, surrogates, bidi overrides and combining
marks. The fields are the names the route's forms and view read, plus stray ones.

A run is deterministic and modest by default; OKUL_FUZZ_EXAMPLES=500 (examples per route) with
OKUL_FUZZ_RANDOM=1 makes a long, random run. Failures are kept in .hypothesis/ and tried first
on the next run.
"""

import io
import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from argon2 import PasswordHasher
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal import create_app
from portal.access import ANONYMOUS, CUSTOMER_USER, OPERATOR, PARENT, audiences_of
from portal.access.permissions import Role
from portal.agreements import agreements
from portal.agreements.agreements import Party
from portal.auth import passwords
from portal.clock import utcnow
from portal.extensions import db
from portal.forms import Form
from portal.models import UserContact, UserSessionHash
from portal.models.customers import CustomerAgreementsRenewDiscount
from tests.helpers import HTMX, AuthActions, csrf_token

EXAMPLES = int(os.environ.get("OKUL_FUZZ_EXAMPLES", "10"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("OKUL_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

AGREEMENT_PROVIDER = Party("Okul", "Okul Bilişim A.Ş.", "Kadıköy", "1234567890", "İstanbul")
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Names a view reads straight from the request: request.args.get("q"), request.form.get(...).
READ_NAME = re.compile(r"request\.(?:args|form)\.get\(\"(\w+)\"")
# Rows a refused request may rightly add (the audit of failures) or change (a wrong code
# counts against its code; a request refreshes its session).
MAY_CHANGE_ON_REFUSAL = {
    "user_logs",
    "otp_codes",
    "verification_codes",
    "user_session_hash",
    "user_known_devices",
    "mail_outbox",
}
# Routes that end the caller's session when they succeed: sign in again after them.
ENDS_SESSIONS = {
    "auth.logout",
    "auth.sign_out_everywhere",
    "auth.end_session",
    "auth.end_other_sessions",
    "auth.change_password",
    "account.delete_account",
}


def _form_classes():
    seen, todo = [], [Form]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def _field_names(view) -> list[str]:
    """The names the view's module reads: its forms' fields (with the prefixes it gives them)
    and the names it reads from the request itself."""
    module = sys.modules[view.__module__]
    source = Path(module.__file__).read_text()
    prefixes = [""] + [f"{p}-" for p in re.findall(r'prefix="([\w-]+)"', source)]
    prefixes += ["contact-{contact_id}-"] if 'prefix=f"contact-' in source else []
    prefixes += ["discount-{discount_id}-"] if 'prefix=f"discount-' in source else []
    names = set(READ_NAME.findall(source))
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Form):
            fields = [
                name
                for cls in value.__mro__
                for name, unbound in vars(cls).items()
                if hasattr(unbound, "field_class")
            ]
            names.update(f"{prefix}{name}" for name in fields for prefix in prefixes)
    return sorted(names)


def _routes():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            view = app.view_functions[rule.endpoint]
            for method in sorted(rule.methods & (STATE_CHANGING | {"GET"})):
                routes.append(
                    (
                        rule.endpoint,
                        method,
                        getattr(view, "answers_json", False),
                        _field_names(view),
                    )
                )
    return routes


ROUTES = _routes()


# --- What is sent ------------------------------------------------------------------------

ODD_TEXT = [
    "\x00",
    "a\x00b",
    "\x07\x1b[31m",
    "\u202eevil\u202c",
    "e" + "\u0301" * 60,
    "\ufeff\u200b",
    "\ufffd",
    "ｕｓｅｒ@ｅｘａｍｐｌｅ.ｃｏｍ",
    "²",
    "١٢",
    "9" * 40,
    "-1",
    "0",
    "1",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "//evil.example.com",
    "user@example.com",
    "y",
    "on",
    "tr",
    "en",
    "ios",
    "monthly",
    "parents",
    "123456",
    "0532 123 45 67",
    "150.000,50",
    "İstanbul",
]
text_values = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Mn", "Zs"]), max_size=20),
)
byte_values = st.one_of(
    st.binary(max_size=30),
    st.sampled_from([b"\xed\xa0\x80", b"\xff\xfe", b"a\xc3", b"\xc0\xaf", b"\x00"]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | text_values
    | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@st.composite
def requests_for(draw, names: list[str], answers_json: bool):
    """One request: its encoding, and for each name the route reads: missing, a value, the
    value twice, or (multipart) a file; sometimes one huge value or a stray field."""
    encoding = draw(
        st.sampled_from(
            ["json", "json-junk"] if answers_json else ["form", "bytes", "multipart", "json"]
        )
    )
    values = {"bytes": byte_values, "json": json_values}.get(encoding, text_values)
    modes = ["missing", "value", "value", "value", "twice"]
    if encoding == "multipart":
        modes.append("file")
    fields, files = [], set()
    for name in [*names, *draw(st.lists(st.sampled_from(["x", "csrf_token"]), max_size=1))]:
        mode = draw(st.sampled_from(modes))
        if mode == "missing":
            continue
        for _ in range(2 if mode == "twice" else 1):
            if mode == "file":
                files.add(len(fields))
            fields.append((name, draw(values)))
    if fields and encoding in ("form", "multipart") and draw(st.integers(0, 9)) == 0:
        index = draw(st.integers(0, len(fields) - 1))
        fields[index] = (fields[index][0], "x" * draw(st.sampled_from([70_000, 300_000])))
    if encoding == "json":
        fields = dict(fields)
    return {
        "encoding": encoding,
        "fields": fields,
        "files": files,
        "junk": draw(st.sampled_from([b"", b"[1,2]", b'"x"', b"{", b"null", b"\xff"])),
        "htmx": draw(st.booleans()),
    }


def _body(request: dict, token: str) -> dict:
    """The keyword arguments of client.open() for a drawn request."""
    encoding, fields = request["encoding"], request["fields"]
    headers = {"X-CSRFToken": token, **(HTMX if request["htmx"] else {})}
    if encoding == "json":
        return {"data": json.dumps(fields), "content_type": "application/json", "headers": headers}
    if encoding == "json-junk":
        return {"data": request["junk"], "content_type": "application/json", "headers": headers}
    if encoding == "bytes":
        pairs = [(b"csrf_token", token.encode()), *((n.encode(), v) for n, v in fields)]
        data = b"&".join(
            quote_from_bytes(n).encode() + b"=" + quote_from_bytes(v).encode() for n, v in pairs
        )
        return {
            "data": data,
            "content_type": "application/x-www-form-urlencoded",
            "headers": headers,
        }
    data, size = [("csrf_token", token)], 0
    for index, (field, value) in enumerate(fields):
        if encoding == "multipart" and (size := size + len(value)) > 400_000:
            # The test client spools a larger multipart body to a file that nothing closes
            # when the request is refused early (a ResourceWarning, so an error here).
            value = value[:10]
        if index in request["files"]:
            value = (io.BytesIO(value.encode("utf-8", "surrogatepass")), "x.txt")
        data.append((field, value))
    multidict = {}
    for field, value in data:
        multidict.setdefault(field, []).append(value)
    content_type = "multipart/form-data" if encoding == "multipart" else None
    return {"data": multidict, "content_type": content_type, "headers": headers}


@st.composite
def query_strings(draw, names: list[str]):
    """A raw query string: known and stray names, values that may be any bytes."""
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*names, "x"]).map(str.encode),
                st.one_of(
                    byte_values, text_values.map(lambda t: t.encode("utf-8", "surrogatepass"))
                ),
            ),
            max_size=5,
        )
    )
    return b"&".join(
        quote_from_bytes(n).encode() + b"=" + quote_from_bytes(v).encode() for n, v in pairs
    )


# --- The world the requests land in -------------------------------------------------------


def snapshot() -> dict:
    """Every table's rows; for tables a refusal may touch, only how many there are."""
    state = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            if table.name in MAY_CHANGE_ON_REFUSAL:
                state[table.name] = len(rows) if table.name != "user_logs" else None
            else:
                state[table.name] = sorted(map(repr, rows))
    return state


@pytest.fixture
def cheap_hashing(monkeypatch):
    """argon2 at its lowest cost: the fuzzer checks input handling, and a real verify per
    example on the password routes would take most of the run."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", hasher.hash("not-a-real-password"))


@pytest.fixture
def world(app, cheap_hashing, make, session):
    """One of each audience, and objects of theirs for the URLs' ids."""
    parent = make.user("parent")
    admin = make.customer_user(role=Role.ADMIN)
    operator = make.user("operator")
    plan = make.plan(audience="parents")
    price = make.price(plan)
    contact = UserContact(user_id=parent.id, contact_type="phone", value="+905321234567")
    session.add(contact)
    # A school of the admin's company, and the parent's lead to it with an open offer.
    school = make.school(customer=admin.customer)
    make.grant(admin, school)
    lead = make.lead(parent, school, school.campuses[0])
    offer = make.offer(lead, admin)
    # The admin's company's agreement, awaiting the admin's signature (issue 13).
    agreement = make.agreement(admin.customer, make.agreement_text())
    agreements.send_for_signature(session, agreement, AGREEMENT_PROVIDER, now=utcnow())
    # A renewal discount on it, to follow up (issue 13 item 5).
    discount = CustomerAgreementsRenewDiscount(customer_agreement_id=agreement.id)
    session.add(discount)
    session.commit()
    return {
        PARENT: parent.email,
        CUSTOMER_USER: admin.user.email,
        OPERATOR: operator.email,
        "ids": {
            "contact_id": contact.id,
            "price_id": price.id,
            "payment_id": 1,
            "acceptance_id": 1,  # a parent's confirmed sale document (none here: 404)
            "slug": school.slug,
            "lead_id": lead.id,
            "offer_id": offer.id,
            "agreement_id": agreement.id,
            "discount_id": discount.id,
        },
        "parent_id": parent.id,
    }


def _actor(endpoint) -> str:
    audiences = audiences_of(endpoint)
    for audience in (ANONYMOUS, PARENT, CUSTOMER_USER, OPERATOR):
        if audience in audiences:
            return audience
    raise AssertionError(endpoint)


def _url(app, endpoint, ids, session):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {}
    for name in rule.arguments:
        if name == "session_id":
            values[name] = session.scalar(select(UserSessionHash.id).limit(1)) or 1
        elif name in ids:
            values[name] = ids[name]
        elif name == "slug":
            values[name] = "no-such-school"
        else:
            values[name] = "cancel"
    return url_for(endpoint, **values)


@pytest.mark.parametrize("actor", [ANONYMOUS, PARENT, CUSTOMER_USER, OPERATOR])
def test_no_500_and_no_partial_write(app, client, session, world, actor):
    """Every route the actor is sent to, fuzzed in turn (one sign-in serves them all)."""
    auth = AuthActions(client)
    email = world.get(actor)

    def sign_in():
        if email:
            auth.login(email)
        return csrf_token(client)

    token = sign_in()
    fuzzed = 0
    for endpoint, method, answers_json, names in ROUTES:
        with app.test_request_context():
            if _actor(endpoint) != actor:
                continue
            url = _url(app, endpoint, world["ids"], session)
        names = [n.format(**world["ids"]) for n in names]
        if method == "GET":
            fuzz_query_string(client, url, names)
        else:
            token = fuzz_body(client, method, url, names, answers_json, token, sign_in, endpoint)
        fuzzed += 1
    assert fuzzed


def fuzz_query_string(client, url, names):
    @FUZZ_SETTINGS
    @given(query=query_strings(names))
    def run(query):
        response = client.get(url, query_string=query.decode("ascii"))
        assert response.status_code < 500, (url, query, response.get_data(as_text=True)[:300])

    run()


def fuzz_body(client, method, url, names, answers_json, token, sign_in, endpoint):
    """Fuzz one form or JSON route; returns the CSRF token to go on with."""

    @FUZZ_SETTINGS
    @given(request=requests_for(names, answers_json))
    def run(request):
        nonlocal token
        before = snapshot()
        response = client.open(url, method=method, **_body(request, token))
        body = response.get_data(as_text=True)[:300]
        assert response.status_code < 500, (method, url, request, body)
        if response.status_code >= 400:
            assert snapshot() == before, (method, url, request)
        elif endpoint in ENDS_SESSIONS:
            token = sign_in()

    run()
    return token
