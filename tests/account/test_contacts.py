"""The parent's contacts: added, edited in place and removed, with plain forms and with htmx.

Assertions are on state (rows, status codes, fragments, ids), not on translated text.
"""

import re

import html5lib
import pytest
from sqlalchemy import select

from portal.models import User, UserContact, UserLog
from tests.helpers import HTMX, post
from tests.test_html import assert_valid_html

URL = "/account/contacts"


@pytest.fixture
def contact(session, parent):
    row = UserContact(user_id=parent.id, contact_type="phone", label="İş", value="+902125550404")
    session.add(row)
    session.commit()
    return row


def add(client, headers=None, **fields):
    data = {"new-contact_type": "email", "new-label": "İş", "new-value": "elif@is.example.com"}
    data.update(fields)
    return post(client, URL, headers=headers, **data)


def edit(client, contact_id, headers=None, **fields):
    prefix = f"contact-{contact_id}-"
    data = {prefix + "contact_type": "phone", prefix + "label": "Ev", prefix + "value": ""}
    data.update({prefix + name: value for name, value in fields.items()})
    return post(client, f"{URL}/{contact_id}", headers=headers, **data)


def contacts(session, user):
    session.expire_all()
    rows = session.scalars(
        select(UserContact).where(UserContact.user_id == user.id).order_by(UserContact.id)
    )
    return [(row.contact_type, row.label, row.value) for row in rows]


def contact_events(session, user):
    session.expire_all()
    return session.scalars(
        select(UserLog.data).where(UserLog.user_id == user.id, UserLog.event == "profile_changed")
    ).all()


def parse_fragment(html: str):
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parseFragment(html)


def test_contacts_page_lists_the_parents_contacts_and_is_valid_html(client, contact, signed_in):
    response = client.get(URL)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="contact-{contact.id}"' in html and "+902125550404" in html
    assert 'id="contact-add-form"' in html
    assert_valid_html(html, URL)


def test_adding_with_a_plain_form_redirects_and_keeps_the_contact(client, session, signed_in):
    response = add(client)

    assert response.status_code == 303 and response.headers["Location"] == URL
    assert contacts(session, signed_in) == [("email", "İş", "elif@is.example.com")]
    assert contact_events(session, signed_in) == [{"fields": ["contacts"]}]


def test_a_phone_contact_is_stored_as_plus_90(client, session, signed_in):
    add(client, **{"new-contact_type": "phone", "new-label": "", "new-value": "0 532 999 88 77"})

    assert contacts(session, signed_in) == [("phone", None, "+905329998877")]


def test_htmx_add_answers_with_the_list_including_the_new_row(client, session, signed_in):
    response = add(client, headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="contacts"') and "<html" not in html
    (row,) = session.scalars(select(UserContact).where(UserContact.user_id == signed_in.id))
    assert f'id="contact-{row.id}"' in html
    parse_fragment(html)


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"new-contact_type": "email", "new-value": "not-an-address"}, "new-value"),
        ({"new-contact_type": "phone", "new-value": "12345"}, "new-value"),
        ({"new-contact_type": "phone", "new-value": "elif@example.com"}, "new-value"),
        ({"new-value": "   "}, "new-value"),
        ({"new-contact_type": "fax"}, "new-contact_type"),
        ({"new-label": "x" * 65}, "new-label"),
    ],
)
def test_bad_contacts_are_refused_next_to_the_field(client, session, signed_in, fields, wrong):
    plain = add(client, **fields)
    fragment = add(client, headers=HTMX, **fields)

    assert plain.status_code == fragment.status_code == 422
    for response in (plain, fragment):
        html = response.get_data(as_text=True)
        assert re.search(rf'<[^>]*aria-invalid="true"[^>]*id="{wrong}"', html), html
        assert f'id="{wrong}-error"' in html
    assert_valid_html(plain.get_data(as_text=True), f"{URL} with {fields}")
    parse_fragment(fragment.get_data(as_text=True))
    assert contacts(session, signed_in) == []
    assert contact_events(session, signed_in) == []


def test_a_refused_add_keeps_the_contacts_already_saved(client, session, contact, signed_in):
    response = add(client, **{"new-contact_type": "email", "new-value": "nope"})

    assert response.status_code == 422
    assert "+902125550404" in response.get_data(as_text=True)
    assert contacts(session, signed_in) == [("phone", "İş", "+902125550404")]


