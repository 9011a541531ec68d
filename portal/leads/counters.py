"""The lead counters of user_details, checked against the leads table and repaired.

The counters move with each lead in the same transaction (portal.leads.leads), so they drift
only when something went around the domain functions (a manual fix in SQL, a restored
backup). `repair` recounts every parent's leads by state in ONE grouped query, compares it
with user_details in the same statement, and writes only the rows that differ.
"""

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from portal.leads.leads import COUNTER_OF_STATE
from portal.models import Lead, UserDetail


@dataclass(frozen=True)
class CounterChange:
    """One counter of one parent set right: old → new."""

    user_id: int
    counter: str
    old: int
    new: int


@dataclass
class RepairReport:
    """What `repair` changed, and the rows it left because they moved while it ran."""

    changes: list[CounterChange]
    skipped_user_ids: list[int]


def _recount():
    """Each parent's leads by state: one row per parent with leads (a subquery)."""
    columns = [
        func.sum(case((Lead.state == state, 1), else_=0)).label(counter)
        for state, counter in COUNTER_OF_STATE.items()
    ]
    return select(Lead.user_id, *columns).group_by(Lead.user_id).subquery("recount")


def repair(session: Session) -> RepairReport:
    """Set every parent's four counters to what the leads table says; return the changes.

    Rows are written by a conditional UPDATE (WHERE the counters are still what was read), so
    a lead that moves while this runs is not overwritten with a stale count: that parent is
    reported as skipped, and a second run settles them. The caller commits.
    """
    recount = _recount()
    counters = list(COUNTER_OF_STATE.values())
    found = [func.coalesce(recount.c[name], 0).label(f"found_{name}") for name in counters]
    stored = [getattr(UserDetail, name) for name in counters]
    differs = or_(*(column != fresh for column, fresh in zip(stored, found, strict=True)))
    rows = session.execute(
        select(UserDetail.user_id, *stored, *found)
        .outerjoin(recount, recount.c.user_id == UserDetail.user_id)
        .where(differs)
        .order_by(UserDetail.user_id)
    ).all()
    # Parents with leads but no user_details row at all (none are made that way today).
    missing = session.execute(
        select(recount)
        .where(~select(UserDetail.user_id).where(UserDetail.user_id == recount.c.user_id).exists())
        .order_by(recount.c.user_id)
    ).all()

    changes: list[CounterChange] = []
    updates = []
    for row in rows:
        values = {"user_id": row.user_id}
        for name in counters:
            old, new = int(getattr(row, name)), int(getattr(row, f"found_{name}"))
            values[f"old_{name}"], values[f"new_{name}"] = old, new
            if old != new:
                changes.append(CounterChange(row.user_id, name, old, new))
        updates.append(values)

    skipped: list[int] = []
    if updates:
        table = UserDetail.__table__
        statement = (
            update(table)
            .where(
                and_(
                    table.c.user_id == bindparam("b_user_id"),
                    *(table.c[name] == bindparam(f"b_old_{name}") for name in counters),
                )
            )
            .values({name: bindparam(f"b_new_{name}") for name in counters})
        )
        # One statement per row (executemany would hide which rows it skipped); only rows
        # that differ are here, which is few unless the table was damaged wholesale.
        for values in updates:
            params = {f"b_{key}": value for key, value in values.items()}
            if session.execute(statement, params).rowcount != 1:
                skipped.append(values["user_id"])
    if missing:
        session.execute(
            insert(UserDetail.__table__),
            [
                {"user_id": row.user_id, **{name: int(getattr(row, name)) for name in counters}}
                for row in missing
            ],
        )
        for row in missing:
            changes += [
                CounterChange(row.user_id, name, 0, int(getattr(row, name)))
                for name in counters
                if getattr(row, name)
            ]
    if skipped:
        changes = [change for change in changes if change.user_id not in skipped]
    return RepairReport(changes=changes, skipped_user_ids=skipped)
