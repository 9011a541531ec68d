"""The staff's lead counts: how many open leads each school and campus has, and how many of
them nobody follows (school_lead_counts, campus_lead_counts).

A school's row counts all its open leads, to the school as a whole or to any campus of it
(what a whole-school grant covers); a campus's row the open leads sent to that campus (what a
grant naming it covers). A member's counts are then a sum over their grants, a few hundred
rows at most, where counting the leads themselves read every open lead of a big company on
each visit of the dashboard and the inbox (11,700 for 200 schools; docs/performance.md).

They move with the lead in its transaction (portal.leads.leads: opened, ended, assigned), by
UPDATE ... SET x = x + n, so two requests at once cannot lose a step; `repair` recounts them
from the leads table if they ever drift (a manual fix in SQL, a restored backup), and sets
right a lead whose company is not its school's.

Plain module: the caller passes the session and commits.
"""

from dataclasses import dataclass

from sqlalchemy import (
    Integer,
    Subquery,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from portal.access.grants import campus_grants, whole_school_grants
from portal.database import hashed_filter, update_or_insert
from portal.models import CampusLeadCount, CustomerUserSchool, Lead, School, SchoolLeadCount


def move(
    session: Session,
    school_id: int,
    campus_id: int | None,
    *,
    open_by: int = 0,
    unassigned_by: int = 0,
) -> None:
    """Move a lead's school's counts (and its campus's, for a campus lead) by the deltas.

    A row is made when a count goes up and the school (campus) has none yet; a count never
    goes below zero (the tables' check): a drifted count waits for `repair` instead of
    failing the request that moved it.
    """
    targets = [(SchoolLeadCount, SchoolLeadCount.school_id, school_id)]
    if campus_id is not None:
        targets.append((CampusLeadCount, CampusLeadCount.campus_id, campus_id))
    # Always the school's row before the campus's: two transactions lock them in one order.
    for model, key, value in targets:
        _move_row(session, model, key, value, open_by, unassigned_by)


def _move_row(session, model, key, value, open_by, unassigned_by) -> None:
    def moved(column, by):
        return case((column + by < 0, 0), else_=column + by)

    statement = (
        update(model)
        .where(key == value)
        .values(
            open_count=moved(model.open_count, open_by),
            unassigned_count=moved(model.unassigned_count, unassigned_by),
        )
        .execution_options(synchronize_session=False)
    )
    if open_by <= 0 and unassigned_by <= 0:
        # A count going down has its row (made when it went up), or has drifted: repair's.
        session.execute(statement)
        return
    values = {
        key.key: value,
        "open_count": max(open_by, 0),
        "unassigned_count": max(unassigned_by, 0),
    }
    update_or_insert(session, statement, lambda: session.execute(insert(model).values(values)))


def of_member_subquery() -> Subquery:
    """One row (open, unassigned): the counts of the leads an active member (bound parameters
    `customer_id` and `customer_user_id`) may work on, by the grant rule of
    access.grants.covers: a whole-school grant covers its school's row, a grant naming a
    campus that campus's row unless the member holds the whole school too; only schools of
    the member's own company count."""
    member = bindparam("customer_user_id")
    company = select(School.id).where(School.customer_id == bindparam("customer_id"))
    whole = whole_school_grants(member)
    named_campuses = campus_grants(member).where(
        CustomerUserSchool.school_id.in_(company), CustomerUserSchool.school_id.not_in(whole)
    )
    # The whole-school rows one index lookup a grant (the grants' rows, their columns
    # swapped for their counts): asked for the rows whose school is among the grants,
    # PostgreSQL read every school's row (4,800 on the benchmark) to hash them against the
    # grants on each visit of the inbox and the dashboard.
    by_school = SchoolLeadCount.school_id == CustomerUserSchool.school_id
    whole_counts = whole.with_only_columns(
        select(SchoolLeadCount.open_count).where(by_school).scalar_subquery().label("open_count"),
        select(SchoolLeadCount.unassigned_count)
        .where(by_school)
        .scalar_subquery()
        .label("unassigned_count"),
    ).where(
        # Hashed: as a semi-join, the generic plan (prepared) went through the company's
        # schools once a grant (40,000 comparisons for 200).
        hashed_filter(CustomerUserSchool.school_id.in_(company))
    )
    rows = union_all(
        whole_counts,
        select(CampusLeadCount.open_count, CampusLeadCount.unassigned_count).where(
            CampusLeadCount.campus_id.in_(named_campuses)
        ),
    ).subquery("granted_counts")
    # Cast: MariaDB sums integers as decimals.
    return select(
        cast(func.coalesce(func.sum(rows.c.open_count), 0), Integer).label("open"),
        cast(func.coalesce(func.sum(rows.c.unassigned_count), 0), Integer).label("unassigned"),
    ).subquery("open_leads")


# --- Checked against the leads table, and repaired --------------------------------------


@dataclass(frozen=True)
class CountChange:
    """One count set right: the school's or campus's row, old → new (open, unassigned)."""

    table: str
    key: int
    old: tuple[int, int]
    new: tuple[int, int]


@dataclass(frozen=True)
class CountsReport:
    """What `repair` changed: counts set right, and leads whose company was not their
    school's."""

    changes: list[CountChange]
    leads_moved_company: int


def repair(session: Session) -> CountsReport:
    """Set every school's and campus's counts to what the leads table says, and every lead's
    company to its school's; return what changed. Run when nothing else moves leads (a
    count moved while this runs is overwritten with what was read; a second run settles
    it). The caller commits."""
    schools_company = select(School.customer_id).where(School.id == Lead.school_id)
    moved_company = session.execute(
        update(Lead)
        .where(Lead.customer_id != schools_company.scalar_subquery())
        .values(customer_id=schools_company.scalar_subquery())
        .execution_options(synchronize_session=False)
    ).rowcount
    changes = _repair_table(session, SchoolLeadCount, SchoolLeadCount.school_id, Lead.school_id)
    changes += _repair_table(session, CampusLeadCount, CampusLeadCount.campus_id, Lead.campus_id)
    return CountsReport(changes=changes, leads_moved_company=moved_company)


def _recount(lead_key) -> Subquery:
    return (
        select(
            lead_key.label("key"),
            func.count().label("open_count"),
            func.sum(case((Lead.assigned_customer_user_id.is_(None), 1), else_=0)).label(
                "unassigned_count"
            ),
        )
        .where(Lead.state == "open", lead_key.is_not(None))
        .group_by(lead_key)
        .subquery("recount")
    )


def _repair_table(session: Session, model, key, lead_key) -> list[CountChange]:
    table = model.__tablename__
    recount = _recount(lead_key)
    found_open = func.coalesce(recount.c.open_count, 0)
    found_unassigned = func.coalesce(recount.c.unassigned_count, 0)
    # Rows that differ from the recount (a row with no open lead left should say 0, 0).
    stored = session.execute(
        select(key, model.open_count, model.unassigned_count, found_open, found_unassigned)
        .outerjoin(recount, recount.c.key == key)
        .where(or_(model.open_count != found_open, model.unassigned_count != found_unassigned))
        .order_by(key)
    ).all()
    # Places with open leads and no row at all.
    missing = session.execute(
        select(recount.c.key, recount.c.open_count, recount.c.unassigned_count)
        .where(~select(literal(1)).where(key == recount.c.key).exists())
        .order_by(recount.c.key)
    ).all()
    changes = []
    for row_key, old_open, old_unassigned, new_open, new_unassigned in stored:
        session.execute(
            update(model)
            .where(key == row_key)
            .values(open_count=int(new_open), unassigned_count=int(new_unassigned))
        )
        changes.append(
            CountChange(
                table,
                row_key,
                (old_open, old_unassigned),
                (int(new_open), int(new_unassigned)),
            )
        )
    if missing:
        session.execute(
            insert(model),
            [
                {key.key: row_key, "open_count": int(o), "unassigned_count": int(u)}
                for row_key, o, u in missing
            ],
        )
        changes += [
            CountChange(table, row_key, (0, 0), (int(o), int(u))) for row_key, o, u in missing
        ]
    return changes
