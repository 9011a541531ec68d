"""The confirmation of an account deletion: mailed to the address the account had, saying what
was kept and why and whom to ask, in the deletion's own transaction.

Words are checked in English, the language the parent chose on the site.
"""

from sqlalchemy import select

from portal.account.deletion import delete_account, deleted_email
from portal.audit import NO_ORIGIN
from portal.billing.gateway import SandboxGateway
from portal.clock import utcnow
from portal.models import MailOutbox, User
from tests.account.test_deletion import delete, the_user
from tests.helpers import csrf_token

OLD = "silinecek@example.com"


def mails_to(app, to):
    """The mails that left for `to`, but the sign-in code's."""
    return [
        m
        for m in app.extensions.get("mail_outbox", [])
        if m.to == to and "code" not in m.subject.lower() and "kod" not in m.subject.lower()
    ]


def test_deleting_the_account_mails_the_old_address_what_was_kept_and_whom_to_ask(
    app, client, session, make, auth
):
    parent = make.user("parent", email=OLD, name="Ayşe Demir")
    session.commit()
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})
    auth.login(OLD)

    response = delete(client)

    assert response.status_code == 303
    user = the_user(session, parent)
    assert user.deleted_at is not None and user.email == deleted_email(parent.id)
    (confirmation,) = mails_to(app, OLD)
    assert confirmation.subject == "Your Okul account is deleted"
    body = confirmation.body
    assert f"Your Okul account ({OLD}) was deleted on " in body
    assert "KVKK consent records" in body and "marked withdrawn" in body
    assert "payments and their receipts" in body and "ten years" in body
    assert "data controller named in our privacy notice: http://localhost/kvkk" in body
    assert client.get("/kvkk").status_code == 200
    assert mails_to(app, deleted_email(parent.id)) == []
    # Queued with the deletion and delivered after the response, like every mail.
    session.expire_all()
    recipients = session.scalars(select(MailOutbox.recipient)).all()
    assert OLD in recipients and deleted_email(parent.id) not in recipients


def test_a_rolled_back_deletion_mails_nothing(app, session, make):
    parent = make.user("parent", email=OLD)
    session.commit()

    delete_account(session, parent, NO_ORIGIN, utcnow(), SandboxGateway())
    session.rollback()

    assert mails_to(app, OLD) == []
    assert session.scalars(select(MailOutbox)).all() == []
    assert session.scalar(select(User.email).where(User.id == parent.id)) == OLD
