"""The one rule for which schools and campuses a customer user may work on."""

from portal.access.grants import granted_schools, may_work_on
from portal.access.permissions import Role


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
    assert not granted.whole_school and granted.campuses == [moda]


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
