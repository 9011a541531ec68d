"""The toggles' marks of a page: what the parent keeps and compares among the page's schools
and campuses, in one statement, on every database."""

from portal.clock import istanbul_today
from portal.extensions import db
from portal.models import UserFavorite
from portal.schools.fees import school_year_of
from portal.schools.marks import NO_MARKS, marks_of
from portal.schools.search import SchoolSearch, search_schools
from tests.helpers import counted_statements


def test_marks_of_a_page_in_one_statement(app, session, make):
    parent = make.user("parent")
    other = make.user("parent")
    school = make.school(campuses=("A", "B"))
    elsewhere = make.school()
    a, b = school.campuses
    session.add_all(
        [
            UserFavorite(user_id=parent.id, favoritable_type="school", favoritable_id=school.id),
            UserFavorite(user_id=parent.id, favoritable_type="campus", favoritable_id=b.id),
            # Kept, but not on the page: not marked.
            UserFavorite(user_id=parent.id, favoritable_type="school", favoritable_id=elsewhere.id),
            # Another parent's: not marked.
            UserFavorite(user_id=other.id, favoritable_type="campus", favoritable_id=a.id),
        ]
    )
    make.comparison(parent, school, a)
    make.comparison(other, school)
    session.commit()
    parent_id, school_id, a_id, b_id = parent.id, school.id, a.id, b.id

    with counted_statements(app) as statements:
        marks = marks_of(db.session, parent_id, [school_id], [a_id, b_id])

    assert marks.favorites == {("school", school_id), ("campus", b_id)}
    assert marks.compared == {("campus", a_id)}
    assert len(statements) == 1


def test_a_page_with_nothing_to_mark_asks_nothing(app, session, make):
    parent_id = make.user("parent").id
    session.commit()

    with counted_statements(app) as statements:
        assert marks_of(db.session, parent_id) == NO_MARKS
        only_campuses = marks_of(db.session, parent_id, [], [10**6])

    assert only_campuses == NO_MARKS
    assert len(statements) == 1


def test_a_search_marks_its_schools_as_marks_of_does(app, session, make):
    """The search reads the marks with its page of schools (school_mark_columns): the same
    rule as marks_of(), a campus's favorite or comparison not marking its school."""
    parent, other = make.user("parent"), make.user("parent")
    kept = make.school(name="Okul Bir")
    compared = make.school(name="Okul İki", campuses=("Merkez",))
    by_campus = make.school(name="Okul Üç", campuses=("Kuzey",))
    others_only = make.school(name="Okul Dört")
    (merkez,) = compared.campuses
    (kuzey,) = by_campus.campuses
    session.add_all(
        [
            UserFavorite(user_id=parent.id, favoritable_type="school", favoritable_id=kept.id),
            UserFavorite(user_id=parent.id, favoritable_type="campus", favoritable_id=kuzey.id),
            UserFavorite(
                user_id=other.id, favoritable_type="school", favoritable_id=others_only.id
            ),
        ]
    )
    make.comparison(parent, compared)
    make.comparison(parent, by_campus, kuzey)
    make.comparison(other, kept)
    session.commit()
    parent_id = parent.id
    year = school_year_of(istanbul_today())

    with counted_statements(app) as statements:
        page = search_schools(
            db.session, SchoolSearch(school_year=year, q="okul"), total=4, marks_for=parent_id
        )
    school_ids = [found.school.id for found in page.items]
    expected = marks_of(db.session, parent_id, school_ids)

    assert len(school_ids) == 4
    assert {("school", f.school.id) for f in page.items if f.is_favorite} == expected.favorites
    assert {("school", f.school.id) for f in page.items if f.is_compared} == expected.compared
    assert expected.favorites == {("school", kept.id)}
    assert expected.compared == {("school", compared.id)}
    assert len(statements) == 2  # the page's ids and its schools, marks included
    # Searched for nobody: nothing marked.
    unmarked = search_schools(db.session, SchoolSearch(school_year=year, q="okul"), total=4)
    assert not any(found.is_favorite or found.is_compared for found in unmarked.items)
