"""Parents' favorites: the toggles (plain form and htmx), the favorites page, the limit, audit.

Assertions are on state (rows, aria-pressed, status codes, URLs), not on translated text: the
Turkish catalogue gets these strings later.
"""

import re

import html5lib
import pytest
from sqlalchemy import func, insert, select

from portal.account import favorites
from portal.audit import Origin
from portal.models import Campus, School, UserFavorite, UserLog
from tests.helpers import HTMX, counted_statements, post
from tests.test_html import assert_valid_html

FAVORITES_URL = "/account/favorites"
REMOVE_URL = "/account/favorites/remove"


def kept(session, user):
    """The user's favorites as (kind, id) pairs, read from the database."""
    session.expire_all()
    rows = session.execute(
        select(UserFavorite.favoritable_type, UserFavorite.favoritable_id).where(
            UserFavorite.user_id == user.id
        )
    )
    return {(kind, target_id) for kind, target_id in rows}


def audit(session, user):
    """The user's favorite events, oldest first, as (event, data)."""
    session.expire_all()
    rows = session.scalars(
        select(UserLog)
        .where(UserLog.user_id == user.id, UserLog.event.like("favorite_%"))
        .order_by(UserLog.id)
    )
    return [(row.event, row.data) for row in rows]


def pressed(html: str) -> dict[str, str]:
    """aria-pressed of every favorite toggle on a page, by button id (favorite-<kind>-<id>)."""
    return dict(re.findall(r'id="(favorite-[a-z]+-\d+)" aria-pressed="(true|false)"', html))


def test_parent_adds_a_school_and_a_campus_with_plain_forms_and_sees_both_listed(
    client, session, make, signed_in
):
    school = make.school(name="Bilge Koleji")
    other = make.school(name="Deniz Anaokulu", campuses=("Moda Kampüsü",))
    session.commit()
    campus = other.campuses[0]

    first = post(client, FAVORITES_URL, kind="school", target_id=school.id, next="/?city=x")
    second = post(client, FAVORITES_URL, kind="campus", target_id=campus.id)

    assert first.status_code == 303 and first.headers["Location"] == "/?city=x"
    assert second.status_code == 303 and second.headers["Location"] == FAVORITES_URL
    assert kept(session, signed_in) == {("school", school.id), ("campus", campus.id)}
    page = client.get(FAVORITES_URL)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Bilge Koleji" in html and "Deniz Anaokulu" in html and "Moda Kampüsü" in html
    assert f'href="/schools/{school.slug}"' in html and f'href="/schools/{other.slug}"' in html
    assert_valid_html(html, FAVORITES_URL)


def test_each_card_removes_and_compares_its_own_favorite(client, session, make, signed_in):
    # The cards' forms are one stamp filled per card (portal/caching.py): each must carry
    # its own target, name and the visitor's token, never the first card's.
    school = make.school(name="Bilge Koleji")
    other = make.school(name="Deniz Anaokulu", campuses=("Moda Kampüsü",))
    session.commit()
    campus = other.campuses[0]
    post(client, FAVORITES_URL, kind="school", target_id=school.id)
    post(client, FAVORITES_URL, kind="campus", target_id=campus.id)

    html = client.get(FAVORITES_URL).get_data(as_text=True)

    removals = re.findall(
        r'<form method="post" action="' + REMOVE_URL + r'".*?</form>', html, flags=re.S
    )
    targets = [re.search(r'name="target_id" value="(\d+)"', form).group(1) for form in removals]
    names = [re.search(r'visually-hidden">: ([^<]*)</span>', form).group(1) for form in removals]
    assert sorted(zip(targets, names, strict=True)) == sorted(
        [(str(school.id), "Bilge Koleji"), (str(campus.id), "Deniz Anaokulu, Moda Kampüsü")]
    )
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    assert len(tokens) == 1  # the visitor's own, in every form
    assert f'id="compare-school-{school.id}"' in html and f'id="compare-campus-{campus.id}"' in html
    # The campus's remove form takes it off, as the page says.
    response = post(client, REMOVE_URL, kind="campus", target_id=campus.id, next=FAVORITES_URL)
    assert response.status_code == 303 and kept(session, signed_in) == {("school", school.id)}


