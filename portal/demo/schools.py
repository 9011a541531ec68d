"""Demo schools, their levels and campuses, in four cities.

Schools are created by operators and edited by their companies in later issues; until a
domain function makes them, the rows are built here directly. Found by slug (a campus by its
name within the school) and made only when missing.
"""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Campus, Customer, School, SchoolLevel

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
            yearly_fee_min=Decimal(fee_min),
            yearly_fee_max=Decimal(fee_max),
            description=f"{name}: {city}, {district}.",
        )
        school.level_rows = [SchoolLevel(level=level) for level in levels]
        session.add(school)
    existing = {c.name for c in school.campuses}
    for campus_name, campus_city, campus_district in campuses:
        if campus_name not in existing:
            school.campuses.append(
                Campus(name=campus_name, city=campus_city, district=campus_district)
            )
    return school
