"""The demo data set (`flask demo-data`): idempotent, so loading it twice leaves one copy.

One module per aggregate. The parent is made through the product's own domain functions
(parents.py), so she can never hold a row the product could not make. Companies and their
staff, schools, plans and the agreement belong to operator and company-portal features of
later issues: until those have domain functions, their modules build the rows directly, each
finding its rows by a natural key (e-mail, slug, code, ERP code) and making only what is
missing; rows a demo user has since changed are left as they are.
"""

from sqlalchemy.orm import Session

from portal.clock import istanbul_today, utcnow
from portal.demo import agreements, companies, leads, plans, schools
from portal.demo.accounts import DEMO_PASSWORD, Login, make_operator
from portal.demo.parents import PARENT_EMAIL, make_parent

__all__ = ["DEMO_PASSWORD", "Login", "load"]


def load(session: Session) -> list[Login]:
    """Make whatever of the demo set is missing; return the logins (parent, staff, operator).

    The caller commits.
    """
    now = utcnow()
    today = istanbul_today(now)
    plans.make_catalogue(session)
    customers = companies.make_customers(session)
    demo_schools = schools.make_schools(session, customers)
    staff_logins = companies.make_staff(session, customers, demo_schools, today, now)
    parent_login = make_parent(session, demo_schools, today, now)
    leads.make_leads(session, demo_schools, PARENT_EMAIL, today, now)
    operator_login = make_operator(session, now)
    companies.make_scores(session, customers, today)
    agreements.make_agreement(session, customers["DEMO-BILGE"])
    return [parent_login, *staff_logins, operator_login]
