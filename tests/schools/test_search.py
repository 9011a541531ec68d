"""The school search's domain side (portal.schools.search): each filter alone and together,
Turkish folding through each database's full-text index, fee ranges, sorting and the
statements it sends. Run on SQLite, PostgreSQL and MariaDB (OKUL_TEST_DATABASE)."""

from decimal import Decimal

import pytest

from portal.clock import istanbul_today
from portal.models import Campus, School
from portal.schools.fees import FeeRange, school_year_of
from portal.schools.search import (
    SchoolSearch,
    cities,
    districts,
    level_words,
    search_schools,
)

THIS_YEAR = school_year_of(istanbul_today())


def found(session, **filters) -> list[str]:
    """The names the search finds, in its order (first page of 100)."""
    filters.setdefault("school_year", THIS_YEAR)
    page = search_schools(session, SchoolSearch(**filters), per_page=100)
    return [result.school.name for result in page.items]


def ranges(session, **filters) -> dict[str, FeeRange | None]:
    filters.setdefault("school_year", THIS_YEAR)
    page = search_schools(session, SchoolSearch(**filters), per_page=100)
    return {result.school.name: result.fee_range for result in page.items}


def add_campus(session, make, school, name, city, district, fees=None, year=None):
    """Another campus of `school`, elsewhere, charging `fees` ({level: amount})."""
    campus = Campus(school_id=school.id, name=name, city=city, district=district)
    session.add(campus)
    session.flush()
    for level, amount in (fees or {}).items():
        make.fee(campus, level, amount, year)
    return campus


@pytest.fixture
def turkish_names(session, make):
    for name in (
        "Yılmaz Koleji",
        "Işık Okulları",
        "Şehir Koleji",
        "Öğretmen Lisesi",
        "Ogretmenler Akademisi",
        "Deniz Koleji",
    ):
        make.school(name=name)
    session.commit()  # MariaDB's FULLTEXT index sees committed rows only


@pytest.mark.parametrize(
    ("typed", "names"),
    [
        ("YILMAZ", ["Yılmaz Koleji"]),
        ("yilmaz", ["Yılmaz Koleji"]),
        ("Yılmaz", ["Yılmaz Koleji"]),
        ("yılmaz", ["Yılmaz Koleji"]),
        ("ISIK", ["Işık Okulları"]),
        ("Işık", ["Işık Okulları"]),
        ("isik", ["Işık Okulları"]),
        ("IŞIK", ["Işık Okulları"]),
        ("sehir", ["Şehir Koleji"]),
        ("Şehir", ["Şehir Koleji"]),
        ("ŞEHİR", ["Şehir Koleji"]),
        ("ogretmen", ["Ogretmenler Akademisi", "Öğretmen Lisesi"]),
        ("Öğretmen", ["Ogretmenler Akademisi", "Öğretmen Lisesi"]),
        ("ÖĞRETMEN", ["Ogretmenler Akademisi", "Öğretmen Lisesi"]),
        ("ogretmen lise", ["Öğretmen Lisesi"]),
    ],
)
def test_a_name_is_found_however_its_turkish_letters_and_case_are_typed(
    session, turkish_names, typed, names
):
    # Sorted here: how "Ö" and a space sort next to "O" is each database's collation's call.
    assert sorted(found(session, q=typed)) == names


def test_every_typed_word_must_start_a_word_of_the_name(session, turkish_names):
    assert sorted(found(session, q="kol")) == ["Deniz Koleji", "Yılmaz Koleji", "Şehir Koleji"]
    assert found(session, q="yil kol") == ["Yılmaz Koleji"]
    assert found(session, q="ilmaz") == []  # the middle of a word is not a prefix
    assert found(session, q="Yılmaz Lisesi") == []


@pytest.mark.parametrize("typed", ['"*) OR 1=1 --', "-", "'", "yılmaz*", "+yilmaz", "(yilmaz)"])
def test_search_syntax_typed_into_the_name_is_plain_text(session, turkish_names, typed):
    expected = [] if not any(ch.isalnum() for ch in typed) or "1" in typed else ["Yılmaz Koleji"]
    assert found(session, q=typed) == expected


