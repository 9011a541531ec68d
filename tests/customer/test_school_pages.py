"""The schools' own pages: staff granted a school edit its description, contact, levels and
each campus's fees; campus-only members edit only their campuses; every change is audited; the
plan's listed-schools limit is enforced, and a downgrade below it is announced before it is
confirmed."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from portal.access.permissions import Role
from portal.audit import NO_ORIGIN
from portal.clock import istanbul_today
from portal.customer import school_pages
from portal.models import School, SchoolFee, SchoolLevel, UserLog
from portal.schools.fees import school_year_of
from tests.helpers import HTMX, counted_statements, csrf_token, in_parallel
from tests.test_html import assert_valid_html

THIS_YEAR = school_year_of(istanbul_today())
NEXT_YEAR = THIS_YEAR + 1


@pytest.fixture
def company(make, session):
    return make.customer(name="Ata Eğitim")


@pytest.fixture
def school(make, session, company):
    """A listed school of two campuses (listed by name: Kadıköy, then Moda), teaching primary
    (100.000 at both campuses this year)."""
    school = make.school(
        customer=company, name="Ata Koleji", campuses=("Moda", "Kadıköy"), levels=("primary",)
    )
    session.commit()
    return school


def member(make, session, company, role=Role.ADMIN, **values):
    staff = make.customer_user(customer=company, role=role, **values)
    staff.user.locale = "en"
    return staff


@pytest.fixture
def admin(make, session, auth, company, school):
    """The company's admin, granted the whole school, signed in, reading in English."""
    staff = member(make, session, company)
    make.grant(staff, school)
    session.commit()
    auth.login(staff.user.email)
    return staff


@pytest.fixture
def campus_manager(make, session, auth, company, school):
    """A school manager granted only the first campus, signed in."""
    staff = member(make, session, company, role=Role.MANAGER)
    make.grant(staff, school, school.campuses[0])
    session.commit()
    auth.login(staff.user.email)
    return staff


def edit_url(school) -> str:
    return f"/customer/schools/{school.slug}"


def fees_form(client, campus, **cells):
    data = {
        "campus_id": str(campus.id),
        "school_year": str(THIS_YEAR),
        "csrf_token": csrf_token(client),
    }
    data.update(cells)
    return data


def details_form(client, **values):
    data = {
        "description": "Bahçeli, İngilizce ağırlıklı bir okul.",
        "address_line": "Moda Cad. No: 5, Kadıköy",
        "phone": "0216 444 00 00",
        "email": "bilgi@ata.example",
        "website": "ata.example",
        "levels": ["primary"],
        "csrf_token": csrf_token(client),
    }
    data.update(values)
    return data


def fees(session, campus) -> dict:
    session.commit()  # a fresh transaction: MariaDB's REPEATABLE READ would show a snapshot
    return {
        (fee.level, fee.school_year): fee.yearly_fee
        for fee in session.scalars(select(SchoolFee).where(SchoolFee.campus_id == campus.id))
    }


def events(session, event) -> list[UserLog]:
    session.commit()
    return list(session.scalars(select(UserLog).where(UserLog.event == event)))


# --- Editing, and the public page showing it ----------------------------------------------


def test_admin_edits_the_schools_page_and_the_public_page_shows_it(client, session, admin, school):
    response = client.post(edit_url(school), data=details_form(client))

    assert response.status_code == 303
    session.expire_all()
    stored = session.get(School, school.id)
    assert stored.description == "Bahçeli, İngilizce ağırlıklı bir okul."
    assert stored.phone == "+902164440000"
    assert stored.email == "bilgi@ata.example"
    assert stored.website == "https://ata.example"
    assert stored.name == "Ata Koleji" and stored.name_folded == "ata koleji"
    (row,) = events(session, "school_page_changed")
    assert row.user_id == admin.user_id
    assert row.data["school_id"] == school.id
    assert set(row.data["fields"]) == {"description", "address_line", "phone", "email", "website"}
    public = client.get(f"/schools/{school.slug}").get_data(as_text=True)
    assert "Bahçeli, İngilizce ağırlıklı bir okul." in public
    assert 'href="https://ata.example"' in public


