"""The parent's contacts page: list, add, and each row edited or removed in place.

With htmx every row is a fragment (the `contact_row` block): "Edit" swaps the row for its
form, saving swaps the row back (or the form with its errors, 422), removing deletes the row.
With JavaScript off the same URLs answer with whole pages. Another user's contact is a 404.
"""

from flask import Response, flash, make_response, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import PARENT, allow
from portal.account import bp, contacts
from portal.account.forms import CONTACT_TYPE_NAMES, ContactForm
from portal.core.views.errors import refuse_not_yours
from portal.extensions import db
from portal.i18n import in_language
from portal.models import UserContact
from portal.models.base import MAX_ID
from portal.origin import current_origin

TEMPLATE = "account/contacts.html"


@bp.route("/contacts")
@allow(PARENT)
def contact_list():
    """The parent's contacts, with a form to add one."""
    return _page("contacts")


@bp.route("/contacts", methods=["POST"])
@allow(PARENT)
def add_contact():
    """Add a contact: htmx gets the list again (with the new row), a plain form a redirect."""
    form = ContactForm(prefix="new")
    if not form.validate_on_submit():
        return _page("contacts", status=422, add_form=form)
    contacts.add_contact(db.session, current_user, _entry(form), current_origin())
    db.session.commit()
    if htmx.wants_fragment():
        return _page("contacts")
    flash(_("Contact added."), "success")
    return htmx.redirect_to(url_for("account.contact_list"))


@bp.route("/contacts/<int:contact_id>")
@allow(PARENT)
def contact(contact_id: int):
    """One contact's row (what "Cancel" puts back); the whole page without htmx.

    :raise 404: when the contact is not the parent's own.
    """
    return _page("contact_row", contact=_own_contact(contact_id))


@bp.route("/contacts/<int:contact_id>/edit")
@allow(PARENT)
def edit_contact(contact_id: int):
    """The row as a form: alone for htmx, in the whole page without JavaScript.

    :raise 404: when the contact is not the parent's own.
    """
    contact = _own_contact(contact_id)
    return _page("contact_row", contact=contact, edit_form=_edit_form(contact))


@bp.route("/contacts/<int:contact_id>", methods=["POST"])
@allow(PARENT)
def update_contact(contact_id: int):
    """Save a row: htmx gets the row back (or its form with errors, 422).

    :raise 404: when the contact is not the parent's own.
    """
    contact = _own_contact(contact_id)
    form = _edit_form(contact)
    if not form.validate_on_submit():
        return _page("contact_row", status=422, contact=contact, edit_form=form)
    contacts.update_contact(db.session, current_user, contact, _entry(form), current_origin())
    db.session.commit()
    if htmx.wants_fragment():
        return _page("contact_row", contact=contact)
    flash(_("Contact saved."), "success")
    return htmx.redirect_to(url_for("account.contact_list"))


@bp.route("/contacts/<int:contact_id>/delete", methods=["POST"])
@allow(PARENT)
def delete_contact(contact_id: int):
    """Remove a contact: htmx gets an empty answer, which takes the row away.

    :raise 404: when the contact is not the parent's own.
    """
    contact = _own_contact(contact_id)
    contacts.remove_contact(db.session, current_user, contact, current_origin())
    db.session.commit()
    if htmx.wants_fragment():
        return htmx.vary(make_response("", 200))
    flash(_("Contact removed."), "success")
    return htmx.redirect_to(url_for("account.contact_list"))


def _own_contact(contact_id: int) -> UserContact:
    # An id beyond bigint names nothing (and the databases would refuse to compare it).
    contact = None
    if contact_id <= MAX_ID:
        contact = contacts.contact_of(db.session, current_user.id, contact_id)
    if contact is None:
        refuse_not_yours("contact", contact_id)  # unknown, or someone else's: the same answer
    return contact


def _edit_form(contact: UserContact) -> ContactForm:
    # A prefix per row keeps names and ids apart from the add form on the same page.
    return ContactForm(prefix=f"contact-{contact.id}", obj=contact)


def _entry(form: ContactForm) -> contacts.ContactEntry:
    """Only the form's own fields: an extra user_id or customer_id is never read."""
    return contacts.ContactEntry(
        contact_type=form.contact_type.data, label=form.label.data, value=form.value.data
    )


def _page(block: str, status: int = 200, add_form=None, contact=None, edit_form=None) -> Response:
    """The contacts page, or one of its blocks for htmx.

    The whole page shows `contact` as `edit_form` when one is given (an edit without
    JavaScript), and a fresh add form unless `add_form` carries errors.
    """
    for form in (add_form, edit_form):
        if form is not None:
            _focus(form)
    return htmx.render(
        TEMPLATE,
        block,
        status=status,
        contacts=contacts.contacts_of(db.session, current_user.id),
        add_form=add_form or ContactForm(prefix="new", formdata=None),
        contact=contact,
        editing_id=contact.id if edit_form is not None else None,
        edit_form=edit_form,
        contact_type_names=in_language(CONTACT_TYPE_NAMES),
    )


def _focus(form: ContactForm) -> None:
    """Put the keyboard where the work is: the first field in error, else the first field.

    htmx focuses an `autofocus` element of what it swaps in, and so does a browser loading a
    page; without this the focus would be lost with the link that was pressed.
    """
    fields = (form.contact_type, form.label, form.value)
    target = next((f for f in fields if f.errors), None)
    if target is None and form.is_submitted():
        return  # an add form that was saved: leave the focus where the parent is
    target = target or fields[0]
    target.render_kw = {**(target.render_kw or {}), "autofocus": True}