def test_a_renamed_school_is_found_by_its_new_name_only(session, make):
    school = make.school(name="Eski Ad Koleji")
    session.commit()
    school.name = "Yeni Çınar Koleji"
    session.commit()

    assert found(session, q="cinar") == ["Yeni Çınar Koleji"]
    assert found(session, q="eski") == []


def test_unpublished_and_deleted_schools_are_never_found(session, make):
    make.school(name="Açık Koleji")
    make.school(name="Gizli Koleji", is_published=False)
    make.school(name="Kapanmış Koleji").soft_delete()
    session.commit()

    assert found(session) == ["Açık Koleji"]
    assert found(session, q="koleji") == ["Açık Koleji"]


def test_city_matches_the_school_or_one_of_its_live_campuses(session, make):
    make.school(name="Ankara Koleji", city="Ankara", district="Çankaya")
    istanbul = make.school(name="İstanbul Koleji", city="İstanbul", district="Kadıköy")
    add_campus(session, make, istanbul, "Ankara Kampüsü", "Ankara", "Yenimahalle")
    closed = make.school(name="Kapalı Kampüslü", city="İzmir", district="Bornova")
    add_campus(session, make, closed, "Eski Ankara", "Ankara", "Çankaya").soft_delete()
    session.commit()

    assert found(session, city="Ankara") == ["Ankara Koleji", "İstanbul Koleji"]
    assert found(session, city="İstanbul") == ["İstanbul Koleji"]
    assert found(session, city="Ankara", district="Çankaya") == ["Ankara Koleji"]
    assert found(session, city="Ankara", district="Yenimahalle") == ["İstanbul Koleji"]
    assert found(session, city="İstanbul", district="Yenimahalle") == []


def test_cities_come_from_schools_and_districts_also_from_live_campuses(session, make):
    make.school(city="Ankara", district="Çankaya")
    school = make.school(city="İstanbul", district="Kadıköy")
    add_campus(session, make, school, "Ataşehir", "İstanbul", "Ataşehir")
    add_campus(session, make, school, "Bursa", "Bursa", "Nilüfer")
    add_campus(session, make, school, "Silinen", "İzmir", "Bornova").soft_delete()
    make.school(city="Konya", district="Meram", is_published=False)
    make.school(city="Çanakkale", district="Merkez")
    make.school(city="Isparta", district="Merkez")
    session.commit()

    # Turkish alphabetical order: Ç after C, İ after I (code-point order would end with them).
    # The schools' own cities: Bursa has only a campus (found all the same, see above).
    assert cities(session) == ["Ankara", "Çanakkale", "Isparta", "İstanbul"]
    assert districts(session, "İstanbul") == ["Ataşehir", "Kadıköy"]
    assert districts(session, "Bursa") == ["Nilüfer"]
    assert districts(session, "Konya") == []


def test_level_filter_keeps_the_schools_that_teach_it(session, make):
    make.school(name="Anaokulu", levels=("preschool",))
    make.school(name="Kolej", levels=("primary", "middle", "high"))
    session.commit()

    assert found(session, level="preschool") == ["Anaokulu"]
    assert found(session, level="middle") == ["Kolej"]
    assert found(session) == ["Anaokulu", "Kolej"]


def test_the_fee_of_the_chosen_level_must_be_in_the_range(session, make):
    make.school(name="Ucuz", levels=("primary", "high"), fees={"primary": 90000, "high": 400000})
    make.school(name="Orta", levels=("primary",), fees={"primary": 200000})
    make.school(name="Pahalı", levels=("primary",), fees={"primary": 350000})
    make.school(name="Ücretsiz Liste", levels=("primary",), fees={})
    session.commit()

    assert found(session, level="primary", fee_min=Decimal(150000), fee_max=Decimal(300000)) == [
        "Orta"
    ]
    assert found(session, level="high", fee_min=Decimal(300000)) == ["Ucuz"]
    assert found(session, level="primary", fee_max=Decimal(100000)) == ["Ucuz"]
    # Any level: one fee of any level in the range is enough.
    assert found(session, fee_min=Decimal(380000)) == ["Ucuz"]
    # Both ends count as inside.
    assert found(session, fee_min=Decimal(200000), fee_max=Decimal(200000)) == ["Orta"]


