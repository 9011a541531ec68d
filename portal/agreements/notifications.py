"""The mails of agreements, through the outbox (portal.mail.send) in the caller's transaction,
each in its recipient's language (`users.locale`, else the default): an agreement sent for
signature is mailed to every active member of the company whose role must sign it."""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import mail
from portal.models import CustomerAgreement, CustomerUser, CustomerUserRole, User


def signers_to_tell(session: Session, agreement: CustomerAgreement) -> list[CustomerUser]:
    """The company's active members whose role must sign the agreement."""
    return list(
        session.scalars(
            select(CustomerUser)
            .join(CustomerUserRole, CustomerUserRole.id == CustomerUser.role_id)
            .join(User, User.id == CustomerUser.user_id)
            .where(
                CustomerUser.customer_id == agreement.customer_id,
                CustomerUser.is_active,
                CustomerUserRole.code.in_(list(agreement.required_roles)),
            )
            .order_by(User.name, CustomerUser.id)
        )
    )


def tell_signers(session: Session, agreement: CustomerAgreement, link: str) -> int:
    """Mail every member who must sign `link` (the agreement's page in the company portal).
    Returns how many were mailed."""
    members = signers_to_tell(session, agreement)
    languages = current_app.config["LANGUAGES"]
    for member in members:
        user = member.user
        locale = (
            user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
        )
        with force_locale(locale):
            mail.send(
                user.email,
                _("An agreement awaits your signature: %(number)s", number=agreement.agreement_no),
                _(
                    "Okul sent your company the agreement %(number)s for signature. Read it and "
                    "sign it in the company portal:",
                    number=agreement.agreement_no,
                )
                + f"\n\n{link}\n",
            )
    return len(members)
