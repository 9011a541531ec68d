"""The one mail sender: SMTP when configured, the log in development, an outbox in tests.

MAIL_BACKEND is `smtp`, `log` or `memory`; tests read app.extensions["mail_outbox"].
"""

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app


@dataclass(frozen=True)
class Mail:
    """A plain-text message as it was sent."""

    to: str
    subject: str
    body: str


def send(to: str, subject: str, body: str) -> Mail:
    """Send one message through the configured backend."""
    mail = Mail(to=to, subject=str(subject), body=str(body))
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        current_app.extensions.setdefault("mail_outbox", []).append(mail)
    elif backend == "log":
        current_app.logger.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)
    elif backend == "smtp":
        _send_smtp(mail)
    else:
        raise RuntimeError(f"MAIL_BACKEND must be smtp, log or memory, not {backend!r}")
    return mail


def _send_smtp(mail: Mail) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
