"""`flask agreements check`: exit 0 while every snapshot and chain holds, 1 with the
mismatch printed once a sign row is changed behind the triggers' back."""

from sqlalchemy import text

from portal.access.permissions import Role
from portal.agreements import agreements
from portal.extensions import db
from tests.agreements.conftest import WITNESS
from tests.dbutil import evidence_triggers


def test_a_clean_database_passes(runner, session, sent, signers, now):
    agreements.sign(
        session, sent, signers[Role.ADMIN], WITNESS, seen_sha256=sent.document_sha256, now=now
    )
    session.commit()

    result = runner.invoke(args=["agreements", "check"])

    assert result.exit_code == 0, result.output
    assert "mismatch" not in result.output


def test_an_empty_database_passes(runner, session):
    assert runner.invoke(args=["agreements", "check"]).exit_code == 0


def test_a_tampered_sign_row_is_found(runner, session, sent, signers, now):
    sign = agreements.sign(
        session, sent, signers[Role.ADMIN], WITNESS, seen_sha256=sent.document_sha256, now=now
    )
    sign_id = sign.id
    session.commit()  # and no transaction left open: the DDL below waits for none
    with db.engine.begin() as connection:
        create, drop = evidence_triggers(connection.dialect.name)
        for statement in drop:
            connection.exec_driver_sql(statement)
        connection.execute(
            text(
                "UPDATE customer_user_agreement_signs SET client_ip = '198.51.100.9' WHERE id = :id"
            ),
            {"id": sign_id},
        )
        for statement in create:
            connection.exec_driver_sql(statement)
    session.expire_all()

    result = runner.invoke(args=["agreements", "check"])

    assert result.exit_code == 1
    assert f"agreement {sent.id}, sign record {sign_id}: record_hash" in result.output
