"""flask commands: `flask demo-data` loads the demo set (Flask-Migrate adds `flask db`)."""

import click
from flask import Flask

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
