"""Plans, features and their categories in the reader's language (issue 14, item 8): the plans
page, its cycle fragment, checkout and the receipts name them in English for a reader in
English, and in Turkish, as before, for everyone else.

The demo catalogue (portal.demo.plans) is the data: every plan, feature and category there has
a Turkish and a different English name, so a name in the wrong language cannot pass unseen.
"""

import pytest
from sqlalchemy import select

from portal.demo.plans import make_catalogue
from portal.models import PlanFeature, PlanFeatureCategory, PlanPrice, SubscriptionPlan
from tests.billing.helpers import checkout_url, fragment_text, pay, text
from tests.helpers import HTMX
from tests.test_html import assert_valid_html


@pytest.fixture
def catalogue(session):
    make_catalogue(session)
    session.commit()


def names(session, model, column) -> set[str]:
    return set(session.scalars(select(getattr(model, column))))


def turkish_names(session) -> set[str]:
    """Every Turkish plan, feature and category name in the database."""
    return (
        names(session, SubscriptionPlan, "name")
        | names(session, PlanFeature, "name")
        | names(session, PlanFeatureCategory, "name")
    )


def english_names(session) -> set[str]:
    return (
        names(session, SubscriptionPlan, "name_en")
        | names(session, PlanFeature, "name_en")
        | names(session, PlanFeatureCategory, "name_en")
    )


def plans_page(client, audience, **query) -> str:
    response = client.get("/plans", query_string={"audience": audience, **query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_demo_catalogue_names_everything_in_both_languages(session, catalogue):
    for model in (SubscriptionPlan, PlanFeature, PlanFeatureCategory):
        for row in session.scalars(select(model)):
            assert row.name and row.name_en and row.name != row.name_en, (model, row.code)


@pytest.mark.parametrize("audience", ["parents", "companies"])
def test_the_english_plans_page_has_no_turkish_plan_feature_or_category_name(
    client, session, english, catalogue, audience
):
    html = plans_page(client, audience)

    shown = text(html)
    for name in turkish_names(session):
        assert name not in shown, name
    plans = session.scalars(select(SubscriptionPlan).where(SubscriptionPlan.audience == audience))
    for plan in plans:
        assert f">{plan.name_en}</h3>" in html
        assert f'<th scope="col">{plan.name_en}</th>' in html
    assert_valid_html(html, f"plans-{audience}-en")


def test_the_english_plans_page_names_the_features_and_their_categories_in_order(
    client, english, catalogue
):
    html = plans_page(client, "parents")

    shown = text(html)
    # The parents' plans use features of two categories, in the categories' sort_order.
    assert shown.index("For parents Favourite schools") < shown.index("School comparison")
    assert shown.index("School comparison") < shown.index("Support Priority support")
    assert "Instant lead alerts" not in shown  # a companies' feature, in no parents' plan


def test_the_turkish_plans_page_is_as_before_in_turkish(client, session, catalogue):
    html = plans_page(client, "parents")

    shown = text(html)
    for name in ("Veli Plus", "Veli Premium", "Favori okul", "Okul karşılaştırma", "Destek"):
        assert name in shown
    for name in english_names(session):
        assert name not in shown, name


def test_the_cycle_fragment_names_the_plans_in_english(client, session, english, catalogue):
    response = client.get(
        "/plans", query_string={"audience": "parents", "cycle": "yearly"}, headers=HTMX
    )

    shown = fragment_text(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Parent Plus" in shown and "Parent Premium" in shown
    for name in turkish_names(session):
        assert name not in shown, name


def test_checkout_and_the_receipt_name_the_plan_in_english(
    app, client, session, english, signed_in, catalogue
):
    price = session.scalar(
        select(PlanPrice)
        .join(SubscriptionPlan)
        .where(SubscriptionPlan.code == "veli-plus", PlanPrice.billing_cycle == "yearly")
    )

    checkout = text(client.get(checkout_url(price)).get_data(as_text=True))
    response = pay(client, price)

    assert "Checkout: Parent Plus" in checkout
    assert response.status_code == 303
    (mailed,) = [m for m in app.extensions["mail_outbox"] if "/receipt" in m.body]
    # The confirmed sale documents follow the receipt in Turkish, the binding language.
    assert "\nPlan: Parent Plus · Yearly\n" in mailed.body
    receipt_url = mailed.body[mailed.body.index("http://localhost/") + len("http://localhost") :]
    receipt = text(client.get(receipt_url.split()[0]).get_data(as_text=True))
    assert "Parent Plus · Yearly" in receipt and "Veli Plus" not in receipt


def test_a_plan_without_an_english_description_shows_the_turkish_one(
    client, session, make, english
):
    plan = make.plan(name="Aile", name_en="Family", description="Açıklama")
    make.price(plan)
    other = make.plan(description="Türkçe açıklama", description_en="In English")
    make.price(other)
    session.commit()

    shown = text(plans_page(client, "parents"))

    assert "Family" in shown and "Aile" not in shown
    assert "Açıklama" in shown  # nothing better to show
    assert "In English" in shown and "Türkçe açıklama" not in shown
