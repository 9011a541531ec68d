"""`flask agreements ...`: the evidence of the signed agreements."""

import click
from flask.cli import AppGroup

from portal.extensions import db

agreements_cli = AppGroup("agreements", help="Company agreements: the check of their evidence.")


@agreements_cli.command("check")
def check() -> None:
    """Recompute every agreement's snapshot hash and every sign record's hash chain
    (portal.agreements.evidence.verify_all) and print each mismatch; exit 1 when there is any,
    0 when everything holds. Read only: meant for cron (daily) and for anyone who doubts a
    record, so a changed or removed row is found whoever changed it."""
    from portal.agreements.evidence import verify_all

    mismatches = verify_all(db.session)
    db.session.rollback()  # nothing was written; end the read transaction
    for found in mismatches:
        where = f"agreement {found.agreement_id}"
        if found.sign_id is not None:
            where += f", sign record {found.sign_id}"
        click.echo(f"{where}: {found.problem}" + (f" ({found.detail})" if found.detail else ""))
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es) found.", err=True)
        raise SystemExit(1)
    click.echo("Every agreement's evidence holds.")
