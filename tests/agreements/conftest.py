"""Fixtures for the agreements' tests: a company with signers and a sent agreement. Sign rows,
which the database refuses to delete, are cleared by tests/dbutil.empty_tables."""

from datetime import timedelta

import pytest

from portal.access.permissions import Role
from portal.agreements import agreements
from portal.agreements.agreements import Party
from portal.agreements.evidence import Witness
from portal.clock import utcnow
from portal.extensions import db
from tests import dbutil

PROVIDER = Party("Okul", "Okul Bilişim A.Ş.", "Kadıköy", "1234567890", "Moda Cad. 1, İstanbul")


def assert_operators_only(client, session, make, auth, url: str) -> None:
    """A visitor is sent to sign in; a parent and a company's staff get 403 at `url`."""
    assert client.get(url).status_code == 303
    assert "/auth/login" in client.get(url).headers["Location"]

    parent = make.user("parent")
    staff = make.customer_user(make.customer(), Role.ADMIN)
    session.commit()
    for user in (parent, staff.user):
        auth.login(user.email)
        assert client.get(url).status_code == 403
        auth.logout()


WITNESS = Witness("203.0.113.7", "10.0.0.2", "Mozilla/5.0 (Test)", "password+otp")


@pytest.fixture(autouse=True)
def without_sale_texts(app):
    """These tests publish and look texts up from no version of any kind, so the parent's sale
    texts that migration 0017 made (every test starts with them: tests/dbutil.py) are taken
    away first. tests/agreements/test_acceptances.py, which needs them, overrides this."""
    with app.app_context(), db.engine.begin() as connection:
        dbutil.remove_sale_texts(connection)


@pytest.fixture
def now():
    return utcnow()


@pytest.fixture
def company(make):
    return make.customer(name="Bilge Eğitim", legal_name="Bilge Eğitim Hizmetleri A.Ş.")


@pytest.fixture
def signers(make, company):
    """The company's admin and finance member (both may sign agreements)."""
    return {
        Role.ADMIN: make.customer_user(company, Role.ADMIN),
        Role.FINANCE: make.customer_user(company, Role.FINANCE),
    }


@pytest.fixture
def sent(session, make, company, now):
    """An agreement awaiting the admin's and finance's signatures."""
    text_row = make.agreement_text(started_at=now - timedelta(days=1))
    agreement = make.agreement(company, text_row, required_roles=(Role.ADMIN, Role.FINANCE))
    agreements.send_for_signature(session, agreement, PROVIDER, now=now)
    session.commit()
    return agreement


@pytest.fixture
def signed(session, sent, signers, now):
    """The sent agreement (2 × 1.500,00 ₺ yearly, 2027) signed by its admin and finance."""
    for role in (Role.ADMIN, Role.FINANCE):
        agreements.sign(
            session, sent, signers[role], WITNESS, seen_sha256=sent.document_sha256, now=now
        )
    session.commit()
    return sent
