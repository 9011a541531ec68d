"""The one rule for which schools and campuses a customer user may work on."""

import pytest
from sqlalchemy.exc import InvalidRequestError

from portal.access.grants import (
    GrantedCampus,
    granted_schools,
    granted_schools_page,
    may_work_on,
)
from portal.access.permissions import Role
from portal.extensions import db
from portal.models import CustomerUser
from tests.helpers import counted_statements


def test_whole_school_grant_covers_the_school_and_every_campus(session, make):
    staff = make.customer_user()
    school = make.school(customer=staff.customer, campuses=("Moda", "Ataşehir"))
    make.grant(staff, school)

    assert may_work_on(session, staff, school.id)
    assert all(may_work_on(session, staff, school.id, c.id) for c in school.campuses)
    [granted] = granted_schools(session, staff)
    assert granted.whole_school and [c.name for c in granted.campuses] == ["Ataşehir", "Moda"]


def test_campus_grant_covers_that_campus_only(session, make):
    staff = make.customer_user(role=Role.AGENT)
    school = make.school(customer=staff.customer, campuses=("Moda", "Ataşehir"))
    moda, atasehir = sorted(school.campuses, key=lambda c: c.name != "Moda")
    make.grant(staff, school, moda)

    assert may_work_on(session, staff, school.id, moda.id)
    assert not may_work_on(session, staff, school.id, atasehir.id)
    assert not may_work_on(session, staff, school.id)
    [granted] = granted_schools(session, staff)
    assert not granted.whole_school
    assert granted.campuses == [GrantedCampus(moda.id, moda.name, moda.district)]


def test_no_grant_no_access(session, make):
    staff = make.customer_user()
    school = make.school(customer=staff.customer)

    assert not may_work_on(session, staff, school.id)
    assert granted_schools(session, staff) == []


def test_grant_on_another_companys_school_gives_nothing(session, make):
    staff = make.customer_user()
    foreign = make.school()  # owned by another customer
    make.grant(staff, foreign)

    assert not may_work_on(session, staff, foreign.id)
    assert granted_schools(session, staff) == []


def test_inactive_staff_may_work_on_nothing(session, make):
    staff = make.customer_user(is_active=False)
    school = make.school(customer=staff.customer)
    make.grant(staff, school)

    assert not may_work_on(session, staff, school.id)
    assert granted_schools(session, staff) == []


def test_staff_home_lists_only_granted_schools(client, session, make, auth):
    staff = make.customer_user(role=Role.AGENT)
    granted = make.school(customer=staff.customer, name="Verilen Okul", campuses=("Moda", "Kuzey"))
    make.school(customer=staff.customer, name="Verilmeyen Okul")
    make.grant(staff, granted, next(c for c in granted.campuses if c.name == "Moda"))
    session.commit()
    auth.login(staff.user.email)

    html = client.get("/customer/").get_data(as_text=True)
    assert "Verilen Okul" in html and "Moda" in html
    assert "Verilmeyen Okul" not in html and "Kuzey" not in html


def company_with_granted_schools(make, staff, count: int) -> None:
    """`count` schools of three campuses, granted alternately whole and by two campuses."""
    for n in range(count):
        school = make.school(customer=staff.customer, campuses=("Kuzey", "Merkez", "Güney"))
        if n % 2 == 0:
            make.grant(staff, school)
        else:
            for campus in school.campuses[:2]:
                make.grant(staff, school, campus)


def statements_of(app, call) -> list[str]:
    """The statements `call(session)` sends, in a fresh session (nothing loaded beforehand)."""
    with counted_statements(app) as statements:
        call(db.session)
    return statements


def test_granted_schools_runs_as_many_statements_for_40_schools_as_for_one(app, session, make):
    one, many = make.customer_user(), make.customer_user()
    company_with_granted_schools(make, one, 1)
    company_with_granted_schools(make, many, 40)
    session.commit()
    ids = one.id, many.id

    def granted(customer_user_id):
        return lambda s: granted_schools(s, s.get(CustomerUser, customer_user_id))

    assert len(statements_of(app, granted(ids[0]))) == len(statements_of(app, granted(ids[1])))
    # Loading the member, the schools with their grants, and every campus at once.
    assert len(statements_of(app, granted(ids[1]))) == 3


