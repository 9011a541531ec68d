"""Demo schools, their levels and campuses, in four cities.

Schools are created by operators and edited by their companies in later issues; until a
domain function makes them, the rows are built here directly. Found by slug (a campus by its
name within the school) and made only when missing.
"""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import istanbul_today
from portal.models import Campus, Customer, School, SchoolFee, SchoolLevel
from portal.schools.fees import school_year_of

# Next school year's fees are this year's raised by this much (rounded to whole lira).
NEXT_YEAR_RAISE = Decimal("1.35")

# (customer erp_code, slug, name, city, district, levels, fee min, fee max,
#  campuses: [(name, city, district)])
SCHOOLS = [
    (
        "DEMO-BILGE",
        "bilge-koleji",
        "Bilge Koleji",
        "İstanbul",
        "Kadıköy",
        ("preschool", "primary", "middle", "high"),
        "285000.00",
        "460000.00",
        [("Moda Kampüsü", "İstanbul", "Kadıköy"), ("Ataşehir Kampüsü", "İstanbul", "Ataşehir")],
    ),
    (
        "DEMO-BILGE",
        "bilge-fen-lisesi",
        "Bilge Fen Lisesi",
        "Ankara",
        "Çankaya",
        ("high",),
        "340000.00",
        "395000.00",
        [("Çankaya Kampüsü", "Ankara", "Çankaya")],
    ),
    (
        "DEMO-BILGE",
        "bilge-ortaokulu-bursa",
        "Bilge Ortaokulu Bursa",
        "Bursa",
        "Nilüfer",
        ("primary", "middle"),
        "190000.00",
        "240000.00",
        [("Nilüfer Kampüsü", "Bursa", "Nilüfer")],
    ),
    (
        "DEMO-DENIZ",
        "deniz-anaokulu",
        "Deniz Anaokulu",
        "İzmir",
        "Karşıyaka",
        ("preschool",),
        "120000.00",
        "165000.00",
        [("Bostanlı Kampüsü", "İzmir", "Karşıyaka"), ("Bornova Kampüsü", "İzmir", "Bornova")],
    ),
]


def make_schools(session: Session, customers: dict[str, Customer]) -> dict[str, School]:
    """The demo schools by slug, with whatever was missing made (and flushed, so ids exist)."""
    schools = {row[1]: _school(session, customers[row[0]], *row[1:]) for row in SCHOOLS}
    session.flush()
    return schools


def campus_named(school: School, name: str) -> Campus:
    """The school's campus with this name."""
    return next(campus for campus in school.campuses if campus.name == name)


def _school(session, customer, slug, name, city, district, levels, fee_min, fee_max, campuses):
    school = session.scalar(select(School).where(School.slug == slug))
    if school is None:
        school = School(
            customer=customer,
            slug=slug,
            name=name,
            city=city,
            district=district,
            description=f"{name}: {city}, {district}.",
            address_line=f"Okul Caddesi No: 1, {district} / {city}",
            phone="+902164440000",
            email=f"bilgi@{slug}.example",
            website=f"https://{slug}.example",
        )
        school.level_rows = [SchoolLevel(level=level) for level in levels]
        session.add(school)
    existing = {c.name for c in school.campuses}
    for campus_name, campus_city, campus_district in campuses:
        if campus_name not in existing:
            campus = Campus(
                name=campus_name,
                city=campus_city,
                district=campus_district,
                address_line=f"{campus_name} Sokağı No: 2, {campus_district} / {campus_city}",
                phone="+902164440001",
            )
            school.campuses.append(campus)
            session.flush()
            _fees(session, campus, levels, Decimal(fee_min), Decimal(fee_max))
    return school


def _fees(session, campus, levels, low, high) -> None:
    """This school year's and the next one's fee of every level, from `low` for the youngest
    level up to `high` for the oldest, evenly between."""
    this_year = school_year_of(istanbul_today())
    steps = max(len(levels) - 1, 1)
    for index, level in enumerate(levels):
        fee = ((low + (high - low) * index / steps) / 1000).quantize(Decimal("1")) * 1000
        for year, amount in (
            (this_year, fee),
            (this_year + 1, (fee * NEXT_YEAR_RAISE).quantize(Decimal("1"))),
        ):
            session.add(
                SchoolFee(
                    school_id=campus.school_id,
                    campus_id=campus.id,
                    level=level,
                    school_year=year,
                    yearly_fee=amount,
                )
            )