def test_htmx_add_answers_with_the_toggle_pressed_in_place(client, session, make, signed_in):
    school = make.school()
    session.commit()

    response = post(
        client, FAVORITES_URL, headers=HTMX, kind="school", target_id=school.id, next="/"
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Redirect" not in response.headers
    assert html.lstrip().startswith("<form") and "<html" not in html
    assert pressed(html) == {f"favorite-school-{school.id}": "true"}
    assert f'hx-post="{REMOVE_URL}"' in html  # pressing it again removes
    assert 'name="next" value="/"' in html
    assert "HX-Request" in response.headers["Vary"]
    html5lib.HTMLParser(strict=True).parseFragment(html)
    assert kept(session, signed_in) == {("school", school.id)}


def test_removing_takes_the_favorite_off_the_page(client, session, make, signed_in):
    school = make.school(name="Bilge Koleji")
    session.commit()
    post(client, FAVORITES_URL, kind="school", target_id=school.id)

    response = post(client, REMOVE_URL, kind="school", target_id=school.id, next=FAVORITES_URL)

    assert response.status_code == 303 and response.headers["Location"] == FAVORITES_URL
    assert kept(session, signed_in) == set()
    assert "Bilge Koleji" not in client.get(FAVORITES_URL).get_data(as_text=True)


def test_htmx_remove_from_a_toggle_answers_with_the_toggle_not_pressed(
    client, session, make, signed_in
):
    school = make.school(campuses=("Kuzey",))
    session.commit()
    campus = school.campuses[0]
    post(client, FAVORITES_URL, kind="campus", target_id=campus.id)

    response = post(client, REMOVE_URL, headers=HTMX, kind="campus", target_id=campus.id)

    assert response.status_code == 200
    assert pressed(response.get_data(as_text=True)) == {f"favorite-campus-{campus.id}": "false"}
    assert kept(session, signed_in) == set()


def test_htmx_remove_on_the_favorites_page_answers_with_the_list_without_it(
    client, session, make, signed_in
):
    gone = make.school(name="Gidecek Koleji")
    stays = make.school(name="Kalacak Koleji")
    session.commit()
    for school in (gone, stays):
        post(client, FAVORITES_URL, kind="school", target_id=school.id)

    response = post(
        client,
        REMOVE_URL,
        headers=HTMX,
        kind="school",
        target_id=gone.id,
        next=FAVORITES_URL,
        fragment="favorite_list",
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="favorite-list"') and "<html" not in html
    assert "Kalacak Koleji" in html and "Gidecek Koleji" not in html
    assert html.count('name="fragment" value="favorite_list"') == 1
    html5lib.HTMLParser(strict=True).parseFragment(html)
    assert kept(session, signed_in) == {("school", stays.id)}


def test_adding_twice_leaves_one_row_and_one_audit_row(client, session, make, signed_in):
    school = make.school()
    session.commit()

    responses = [post(client, FAVORITES_URL, kind="school", target_id=school.id) for _ in "ab"]
    again = post(client, FAVORITES_URL, headers=HTMX, kind="school", target_id=school.id)

    assert [r.status_code for r in responses] == [303, 303]
    assert again.status_code == 200 and pressed(again.get_data(as_text=True)) == {
        f"favorite-school-{school.id}": "true"
    }
    assert kept(session, signed_in) == {("school", school.id)}
    assert audit(session, signed_in) == [("favorite_added", {"kind": "school", "id": school.id})]


def test_the_same_add_made_at_the_same_moment_is_already_there_not_an_error(
    session, make, parent, monkeypatch
):
    # Both requests passed the "already kept?" check; the unique constraint decides.
    school = make.school()
    session.commit()
    monkeypatch.setattr(favorites, "is_favorite", lambda *args: False)

    first = favorites.add_favorite(session, parent, "school", school.id, Origin())
    second = favorites.add_favorite(session, parent, "school", school.id, Origin())
    session.commit()

    assert (first, second) == (True, False)
    assert kept(session, parent) == {("school", school.id)}
    assert [name for name, _ in audit(session, parent)] == ["favorite_added"]


def test_add_and_remove_are_audited_with_what_and_where(client, session, make, signed_in):
    school = make.school(campuses=("Kuzey",))
    session.commit()
    campus = school.campuses[0]

    post(client, FAVORITES_URL, kind="campus", target_id=campus.id)
    post(client, REMOVE_URL, kind="campus", target_id=campus.id)
    post(client, REMOVE_URL, kind="campus", target_id=campus.id)  # nothing left: no row

    assert audit(session, signed_in) == [
        ("favorite_added", {"kind": "campus", "id": campus.id}),
        ("favorite_removed", {"kind": "campus", "id": campus.id}),
    ]
    origins = session.execute(
        select(UserLog.ip_address).where(UserLog.event.like("favorite_%"))
    ).scalars()
    assert set(origins) == {"127.0.0.1"}


# What may be kept


def test_a_target_that_is_unknown_unpublished_or_deleted_is_refused_with_404(
    client, session, make, signed_in
):
    hidden = make.school(is_published=False, campuses=("Gizli Kampüs",))
    deleted = make.school(campuses=("Silinmiş Okulun Kampüsü",))
    deleted.soft_delete()
    open_school = make.school(campuses=("Açık", "Silinmiş Kampüs"))
    open_school.campuses[1].soft_delete()
    session.commit()
    refused = [
        ("school", hidden.id),
        ("school", deleted.id),
        ("school", 10**9),
        ("campus", hidden.campuses[0].id),  # its school is unpublished
        ("campus", deleted.campuses[0].id),  # its school is deleted
        ("campus", open_school.campuses[1].id),
        ("campus", 10**9),
    ]

    for kind, target_id in refused:
        plain = post(client, FAVORITES_URL, kind=kind, target_id=target_id)
        htmx = post(client, FAVORITES_URL, headers=HTMX, kind=kind, target_id=target_id)
        assert (plain.status_code, htmx.status_code) == (404, 404), (kind, target_id)
    assert kept(session, signed_in) == set()
    assert audit(session, signed_in) == []


def test_a_form_that_names_no_kind_or_id_is_a_bad_request(client, session, make, signed_in):
    school = make.school()
    session.commit()

    for fields in (
        {"kind": "teacher", "target_id": school.id},
        {"kind": "school", "target_id": "abc"},
        {"kind": "school", "target_id": "0"},
        {"kind": "school", "target_id": str(2**70)},
        {"target_id": school.id},
        {"kind": "school"},
    ):
        assert post(client, FAVORITES_URL, **fields).status_code == 400, fields
        assert post(client, REMOVE_URL, **fields).status_code == 400, fields
    assert kept(session, signed_in) == set()


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=2)
def test_beyond_the_limit_the_add_is_refused_with_422_and_nothing_is_kept(
    client, session, make, signed_in
):
    first, second, third = (make.school() for _ in range(3))
    session.commit()
    for school in (first, second):
        assert post(client, FAVORITES_URL, kind="school", target_id=school.id).status_code == 303

    htmx = post(client, FAVORITES_URL, headers=HTMX, kind="school", target_id=third.id)
    plain = post(client, FAVORITES_URL, kind="school", target_id=third.id, next="/")
    shown_after = client.get(plain.headers["Location"]).get_data(as_text=True)
    again = post(client, FAVORITES_URL, headers=HTMX, kind="school", target_id=first.id)

    html = htmx.get_data(as_text=True)
    assert htmx.status_code == 422
    assert pressed(html) == {f"favorite-school-{third.id}": "false"}
    assert 'role="alert"' in html and f'aria-describedby="favorite-school-{third.id}-error"' in html
    html5lib.HTMLParser(strict=True).parseFragment(html)
    assert plain.status_code == 303 and plain.headers["Location"] == "/"
    assert 'class="flash flash-error"' in shown_after
    assert again.status_code == 200  # keeping one already kept is harmless at the limit too
    assert kept(session, signed_in) == {("school", first.id), ("school", second.id)}
    assert len(audit(session, signed_in)) == 2


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=1)
def test_a_favorite_of_a_withdrawn_school_does_not_use_up_a_place(client, session, make, signed_in):
    withdrawn, other = make.school(), make.school()
    session.commit()
    post(client, FAVORITES_URL, kind="school", target_id=withdrawn.id)
    session.get(School, withdrawn.id).is_published = False
    session.commit()

    response = post(client, FAVORITES_URL, kind="school", target_id=other.id)

    assert response.status_code == 303
    assert ("school", other.id) in kept(session, signed_in)
    assert withdrawn.name not in client.get(FAVORITES_URL).get_data(as_text=True)


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=None)
def test_without_a_configured_limit_any_number_may_be_kept(client, session, make, signed_in):
    schools = [make.school() for _ in range(3)]
    session.commit()

    for school in schools:
        assert post(client, FAVORITES_URL, kind="school", target_id=school.id).status_code == 303
    assert len(kept(session, signed_in)) == 3