def test_granted_schools_are_loaded_whole_and_refuse_lazy_loads(app, session, make):
    staff = make.customer_user()
    company_with_granted_schools(make, staff, 4)
    session.commit()
    staff_id = staff.id

    with app.app_context():
        granted = granted_schools(db.session, db.session.get(CustomerUser, staff_id))

        assert [len(g.campuses) for g in granted] == [3, 2, 3, 2]
        assert [g.whole_school for g in granted] == [True, False, True, False]
        # Anything the loading did not bring is refused, so an N+1 fails here, not in production.
        with pytest.raises(InvalidRequestError):
            granted[0].school.campuses  # noqa: B018


def test_a_deleted_campus_is_not_listed_under_a_whole_school_grant(session, make):
    staff = make.customer_user()
    school = make.school(customer=staff.customer, campuses=("Moda", "Kapalı"))
    make.grant(staff, school)
    next(c for c in school.campuses if c.name == "Kapalı").soft_delete()
    session.commit()
    staff_id = staff.id
    session.expunge_all()

    [granted] = granted_schools(session, session.get(CustomerUser, staff_id))

    assert [c.name for c in granted.campuses] == ["Moda"]


def test_granted_schools_page_pages_by_school_with_the_total(session, make):
    staff = make.customer_user()
    for name in ("Cem Okulu", "Ada Okulu", "Bora Okulu"):
        school = make.school(customer=staff.customer, name=name, campuses=("Merkez", "Moda"))
        make.grant(staff, school, school.campuses[0])
        make.grant(staff, school, school.campuses[1])
    make.school(customer=staff.customer, name="Verilmeyen Okul")
    session.commit()

    first = granted_schools_page(session, staff, 1, per_page=2)
    second = granted_schools_page(session, staff, 2, per_page=2)

    assert first.total == second.total == 3
    assert [g.school.name for g in first.items] == ["Ada Okulu", "Bora Okulu"]
    assert [g.school.name for g in second.items] == ["Cem Okulu"]
    assert [c.name for c in second.items[0].campuses] == ["Merkez", "Moda"]
    assert granted_schools_page(session, staff, 1, per_page=2).items[0].whole_school is False


def test_granted_schools_page_of_an_inactive_member_is_empty(session, make):
    staff = make.customer_user(is_active=False)
    make.grant(staff, make.school(customer=staff.customer))

    page = granted_schools_page(session, staff, 1)

    assert (page.items, page.total) == ([], 0)


def test_granted_schools_page_lists_each_live_campus_once_in_two_statements(app, session, make):
    staff = make.customer_user()
    both = make.school(
        customer=staff.customer, name="Ada Okulu", campuses=("Moda", "Kapalı", "Bağdat")
    )
    make.grant(staff, both)  # the whole school, and one of its campuses besides
    make.grant(staff, both, both.campuses[0])
    gone = make.school(customer=staff.customer, name="Bora Okulu", campuses=("Tek",))
    make.grant(staff, gone, gone.campuses[0])  # a campus grant whose campus was deleted
    empty = make.school(customer=staff.customer, name="Cem Okulu", campuses=("Son",))
    make.grant(staff, empty)  # a whole-school grant on a school with no live campus left
    next(c for c in both.campuses if c.name == "Kapalı").soft_delete()
    gone.campuses[0].soft_delete()
    empty.campuses[0].soft_delete()
    session.commit()
    staff_id = staff.id
    session.expunge_all()

    with app.app_context():
        member = db.session.get(CustomerUser, staff_id)
        member.customer  # noqa: B018  (the layout has it already)
        with counted_statements(app) as statements:
            page = granted_schools_page(db.session, member, 1)

    assert [(g.school.name, g.whole_school, [c.name for c in g.campuses]) for g in page.items] == [
        ("Ada Okulu", True, ["Bağdat", "Moda"]),
        ("Bora Okulu", False, []),
        ("Cem Okulu", True, []),
    ]
    assert page.total == 3
    assert len(statements) == 2
