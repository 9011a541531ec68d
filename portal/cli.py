"""flask commands: `flask demo-data` loads the demo set, `flask billing renew` runs renewals
(Flask-Migrate adds `flask db`)."""

import datetime

import click
from flask import Flask, current_app

from portal.extensions import db


def register(app: Flask) -> None:
    """Attach the portal's commands to the app's CLI."""

    @app.cli.command("demo-data")
    def demo_data() -> None:
        """Load the demo data set (safe to run again) and print the demo logins."""
        from portal import demo

        logins = demo.load(db.session)
        db.session.commit()
        click.echo("Demo data is loaded. Sign in at /auth/login with:")
        width = max(len(email) for email, _, _ in logins)
        for email, password, who in logins:
            click.echo(f"  {email:<{width}}  {password}  ({who})")

    @app.cli.group("billing")
    def billing() -> None:
        """Subscriptions and payments."""

    @billing.command("renew")
    @click.option(
        "--date",
        "business_date",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="The business date to handle (default: today in Europe/Istanbul).",
    )
    @click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1))
    def renew(business_date: datetime.datetime | None, batch_size: int) -> None:
        """Charge renewals, end trials, retry failed charges and expire what is over.

        Meant for cron, daily: safe to run again for the same date and from two processes at
        once. Run it for a missed date, or simply for today, to catch up.
        """
        from portal.billing.gateway import gateway_named
        from portal.billing.renewals import renew as run_renewals
        from portal.clock import istanbul_today, utcnow

        now = utcnow()
        day = business_date.date() if business_date else istanbul_today(now)
        gateway = gateway_named(current_app.config["PAYMENT_GATEWAY"])
        report = run_renewals(db.session, gateway, day, batch_size=batch_size, now=now)
        click.echo(
            f"Renewals for {day.isoformat()}: {report.charged} charged, {report.failed} failed, "
            f"{report.trials_converted} trials converted, {report.changed} plan changes, "
            f"{report.ended} ended, {report.expired} expired."
        )
