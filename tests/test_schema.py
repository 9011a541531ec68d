"""The database itself refuses what the domain forbids, on every dialect."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from portal.clock import utcnow
from portal.database import users_named
from portal.models import (
    CustomerScore,
    CustomerUser,
    CustomerUserRole,
    CustomerUserSchool,
    User,
    UserDetail,
    UserType,
)


def refused(session, statement, values):
    """Run an INSERT straight at the database; True when the database refuses it."""
    try:
        with session.begin_nested():
            session.execute(statement, values)
    except DBAPIError:
        return True
    return False


def parent_type_id(session):
    return session.scalar(select(UserType.id).where(UserType.code == "parent"))


def user_row(session, email, **values):
    now = utcnow()
    return {
        "name": "Test",
        "email": email,
        "user_type_id": parent_type_id(session),
        "created_at": now,
        "updated_at": now,
        **values,
    }


def test_same_email_in_another_case_is_refused_by_the_database(session, make):
    make.user(email="veli@example.com")

    assert refused(session, insert(User), user_row(session, "VELI@example.com"))
    assert refused(session, insert(User), user_row(session, "veli@example.com"))
    assert session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    ("budget_min", "budget_max"),
    [("500000.00", "100000.00"), ("-1.00", "100000.00"), ("0.00", "-5.00")],
)
def test_inverted_or_negative_budget_range_is_refused(session, make, budget_min, budget_max):
    user = make.user()
    row = {"user_id": user.id, "budget_min": Decimal(budget_min), "budget_max": Decimal(budget_max)}

    assert refused(session, insert(UserDetail), row)


def test_an_ordered_budget_range_is_kept_exactly(session, make):
    user = make.user()
    session.add(
        UserDetail(user_id=user.id, budget_min=Decimal("0.10"), budget_max=Decimal("250000.35"))
    )
    session.commit()
    session.expire_all()

    details = session.get(UserDetail, user.id)
    assert (details.budget_min, details.budget_max) == (Decimal("0.10"), Decimal("250000.35"))


@pytest.mark.parametrize(
    "column", ["demand", "communication", "responsiveness", "payment", "total"]
)
@pytest.mark.parametrize(
    ("value", "is_refused"), [(300, True), (256, True), (-1, True), (255, False)]
)
def test_scores_outside_0_to_255_are_refused(session, make, column, value, is_refused):
    customer = make.customer()
    row = {name: 100 for name in ("demand", "communication", "responsiveness", "payment", "total")}
    row.update({"customer_id": customer.id, "scored_on": date(2026, 11, 21), column: value})

    assert refused(session, insert(CustomerScore), row) is is_refused


def test_user_of_an_unknown_type_is_refused(session):
    assert refused(session, insert(User), user_row(session, "x@example.com", user_type_id=99))


def test_staff_row_must_name_the_company_of_its_user(session, make):
    own, other = make.customer(), make.customer()
    user = make.user("customer_staff", customer_id=own.id)
    admin = session.scalar(select(CustomerUserRole.id).where(CustomerUserRole.code == "admin"))
    now = utcnow()
    row = {
        "user_id": user.id,
        "role_id": admin,
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }

    assert refused(session, insert(CustomerUser), {**row, "customer_id": other.id})
    assert not refused(session, insert(CustomerUser), {**row, "customer_id": own.id})


def test_campus_grant_must_name_a_campus_of_the_granted_school(session, make):
    staff = make.customer_user()
    school = make.school(customer=staff.customer)
    elsewhere = make.school(customer=staff.customer)
    row = {"customer_user_id": staff.id, "school_id": school.id, "created_at": utcnow()}

    assert refused(
        session, insert(CustomerUserSchool), {**row, "campus_id": elsewhere.campuses[0].id}
    )
    assert not refused(
        session, insert(CustomerUserSchool), {**row, "campus_id": school.campuses[0].id}
    )


def test_soft_deleted_rows_are_hidden_from_ordinary_queries(session, make):
    kept, gone = make.user(name="Kalan"), make.user(name="Giden")
    gone.soft_delete()
    session.commit()
    session.expire_all()

    assert list(session.scalars(select(User.name))) == ["Kalan"]
    assert session.scalars(select(User)).all() == [kept]
    everyone = session.scalars(select(User).execution_options(include_deleted=True)).all()
    assert {u.name for u in everyone} == {"Kalan", "Giden"}


def test_full_text_search_finds_users_by_name_words_and_prefixes(session, make):
    make.user(name="Elif Şahin")
    make.user(name="Mehmet Demir")
    make.user(name="Elifnur Kaya")
    gone = make.user(name="Elif Silinmiş")
    gone.soft_delete()
    session.commit()  # MariaDB's FULLTEXT index sees committed rows only

    assert [u.name for u in users_named(session, "Şahin")] == ["Elif Şahin"]
    assert [u.name for u in users_named(session, "elif")] == ["Elif Şahin", "Elifnur Kaya"]
    assert [u.name for u in users_named(session, "Mehm Dem")] == ["Mehmet Demir"]
    assert users_named(session, "Ayşe") == []
    assert users_named(session, '  "*) OR 1=1 --') == []


def test_full_text_index_follows_renames(session, make):
    user = make.user(name="Eski İsim")
    session.commit()
    user.name = "Yeni Soyad"
    session.commit()

    assert [u.name for u in users_named(session, "Soyad")] == ["Yeni Soyad"]
    assert users_named(session, "Eski") == []


def test_every_foreign_key_is_backed_by_an_index(app):
    """A foreign key without an index makes joins and parent deletes scan the child table.

    An index led by the key's first column serves a composite key too: both composite keys
    here lead with a column that is selective on its own (customer_users.user_id is unique).
    """
    from portal.extensions import db

    unindexed = []
    for table in db.metadata.tables.values():
        leading = {index.columns[0].name for index in table.indexes}
        leading |= {
            list(c.columns)[0].name
            for c in table.constraints
            if c.__class__.__name__ in ("UniqueConstraint", "PrimaryKeyConstraint")
        }
        unindexed += [
            f"{table.name}.{fk.column_keys[0]}"
            for fk in table.foreign_key_constraints
            if fk.column_keys[0] not in leading
        ]
    assert unindexed == []


def test_a_sqlite_file_database_lets_readers_and_the_writer_pass_each_other(session):
    # Write-ahead logging: a page being read does not hold back a write (a mail's claim).
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's journal mode")
    mode = session.execute(text("PRAGMA journal_mode")).scalar()
    assert mode == "wal"


@pytest.mark.parametrize("typed", ["YILMAZ", "yilmaz", "Yılmaz", "yılmaz", "yIlMaZ"])
def test_the_user_search_folds_turkish_letters_and_case_both_ways(session, make, typed):
    make.user(name="Ayşe Yılmaz")
    make.user(name="İsmail Şahin")
    session.commit()  # MariaDB's FULLTEXT index sees committed rows only

    assert [u.name for u in users_named(session, typed)] == ["Ayşe Yılmaz"]
    assert [u.name for u in users_named(session, "ismail sahin")] == ["İsmail Şahin"]
    assert [u.name for u in users_named(session, "ISMAIL")] == ["İsmail Şahin"]


def test_a_renamed_user_is_found_by_the_folded_new_name(session, make):
    user = make.user(name="Eski Ad")
    session.commit()
    user.name = "Çağrı Öztürk"
    session.commit()

    assert [u.name for u in users_named(session, "cagri ozturk")] == ["Çağrı Öztürk"]
    assert users_named(session, "Eski") == []