def test_admin_sets_a_campus_fees_and_the_public_page_shows_them(client, session, admin, school):
    moda = school.campuses[0]
    response = client.post(
        "/customer/schools/" + school.slug + "/fees",
        data=fees_form(
            client, moda, primary_this="275.000", primary_next="312.500,50", middle_next="330000"
        ),
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{edit_url(school)}#campus-{moda.id}")
    assert fees(session, moda) == {
        ("primary", THIS_YEAR): Decimal("275000.00"),
        ("primary", NEXT_YEAR): Decimal("312500.50"),
        ("middle", NEXT_YEAR): Decimal("330000.00"),
    }
    # The other campus is untouched.
    assert fees(session, school.campuses[1]) == {("primary", THIS_YEAR): Decimal("100000.00")}
    # Pricing a level the school did not list adds it, so the search's level filter finds it.
    assert set(
        session.scalars(select(SchoolLevel.level).where(SchoolLevel.school_id == school.id))
    ) == {
        "primary",
        "middle",
    }
    (row,) = events(session, "school_fees_changed")
    assert row.user_id == admin.user_id
    assert row.data["campus_id"] == moda.id
    assert {
        "level": "primary",
        "school_year": THIS_YEAR,
        "before": "100000.00",
        "after": "275000.00",
    } in row.data["changes"]
    assert len(row.data["changes"]) == 3
    public = client.get(f"/schools/{school.slug}").get_data(as_text=True)
    assert "275,000.00\u00a0₺" in public and "312,500.50\u00a0₺" in public


def test_an_emptied_fee_is_no_longer_published(client, session, admin, school):
    moda = school.campuses[0]

    response = client.post(
        f"{edit_url(school)}/fees", data=fees_form(client, moda, primary_this="", high_this="1")
    )

    assert response.status_code == 303
    assert fees(session, moda) == {("high", THIS_YEAR): Decimal("1.00")}
    (row,) = events(session, "school_fees_changed")
    assert {
        "level": "primary",
        "school_year": THIS_YEAR,
        "before": "100000.00",
        "after": None,
    } in row.data["changes"]


def test_saving_the_same_fees_writes_nothing(client, session, admin, school):
    moda = school.campuses[0]

    response = client.post(
        f"{edit_url(school)}/fees", data=fees_form(client, moda, primary_this="100.000")
    )

    assert response.status_code == 303
    assert events(session, "school_fees_changed") == []


def test_htmx_saves_a_campus_in_place(client, session, admin, school):
    moda = school.campuses[0]

    response = client.post(
        f"{edit_url(school)}/fees",
        data=fees_form(client, moda, primary_this="120.000"),
        headers=HTMX,
    )
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert html.lstrip().startswith(f'<section id="campus-{moda.id}"')
    assert "Fees saved." in html
    assert 'value="120000"' in html
    assert fees(session, moda)[("primary", THIS_YEAR)] == Decimal("120000.00")


# --- Bad input: a message next to the field, nothing saved ----------------------------------


@pytest.mark.parametrize(
    ("cell", "typed", "message"),
    [
        ("primary_this", "-5.000", "The amount cannot be negative."),
        ("primary_next", "beş yüz", "Enter an amount in lira"),
        ("middle_this", "0", "A fee is more than zero"),
        ("high_next", "99999999999", "The amount is too large."),
    ],
)
def test_a_bad_fee_is_refused_next_to_its_field_and_nothing_is_saved(
    client, session, admin, school, cell, typed, message
):
    moda = school.campuses[0]
    data = fees_form(client, moda, preschool_this="200.000", **{cell: typed})

    plain = client.post(f"{edit_url(school)}/fees", data=data)
    fragment = client.post(f"{edit_url(school)}/fees", data=data, headers=HTMX)

    assert plain.status_code == fragment.status_code == 422
    for response in (plain, fragment):
        html = response.get_data(as_text=True)
        error = re.search(rf'<p class="error" id="campus-{moda.id}-{cell}-error">([^<]*)</p>', html)
        assert error and message in error.group(1)
        assert f'aria-describedby="campus-{moda.id}-{cell}-error"' in html
        assert f'value="{typed}"' in html  # what was typed comes back, to be corrected
    assert fragment.get_data(as_text=True).lstrip().startswith(f'<section id="campus-{moda.id}"')
    assert_valid_html(plain.get_data(as_text=True), "school editing page with errors")
    assert fees(session, moda) == {("primary", THIS_YEAR): Decimal("100000.00")}
    assert events(session, "school_fees_changed") == []


def test_the_kept_details_form_shows_each_saved_change_at_once(client, session, admin, school):
    def details() -> str:
        page = client.get(edit_url(school)).get_data(as_text=True)
        start = page.index('<form id="school-details-form"')
        form = page[start : page.index("</form>", start)]
        # The visitor's CSRF token is signed with the time, so it changes from one second to
        # the next: the form is the same when all else is.
        return re.sub(r'(name="csrf_token" [^>]*value=")[^"]*"', r'\1"', form)

    first = details()
    assert details() == first  # the same school, the same form (the second one kept)

    client.post(edit_url(school), data=details_form(client))
    after = details()
    assert "Bahçeli, İngilizce ağırlıklı bir okul." in after
    assert 'value="bilgi@ata.example"' in after
    stored = session.get(School, school.id)
    stored.phone = "+902165550000"  # changed elsewhere (an operator, another tab)
    session.commit()
    assert 'value="+902165550000"' in details()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Invalid email address."),
        ({"phone": "+44 20 7946 0000"}, "phone", "Enter a Turkish number"),
        ({"website": "javascript:alert(1)"}, "website", "Enter a web address"),
        ({"website": "https://"}, "website", "Enter a web address"),
        ({"levels": ["university"]}, "levels", "is not a valid choice"),
    ],
)
def test_bad_school_details_are_refused_next_to_the_field(
    client, session, admin, school, values, field, message
):
    before = session.get(School, school.id).description
    data = details_form(client, description="Kaydedilmemeli", **values)

    response = client.post(edit_url(school), data=data, headers=HTMX)
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="school-details-form"')
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert error and message in error.group(1), html
    assert "Kaydedilmemeli" in html  # the rest of what was typed is kept on the form
    session.expire_all()
    assert session.get(School, school.id).description == before
    assert events(session, "school_page_changed") == []