def test_the_fee_is_of_the_chosen_school_year(session, make):
    school = make.school(name="Zamlı", levels=("primary",), fees={"primary": 200000})
    make.fee(school.campuses[0], "primary", 260000, THIS_YEAR + 1)
    session.commit()

    assert found(session, fee_min=Decimal(250000)) == []
    assert found(session, fee_min=Decimal(250000), school_year=THIS_YEAR + 1) == ["Zamlı"]
    assert ranges(session, school_year=THIS_YEAR + 1) == {
        "Zamlı": FeeRange(Decimal(260000), Decimal(260000))
    }


def test_only_fees_of_live_campuses_in_the_chosen_place_count(session, make):
    school = make.school(
        name="Çok Kampüslü",
        city="İstanbul",
        district="Kadıköy",
        levels=("primary",),
        fees={"primary": 300000},
    )
    add_campus(session, make, school, "Ataşehir", "İstanbul", "Ataşehir", {"primary": 180000})
    add_campus(session, make, school, "Ankara", "Ankara", "Çankaya", {"primary": 120000})
    gone = add_campus(session, make, school, "Kapanan", "İstanbul", "Kadıköy", {"primary": 150000})
    gone.soft_delete()
    session.commit()

    budget = {"fee_min": Decimal(100000), "fee_max": Decimal(200000)}
    assert found(session, **budget) == ["Çok Kampüslü"]
    assert found(session, city="İstanbul", **budget) == ["Çok Kampüslü"]  # Ataşehir's 180,000
    assert found(session, city="İstanbul", district="Kadıköy", **budget) == []  # not the closed
    assert found(session, city="Ankara", district="Çankaya", **budget) == ["Çok Kampüslü"]
    # The card's range is the range of the rows that matched.
    assert ranges(session) == {"Çok Kampüslü": FeeRange(Decimal(120000), Decimal(300000))}
    assert ranges(session, city="İstanbul") == {
        "Çok Kampüslü": FeeRange(Decimal(180000), Decimal(300000))
    }
    assert ranges(session, city="İstanbul", **budget) == {
        "Çok Kampüslü": FeeRange(Decimal(180000), Decimal(180000))
    }


def test_the_card_range_is_of_the_chosen_level_and_missing_without_a_fee(session, make):
    make.school(name="Kolej", levels=("primary", "high"), fees={"primary": 100000, "high": 250000})
    make.school(name="Ücretsiz", levels=("primary",), fees={})
    session.commit()

    assert ranges(session) == {
        "Kolej": FeeRange(Decimal(100000), Decimal(250000)),
        "Ücretsiz": None,
    }
    assert ranges(session, level="high") == {"Kolej": FeeRange(Decimal(250000), Decimal(250000))}


def test_sorting_by_fee_puts_schools_without_a_matching_fee_last(session, make):
    make.school(name="A Orta", levels=("primary", "high"), fees={"primary": 200000, "high": 500000})
    make.school(name="B Ucuz", levels=("primary",), fees={"primary": 100000})
    make.school(name="C Pahalı", levels=("primary",), fees={"primary": 300000})
    make.school(name="D Ücretsiz", levels=("primary",), fees={})
    make.school(name="E Ucuz da", levels=("primary",), fees={"primary": 100000})
    session.commit()

    assert found(session) == ["A Orta", "B Ucuz", "C Pahalı", "D Ücretsiz", "E Ucuz da"]
    # Ascending by the lowest matching fee, namesakes in fee by name.
    assert found(session, sort="fee_asc") == [
        "B Ucuz",
        "E Ucuz da",
        "A Orta",
        "C Pahalı",
        "D Ücretsiz",
    ]
    # Descending by the highest: A's high school (500,000) before C's 300,000.
    assert found(session, sort="fee_desc") == [
        "A Orta",
        "C Pahalı",
        "B Ucuz",
        "E Ucuz da",
        "D Ücretsiz",
    ]
    assert found(session, sort="fee_desc", level="primary") == [
        "C Pahalı",
        "A Orta",
        "B Ucuz",
        "E Ucuz da",
        "D Ücretsiz",
    ]


