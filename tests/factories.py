"""Builders of valid rows, so each test states only what matters to it."""

import itertools
from decimal import Decimal

from argon2 import PasswordHasher
from sqlalchemy import select

from portal.access.permissions import Role
from portal.clock import istanbul_today, utcnow
from portal.models import (
    Campus,
    Customer,
    CustomerUser,
    CustomerUserRole,
    CustomerUserSchool,
    PlanFeature,
    PlanFeatureCategory,
    PlanPrice,
    School,
    SchoolFee,
    SchoolLevel,
    SubscriptionPlan,
    SubscriptionPlanFeature,
    User,
    UserComparison,
    UserSubscription,
    UserType,
)
from portal.schools.comparison import target_key
from portal.schools.fees import school_year_of
from portal.turkish import make_vkn

_counter = itertools.count(1)

# The test users' password is hashed at argon2's lowest cost. Verifying reads the cost from the
# hash, so signing a test user in costs microseconds instead of the real ~70 ms, which was a
# fifth of the suite's time. The portal's own hashing (registration, a new password) keeps its
# real parameters, and tests/auth/test_sign_in.py holds them.
_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Factories:
    """Each method adds a row (flushed, not committed) and returns it."""

    PASSWORD = "correct horse battery"
    _password_hash = None

    def __init__(self, session):
        self.session = session

    def _hash(self) -> str:
        if Factories._password_hash is None:
            Factories._password_hash = _TEST_HASHER.hash(self.PASSWORD)
        return Factories._password_hash

    def user(self, type_code="parent", email=None, name="Test Kullanıcı", **values) -> User:
        n = next(_counter)
        user_type = self.session.scalar(select(UserType).where(UserType.code == type_code))
        values.setdefault("email_verified_at", utcnow())
        user = User(
            name=name,
            email=email or f"user{n}@example.com",
            user_type_id=user_type.id,
            password_hash=self._hash(),
            **values,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def customer(self, name="Test Eğitim", **values) -> Customer:
        n = next(_counter)
        values.setdefault("tax_number", make_vkn(f"{n:09d}"))
        customer = Customer(name=name, customer_type="company", **values)
        self.session.add(customer)
        self.session.flush()
        return customer

    def school(
        self,
        customer=None,
        name=None,
        city="İstanbul",
        campuses=("Merkez",),
        levels=("primary",),
        fees=None,
        district="Merkez",
        school_year=None,
        **values,
    ) -> School:
        """A published school with its campuses; every campus charges `fees` ({level: amount})
        in `school_year` (this one by default); without `fees` the first level costs 100,000
        and each later one 50,000 more."""
        n = next(_counter)
        customer = customer or self.customer()
        school = School(
            customer_id=customer.id,
            name=name or f"Test Okulu {n}",
            slug=f"test-okulu-{n}",
            city=city,
            district=district,
            **values,
        )
        school.level_rows = [SchoolLevel(level=level) for level in levels]
        school.campuses = [Campus(name=c, city=city, district=district) for c in campuses]
        self.session.add(school)
        self.session.flush()
        if fees is None:
            fees = {level: Decimal(100000 + 50000 * i) for i, level in enumerate(levels)}
        year = school_year or school_year_of(istanbul_today())
        for campus in school.campuses:
            for level, amount in fees.items():
                self.fee(campus, level, amount, year)
        self.session.flush()
        return school

    def fee(self, campus, level, amount, school_year=None) -> SchoolFee:
        """The yearly fee of `level` at `campus` (this school year by default)."""
        fee = SchoolFee(
            school_id=campus.school_id,
            campus_id=campus.id,
            level=level,
            school_year=school_year or school_year_of(istanbul_today()),
            yearly_fee=Decimal(amount),
        )
        self.session.add(fee)
        self.session.flush()
        return fee

    def customer_user(self, customer=None, role=Role.ADMIN, email=None, **values) -> CustomerUser:
        customer = customer or self.customer()
        user = self.user("customer_staff", email=email, customer_id=customer.id)
        role_row = self.session.scalar(
            select(CustomerUserRole).where(CustomerUserRole.code == role)
        )
        staff = CustomerUser(
            customer_id=customer.id, user_id=user.id, role_id=role_row.id, **values
        )
        self.session.add(staff)
        self.session.flush()
        return staff

    def grant(self, customer_user, school, campus=None) -> CustomerUserSchool:
        grant = CustomerUserSchool(
            customer_user_id=customer_user.id,
            school_id=school.id,
            campus_id=campus.id if campus else None,
        )
        self.session.add(grant)
        self.session.flush()
        return grant

    def plan(self, audience="parents", features=None, **values) -> SubscriptionPlan:
        """A plan; `features` maps a feature code to its limit (None: unlimited, False: not
        included)."""
        n = next(_counter)
        values.setdefault("name", f"Plan {n}")
        values.setdefault("name_en", values["name"])
        plan = SubscriptionPlan(code=f"plan-{n}", audience=audience, **values)
        self.session.add(plan)
        self.session.flush()
        for code, limit in (features or {}).items():
            feature = self.session.scalar(select(PlanFeature).where(PlanFeature.code == code))
            if feature is None:
                feature = self.feature(code)
            self.session.add(
                SubscriptionPlanFeature(
                    subscription_plan_id=plan.id,
                    plan_feature_id=feature.id,
                    included=limit is not False,
                    limit_value=None if limit is None or limit is False else limit,
                )
            )
        self.session.flush()
        return plan

    def feature_category(self, code="test", **values) -> PlanFeatureCategory:
        """The category `code`, made when missing (names default to the code)."""
        category = self.session.scalar(
            select(PlanFeatureCategory).where(PlanFeatureCategory.code == code)
        )
        if category is None:
            values.setdefault("name", code)
            values.setdefault("name_en", values["name"])
            category = PlanFeatureCategory(code=code, **values)
            self.session.add(category)
            self.session.flush()
        return category

    def feature(self, code, category="test", **values) -> PlanFeature:
        """A feature in `category` (made when missing); names default to the code."""
        self.feature_category(category)
        values.setdefault("name", code)
        values.setdefault("name_en", values["name"])
        values.setdefault("icon", "fa-solid fa-check")
        feature = PlanFeature(code=code, category=category, **values)
        self.session.add(feature)
        self.session.flush()
        return feature

    def comparison(self, user, school, campus=None) -> UserComparison:
        """`user` compares `school` as a whole, or its `campus` (the key as the domain's)."""
        kind, target = ("campus", campus) if campus else ("school", school)
        row = UserComparison(
            user_id=user.id,
            school_id=school.id,
            campus_id=campus.id if campus else None,
            target_key=target_key(kind, target.id),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def price(self, plan=None, billing_cycle="monthly", amount="100.00", **values) -> PlanPrice:
        plan = plan or self.plan()
        price = PlanPrice(
            subscription_plan_id=plan.id,
            billing_cycle=billing_cycle,
            amount=Decimal(amount),
            **values,
        )
        self.session.add(price)
        self.session.flush()
        return price

    def subscription(
        self, price, user=None, customer=None, status="active", anchor_date=None, **values
    ) -> UserSubscription:
        from datetime import date

        anchor = anchor_date or date(2026, 11, 1)
        subscription = UserSubscription(
            user_id=user.id if user else None,
            customer_id=customer.id if customer else None,
            subscription_plan_id=price.subscription_plan_id,
            plan_price_id=price.id,
            billing_cycle=price.billing_cycle,
            amount=price.amount,
            kdv_included=price.kdv_included,
            anchor_date=anchor,
            start_date=anchor,
            status=status,
            **values,
        )
        self.session.add(subscription)
        self.session.flush()
        return subscription

    def consent(self, user, method="account_page"):
        """A live explicit KVKK consent of `user` to the current consent text."""
        from portal.audit import NO_ORIGIN
        from portal.auth.registration import current_text, give_consent

        text = current_text(self.session, "kvkk_consent")
        consent = give_consent(self.session, user, text.id, NO_ORIGIN, method, utcnow())
        self.session.flush()
        return consent

    def lead(self, user, school, campus=None, level="primary", consent=None, **values):
        """An open lead from `user` through the domain (counters, event, mails included)."""
        from portal.audit import NO_ORIGIN
        from portal.leads.leads import open_lead

        if consent is None:
            consent = self.consent(user)
        lead, _ = open_lead(
            self.session,
            user,
            school=school,
            campus=campus,
            level=level,
            school_year=values.pop("school_year", school_year_of(istanbul_today())),
            message=values.pop("message", "Kızım için bilgi almak istiyoruz."),
            contact_preference=values.pop("contact_preference", "email"),
            request_key=values.pop("request_key", f"key-{next(_counter)}"),
            consent=consent,
            origin=NO_ORIGIN,
        )
        self.session.flush()
        return lead

    def offer(self, lead, customer_user=None, **values):
        """An open offer on `lead`, made directly (no grant or mail needed): status, dates and
        amounts as given."""
        from datetime import timedelta

        from portal.models import SchoolOffer

        offer = SchoolOffer(
            lead_id=lead.id,
            customer_user_id=customer_user.id if customer_user else None,
            yearly_fee=Decimal(values.pop("yearly_fee", "200000.00")),
            discount_percent=Decimal(values.pop("discount_percent", "10")),
            valid_until=values.pop("valid_until", istanbul_today() + timedelta(days=14)),
            **values,
        )
        self.session.add(offer)
        self.session.flush()
        return offer

    def agreement_text(self, kind="company_service", body=None, **values):
        """A published agreement text, valid from a day ago until further notice."""
        from datetime import timedelta

        from portal.agreements.evidence import document_sha256
        from portal.models import AgreementText

        body = body or "{company_legal_name} ile {provider_legal_name} arasında.\n{products}\n"
        values.setdefault("started_at", utcnow() - timedelta(days=1))
        version = values.pop("version", next(_counter))
        text = AgreementText(
            kind=kind,
            version=version,
            title=values.pop("title", "Hizmet Sözleşmesi"),
            body=body,
            body_sha256=document_sha256(body),
            **values,
        )
        self.session.add(text)
        self.session.flush()
        return text

    def agreement(self, customer=None, text=None, required_roles=(Role.ADMIN,), **values):
        """A draft company agreement of one product on `text` (default: the company service
        text valid now, made when there is none)."""
        from datetime import date

        from portal.agreements.texts import NoValidText, text_valid_at
        from portal.models import CustomerAgreement

        customer = customer or self.customer()
        if text is None:
            try:
                text = text_valid_at(self.session, "company_service", utcnow())
            except NoValidText:
                text = self.agreement_text()
        agreement = CustomerAgreement(
            customer_id=customer.id,
            agreement_text_id=text.id,
            agreement_no=values.pop("agreement_no", f"T-{next(_counter)}"),
            status=values.pop("status", "draft"),
            starts_on=values.pop("starts_on", date(2027, 1, 1)),
            ends_on=values.pop("ends_on", date(2027, 12, 31)),
            products=values.pop(
                "products",
                [{"name": "Listeleme", "quantity": 2, "unit_price": "1500.00", "period": "yearly"}],
            ),
            total_amount=values.pop("total_amount", Decimal("3000.00")),
            required_roles=[str(role) for role in required_roles],
            **values,
        )
        self.session.add(agreement)
        self.session.flush()
        return agreement
