"""Error pages come in the layout, or as a small fragment for htmx."""

import pytest
from sqlalchemy import func, select

from portal.access import ANONYMOUS, allow
from portal.extensions import db
from portal.models import Customer
from tests.helpers import HTMX, csrf_token


def test_404_is_a_full_page_in_the_layout(client):
    response = client.get("/no-such-page")
    html = response.get_data(as_text=True)

    assert response.status_code == 404
    assert "<main" in html and "<html" in html
    assert "Sayfa bulunamadı" in html


def test_404_for_htmx_is_a_fragment(client):
    response = client.get("/no-such-page", headers=HTMX)
    html = response.get_data(as_text=True)

    assert response.status_code == 404
    assert "<html" not in html and "<main" not in html
    assert 'role="alert"' in html and "Sayfa bulunamadı" in html
    assert "HX-Request" in response.headers["Vary"]


def test_400_for_a_post_without_csrf_token(client):
    response = client.post("/language", data={"lang": "en"})

    assert response.status_code == 400
    assert "Formun süresi dolmuş" in response.get_data(as_text=True)


def test_403_page_for_a_wrong_audience(client, make, session, auth):
    parent = make.user("parent")
    session.commit()
    auth.login(parent.email)
    response = client.get("/operator/")

    assert response.status_code == 403
    assert "yetkiniz yok" in response.get_data(as_text=True)


def test_422_for_a_form_that_does_not_validate(client):
    response = client.post("/auth/login", data={"email": "", "csrf_token": csrf_token(client)})

    assert response.status_code == 422


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_500_page_says_nothing_was_lost_and_rolls_back(app, client, make, session):
    make.customer(name="Kalıcı")
    session.commit()

    @app.route("/boom-for-test")
    @allow(ANONYMOUS)
    def boom():
        db.session.add(Customer(name="Yarım", customer_type="company", tax_number="1234567890"))
        db.session.flush()
        raise RuntimeError("boom")

    page = client.get("/boom-for-test")
    fragment = client.get("/boom-for-test", headers=HTMX)

    assert page.status_code == 500 and "<main" in page.get_data(as_text=True)
    assert "kaybolmadı" in page.get_data(as_text=True)
    assert fragment.status_code == 500 and "<html" not in fragment.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Customer)) == 1