def test_all_filters_together(session, make):
    wanted = make.school(
        name="Kadıköy Işık İlkokulu",
        city="İstanbul",
        district="Kadıköy",
        levels=("primary", "middle"),
        fees={"primary": 220000, "middle": 260000},
    )
    make.school(  # wrong level
        name="Kadıköy Işık Lisesi",
        city="İstanbul",
        district="Kadıköy",
        levels=("high",),
        fees={"high": 220000},
    )
    make.school(  # wrong district
        name="Beşiktaş Işık İlkokulu",
        city="İstanbul",
        district="Beşiktaş",
        levels=("primary",),
        fees={"primary": 220000},
    )
    make.school(  # too expensive
        name="Kadıköy Işık Koleji",
        city="İstanbul",
        district="Kadıköy",
        levels=("primary",),
        fees={"primary": 420000},
    )
    make.school(  # wrong name
        name="Kadıköy Deniz İlkokulu",
        city="İstanbul",
        district="Kadıköy",
        levels=("primary",),
        fees={"primary": 220000},
    )
    session.commit()

    search = SchoolSearch(
        school_year=THIS_YEAR,
        q="ISIK",
        city="İstanbul",
        district="Kadıköy",
        level="primary",
        fee_min=Decimal(150000),
        fee_max=Decimal(300000),
        sort="fee_asc",
    )
    page = search_schools(session, search)

    assert page.total == 1
    (result,) = page.items
    assert result.school.id == wanted.id
    assert result.campus_count == 1
    assert result.fee_range == FeeRange(Decimal(220000), Decimal(220000))


def test_a_page_reads_levels_with_its_rows_and_refuses_every_lazy_load(session, make):
    school = make.school(name="Okul", campuses=("A", "B", "Silinecek"), levels=("high",))
    school.campuses[2].soft_delete()
    session.commit()
    session.expunge_all()  # nothing loaded beforehand: only what the query loads

    page = search_schools(session, SchoolSearch(school_year=THIS_YEAR, q="okul", level="high"))

    (only,) = page.items
    assert (only.school.name, only.campus_count, only.levels) == ("Okul", 2, ["high"])
    # The card's school is its columns, not a School: nothing on it can load one by one.
    assert not isinstance(only.school, School)
    with pytest.raises(AttributeError):
        len(only.school.level_rows)  # the levels come with the row, not one by one
    with pytest.raises(AttributeError):
        len(only.school.campuses)  # an N+1 fails here rather than running a query per school


@pytest.mark.parametrize(
    ("typed", "name", "level"),
    [
        ("ilkokul", "", "primary"),
        ("İLKOKULLARI", "", "primary"),
        ("Kadıköy anaokulu", "Kadıköy", "preschool"),
        ("Bilge Fen Lisesi", "Bilge Fen", "high"),
        ("ortaokul lise", "", "middle"),
        ("Bilge", "Bilge", None),
    ],
)
def test_words_naming_a_level_are_read_as_the_level(typed, name, level):
    assert level_words(typed) == (name, level)


def test_typing_ilkokul_finds_the_schools_teaching_primary_whatever_their_names(
    client, session, make
):
    make.school(name="Deniz Koleji", levels=("primary", "middle"))
    make.school(name="Güneş Lisesi", levels=("high",))
    make.school(name="Yıldız Anaokulu", levels=("preschool",))
    session.commit()

    html = client.get("/?q=ilkokul").get_data(as_text=True)

    assert "Deniz Koleji" in html
    assert "Güneş Lisesi" not in html and "Yıldız Anaokulu" not in html
    # "Level: Primary school, read from the words you typed." in the default language
    assert "Kademe: İlkokul (yazdığınız sözcüklerden anlaşıldı)" in html