def test_edit_link_gives_the_row_as_a_form_for_htmx(client, contact, signed_in):
    response = client.get(f"{URL}/{contact.id}/edit", headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="contact-{contact.id}"') and "<html" not in html
    assert f'name="contact-{contact.id}-value"' in html and 'value="+902125550404"' in html
    assert f'action="/account/contacts/{contact.id}"' in html
    assert re.search(rf'<select autofocus[^>]*id="contact-{contact.id}-contact_type"', html)
    assert "HX-Request" in response.headers["Vary"]
    parse_fragment(html)


def test_edit_without_javascript_is_the_whole_page_with_that_row_as_a_form(
    client, session, contact, signed_in
):
    other = UserContact(user_id=signed_in.id, contact_type="other", value="Veli derneği")
    session.add(other)
    session.commit()

    response = client.get(f"{URL}/{contact.id}/edit")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert f'name="contact-{contact.id}-value"' in html
    assert f'name="contact-{other.id}-value"' not in html and "Veli derneği" in html
    assert_valid_html(html, "contacts page with a row in edit mode")


def test_saving_a_row_with_htmx_answers_with_the_row(client, session, contact, signed_in):
    response = edit(client, contact.id, headers=HTMX, value="0216 555 44 33")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="contact-{contact.id}"')
    assert "+902165554433" in html and "<form" in html and "name=" in html
    assert f'name="contact-{contact.id}-value"' not in html  # the row, not the form
    assert contacts(session, signed_in) == [("phone", "Ev", "+902165554433")]
    assert contact_events(session, signed_in) == [{"fields": ["contacts"]}]
    parse_fragment(html)


def test_saving_a_row_with_a_plain_form_redirects_to_the_list(client, session, contact, signed_in):
    response = edit(client, contact.id, contact_type="address", value="Moda Cad. 1, Kadıköy")

    assert response.status_code == 303 and response.headers["Location"] == URL
    assert contacts(session, signed_in) == [("address", "Ev", "Moda Cad. 1, Kadıköy")]


def test_a_bad_row_comes_back_as_its_form_with_422_and_the_row_unchanged(
    client, session, contact, signed_in
):
    fragment = edit(client, contact.id, headers=HTMX, value="0532")
    plain = edit(client, contact.id, contact_type="email", value="not-an-address")

    assert fragment.status_code == plain.status_code == 422
    html = fragment.get_data(as_text=True)
    field_id = f"contact-{contact.id}-value"
    assert html.lstrip().startswith(f'<li id="contact-{contact.id}"')
    assert re.search(rf'<[^>]*aria-invalid="true"[^>]*id="{field_id}"', html)
    assert re.search(rf'<input [^>]*autofocus[^>]*id="{field_id}"', html)  # focus on the error
    assert 'value="0532"' in html
    assert_valid_html(plain.get_data(as_text=True), "contacts page with a row in error")
    assert contacts(session, signed_in) == [("phone", "İş", "+902125550404")]
    assert contact_events(session, signed_in) == []


def test_cancel_puts_the_row_back(client, contact, signed_in):
    response = client.get(f"{URL}/{contact.id}", headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="contact-{contact.id}"')
    assert f'name="contact-{contact.id}-value"' not in html


def test_removing_with_htmx_answers_empty_so_the_row_goes(client, session, contact, signed_in):
    response = post(client, f"{URL}/{contact.id}/delete", headers=HTMX)

    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert contacts(session, signed_in) == []
    assert contact_events(session, signed_in) == [{"fields": ["contacts"]}]


def test_removing_with_a_plain_form_redirects_to_the_list(client, session, contact, signed_in):
    response = post(client, f"{URL}/{contact.id}/delete")

    assert response.status_code == 303 and response.headers["Location"] == URL
    assert contacts(session, signed_in) == []


def test_another_parents_contact_is_a_404_everywhere_and_stays_untouched(
    client, session, make, signed_in
):
    other = make.user("parent")
    theirs = UserContact(user_id=other.id, contact_type="email", value="gizli@example.com")
    session.add(theirs)
    session.commit()

    assert "gizli@example.com" not in client.get(URL).get_data(as_text=True)
    assert client.get(f"{URL}/{theirs.id}").status_code == 404
    assert client.get(f"{URL}/{theirs.id}/edit").status_code == 404
    assert client.get(f"{URL}/{theirs.id}/edit", headers=HTMX).status_code == 404
    assert edit(client, theirs.id, value="+905320000000").status_code == 404
    assert post(client, f"{URL}/{theirs.id}/delete").status_code == 404
    assert post(client, f"{URL}/{theirs.id}/delete", headers=HTMX).status_code == 404
    assert contacts(session, other) == [("email", None, "gizli@example.com")]
    assert contact_events(session, signed_in) == []


def test_a_user_id_in_the_form_is_ignored(client, session, make, signed_in):
    other = make.user("parent")
    session.commit()

    add(client, user_id=str(other.id), **{"new-user_id": str(other.id)})

    assert contacts(session, signed_in) == [("email", "İş", "elif@is.example.com")]
    assert contacts(session, other) == []
    assert session.get(User, signed_in.id).customer_id is None


def test_an_unknown_contact_id_is_a_404(client, signed_in):
    assert client.get(f"{URL}/999999999/edit").status_code == 404
    assert client.get(f"{URL}/{2**70}/edit").status_code == 404
