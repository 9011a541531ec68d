"""`flask customers ...`: the companies' daily scores."""

import datetime

import click
from flask.cli import AppGroup

from portal.extensions import db

customers_cli = AppGroup("customers", help="School companies: their daily scores.")


@customers_cli.command("scores")
@click.option(
    "--date",
    "business_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The Istanbul day to score (default: yesterday in Europe/Istanbul, the day that ended).",
)
def scores(business_date: datetime.datetime | None) -> None:
    """Work out every company's five scores for one day and save them (one row per company
    and day: running it again for the same day overwrites that day's rows with the same
    figures). Meant for cron once a day after midnight Istanbul time (it scores the day that
    ended; --date catches up a missed day). The formula is in portal/customer/scores.py and
    docs/scores.md."""
    from portal.clock import istanbul_today
    from portal.customer.scores import score_all

    day = business_date.date() if business_date else istanbul_today() - datetime.timedelta(1)
    report = score_all(db.session, day)
    db.session.commit()
    click.echo(f"Scores for {day.isoformat()}: {report.companies} companies scored.")