# Whose favorites


def test_other_parents_favorites_are_never_shown_or_removed(client, session, make, signed_in):
    mine, theirs = make.school(name="Benim Okulum"), make.school(name="Onların Okulu")
    other = make.user("parent")
    session.add(UserFavorite(user_id=other.id, favoritable_type="school", favoritable_id=theirs.id))
    session.commit()
    post(client, FAVORITES_URL, kind="school", target_id=mine.id)

    html = client.get(FAVORITES_URL).get_data(as_text=True)
    post(client, REMOVE_URL, kind="school", target_id=theirs.id)

    assert "Benim Okulum" in html and "Onların Okulu" not in html
    assert pressed(client.get("/").get_data(as_text=True)) == {
        f"favorite-school-{mine.id}": "true",
        f"favorite-school-{theirs.id}": "false",
    }
    assert kept(session, other) == {("school", theirs.id)}


def test_a_user_id_in_the_form_is_ignored(client, session, make, signed_in):
    school = make.school()
    other = make.user("parent")
    session.commit()

    post(client, FAVORITES_URL, kind="school", target_id=school.id, user_id=other.id)

    assert kept(session, signed_in) == {("school", school.id)}
    assert kept(session, other) == set()


def test_the_return_address_must_be_on_this_site(client, session, make, signed_in):
    school = make.school()
    session.commit()

    for target in ("https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com"):
        response = post(client, FAVORITES_URL, kind="school", target_id=school.id, next=target)
        assert response.headers["Location"] == FAVORITES_URL, target


