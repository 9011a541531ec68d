"""The toggles' marks of a page: what the parent keeps and compares among the page's schools
and campuses, in one statement, on every database."""

from portal.extensions import db
from portal.models import UserComparison, UserFavorite
from portal.schools.marks import NO_MARKS, marks_of
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
            UserComparison(
                user_id=parent.id, school_id=school.id, campus_id=a.id, target_key=f"campus:{a.id}"
            ),
            UserComparison(user_id=other.id, school_id=school.id, target_key=f"school:{school.id}"),
        ]
    )
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
