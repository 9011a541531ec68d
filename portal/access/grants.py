"""The one rule for "may this customer user work on this school, or this campus of it".

A grant row with campus_id NULL covers the whole school and every campus of it; a row with a
campus covers that campus only. Grants count only for schools the user's company owns.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Campus, CustomerUser, CustomerUserSchool, School


@dataclass
class GrantedSchool:
    """A school the user may work on: all of it, or only the listed campuses."""

    school: School
    whole_school: bool
    campuses: list[Campus] = field(default_factory=list)


def may_work_on(
    session: Session, customer_user: CustomerUser, school_id: int, campus_id: int | None = None
) -> bool:
    """True when the grant covers the school (campus_id None) or that campus of it.

    Asking about the school as a whole needs a whole-school grant: a campus grant does not
    open the other campuses.
    """
    if not customer_user.is_active:
        return False
    grants = session.scalars(
        select(CustomerUserSchool.campus_id)
        .join(School, School.id == CustomerUserSchool.school_id)
        .where(
            CustomerUserSchool.customer_user_id == customer_user.id,
            CustomerUserSchool.school_id == school_id,
            School.customer_id == customer_user.customer_id,
        )
    ).all()
    return None in grants or (campus_id is not None and campus_id in grants)


def granted_schools(session: Session, customer_user: CustomerUser) -> list[GrantedSchool]:
    """Every school the user may work on, with the campuses that grant covers."""
    if not customer_user.is_active:
        return []
    rows = session.execute(
        select(CustomerUserSchool, School)
        .join(School, School.id == CustomerUserSchool.school_id)
        .where(
            CustomerUserSchool.customer_user_id == customer_user.id,
            School.customer_id == customer_user.customer_id,
        )
        .order_by(School.name)
    ).all()
    campus_ids = [grant.campus_id for grant, _ in rows if grant.campus_id is not None]
    campuses = (
        {c.id: c for c in session.scalars(select(Campus).where(Campus.id.in_(campus_ids)))}
        if campus_ids
        else {}
    )
    by_school: dict[int, GrantedSchool] = {}
    for grant, school in rows:
        entry = by_school.setdefault(school.id, GrantedSchool(school, whole_school=False))
        if grant.campus_id is None:
            entry.whole_school = True
        elif grant.campus_id in campuses:
            entry.campuses.append(campuses[grant.campus_id])
    for entry in by_school.values():
        if entry.whole_school:
            entry.campuses = list(entry.school.campuses)
        entry.campuses.sort(key=lambda c: c.name)
    return list(by_school.values())
