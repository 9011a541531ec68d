"""What the search's caches (portal/caching.py) let a visitor see: lists and counts that lag
the database by at most SEARCH_CACHE_SECONDS, and kept fragments that never show old facts."""

import re
from decimal import Decimal

import pytest

from portal import caching
from tests.helpers import counted_statements, csrf_token


class Clock:
    """A monotonic clock a test moves on by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app):
    clock = Clock()
    caching.init_app(app, timer=clock)  # fresh caches that read this clock
    return clock


def city_options(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page[page.index('id="city"') : page.index("</select>", page.index('id="city"'))]


@pytest.mark.config(SEARCH_CACHE_SECONDS=60)
def test_a_new_citys_school_is_offered_once_the_cached_list_expires(client, make, session, clock):
    make.school(name="Ankara Koleji", city="Ankara")
    session.commit()
    assert "Ankara" in city_options(client)

    make.school(name="Bursa Koleji", city="Bursa")
    session.commit()
    assert "Bursa" not in city_options(client)  # the list of a minute ago
    # A search not made before is answered afresh: the new school is found at once.
    assert "Bursa Koleji" in client.get("/?q=bursa").get_data(as_text=True)

    clock.now += 61
    assert "Bursa" in city_options(client)


@pytest.mark.config(SEARCH_CACHE_SECONDS=60)
def test_the_result_count_is_kept_for_its_search_only(client, make, session, clock):
    make.school(name="Ankara Koleji", city="Ankara")
    make.school(name="Bursa Koleji", city="Bursa")
    session.commit()
    assert "2 okul" in client.get("/").get_data(as_text=True)
    assert "1 okul" in client.get("/?city=Ankara").get_data(as_text=True)

    make.school(name="Ankara Lisesi", city="Ankara")
    session.commit()
    assert "1 okul" in client.get("/?city=Ankara").get_data(as_text=True)
    assert "1 okul" not in client.get("/?city=Ankara&level=primary").get_data(as_text=True)

    clock.now += 61
    assert "2 okul" in client.get("/?city=Ankara").get_data(as_text=True)


def card_names(client, address: str) -> list[str]:
    page = client.get(address).get_data(as_text=True)
    return re.findall(r'<h3><a href="[^"]*">([^<]+)</a></h3>', page)


@pytest.mark.config(SEARCH_CACHE_SECONDS=60)
def test_which_schools_make_a_page_is_kept_but_what_it_shows_of_them_is_not(
    client, make, session, clock
):
    ankara = make.school(name="Ankara Koleji", city="Ankara")
    make.school(name="Ankara Lisesi", city="Ankara")
    session.commit()
    assert card_names(client, "/?city=Ankara") == ["Ankara Koleji", "Ankara Lisesi"]

    make.school(name="Ankara Akademi", city="Ankara")  # starts matching
    ankara.name = "Ankara Bilge Koleji"  # changes what its card shows
    session.commit()
    # The kept page: the same schools, each as it is now.
    assert card_names(client, "/?city=Ankara") == ["Ankara Bilge Koleji", "Ankara Lisesi"]

    ankara.is_published = False  # stops matching: gone at once
    session.commit()
    assert card_names(client, "/?city=Ankara") == ["Ankara Lisesi"]

    clock.now += 61
    assert card_names(client, "/?city=Ankara") == ["Ankara Akademi", "Ankara Lisesi"]


@pytest.mark.config(SEARCH_CACHE_SECONDS=60)
def test_a_school_whose_level_or_fee_stops_matching_leaves_a_kept_page_at_once(
    client, make, session, clock
):
    # The rows statement checks the name and place; the level and the fee are checked on
    # what the card read (search._still_matches).
    fees = {"primary": Decimal(200000), "middle": Decimal(250000)}
    pricier = make.school(
        name="Ankara Koleji", city="Ankara", levels=("primary", "middle"), fees=fees
    )
    no_primary = make.school(
        name="Ankara Lisesi", city="Ankara", levels=("primary", "middle"), fees=fees
    )
    make.school(name="Ankara Okulu", city="Ankara", levels=("primary", "middle"), fees=fees)
    session.commit()
    address = "/?city=Ankara&level=primary&fee_max=300000"
    assert card_names(client, address) == ["Ankara Koleji", "Ankara Lisesi", "Ankara Okulu"]

    primary = next(fee for fee in pricier.campuses[0].fees if fee.level == "primary")
    primary.yearly_fee = Decimal(350000)  # its only primary fee is out of the range now
    no_primary.level_rows = [row for row in no_primary.level_rows if row.level != "primary"]
    session.commit()
    assert card_names(client, address) == ["Ankara Okulu"]
    # Without the level, its middle-school fee is still in the range; the kept count for
    # this address lags (it is a different search, counted afresh).
    assert card_names(client, "/?city=Ankara&fee_max=300000") == [
        "Ankara Koleji",
        "Ankara Lisesi",
        "Ankara Okulu",
    ]


@pytest.mark.config(SEARCH_CACHE_SECONDS=60)
def test_a_kept_page_skips_choosing_its_schools(app, client, make, session, clock):
    for number in range(3):
        make.school(name=f"Ankara Koleji {number}", city="Ankara")
    session.commit()
    address = "/?city=Ankara&level=primary&fee_max=500000"
    with counted_statements(app) as first:
        client.get(address)
    with counted_statements(app) as kept:
        assert len(card_names(client, address)) == 3

    # Kept: the cities, the districts, the count, and now which schools make the page (the
    # statement ordering every match by name); the page's schools are read by their ids.
    assert len(kept) == len(first) - 4
    assert any("ORDER BY schools.name" in statement for statement in first)
    assert not any("ORDER BY schools.name" in statement for statement in kept)


def test_without_a_lifetime_nothing_is_kept(client, make, session):
    # The test settings (and development): SEARCH_CACHE_SECONDS = 0.
    make.school(name="Ankara Koleji", city="Ankara")
    session.commit()
    client.get("/")
    make.school(name="Bursa Koleji", city="Bursa")
    session.commit()
    assert "Bursa" in city_options(client)
    assert "2 okul" in client.get("/").get_data(as_text=True)


def test_a_kept_card_shows_a_changed_fee_at_once_and_in_each_language(client, make, session):
    school = make.school(name="Ankara Koleji", city="Ankara", fees={"primary": Decimal(100000)})
    session.commit()
    assert "100.000,00\u00a0₺" in client.get("/").get_data(as_text=True)

    school.campuses[0].fees[0].yearly_fee = Decimal(120000)
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "120.000,00\u00a0₺" in page and "100.000,00\u00a0₺" not in page

    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})
    page = client.get("/").get_data(as_text=True)
    assert "120,000.00\u00a0₺" in page and "Yearly fee" in page


@pytest.fixture
def renders(app) -> list:
    """One item each time a kept body is rendered: the bodies call count_render()."""
    counted = []
    app.add_template_global(lambda: counted.append(1) or "", "count_render")
    return counted


def test_a_stamp_is_rendered_once_per_key_and_each_use_escapes_its_own_values(app, renders):
    template = app.jinja_env.from_string(
        '{% call(hole) stamped("test-stamp", kind, values=(name, id)) %}{{ count_render() }}'
        '<b id="x-{{ hole(1) }}" title="{{ hole(0) }}">{{ kind }}: {{ hole(0) }}</b>{% endcall %}'
    )
    with app.test_request_context():
        first = template.render(kind="okul", name='Ali & "Veli" <Koleji>', id=7)
        second = template.render(kind="okul", name="Işık Koleji", id=8)
        other_kind = template.render(kind="kampüs", name="Işık Koleji", id=8)

    assert first == (
        '<b id="x-7" title="Ali &amp; &#34;Veli&#34; &lt;Koleji&gt;">'
        "okul: Ali &amp; &#34;Veli&#34; &lt;Koleji&gt;</b>"
    )
    assert second == '<b id="x-8" title="Işık Koleji">okul: Işık Koleji</b>'
    assert other_kind == '<b id="x-8" title="Işık Koleji">kampüs: Işık Koleji</b>'
    assert len(renders) == 2  # once for "okul", once for "kampüs"


def test_a_kept_fragments_key_takes_lists_as_tuples_and_refuses_an_undefined_part(app, renders):
    template = app.jinja_env.from_string(
        '{% call cached_html("test-kept", days) %}{{ count_render() }}{{ days | join(",") }}'
        "{% endcall %}"
    )
    with app.test_request_context():
        assert template.render(days=[1, 2]) == "1,2"
        assert template.render(days=(1, 2)) == "1,2"  # the same entry as the list's
        assert template.render(days=[1, 3]) == "1,3"
        assert len(renders) == 2
        # A name the template does not have would key every page's fragment alike.
        with pytest.raises(ValueError, match="undefined"):
            template.render()
        with pytest.raises(ValueError, match="undefined"):
            app.jinja_env.from_string(
                '{% call(hole) stamped("test-stamp", missing, values=()) %}x{% endcall %}'
            ).render()


def test_each_cards_toggles_name_their_own_school_and_carry_the_visitors_token(
    client, make, session, signed_in
):
    plain = make.school(name="Işık Koleji", city="Ankara")
    odd = make.school(name='Ali & "Veli" <Koleji>', city="Ankara")
    session.commit()

    page = client.get("/").get_data(as_text=True)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert len(tokens) == 1  # the page's forms, the toggles among them, carry the session's
    token = tokens.pop()
    toggle_forms = re.findall(
        r'<form [^>]*class="(?:favorite|compare)-toggle"[^>]*>\s*<input[^>]*>', page
    )
    assert len(toggle_forms) == 4 and all(token in form for form in toggle_forms)
    for toggle in ("favorite", "compare"):
        assert f'id="{toggle}-school-{plain.id}"' in page
        assert f'id="{toggle}-school-{odd.id}"' in page
    assert page.count(": Ali &amp; &#34;Veli&#34; &lt;Koleji&gt;</span>") == 2
    assert page.count(": Işık Koleji</span>") == 2

    # The stamped form works as the form it stands for: keep the odd one as a favorite.
    answer = client.post(
        "/account/favorites",
        data={"kind": "school", "target_id": odd.id, "next": "/", "csrf_token": token},
    )
    assert answer.status_code == 303
    page = client.get("/").get_data(as_text=True)
    pressed = page[page.index(f'id="favorite-school-{odd.id}"') :][:60]
    not_pressed = page[page.index(f'id="favorite-school-{plain.id}"') :][:60]
    assert 'aria-pressed="true"' in pressed and 'aria-pressed="false"' in not_pressed


@pytest.mark.config(SEARCH_CACHE_SECONDS=60)
def test_the_plans_table_is_kept_whole_for_its_lifetime(app, client, make, session, clock):
    plan = make.plan(name="Aile", features={"comparison": 3})
    make.price(plan, amount="100.00")
    make.price(plan, billing_cycle="yearly", amount="1000.00")
    session.commit()
    with counted_statements(app) as first:
        page = client.get("/plans").get_data(as_text=True)
    assert "Aile" in page and "100,00" in page and "comparison" in page

    plan.name = "Aile Artı"
    session.commit()
    with counted_statements(app) as kept:
        again = client.get("/plans").get_data(as_text=True)
    # The kept table renders whole (names, prices, the features under their category), with
    # the plans, prices and features read once: three statements fewer.
    assert again == page
    assert len(kept) == len(first) - 3
    # Each cycle is its own entry; a cycle no plan offers is the default one.
    assert "1.000,00" in client.get("/plans?cycle=yearly").get_data(as_text=True)
    nonsense = client.get("/plans?cycle=nonsense").get_data(as_text=True)
    assert 'value="monthly" checked' in nonsense and "100,00" in nonsense

    clock.now += 61
    assert "Aile Artı" in client.get("/plans").get_data(as_text=True)
