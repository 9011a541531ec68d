"""A school's own page."""

from decimal import Decimal

from flask import abort, current_app

from portal import htmx
from portal.access import ANONYMOUS, allow
from portal.clock import istanbul_today
from portal.extensions import db
from portal.models import SchoolFee
from portal.models.schools import SCHOOL_LEVELS
from portal.schools import bp, catalogue
from portal.schools.fees import campus_fees, school_year_label, school_years_offered
from portal.schools.views.catalogue import marks_of_page


@bp.route("/schools/<slug>")
@allow(ANONYMOUS)
def detail(slug: str):
    """A school's page: its description and contact, then each live campus with its address,
    levels and the exact yearly fee of each level for this school year and the next (where
    published), with the favorite, compare and ask links.

    Three statements however many campuses: the school with its levels and campuses, the
    fees of both school years, and the parent's favorite and compared marks.

    :raise 404: when there is no published school with that slug.
    """
    school = catalogue.published_school(db.session, slug)
    if school is None:
        abort(404)
    campus_ids = [c.id for c in school.campuses]
    years = school_years_offered(istanbul_today())
    fees = campus_fees(db.session, campus_ids, years)
    by_year = [fees[year] for year in years]
    return htmx.render(
        "schools/detail.html",
        "content",
        school=school,
        year_labels=[school_year_label(year) for year in years],
        campus_fees={
            campus.id: _fee_table(school.levels, [fees.get(campus.id, []) for fees in by_year])
            for campus in school.campuses
        },
        marks=marks_of_page(schools=[school.id], campuses=campus_ids),
        # The ask form belongs to the leads feature; until its route exists, no link to it.
        can_ask="leads.ask" in current_app.view_functions,
    )


def _fee_table(
    school_levels: list[str], rows_by_year: list[list[SchoolFee]]
) -> list[tuple[str, list[Decimal | None]]]:
    """A campus's fees as the page shows them: one (level, [fee of each school year or None])
    per level, youngest first. The levels are those the campus publishes a fee for in either
    year (a campus teaches a level when it publishes its fee); with none, the school's."""
    amounts = [{fee.level: fee.yearly_fee for fee in rows} for rows in rows_by_year]
    priced = {level for year in amounts for level in year}
    levels = [level for level in SCHOOL_LEVELS if level in priced] or school_levels
    return [(level, [year.get(level) for year in amounts]) for level in levels]
