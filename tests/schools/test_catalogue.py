"""The public school list and school pages."""

from decimal import Decimal

from sqlalchemy import select

from portal.models import School, UserFavorite
from portal.schools.fees import FeeRange
from tests.helpers import HTMX


def test_home_lists_published_schools_with_levels_and_fees(client, session, make):
    make.school(name="Açık Koleji", levels=("preschool", "high"))
    make.school(name="Gizli Koleji", is_published=False)
    session.commit()

    html = client.get("/").get_data(as_text=True)
    assert "Açık Koleji" in html and "Anaokulu, Lise" in html
    assert "100.000,00\u00a0₺" in html
    assert "Gizli Koleji" not in html


def test_city_filter_narrows_the_list(client, session, make):
    make.school(name="Ankara Koleji", city="Ankara")
    make.school(name="İzmir Koleji", city="İzmir")
    session.commit()

    html = client.get("/?city=Ankara").get_data(as_text=True)
    assert "Ankara Koleji" in html and "İzmir Koleji" not in html
    unknown = client.get("/?city=Atlantis").get_data(as_text=True)
    assert "Ankara Koleji" in unknown and "İzmir Koleji" in unknown


def test_htmx_filter_gets_only_the_list_fragment(client, session, make):
    make.school(name="Ankara Koleji", city="Ankara")
    session.commit()

    response = client.get("/?city=Ankara", headers=HTMX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="school-list"')
    assert "<html" not in html and "Ankara Koleji" in html
    assert {"HX-Request", "HX-Request-Type", "HX-History-Restore-Request"} <= set(
        response.headers["Vary"].replace(" ", "").split(",")
    )


def test_boosted_or_history_restore_requests_get_the_whole_page(client, session, make):
    make.school()
    session.commit()

    full = client.get("/", headers={"HX-Request": "true", "HX-Request-Type": "full"})
    restore = client.get("/", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert "<html" in restore.get_data(as_text=True)


def test_school_page_shows_its_campuses(client, session, make):
    school = make.school(name="Kampüslü Okul", campuses=("Kuzey Kampüsü", "Güney Kampüsü"))
    session.commit()

    html = client.get(f"/schools/{school.slug}").get_data(as_text=True)
    assert "Kampüslü Okul" in html and "Kuzey Kampüsü" in html and "Güney Kampüsü" in html


def test_unpublished_deleted_or_unknown_school_is_404(client, session, make):
    hidden = make.school(is_published=False)
    deleted = make.school()
    deleted.soft_delete()
    session.commit()

    for slug in (hidden.slug, deleted.slug, "no-such-school"):
        assert client.get(f"/schools/{slug}").status_code == 404


def test_deleted_or_unpublished_schools_and_their_cities_are_not_listed(client, session, make):
    make.school(name="Açık Koleji", city="Ankara")
    make.school(name="Gizli Koleji", city="Bursa", is_published=False)
    make.school(name="Kapanmış Koleji", city="Konya").soft_delete()
    session.commit()

    html = client.get("/").get_data(as_text=True)
    assert "Açık Koleji" in html
    assert "Gizli Koleji" not in html and "Kapanmış Koleji" not in html
    assert 'value="Ankara"' in html
    assert 'value="Bursa"' not in html and 'value="Konya"' not in html


def test_is_public_says_the_same_in_python_and_in_sql(session, make):
    public = make.school()
    unpublished = make.school(is_published=False)
    deleted = make.school()
    deleted.soft_delete()
    session.commit()

    # include_deleted: the rule must hold even where the soft-delete filter is switched off.
    in_sql = set(
        session.scalars(
            select(School.id).where(School.is_public).execution_options(include_deleted=True)
        )
    )
    assert in_sql == {public.id}
    assert [s.is_public for s in (public, unpublished, deleted)] == [True, False, False]


def test_the_list_the_school_page_and_the_favorites_show_the_same_facts(
    app, client, session, make, signed_in
):
    school = make.school(name="Bilgi Koleji", levels=("primary", "middle"), campuses=("A", "B"))
    session.add(
        UserFavorite(user_id=signed_in.id, favoritable_type="school", favoritable_id=school.id)
    )
    session.commit()
    with app.test_request_context():
        school_facts = app.jinja_env.get_template("schools/_facts.html").module.school_facts
        facts = str(school_facts(school))
        # The list's card: the campuses counted, and the range of this year's fee rows (the
        # factory's 100,000 for primary and 150,000 for middle school at both campuses).
        facts_with_campuses = str(
            school_facts(
                school,
                campus_count=len(school.campuses),
                fee_range=FeeRange(Decimal(100000), Decimal(150000)),
            )
        )

    assert "İlkokul, Ortaokul" in facts and "2 kampüs" in facts_with_campuses
    assert "100.000,00\u00a0₺ – 150.000,00\u00a0₺" in facts_with_campuses
    assert facts_with_campuses in client.get("/").get_data(as_text=True)
    assert facts in client.get(f"/schools/{school.slug}").get_data(as_text=True)
    assert facts in client.get("/account/favorites").get_data(as_text=True)
