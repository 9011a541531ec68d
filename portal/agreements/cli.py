"""`flask agreements ...`: the evidence of the signed agreements."""

import click
from flask.cli import AppGroup

from portal.extensions import db

agreements_cli = AppGroup(
    "agreements", help="Company agreements: the check of their evidence, their expiry."
)


@agreements_cli.command("check")
def check() -> None:
    """Recompute every agreement's snapshot hash and every sign record's hash chain
    (portal.agreements.evidence.verify_all), and every parent's confirmed sale documents and
    their chain per order (portal.agreements.acceptances.verify_all_orders), and print each
    mismatch; exit 1 when there is any, 0 when everything holds. Read only: meant for cron
    (daily) and for anyone who doubts a record, so a changed or removed row is found whoever
    changed it."""
    from portal.agreements.acceptances import verify_all_orders
    from portal.agreements.evidence import verify_all

    signed = verify_all(db.session)
    accepted = verify_all_orders(db.session)
    db.session.rollback()  # nothing was written; end the read transaction
    for found in signed:
        where = f"agreement {found.agreement_id}"
        if found.sign_id is not None:
            where += f", sign record {found.sign_id}"
        click.echo(f"{where}: {found.problem}" + (f" ({found.detail})" if found.detail else ""))
    for found in accepted:
        click.echo(
            f"parent acceptance {found.sign_id}: {found.problem}"
            + (f" ({found.detail})" if found.detail else "")
        )
    mismatches = signed + accepted
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es) found.", err=True)
        raise SystemExit(1)
    click.echo("Every agreement's evidence holds.")


@agreements_cli.command("expire")
@click.option(
    "--date",
    "business_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The Istanbul business date to expire as of (default: today).",
)
def expire(business_date) -> None:
    """Mark every signed agreement whose term ended before today (Istanbul) expired
    (portal.agreements.renewals.expire). Meant for a daily cron; running it twice changes
    nothing the second time."""
    from portal.agreements import renewals
    from portal.clock import istanbul_today, utcnow

    now = utcnow()
    today = business_date.date() if business_date else istanbul_today(now)
    count = renewals.expire(db.session, today, now)
    db.session.commit()
    click.echo(f"{count} agreement(s) expired.")
