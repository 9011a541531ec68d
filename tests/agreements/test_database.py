"""What the database itself refuses: changing or deleting a sign row, and (PostgreSQL)
overlapping validity windows of one kind."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.access.permissions import Role
from portal.agreements import agreements
from portal.models import CustomerUserAgreementSign
from tests.agreements.conftest import WITNESS


def refused(session, sql, values):
    try:
        with session.begin_nested():
            session.execute(text(sql), values)
    except DBAPIError:
        return True
    return False


@pytest.fixture
def sign_row(session, sent, signers, now):
    row = agreements.sign(
        session, sent, signers[Role.ADMIN], WITNESS, seen_sha256=sent.document_sha256, now=now
    )
    session.commit()
    return row


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE customer_user_agreement_signs SET client_ip = '198.51.100.1' WHERE id = :id",
        "UPDATE customer_user_agreement_signs SET document_text = 'başka' WHERE id = :id",
        "DELETE FROM customer_user_agreement_signs WHERE id = :id",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_sign_row(session, sign_row, sql):
    assert refused(session, sql, {"id": sign_row.id})
    session.commit()
    session.expire_all()

    kept = session.get(CustomerUserAgreementSign, sign_row.id)
    assert kept is not None and kept.client_ip == WITNESS.client_ip


def test_the_orm_cannot_change_a_sign_row_either(session, sign_row):
    sign_row.signer_name = "Başkası"
    with pytest.raises(DBAPIError):
        session.commit()
    session.rollback()


def test_postgresql_refuses_overlapping_windows_itself(session, make, now):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the EXCLUDE constraint is PostgreSQL's; elsewhere the service checks")
    make.agreement_text(started_at=now, version=1)
    session.commit()

    sql = (
        "INSERT INTO agreement_texts (kind, version, title, body, body_sha256, started_at,"
        " published_at) VALUES ('company_service', 2, 't', 'b', :h, :start, :start)"
    )
    start = (now + timedelta(days=1)).replace(tzinfo=None)
    assert refused(session, sql, {"h": "0" * 64, "start": start})
    other_kind = sql.replace("'company_service'", "'parent_distance_sales'")
    assert not refused(session, other_kind, {"h": "0" * 64, "start": start})
