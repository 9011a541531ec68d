"""flask commands: `flask demo-data` loads the demo set, `flask billing renew` runs renewals,
`flask mail deliver` delivers the mail outbox (Flask-Migrate adds `flask db`)."""

import datetime

import click
from flask import Flask, current_app

from portal.extensions import db


def register(app: Flask) -> None:
    """Attach the portal's commands to the app's CLI."""
    from portal.leads.cli import leads_cli

    app.cli.add_command(leads_cli)

    @app.cli.command("check-deploy")
    def check_deploy() -> None:
        """Check this deployment's settings for production; exit 1 naming each problem."""
        from limits.storage import storage_from_string

        from portal import deployment

        config = current_app.config
        try:
            storage = storage_from_string(
                config["RATELIMIT_STORAGE_URI"], **config.get("RATELIMIT_STORAGE_OPTIONS", {})
            )
            reachable = bool(storage.check())
        except Exception:  # any failure to answer (or a wrong URI) is the finding itself
            reachable = False
        found = deployment.problems(config, storage_reachable=reachable)
        for problem in found:
            click.echo(f"  {problem}", err=True)
        if found:
            raise click.ClickException(
                f"{len(found)} deployment problem(s); silence a code knowingly with "
                "DEPLOY_CHECKS_SILENCED."
            )
        click.echo("Deployment settings: no problem found.")

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
            f"{report.ended} ended, {report.expired} expired, {report.resumed} resumed."
        )

    @billing.command("refund")
    @click.argument("payment_id", type=click.IntRange(1))
    @click.option(
        "--amount",
        help="How much to refund, e.g. 49.90 (default: all that is left of the charge).",
    )
    @click.option("--reason", required=True, help="Why: kept in the audit log.")
    def refund(payment_id: int, amount: str | None, reason: str) -> None:
        """Refund a succeeded charge (an operator's decision), through a payment row of its
        own; never more than what is left of the charge. The payer is mailed."""
        from decimal import Decimal, InvalidOperation

        from portal.billing.gateway import gateway_named
        from portal.billing.refunds import RefundError
        from portal.billing.refunds import refund as make_refund
        from portal.clock import utcnow

        try:
            wanted = None if amount is None else Decimal(amount.replace(",", "."))
        except InvalidOperation:
            raise click.BadParameter(
                f"{amount!r} is not an amount", param_hint="--amount"
            ) from None
        if wanted is not None and not wanted.is_finite():
            raise click.BadParameter(f"{amount!r} is not an amount", param_hint="--amount")
        now = utcnow()
        gateway = gateway_named(current_app.config["PAYMENT_GATEWAY"])
        try:
            row = make_refund(
                db.session,
                gateway,
                payment_id,
                idempotency_key=f"operator:p{payment_id}:{now.isoformat()}",
                reason=reason,
                now=now,
                amount=wanted,
            )
        except RefundError as refused:  # its code: not_refundable, nothing_left, amount_...
            db.session.rollback()
            raise click.ClickException(f"Not refunded: {refused.code}") from None
        db.session.commit()
        if row.status != "succeeded":
            raise click.ClickException(
                f"The gateway refused the refund ({row.failure_code}); recorded as payment "
                f"{row.id}."
            )
        click.echo(
            f"Refunded {row.gross_amount} {row.currency} of payment {payment_id}: payment {row.id}."
        )

    @app.cli.group("mail")
    def mail_group() -> None:
        """The mail outbox."""

    @mail_group.command("deliver")
    @click.option("--once", is_flag=True, help="Deliver what is due, purge, then exit (cron).")
    @click.option(
        "--interval",
        default=5.0,
        show_default=True,
        type=click.FloatRange(0.1),
        help="Seconds between two looks at the outbox.",
    )
    def deliver_mail(once: bool, interval: float) -> None:
        """Deliver queued mail and retry failures with backoff; runs until stopped (a service).

        The web process delivers its own mail after each response; this is the backstop for
        what failed or was left. Safe to run several at once: each mail goes to one of them.
        """
        import signal
        import threading

        from portal import mail

        stop = threading.Event()
        if not once:
            for signal_number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signal_number, lambda *_: stop.set())
        while True:
            try:
                report = mail.deliver()
                purged = mail.purge_delivered()
            except Exception:
                db.session.rollback()
                if once:
                    raise
                # The database restarting, say: a service keeps going and tries again.
                current_app.logger.exception("mail delivery round failed")
            else:
                if once or report.sent or report.failed or purged:
                    click.echo(
                        f"Mail: {report.sent} sent, {report.failed} failed (will retry), "
                        f"{purged} delivered rows purged."
                    )
            if once or stop.wait(interval):
                break