def test_anonymous_visitor_is_sent_to_sign_in_and_nothing_is_kept(client, session, make):
    school = make.school()
    session.commit()

    plain = post(client, FAVORITES_URL, kind="school", target_id=school.id)
    htmx = post(client, FAVORITES_URL, headers=HTMX, kind="school", target_id=school.id)
    page = client.get(FAVORITES_URL)

    assert plain.status_code == 303 and plain.headers["Location"].startswith("/auth/login?next=")
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"].startswith("/auth/login?")
    assert page.status_code == 303
    assert session.scalar(select(func.count()).select_from(UserFavorite)) == 0


def test_school_staff_may_not_keep_favorites(client, session, make, auth):
    school = make.school()
    staff = make.customer_user()
    session.commit()
    auth.login(staff.user.email)

    assert post(client, FAVORITES_URL, kind="school", target_id=school.id).status_code == 403
    assert client.get(FAVORITES_URL).status_code == 403
    assert "favorite-school-" not in client.get("/").get_data(as_text=True)


# The toggles on the public pages


def test_school_list_marks_the_parents_favorites_pressed(client, session, make, signed_in):
    kept_school, other = make.school(), make.school()
    session.commit()
    post(client, FAVORITES_URL, kind="school", target_id=kept_school.id)

    html = client.get("/").get_data(as_text=True)
    fragment = client.get("/", headers=HTMX).get_data(as_text=True)

    expected = {f"favorite-school-{kept_school.id}": "true", f"favorite-school-{other.id}": "false"}
    assert pressed(html) == expected
    assert pressed(fragment) == expected
    assert 'name="next" value="/"' in html
    assert_valid_html(html, "/ signed in")


