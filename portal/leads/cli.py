"""`flask leads ...`: the daily digest of new leads, and the repair of the lead counters."""

import datetime

import click
from flask.cli import AppGroup

from portal.extensions import db

leads_cli = AppGroup("leads", help="Leads: the staff's daily digest, the lead counters.")


@leads_cli.command("digest")
@click.option(
    "--date",
    "business_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The Istanbul day whose leads to send (default: yesterday in Europe/Istanbul).",
)
def digest(business_date: datetime.datetime | None) -> None:
    """Mail the staff of companies without instant lead alerts the leads of one day.

    Meant for cron once a day, after midnight Istanbul time (it sends the day before). Safe
    to run again: a member who already had that day's digest is not mailed twice.
    """
    from portal.clock import istanbul_today
    from portal.leads.notifications import send_digest

    day = business_date.date() if business_date else istanbul_today() - datetime.timedelta(1)
    report = send_digest(db.session, day)
    db.session.commit()
    click.echo(
        f"Lead digest for {day.isoformat()}: {report.leads} leads, "
        f"{len(report.mailed)} members mailed, {report.already_sent} already had it."
    )


@leads_cli.command("repair-counters")
def repair_counters() -> None:
    """Recount every parent's leads by state and set user_details' counters right, then the
    staff's open and unassigned counts per school and campus, printing each change."""
    from portal.leads import lead_counts
    from portal.leads.counters import repair

    report = repair(db.session)
    counts = lead_counts.repair(db.session)
    db.session.commit()
    for change in report.changes:
        click.echo(f"user {change.user_id}: {change.counter} {change.old} → {change.new}")
    for user_id in report.skipped_user_ids:
        click.echo(f"user {user_id}: changed while counting, left as it is; run again")
    users = len({change.user_id for change in report.changes})
    click.echo(f"Lead counters: {len(report.changes)} fixed for {users} users.")
    for count in counts.changes:
        click.echo(
            f"{count.table} {count.key}: open, unassigned {count.old[0]}, {count.old[1]}"
            f" → {count.new[0]}, {count.new[1]}"
        )
    if counts.leads_moved_company:
        click.echo(f"{counts.leads_moved_company} leads given their school's company.")
    click.echo(f"Staff lead counts: {len(counts.changes)} fixed.")
