"""portal.paging: the page arithmetic, page numbers read from a query argument, and paginate's
count, slice and clamping on a real query, in one statement."""

import pytest
from sqlalchemy import bindparam, func, select

from portal.models import School
from portal.paging import COUNT_OVER_ROWS, PAST_THE_END, PER_PAGE, Page, page_number, paginate
from tests.helpers import counted_statements


def test_a_middle_page_knows_its_neighbours_and_positions():
    page = Page(items=list("abcde"), number=2, per_page=5, total=12)

    assert (page.pages, page.has_previous, page.has_next) == (3, True, True)
    assert (page.first_index, page.last_index) == (6, 10)


def test_the_last_page_may_be_short_and_has_no_next():
    page = Page(items=["k", "l"], number=3, per_page=5, total=12)

    assert (page.pages, page.has_previous, page.has_next) == (3, True, False)
    assert (page.first_index, page.last_index) == (11, 12)


def test_a_list_that_fits_one_page_has_no_neighbours():
    exact = Page(items=list("abcde"), number=1, per_page=5, total=5)

    assert (exact.pages, exact.has_previous, exact.has_next) == (1, False, False)
    assert (exact.first_index, exact.last_index) == (1, 5)


def test_an_empty_list_is_one_page_with_no_positions():
    empty = Page(items=[], number=1, per_page=20, total=0)

    assert (empty.pages, empty.has_previous, empty.has_next) == (1, False, False)
    assert (empty.first_index, empty.last_index) == (0, 0)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("", 1),
        ("abc", 1),
        ("-3", 1),
        ("0", 1),
        ("2", 2),
        ("17", 17),
        (" 3 ", 1),
        ("1_000", 1),
        ("\u0661\u0662", 1),  # Arabic-Indic digits: int() would read 12
        ("999999999", 999999999),
        ("1.5", 1),
        ("2abc", 1),
        ("9" * 5000, PAST_THE_END),  # past any list's end, though int() would refuse it
        (None, 1),
        (4, 4),
    ],
)
def test_page_number_reads_a_positive_integer_and_anything_else_is_one(value, number):
    assert page_number(value) == number


@pytest.fixture
def five_schools(session, make):
    """Five schools; the query lists their ids in order (a unique key, as paginate needs)."""
    customer = make.customer()
    ids = [make.school(customer=customer).id for _ in range(5)]
    session.commit()
    return ids, select(School.id).order_by(School.id)


def test_paginate_counts_all_and_slices_one_page(session, five_schools):
    ids, query = five_schools

    pages = [paginate(session, query, n, per_page=2) for n in (1, 2, 3)]

    assert [p.items for p in pages] == [ids[0:2], ids[2:4], ids[4:5]]
    assert {(p.total, p.pages) for p in pages} == {(5, 3)}
    assert [p.number for p in pages] == [1, 2, 3]


@pytest.mark.parametrize("asked", [4, 99, 10**30])
def test_paginate_past_the_end_gives_the_last_page(session, five_schools, asked):
    ids, query = five_schools

    page = paginate(session, query, asked, per_page=2)

    assert (page.number, page.items, page.has_next) == (3, ids[4:5], False)


@pytest.mark.parametrize("asked", [0, -5])
def test_paginate_before_the_start_gives_the_first_page(session, five_schools, asked):
    ids, query = five_schools

    page = paginate(session, query, asked, per_page=2)

    assert (page.number, page.items) == (1, ids[0:2])


def test_paginate_rows_instead_of_scalars(session, five_schools):
    ids, _ = five_schools
    query = select(School.id, School.name).order_by(School.id)

    page = paginate(session, query, 1, per_page=2, scalars=False)

    assert [row[0] for row in page.items] == ids[0:2]
    assert all(isinstance(row, tuple) and len(row) == 2 for row in page.items)


def test_paginate_an_empty_list_gives_one_empty_page(session):
    page = paginate(session, select(School.id).order_by(School.id), 3)

    assert (page.items, page.number, page.total, page.pages) == ([], 1, 0, 1)
    assert page.per_page == PER_PAGE


def test_paginate_runs_one_statement_however_long_the_list(app, session, five_schools):
    _, query = five_schools

    with counted_statements(app) as statements:
        page = paginate(session, query, 2, per_page=2)

    assert len(statements) == 1
    assert page.total == 5


def test_a_given_count_of_the_same_table_counts_the_whole_list_not_each_row(session, five_schools):
    ids, _ = five_schools
    entities = select(School).order_by(School.id)

    page = paginate(session, entities, 2, per_page=2, total=select(func.count(School.id)))

    assert [school.id for school in page.items] == ids[2:4]
    assert (page.total, page.pages) == (5, 3)


def test_a_given_count_as_an_int_is_believed(session, five_schools):
    ids, query = five_schools

    page = paginate(session, query, 9, per_page=2, total=3)

    assert (page.number, page.items, page.total) == (2, ids[2:4], 3)


def test_a_page_past_the_end_costs_a_count_and_the_last_page(app, session, five_schools):
    ids, query = five_schools

    with counted_statements(app) as statements:
        page = paginate(session, query, 7, per_page=2)

    assert (page.number, page.items, page.total) == (3, ids[4:5], 5)
    assert len(statements) == 3


@pytest.mark.parametrize("asked", [1, 2, 3])
def test_a_count_over_the_rows_counts_the_whole_list_in_one_statement(
    app, session, five_schools, asked
):
    ids, query = five_schools

    with counted_statements(app) as statements:
        page = paginate(session, query, asked, per_page=2, total=COUNT_OVER_ROWS)

    assert page.items == ids[(asked - 1) * 2 : asked * 2]
    assert (page.total, page.pages, len(statements)) == (5, 3, 1)


def test_a_count_over_the_rows_past_the_end_counts_and_gives_the_last_page(
    app, session, five_schools
):
    ids, query = five_schools

    with counted_statements(app) as statements:
        page = paginate(session, query, 7, per_page=2, total=COUNT_OVER_ROWS)

    assert (page.number, page.items, page.total) == (3, ids[4:5], 5)
    assert len(statements) == 3


# A statement built once, with bound parameters, as the pages' own are (decisions.md,
# "Statements built once").
_OF_COMPANY = (
    select(School.id).where(School.customer_id == bindparam("customer_id")).order_by(School.id)
)
_COUNT_OF_COMPANY = select(func.count(School.id)).where(
    School.customer_id == bindparam("customer_id")
)


@pytest.mark.parametrize(
    "total", [None, _COUNT_OF_COMPANY, COUNT_OVER_ROWS], ids=["counted", "given", "over-rows"]
)
def test_paginate_a_statement_built_once_with_its_parameters(app, session, make, total):
    other = make.customer()
    customer = make.customer()
    ids = [make.school(customer=customer).id for _ in range(5)]
    make.school(customer=other)  # another company's school: not in the list
    session.commit()
    parameters = {"customer_id": customer.id}

    first = paginate(session, _OF_COMPANY, 1, per_page=2, total=total, parameters=parameters)
    with counted_statements(app) as statements:
        second = paginate(session, _OF_COMPANY, 2, per_page=2, total=total, parameters=parameters)
    with counted_statements(app) as past_the_end:
        last = paginate(session, _OF_COMPANY, 9, per_page=2, total=total, parameters=parameters)

    assert [first.items, second.items, last.items] == [ids[0:2], ids[2:4], ids[4:5]]
    assert {first.total, second.total, last.total} == {5}
    assert last.number == 3
    assert (len(statements), len(past_the_end)) == (1, 3)