def test_school_page_has_a_toggle_for_the_school_and_each_campus(client, session, make, signed_in):
    school = make.school(campuses=("Kuzey", "Güney"))
    session.commit()
    north, south = sorted(school.campuses, key=lambda c: c.name)[::-1]
    post(client, FAVORITES_URL, kind="campus", target_id=north.id)

    html = client.get(f"/schools/{school.slug}").get_data(as_text=True)

    assert pressed(html) == {
        f"favorite-school-{school.id}": "false",
        f"favorite-campus-{north.id}": "true",
        f"favorite-campus-{south.id}": "false",
    }
    assert f'name="next" value="/schools/{school.slug}"' in html
    assert_valid_html(html, "school page signed in")


def test_anonymous_visitor_gets_a_sign_in_link_instead_of_toggles(client, session, make):
    school = make.school()
    session.commit()

    home = client.get("/?city=İstanbul").get_data(as_text=True)
    page = client.get(f"/schools/{school.slug}").get_data(as_text=True)

    assert pressed(home) == {} and pressed(page) == {}
    assert 'href="/auth/login?next=/?city' in home
    assert f'href="/auth/login?next=/schools/{school.slug}"' in page


# Queries


def make_favorites(session, user_id, school_count, campuses_per_school):
    """Schools, campuses and a favorite of each, inserted in bulk."""
    customer_id = session.scalar(select(School.customer_id).limit(1))
    schools = [
        School(
            customer_id=customer_id,
            name=f"Toplu Okul {n}",
            slug=f"toplu-okul-{n}",
            city="Ankara",
            district="Çankaya",
            campuses=[
                Campus(name=f"Kampüs {c}", city="Ankara", district="Çankaya")
                for c in range(campuses_per_school)
            ],
        )
        for n in range(school_count)
    ]
    session.add_all(schools)
    session.flush()
    rows = [{"favoritable_type": "school", "favoritable_id": s.id} for s in schools]
    rows += [
        {"favoritable_type": "campus", "favoritable_id": c.id} for s in schools for c in s.campuses
    ]
    session.execute(insert(UserFavorite), [{"user_id": user_id, **row} for row in rows])
    session.commit()
    return len(rows)


@pytest.mark.config(FAVORITES_LIMIT_DEFAULT=None)
def test_favorites_page_runs_as_many_queries_for_500_favorites_as_for_1(
    app, client, session, make, signed_in
):
    user_id = signed_in.id
    school = make.school(campuses=("Tek",))
    session.commit()
    post(client, FAVORITES_URL, kind="school", target_id=school.id)
    client.get(FAVORITES_URL)  # anything done once per process is done now

    with counted_statements(app) as one:
        single = client.get(FAVORITES_URL)
    added = make_favorites(session, user_id, school_count=100, campuses_per_school=4)
    with counted_statements(app) as many:
        page = client.get(FAVORITES_URL)

    assert added + 1 == 501
    assert single.status_code == page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('name="fragment" value="favorite_list"') == 20  # one page
    assert re.search(r'<p class="muted">501 ', html)  # and how many in all
    assert len(many) == len(one), many


def test_school_list_runs_as_many_queries_however_many_schools_are_kept(
    app, client, session, make, signed_in
):
    schools = [make.school(campuses=("A", "B")) for _ in range(6)]
    session.commit()
    targets = [(s.id, s.campuses[0].id) for s in schools]
    post(client, FAVORITES_URL, kind="school", target_id=targets[0][0])
    client.get("/")

    with counted_statements(app) as one:
        client.get("/")
    for school_id, campus_id in targets[1:]:
        post(client, FAVORITES_URL, kind="school", target_id=school_id)
        post(client, FAVORITES_URL, kind="campus", target_id=campus_id)
    with counted_statements(app) as all_kept:
        html = client.get("/").get_data(as_text=True)

    assert set(pressed(html).values()) == {"true"}
    assert len(all_kept) == len(one)


def test_account_page_links_to_the_favorites_page(client, signed_in):
    html = client.get("/account/").get_data(as_text=True)

    assert f'href="{FAVORITES_URL}"' in html
    assert_valid_html(html, "/account/")
