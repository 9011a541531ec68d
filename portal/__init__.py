"""The Okul portal: create_app() reads as the table of contents of the application."""

import gc
import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import config_for_environment

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides settings (tests pass their database URL here)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config_for_environment())
    if config:
        app.config.update(config)
    _finish_config(app)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    if app.config["FREEZE_HEAP_AT_START"]:
        _freeze_heap(app.config["GC_YOUNG_THRESHOLD"])
    return app


def _freeze_heap(young_threshold: int) -> None:
    # What the process holds now lives as long as it does: out of the collector's sight, a
    # full collection walks only what requests made since (gc.freeze, meant for this). With
    # gunicorn each worker builds its own app, so this runs in the worker.
    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # else done by the first query, after the freeze
    gc.collect()
    gc.freeze()
    # What a request makes dies young when the youngest generation holds a request's worth.
    gc.set_threshold(young_threshold, *gc.get_threshold()[1:])


def _finish_config(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set: set it in the environment (PORTAL_ENV=production)"
        )
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'okul.db'}"
    if app.config["MAIL_BACKEND"] == "log":
        # Development mail (sign-in and verification codes) is read in the terminal.
        app.logger.setLevel(logging.INFO)
    if app.config["ENV_NAME"] == "production":
        from portal import deployment

        refused = deployment.refused_at_start(app.config)
        if refused:
            raise RuntimeError(
                "Production settings refused:\n" + "\n".join(f"  {p}" for p in refused)
            )
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def register_extensions(app: Flask) -> None:
    from portal import access, caching, database, i18n, mail  # database: its connect hook
    from portal.auth import login
    from portal.csrf import csrf_token
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate
    from portal.forms import blank_key, render_input

    db.init_app(app)
    database.init_app(app)  # after db: its teardown runs before the session's removal
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        compare_type=True,
        render_as_batch=True,  # SQLite can only ALTER a table by copying it
        include_object=database.include_object,
    )
    csrf.init_app(app)  # its before_request runs first: no token, no further work
    app.add_template_global(csrf_token, "csrf_token")  # in place of Flask-WTF's own
    app.add_template_global(render_input, "render_input")  # WTForms' inputs, written fast
    app.add_template_global(blank_key, "blank_key")  # what a blank form's kept rendering is kept by
    login_manager.init_app(app)
    login.configure(login_manager)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    mail.init_app(app)  # mail a request commits leaves after its response
    caching.init_app(app)
    app.before_request(access.enforce_access)


def register_blueprints(app: Flask) -> None:
    from portal.account import bp as account_bp
    from portal.agreements import bp as agreements_bp
    from portal.auth import bp as auth_bp
    from portal.billing import bp as billing_bp
    from portal.core import bp as core_bp
    from portal.customer import bp as customer_bp
    from portal.devices import bp as devices_bp
    from portal.leads import bp as leads_bp
    from portal.operator import bp as operator_bp
    from portal.schools import bp as schools_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(schools_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(customer_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(devices_bp)
    app.register_blueprint(leads_bp)
    app.register_blueprint(agreements_bp)
    if app.config["PAYMENT_GATEWAY"] == "sandbox":
        # The sandbox provider's hosted payment page: another site in truth, served here only
        # because the sandbox runs offline. A real gateway's page is on the provider's domain.
        from portal.sandbox_provider import bp as sandbox_provider_bp

        app.register_blueprint(sandbox_provider_bp)
    if app.config["BENCH_ROUTES"]:
        # The benchmark's yardsticks (bench/): a bare "hello" and the reference page, served
        # by the same processes as the pages measured against them. Never on otherwise.
        from portal.bench import bp as bench_bp

        app.register_blueprint(bench_bp)


def register_errorhandlers(app: Flask) -> None:
    from portal.core.views import errors, headers

    errors.register(app)
    headers.register(app)  # the security headers every answer carries, errors included


def register_template_helpers(app: Flask) -> None:
    from flask_login import current_user

    from portal import access, i18n, turkish
    from portal.access import permissions

    i18n.register_filters(app)
    app.context_processor(lambda: {"current_audience": access.audience_of_user(current_user)})
    # Templates ask the same question as views: can(customer_user, "see_billing").
    app.add_template_global(permissions.can, "can")
    app.add_template_global(permissions.role_name, "role_name")
    app.add_template_global(permissions.role_label, "role_label")
    app.add_template_filter(turkish.masked, "masked")  # a TC Kimlik No, but its last digits


def register_commands(app: Flask) -> None:
    from portal import cli
    from portal.agreements.cli import agreements_cli
    from portal.customer.cli import customers_cli

    cli.register(app)
    app.cli.add_command(customers_cli)
    app.cli.add_command(agreements_cli)
