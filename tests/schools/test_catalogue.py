"""The public school list and school pages."""

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