def test_a_level_still_priced_cannot_be_taken_off(client, session, admin, school):
    response = client.post(edit_url(school), data=details_form(client, levels=["middle"]))

    assert response.status_code == 422
    assert "Campuses still publish fees for: Primary school." in response.get_data(as_text=True)
    assert school_pages.school_levels(session, school.id) == ["primary"]
    session.expire_all()
    assert session.get(School, school.id).description is None


def test_a_form_of_last_school_year_is_not_read_as_this_one(client, session, admin, school):
    moda = school.campuses[0]
    data = fees_form(client, moda, primary_this="1")
    data["school_year"] = str(THIS_YEAR - 1)

    response = client.post(f"{edit_url(school)}/fees", data=data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The school years have moved on" in html
    # The form comes back for this year and the next, what was typed kept, to be checked.
    assert re.search(rf'name="school_year" type="hidden" value="{THIS_YEAR}"', html)
    assert re.search(rf'id="campus-{moda.id}-primary_this"[^>]*value="1"', html)
    assert fees(session, moda) == {("primary", THIS_YEAR): Decimal("100000.00")}


# --- Who may edit what ----------------------------------------------------------------------


def test_a_campus_only_member_sees_and_edits_only_that_campus(
    client, session, campus_manager, school
):
    moda, kadikoy = school.campuses

    page = client.get(edit_url(school))
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert f'id="campus-{moda.id}"' in html and f'id="campus-{kadikoy.id}"' not in html
    assert f">{kadikoy.name}</h3>" not in html and f">{moda.name}</h3>" in html
    assert 'id="school-details-form"' in html and "<textarea" not in html  # read only
    assert "/listing" not in html  # no listing button
    assert_valid_html(html, "school editing page, campus only")

    saved = client.post(f"{edit_url(school)}/fees", data=fees_form(client, moda, primary_this="5"))
    other = client.post(
        f"{edit_url(school)}/fees", data=fees_form(client, kadikoy, primary_this="5")
    )
    other_htmx = client.post(
        f"{edit_url(school)}/fees", data=fees_form(client, kadikoy, primary_this="5"), headers=HTMX
    )
    details = client.post(edit_url(school), data=details_form(client))
    listing = client.post(
        f"{edit_url(school)}/listing", data={"listed": "no", "csrf_token": csrf_token(client)}
    )

    assert saved.status_code == 303
    assert other.status_code == other_htmx.status_code == 404
    assert details.status_code == listing.status_code == 403
    assert fees(session, moda)[("primary", THIS_YEAR)] == Decimal("5.00")
    assert fees(session, kadikoy) == {("primary", THIS_YEAR): Decimal("100000.00")}
    session.expire_all()
    stored = session.get(School, school.id)
    assert stored.description is None and stored.is_published
    refused = events(session, "request_refused")
    assert any(r.data["target"] == f"campus:{kadikoy.id}" for r in refused)


def test_the_domain_refuses_a_campus_only_member_the_schools_own_fields(
    session, make, company, school
):
    staff = member(make, session, company, role=Role.MANAGER)
    make.grant(staff, school, school.campuses[0])
    editable = school_pages.editable_school(session, staff, school.slug)
    details = school_pages.SchoolDetails(None, None, None, None, None)

    with pytest.raises(school_pages.WholeSchoolOnly):
        school_pages.change_school_details(
            session, staff, editable, details, [], NO_ORIGIN, istanbul_today()
        )
    with pytest.raises(school_pages.WholeSchoolOnly):
        school_pages.set_listed(session, staff, editable, False, NO_ORIGIN)
    with pytest.raises(school_pages.NotYours):
        school_pages.change_campus_fees(
            session, staff, editable, school.campuses[1].id, {}, NO_ORIGIN, istanbul_today()
        )


@pytest.mark.parametrize("who", ["ungranted", "other company", "agent", "deactivated"])
def test_members_outside_the_grants_or_without_the_permission_are_refused(
    client, session, make, auth, company, school, who
):
    moda = school.campuses[0]
    if who == "ungranted":
        staff = member(make, session, company)
        make.grant(staff, make.school(customer=company))
        expected = 404
    elif who == "other company":
        staff = member(make, session, make.customer(name="Bora Eğitim"))
        make.grant(staff, make.school(customer=staff.customer))
        expected = 404
    elif who == "agent":
        staff = member(make, session, company, role=Role.AGENT)
        make.grant(staff, school)
        expected = 403
    else:
        staff = member(make, session, company, is_active=False)
        make.grant(staff, school)
        expected = 403
    session.commit()
    auth.login(staff.user.email)
    token = csrf_token(client)

    answers = [
        client.get(edit_url(school)),
        client.get(edit_url(school), headers=HTMX),
        client.post(edit_url(school), data=details_form(client)),
        client.post(f"{edit_url(school)}/fees", data=fees_form(client, moda, primary_this="1")),
        client.post(f"{edit_url(school)}/listing", data={"listed": "no", "csrf_token": token}),
    ]

    assert [a.status_code for a in answers] == [expected] * len(answers)
    if who in ("agent", "deactivated"):
        assert client.get("/customer/schools").status_code == 403
    assert fees(session, moda) == {("primary", THIS_YEAR): Decimal("100000.00")}
    session.expire_all()
    stored = session.get(School, school.id)
    assert stored.description is None and stored.is_published


def test_an_unknown_school_is_the_same_404(client, admin):
    assert client.get("/customer/schools/no-such-school").status_code == 404


def test_posts_without_the_csrf_token_are_refused(client, session, admin, school):
    moda = school.campuses[0]
    data = fees_form(client, moda, primary_this="1")
    del data["csrf_token"]

    answers = [
        client.post(f"{edit_url(school)}/fees", data=data),
        client.post(edit_url(school), data={"description": "x"}),
        client.post(f"{edit_url(school)}/listing", data={"listed": "no"}),
    ]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert fees(session, moda) == {("primary", THIS_YEAR): Decimal("100000.00")}
    session.expire_all()
    assert session.get(School, school.id).is_published


def test_the_list_shows_the_schools_the_member_may_edit(client, session, make, admin, school):
    make.school(customer=admin.customer, name="Ata Fen Lisesi")  # not granted
    session.commit()

    response = client.get("/customer/schools")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert f'href="/customer/schools/{school.slug}"' in html
    assert "Ata Fen Lisesi" not in html
    assert_valid_html(html, "school pages list")


# --- Listing and the plan's limit ----------------------------------------------------------


def test_listing_one_school_more_than_the_plan_allows_is_refused_with_the_upgrade_link(
    client, session, make, admin, school
):
    # Without a plan a company lists one school; Ata Koleji is listed already.
    second = make.school(customer=admin.customer, name="Ata Fen Lisesi", is_published=False)
    make.grant(admin, second)
    session.commit()

    plain = client.post(
        f"{edit_url(second)}/listing", data={"listed": "yes", "csrf_token": csrf_token(client)}
    )
    fragment = client.post(
        f"{edit_url(second)}/listing",
        data={"listed": "yes", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )

    assert plain.status_code == fragment.status_code == 422
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="listing"')
    assert "Your plan lists no more schools (listed: 1 of 1)." in html
    assert 'href="/plans"' in html
    assert_valid_html(plain.get_data(as_text=True), "listing refused")
    session.expire_all()
    assert not session.get(School, second.id).is_published
    assert events(session, "school_listed") == []

    # Taking the first school off the list makes room for the second.
    assert (
        client.post(
            f"{edit_url(school)}/listing", data={"listed": "no", "csrf_token": csrf_token(client)}
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"{edit_url(second)}/listing", data={"listed": "yes", "csrf_token": csrf_token(client)}
        ).status_code
        == 303
    )
    session.expire_all()
    assert not session.get(School, school.id).is_published
    assert session.get(School, second.id).is_published
    assert [r.data["school_id"] for r in events(session, "school_unlisted")] == [school.id]
    assert [r.data["school_id"] for r in events(session, "school_listed")] == [second.id]
    assert client.get(f"/schools/{school.slug}").status_code == 404
    assert client.get(f"/schools/{second.slug}").status_code == 200


def test_a_plan_with_more_listed_schools_allows_them(client, session, make, admin, school):
    plan = make.plan(audience="companies", features={"schools_listed": 3})
    anchor = istanbul_today() - timedelta(days=3)
    make.subscription(
        make.price(plan),
        customer=admin.customer,
        anchor_date=anchor,
        end_date=anchor + relativedelta(months=1),
    )
    second = make.school(customer=admin.customer, is_published=False)
    make.grant(admin, second)
    session.commit()

    response = client.post(
        f"{edit_url(second)}/listing", data={"listed": "yes", "csrf_token": csrf_token(client)}
    )

    assert response.status_code == 303
    session.expire_all()
    assert session.get(School, second.id).is_published
    assert "Listed schools of your company: 2 of 3." in client.get(edit_url(second)).get_data(
        as_text=True
    )


def test_a_downgrade_below_the_listed_schools_says_so_before_it_is_confirmed(
    client, session, make, admin, school
):
    make.school(customer=admin.customer)  # a second listed school
    big = make.plan(audience="companies", features={"schools_listed": 10})
    small = make.plan(audience="companies", features={"schools_listed": 1})
    unlimited = make.plan(audience="companies", features={"schools_listed": None})
    anchor = istanbul_today() - timedelta(days=5)
    make.subscription(
        make.price(big, amount="1000.00"),
        customer=admin.customer,
        anchor_date=anchor,
        end_date=anchor + relativedelta(months=1),
        next_billing_date=anchor + relativedelta(months=1),
        last_payment_date=anchor,
    )
    small_price = make.price(small, amount="500.00")
    unlimited_price = make.price(unlimited, amount="2000.00")
    session.commit()

    preview = client.get(f"/subscription/change/{small_price.id}")
    html = preview.get_data(as_text=True)

    assert preview.status_code == 200
    warning = re.search(
        r'<p class="error" role="alert" id="listed-schools-warning">(.*?)</p>', html, re.S
    )
    assert warning, html
    assert f"Your company lists 2 schools, and {small.name} lists at most 1." in warning.group(1)
    assert 'href="/customer/schools"' in warning.group(1)
    assert_valid_html(html, "plan change preview with the listed-schools warning")
    no_warning = client.get(f"/subscription/change/{unlimited_price.id}").get_data(as_text=True)
    assert "listed-schools-warning" not in no_warning
    assert school_pages.listed_shortfall(session, admin.customer_id, small.id) == (
        school_pages.ListedShortfall(listed=2, limit=1)
    )
    assert school_pages.listed_shortfall(session, admin.customer_id, big.id) is None


# --- Statements: the same for one campus or many ------------------------------------------


def test_the_editing_page_and_a_save_run_as_many_statements_for_many_campuses_and_levels(
    app, client, session, make, admin, company
):
    small = make.school(customer=company, campuses=("Tek",), levels=("primary", "middle"))
    large = make.school(
        customer=company,
        campuses=tuple(f"Kampüs {n}" for n in range(8)),
        levels=("preschool", "primary", "middle", "high"),
    )
    make.grant(admin, small)
    make.grant(admin, large)
    session.commit()
    client.get(edit_url(small))  # anything done once per process is done now

    with counted_statements(app) as one_campus:
        assert client.get(edit_url(small)).status_code == 200
    with counted_statements(app) as many_campuses:
        page = client.get(edit_url(large))
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('class="fee-table"') == 8
    assert len(many_campuses) == len(one_campus), many_campuses

    token = csrf_token(client)
    # Each save updates, removes and adds fees: one of each, or several of each.
    one_level = {
        "campus_id": str(small.campuses[0].id),
        "school_year": str(THIS_YEAR),
        "primary_this": "1",
        "middle_this": "",
        "primary_next": "2",
        "csrf_token": token,
    }
    many_levels = {
        "campus_id": str(large.campuses[0].id),
        "school_year": str(THIS_YEAR),
        "preschool_this": "7",
        "primary_this": "7",
        "middle_this": "",
        "high_this": "",
        "preschool_next": "8",
        "primary_next": "9",
        "middle_next": "10",
        "high_next": "11",
        "csrf_token": token,
    }
    with counted_statements(app) as one_saved:
        assert client.post(f"{edit_url(small)}/fees", data=one_level).status_code == 303
    with counted_statements(app) as many_saved:
        assert client.post(f"{edit_url(large)}/fees", data=many_levels).status_code == 303
    assert len(many_saved) == len(one_saved), many_saved
    assert fees(session, large.campuses[0]) == {
        ("preschool", THIS_YEAR): Decimal("7.00"),
        ("primary", THIS_YEAR): Decimal("7.00"),
        ("preschool", NEXT_YEAR): Decimal("8.00"),
        ("primary", NEXT_YEAR): Decimal("9.00"),
        ("middle", NEXT_YEAR): Decimal("10.00"),
        ("high", NEXT_YEAR): Decimal("11.00"),
    }


def test_two_listings_at_once_cannot_both_take_the_last_place(app, session, make, company, school):
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: two requests at once are not supported there")
    # Without a plan the company lists one school: none is listed, two wait.
    school.is_published = False
    second = make.school(customer=company, is_published=False)
    staff = member(make, session, company)
    make.grant(staff, school)
    make.grant(staff, second)
    session.commit()
    slugs = iter([school.slug, second.slug])
    staff_id, company_id = (
        staff.id,
        company.id,
    )  # read here: the test's session is not the threads' to use
    import threading

    lock = threading.Lock()

    def list_one():
        from portal.extensions import db
        from portal.models import CustomerUser

        with lock:
            slug = next(slugs)
        actor = db.session.get(CustomerUser, staff_id)
        editable = school_pages.editable_school(db.session, actor, slug)
        return school_pages.set_listed(db.session, actor, editable, True, NO_ORIGIN)

    results = in_parallel(app, list_one, times=2)

    assert sorted(type(r).__name__ for r in results) == ["ListedLimitReached", "bool"], results
    session.commit()  # a new transaction: MariaDB would show the old snapshot
    assert school_pages.listed_schools(session, company_id) == 1
    assert len(events(session, "school_listed")) == 1


def test_the_list_runs_as_many_statements_for_many_schools_as_for_one(
    app, client, session, make, admin, company
):
    client.get("/customer/schools")  # anything done once per process is done now
    with counted_statements(app) as one:
        assert client.get("/customer/schools").status_code == 200
    for n in range(30):
        extra = make.school(customer=company, name=f"Okul {n:02d}", campuses=("A", "B", "C"))
        if n % 2:
            make.grant(admin, extra)
        else:
            make.grant(admin, extra, extra.campuses[1])
    session.commit()
    with counted_statements(app) as many:
        page = client.get("/customer/schools")
    fragment = client.get("/customer/schools?page=2", headers=HTMX).get_data(as_text=True)

    assert page.status_code == 200
    assert page.get_data(as_text=True).count('<li class="card">') == 20
    assert len(many) == len(one), many
    assert fragment.lstrip().startswith('<div id="school-pages">')
    assert fragment.count('<li class="card">') == 11
