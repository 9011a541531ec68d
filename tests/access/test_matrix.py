"""The access matrix: every route of app.url_map, asked by every kind of actor, with other
people's and other companies' objects in the IDs.

ROUTES is keyed by endpoint; an endpoint of the URL map without an entry fails
`test_every_route_has_an_entry`, so a new route is born into the matrix. Each entry lists
requests (a method, the object named in the URL or body) and what each actor must get:

- OK: 200; MOVED: a redirect that is not to the login page (htmx: 200, with HX-Redirect,
  HX-Location or the fragment in its new state); FORM: 422, a refused form; ALLOWED: one of
  those, where the outcome is the feature tests' business and the matrix only asks that the
  actor got in;
- LOGIN: an anonymous visitor on a protected route goes to the login page, `next` naming the
  route (htmx: 200 with HX-Redirect and no body; JSON: 401); OUT: to the sign-in page with
  no `next` (the actor signed themselves out, or had no sign-in pending);
- DENIED: 403, the wrong audience or a missing permission (portal/access/permissions.py);
- MISSING: 404, another's object: the same answer as an unknown id.

Every request goes out as a plain request and as an htmx fragment request (JSON endpoints as
JSON), each POST with the actor's own valid CSRF token, so a refusal is the access rule's and
not CSRF's. After a POST that a view refused (another's object, a missing permission) the
database must be as it was, the audit log and last-seen times aside; refusals of the audience
hook come before any view code (tests/access/test_route_guards.py). After an accepted POST the
world is put back, database rows and cookies alike, so the next request meets the same world,
which is built once per module.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, event, insert, select, update

from portal import access, create_app
from portal.access import ANONYMOUS, audiences_of
from portal.access.permissions import Role
from portal.audit import Origin
from portal.auth.sessions import remember_device
from portal.clock import istanbul_today, utcnow
from portal.extensions import db
from portal.models import (
    ConsentText,
    Payment,
    UserContact,
    UserNotificationId,
    UserSessionHash,
)
from portal.schools.fees import school_year_of
from tests import dbutil
from tests.conftest import IsolatedClient
from tests.factories import Factories
from tests.helpers import HTMX, AuthActions, csrf_token

ANON = "anonymous"
PARENT = "parent"
OTHER_PARENT = "other parent"
AGENT = "agent"  # company A's admissions agent, granted one campus
OTHER_STAFF = "other company's admin"  # company B
ADMIN = "company admin"  # company A
OPERATOR = "operator"
ACTORS = (ANON, PARENT, OTHER_PARENT, AGENT, OTHER_STAFF, ADMIN, OPERATOR)
PARENTS = (PARENT, OTHER_PARENT)
STAFF = (AGENT, OTHER_STAFF, ADMIN)
SIGNED_IN = (*PARENTS, *STAFF, OPERATOR)
AUDIENCE_OF = {
    ANON: None,
    **dict.fromkeys(PARENTS, access.PARENT),
    **dict.fromkeys(STAFF, access.CUSTOMER_USER),
    OPERATOR: access.OPERATOR,
}

OK, MOVED, FORM, ALLOWED = "200", "moved", "422", "allowed"
LOGIN, DENIED, MISSING = "login", "403", "404"
OUT = "signed out"  # sent to the sign-in page itself (no `next`): signed out, or nothing pending
REFUSALS = {LOGIN, DENIED, MISSING, 401, 403, 404}

# Rows that a refused request may rightly write or touch: the audit of refusals and failures
# (issue 9), and the last-seen time of the session that asked.
BOOKKEEPING_TABLES = {"user_logs"}
BOOKKEEPING_COLUMNS = {"last_seen_at"}
WRITE = re.compile(
    r"\s*(?:INSERT\s+(?:IGNORE\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+[`\"]?(\w+)",
    re.IGNORECASE,
)
# A locking read (PostgreSQL's and MariaDB's; SQLite has no row locks and writes none).
LOCKING = re.compile(
    r"\bFOR\s+(?:UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b"
)


def everyone(outcome) -> dict:
    return dict.fromkeys(ACTORS, outcome)


def signed_in(outcome, **others) -> dict:
    """A route for everyone signed in: anonymous visitors go to the login page."""
    return {ANON: LOGIN, **dict.fromkeys(SIGNED_IN, outcome), **_named(others)}


def parents(outcome, **others) -> dict:
    """A parents' route: staff and operators are the wrong audience."""
    return {**signed_in(DENIED), **dict.fromkeys(PARENTS, outcome), **_named(others)}


def staff(outcome, **others) -> dict:
    """A route of the customer portal."""
    return {**signed_in(DENIED), **dict.fromkeys(STAFF, outcome), **_named(others)}


def operators(outcome) -> dict:
    return {**signed_in(DENIED), OPERATOR: outcome}


def subscribers(parent, other_parent, agent, other_staff, admin) -> dict:
    """A billing route of parents and staff: operators are the wrong audience."""
    return {
        ANON: LOGIN,
        PARENT: parent,
        OTHER_PARENT: other_parent,
        AGENT: agent,
        OTHER_STAFF: other_staff,
        ADMIN: admin,
        OPERATOR: DENIED,
    }


# Keyword arguments of the helpers above name actors: parents(OK, other_parent=MISSING).
KEYWORDS = {
    "parent": PARENT,
    "other_parent": OTHER_PARENT,
    "agent": AGENT,
    "other_staff": OTHER_STAFF,
    "admin": ADMIN,
    "operator": OPERATOR,
}


def _named(overrides: dict) -> dict:
    return {KEYWORDS[name]: outcome for name, outcome in overrides.items()}


@dataclass(frozen=True)
class Ask:
    """One request of the matrix and what each actor gets.

    `url` names the URL's arguments from the world (a callable of it); `data` the form fields,
    `json` a JSON body; both may be callables of the world too.
    """

    method: str
    expect: dict
    url: object = None
    data: object = None
    json: object = None
    note: str = ""


def own(name):
    """The URL argument or field taken from the world's object `name`."""
    return lambda world: world.ids[name]


# The staff's leads: the one the agent's campus grant covers, one on the other campus of that
# school, one on the other company's school (whose admin is granted it).
_STAFF_LEADS = (
    ("parent_lead", staff(MISSING, agent=MOVED)),
    ("other_campus_lead", staff(MISSING)),
    ("other_school_lead", staff(MISSING, other_staff=MOVED)),
)


def _member_url(world) -> dict:
    """Company A's agent, as the team pages name a member."""
    return {"member_id": world.ids["agent_member"]}


def _agent_grant(world) -> int:
    """The id of the agent's campus grant (customer_user_schools)."""
    from portal.models import CustomerUserSchool

    with world.app.app_context():
        return db.session.scalar(
            select(CustomerUserSchool.id).where(
                CustomerUserSchool.customer_user_id == world.ids["agent_member"]
            )
        )


def _agreement_url(world) -> dict:
    """Company A's agreement, sent and awaiting its admin's signature."""
    return {"agreement_id": world.ids["agreement_a"]}


def _signed_agreement_url(world) -> dict:
    """Company A's signed agreement, its first installment due (issue 13 item 6)."""
    return {"agreement_id": world.ids["signed_agreement_a"]}


def _offer(world) -> dict:
    until = istanbul_today() + timedelta(days=14)
    return {"yearly_fee": "150.000", "discount_percent": "5", "valid_until": until.isoformat()}


ROUTES: dict[str, list[Ask]] = {
    # Public pages.
    "schools.index": [Ask("GET", everyone(OK))],
    "schools.detail": [Ask("GET", everyone(OK), url=lambda w: {"slug": w.ids["school_a_slug"]})],
    # The comparison: the parent's plan includes it; the other parent compares on the free
    # limit. Another parent's rows are never named: a parent only ever adds or removes their own.
    "schools.compare": [Ask("GET", parents(OK))],
    "schools.add_to_comparison": [
        Ask(
            "POST",
            parents(MOVED),
            data=lambda w: {"kind": "campus", "target_id": w.ids["school_a_campus"]},
        )
    ],
    "schools.remove_from_comparison": [
        Ask(
            "POST",
            parents(MOVED),
            data=lambda w: {"kind": "campus", "target_id": w.ids["school_a_campus"]},
        )
    ],
    "static": [Ask("GET", everyone(OK), url={"filename": "css/portal.css"})],
    "core.favicon": [Ask("GET", everyone(ALLOWED))],
    "core.kvkk_notice": [Ask("GET", everyone(OK))],
    "core.set_language": [Ask("POST", everyone(MOVED), data={"lang": "en"})],
    "billing.plans": [Ask("GET", everyone(OK))],
    # Signing in and out: open to anyone; a signed-in visitor may still reach the forms.
    "auth.login": [Ask("GET", everyone(OK)), Ask("POST", everyone(FORM), data={"email": ""})],
    "auth.logout": [Ask("POST", everyone(MOVED))],
    "auth.register": [Ask("GET", everyone(OK)), Ask("POST", everyone(FORM), data={"name": ""})],
    "auth.verify": [Ask("GET", everyone(ALLOWED)), Ask("POST", everyone(ALLOWED))],
    "auth.resend_code": [Ask("POST", everyone(ALLOWED))],
    "auth.one_time_code": [Ask("GET", everyone(OUT)), Ask("POST", everyone(OUT))],
    "auth.resend_one_time_code": [Ask("POST", everyone(ALLOWED))],
    "auth.reset_request": [Ask("GET", everyone(OK)), Ask("POST", everyone(FORM))],
    "auth.reset": [Ask("GET", everyone(ALLOWED)), Ask("POST", everyone(ALLOWED))],
    # The security page of everyone signed in; a session id is the user's own or a 404.
    "auth.security": [Ask("GET", signed_in(OK))],
    "auth.change_password": [Ask("POST", signed_in(FORM), data={"current_password": ""})],
    "auth.two_step": [Ask("POST", signed_in(MOVED))],
    "auth.end_other_sessions": [Ask("POST", signed_in(MOVED))],
    "auth.sign_out_everywhere": [Ask("POST", signed_in(OUT))],
    "auth.end_session": [
        Ask(
            "POST",
            signed_in(MISSING, parent=OUT),
            url=lambda w: {"session_id": w.ids["parent_session"]},
            note="the parent's own session ends (and signs them out); anyone else's id is 404",
        ),
        Ask(
            "POST",
            signed_in(MISSING, admin=OUT),
            url=lambda w: {"session_id": w.ids["admin_session"]},
        ),
    ],
    # Push tokens, JSON: another user's token is a 404; registering moves a token to its new
    # holder (decisions.md: the device changed hands), so a fresh token is registered here.
    "devices.register": [
        Ask(
            "POST",
            signed_in(201),
            json=lambda w: {"token": f"matrix-{uuid.uuid4().hex}", "platform": "android"},
        )
    ],
    "devices.remove": [
        Ask(
            "DELETE",
            signed_in(404, parent=204),
            json=lambda w: {"token": w.ids["parent_token"]},
        )
    ],
    # The parent's area: another parent's contact is a 404, staff and operators are refused.
    "account.index": [Ask("GET", parents(OK))],
    "account.activity": [Ask("GET", parents(OK))],
    "account.privacy": [Ask("GET", parents(OK))],
    "account.give_consent": [
        Ask("POST", parents(MOVED), data=lambda w: {"consent_text_id": w.ids["consent_text"]})
    ],
    "account.withdraw_consent": [Ask("POST", parents(MOVED))],
    "account.profile": [Ask("GET", parents(OK)), Ask("POST", parents(FORM), data={"name": ""})],
    "account.email": [Ask("GET", parents(OK)), Ask("POST", parents(FORM))],
    "account.verify_email_change": [Ask("POST", parents(ALLOWED))],
    "account.delete_account": [Ask("GET", parents(OK)), Ask("POST", parents(FORM))],
    "account.favorite_list": [Ask("GET", parents(OK))],
    "account.add_favorite": [
        Ask(
            "POST",
            parents(MOVED),
            data=lambda w: {"kind": "school", "target_id": w.ids["school_a"]},
        )
    ],
    "account.remove_favorite": [
        Ask(
            "POST",
            parents(MOVED),
            data=lambda w: {"kind": "school", "target_id": w.ids["school_a"]},
        )
    ],
    "account.contact_list": [Ask("GET", parents(OK))],
    "account.add_contact": [
        Ask("POST", parents(MOVED), data={"new-contact_type": "phone", "new-value": "5321112233"})
    ],
    "account.contact": [
        Ask(
            "GET", parents(OK, other_parent=MISSING), url=lambda w: {"contact_id": w.ids["contact"]}
        )
    ],
    "account.edit_contact": [
        Ask(
            "GET", parents(OK, other_parent=MISSING), url=lambda w: {"contact_id": w.ids["contact"]}
        )
    ],
    "account.update_contact": [
        Ask(
            "POST",
            parents(MOVED, other_parent=MISSING),
            url=lambda w: {"contact_id": w.ids["contact"]},
            data=lambda w: {
                f"contact-{w.ids['contact']}-contact_type": "email",
                f"contact-{w.ids['contact']}-value": "taken@example.com",
            },
        )
    ],
    "account.delete_contact": [
        Ask(
            "POST",
            parents(MOVED, other_parent=MISSING),
            url=lambda w: {"contact_id": w.ids["contact"]},
        )
    ],
    # Subscriptions: the parent's own, or the company's for staff with MANAGE_BILLING. The
    # other parent has none, so the steps that need one answer 404; the agent may not manage.
    "billing.subscription": [Ask("GET", parents(OK))],
    "billing.company_subscription": [Ask("GET", staff(OK))],
    "billing.receipt": [
        Ask(
            "GET",
            subscribers(OK, MISSING, MISSING, MISSING, MISSING),
            url=lambda w: {"payment_id": w.ids["parent_payment"]},
        ),
        Ask(
            "GET",
            subscribers(MISSING, MISSING, MISSING, MISSING, OK),
            url=lambda w: {"payment_id": w.ids["company_payment"]},
            note="the agent may not see billing: to them no payment exists",
        ),
    ],
    # The same receipt as a file: the same answers as the page.
    "billing.receipt_download": [
        Ask(
            "GET",
            subscribers(OK, MISSING, MISSING, MISSING, MISSING),
            url=lambda w: {"payment_id": w.ids["parent_payment"]},
        ),
        Ask(
            "GET",
            subscribers(MISSING, MISSING, MISSING, MISSING, OK),
            url=lambda w: {"payment_id": w.ids["company_payment"]},
            note="the agent may not see billing: to them no payment exists",
        ),
    ],
    "billing.checkout": [
        Ask(
            "GET",
            subscribers(MOVED, OK, DENIED, MISSING, MOVED),
            url=lambda w: {"price_id": w.ids["parent_price"]},
            note="a subscriber is sent to change plan first (which refuses another audience's "
            "price); without a subscription, another audience's price is a 404",
        ),
        Ask(
            "GET",
            subscribers(MOVED, MISSING, DENIED, OK, MOVED),
            url=lambda w: {"price_id": w.ids["company_price"]},
        ),
        Ask(
            "POST",
            subscribers(ALLOWED, ALLOWED, DENIED, MISSING, ALLOWED),
            url=lambda w: {"price_id": w.ids["parent_price"]},
        ),
        Ask(
            "POST",
            subscribers(ALLOWED, MISSING, DENIED, ALLOWED, ALLOWED),
            url=lambda w: {"price_id": w.ids["company_price"]},
        ),
    ],
    # A document the parent confirmed at checkout: theirs alone; anyone else's is a 404.
    "billing.accepted_document": [
        Ask(
            "GET",
            subscribers(OK, MISSING, DENIED, DENIED, DENIED),
            url=lambda w: {"acceptance_id": w.ids["parent_acceptance"]},
        ),
        Ask("GET", subscribers(MISSING, MISSING, DENIED, DENIED, DENIED), url={"acceptance_id": 0}),
    ],
    "billing.checkout_return": [
        Ask(
            "GET",
            subscribers(400, 400, DENIED, MISSING, MISSING),
            url=lambda w: {"price_id": w.ids["parent_price"]},
            note="without the provider's signed answer there is nothing to check: 400",
        )
    ],
    # The sandbox provider's hosted page stands for another site: open to anyone, and the
    # signed checkout in its address is the only key.
    "sandbox_provider.checkout": [Ask("GET", everyone(400)), Ask("POST", everyone(400))],
    "billing.change": [
        Ask(
            "GET",
            subscribers(OK, MOVED, DENIED, MOVED, MOVED),
            url=lambda w: {"price_id": w.ids["parent_yearly"]},
            note="without a subscription, a change is a checkout; the wrong audience's price "
            "is refused on the subscription page",
        ),
        Ask(
            "GET",
            subscribers(MOVED, MOVED, DENIED, MOVED, OK),
            url=lambda w: {"price_id": w.ids["company_yearly"]},
        ),
        Ask(
            "POST",
            subscribers(MOVED, MOVED, DENIED, MOVED, MOVED),
            url=lambda w: {"price_id": w.ids["parent_yearly"]},
        ),
        Ask(
            "POST",
            subscribers(MOVED, MOVED, DENIED, MOVED, MOVED),
            url=lambda w: {"price_id": w.ids["company_yearly"]},
        ),
    ],
    "billing.act": [
        Ask(
            "POST",
            subscribers(MOVED, MISSING, DENIED, MISSING, MOVED),
            url={"action": action},
        )
        for action in ("cancel-at-period-end", "undo-cancel", "cancel-change")
    ]
    + [
        Ask(
            "POST",
            subscribers(MISSING, MISSING, MISSING, MISSING, MISSING),
            url={"action": "no-such-action"},
            note="an unknown action is a 404 before anyone's permission is asked",
        )
    ],
    "billing.resume": [Ask("POST", subscribers(MOVED, MISSING, DENIED, MISSING, MOVED))],
    # A pause needs the day renewals resume: without one, the form comes back (422).
    "billing.pause": [
        Ask("POST", subscribers(FORM, MISSING, DENIED, MISSING, FORM)),
        Ask(
            "POST",
            subscribers(MOVED, MISSING, DENIED, MISSING, MOVED),
            data=lambda w: {"until": (istanbul_today() + timedelta(days=30)).isoformat()},
        ),
    ],
    "billing.cancel_now": [
        Ask("GET", subscribers(OK, MISSING, DENIED, MISSING, OK)),
        Ask("POST", subscribers(MOVED, MISSING, DENIED, MISSING, MOVED)),
    ],
    # Saved cards (issue 12): the parent's own; the company's for staff with SEE_BILLING (list)
    # and MANAGE_BILLING (changes; the agent has neither). A card id names only the caller's own
    # card: anyone else's, or a removed one, is the same 404 as an unknown id. The card renewals
    # charge is not removed (refused on the page: 303 with a message, htmx 422). A deactivated
    # member: tests/billing/test_saved_cards.py.
    "billing.cards": [Ask("GET", parents(OK))],
    "billing.company_cards": [Ask("GET", staff(OK, agent=DENIED))],
    "billing.add_card": [Ask("POST", subscribers(MOVED, MOVED, DENIED, MOVED, MOVED))],
    "billing.card_return": [
        Ask(
            "GET",
            subscribers(400, 400, DENIED, 400, 400),
            note="without the provider's sealed answer there is nothing to keep: 400",
        )
    ],
    "billing.make_default_card": [
        Ask(
            "POST",
            subscribers(MOVED, MISSING, DENIED, MISSING, MISSING),
            data=lambda w: {"card": w.ids["parent_spare_card"]},
        ),
        Ask(
            "POST",
            subscribers(MISSING, MISSING, DENIED, MISSING, MOVED),
            data=lambda w: {"card": w.ids["company_spare_card"]},
        ),
        Ask("POST", subscribers(FORM, FORM, DENIED, FORM, FORM), data={"card": "abc"}),
    ],
    "billing.remove_card": [
        Ask(
            "POST",
            subscribers(MOVED, MISSING, DENIED, MISSING, MISSING),
            data=lambda w: {"card": w.ids["parent_spare_card"]},
        ),
        Ask(
            "POST",
            subscribers(ALLOWED, MISSING, DENIED, MISSING, MISSING),
            data=lambda w: {"card": w.ids["parent_card"]},
            note="the card the parent's renewals charge: refused with what to do instead",
        ),
        Ask(
            "POST",
            subscribers(MISSING, MISSING, DENIED, MISSING, MOVED),
            data=lambda w: {"card": w.ids["company_spare_card"]},
        ),
        Ask(
            "POST",
            subscribers(MISSING, MISSING, DENIED, MISSING, ALLOWED),
            data=lambda w: {"card": w.ids["company_card"]},
        ),
        Ask("POST", subscribers(FORM, FORM, DENIED, FORM, FORM), data={"card": ""}),
    ],
    # The staff member's own account (issue 12): each member their own; the parent's area stays
    # the parents' (account.*). Password, sessions and two-step: auth.security, above.
    "customer.account": [
        Ask("GET", staff(OK)),
        Ask("POST", staff(MOVED), data={"name": "Ada Yıldız", "phone": ""}),
        Ask("POST", staff(FORM), data={"name": ""}),
    ],
    "customer.account_email": [Ask("GET", staff(OK)), Ask("POST", staff(FORM))],
    "customer.account_verify_email": [Ask("POST", staff(ALLOWED))],
    # The customer portal: each member sees their own company; editing it needs EDIT_COMPANY.
    "customer.index": [Ask("GET", staff(OK))],
    "customer.company": [
        Ask("GET", staff(OK)),
        Ask("POST", staff(FORM, agent=DENIED), data={"name": ""}),
    ],
    # Issue 12: the team's activity needs MANAGE_TEAM (the agent has not); the scores are every
    # member's. Neither names an object: each member sees their own company's (the other
    # company's admin included); a deactivated member is refused by the audience hook
    # (tests/customer/test_activity_page.py, test_scores.py).
    "customer.activity": [
        Ask("GET", staff(OK, agent=DENIED)),
        Ask("GET", staff(OK, agent=DENIED), url={"page": "2"}),
    ],
    "customer.scores": [Ask("GET", staff(OK))],
    # Issue 12, the schools' own pages: EDIT_SCHOOL_PAGES (the agent has not: 403), then the
    # grant: company A's admin holds none (404), B's admin is granted school B, whole. A campus
    # outside the grants named in the form is a 404 too. Campus-only and deactivated members:
    # tests/customer/test_school_pages.py.
    "customer.schools": [Ask("GET", staff(OK, agent=DENIED))],
    "customer.school_edit": [
        Ask("GET", staff(MISSING, agent=DENIED), url=lambda w: {"slug": w.ids["school_a_slug"]}),
        Ask(
            "GET",
            staff(MISSING, agent=DENIED, other_staff=OK),
            url=lambda w: {"slug": w.ids["school_b_slug"]},
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED),
            url=lambda w: {"slug": w.ids["school_a_slug"]},
            data={"email": "not-an-address"},
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, other_staff=FORM),
            url=lambda w: {"slug": w.ids["school_b_slug"]},
            data={"email": "not-an-address"},
        ),
    ],
    "customer.save_campus_fees": [
        Ask(
            "POST",
            staff(MISSING, agent=DENIED),
            url=lambda w: {"slug": w.ids["school_a_slug"]},
            data=lambda w: {"campus_id": w.ids["school_a_campus"], "school_year": "2026"},
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, other_staff=MOVED),
            url=lambda w: {"slug": w.ids["school_b_slug"]},
            data=lambda w: {
                "campus_id": w.ids["school_b_campus"],
                "school_year": str(school_year_of(istanbul_today())),
                "primary_this": "123.000",
            },
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED),
            url=lambda w: {"slug": w.ids["school_b_slug"]},
            data=lambda w: {"campus_id": w.ids["school_a_campus"], "primary_this": "1"},
            note="another company's campus named in the form of one's own school is a 404",
        ),
    ],
    "customer.set_school_listing": [
        Ask(
            "POST",
            staff(MISSING, agent=DENIED),
            url=lambda w: {"slug": w.ids["school_a_slug"]},
            data={"listed": "no"},
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, other_staff=MOVED),
            url=lambda w: {"slug": w.ids["school_b_slug"]},
            data={"listed": "no"},
        ),
    ],
    # Leads, the parent's side: a parent asks (the form refused here: no message); the
    # parent's own lead and its offer, which the other parent cannot name (404).
    "leads.ask": [
        Ask(
            "GET",
            parents(OK),
            url=lambda w: {"slug": w.ids["school_a_slug"], "campus": w.ids["school_a_campus"]},
        ),
        Ask(
            "POST",
            parents(FORM),
            url=lambda w: {"slug": w.ids["school_a_slug"]},
            data={"message": ""},
        ),
    ],
    "leads.my_leads": [Ask("GET", parents(OK))],
    "leads.my_lead": [
        Ask(
            "GET",
            parents(OK, other_parent=MISSING),
            url=lambda w: {"lead_id": w.ids["parent_lead"]},
        )
    ],
    "leads.offer_answer": [
        Ask(
            "POST",
            parents(MOVED, other_parent=MISSING),
            url=lambda w: {"lead_id": w.ids["parent_lead"], "offer_id": w.ids["parent_offer"]},
            data={"action": "decline"},
        )
    ],
    "leads.withdraw": [
        Ask(
            "POST",
            parents(MOVED, other_parent=MISSING),
            url=lambda w: {"lead_id": w.ids["parent_lead"]},
        )
    ],
    # Leads, the staff's side: the agent is granted the campus of the parent's lead; the other
    # company's admin the other school; company A's admin holds no grant. A lead outside the
    # member's grants is a 404 by address, form and htmx alike, and so is an assignee who may
    # not work on the lead.
    "leads.inbox": [
        Ask("GET", staff(OK)),
        Ask("GET", staff(OK), url=lambda w: {"state": "all", "school": w.ids["school_b"]}),
    ],
    "leads.staff_lead": [
        Ask("GET", staff(MISSING, agent=OK), url=lambda w: {"lead_id": w.ids["parent_lead"]}),
        Ask("GET", staff(MISSING), url=lambda w: {"lead_id": w.ids["other_campus_lead"]}),
        Ask(
            "GET",
            staff(MISSING, other_staff=OK),
            url=lambda w: {"lead_id": w.ids["other_school_lead"]},
        ),
    ],
    "leads.staff_offer": [
        *(
            Ask("POST", expect, url=lambda w, lead=lead: {"lead_id": w.ids[lead]}, data=_offer)
            for lead, expect in _STAFF_LEADS
        ),
        Ask(
            "POST",
            staff(MISSING, agent=FORM),
            url=lambda w: {"lead_id": w.ids["parent_lead"]},
            data={"yearly_fee": "", "valid_until": ""},
        ),
    ],
    "leads.staff_note": [
        Ask("POST", expect, url=lambda w, lead=lead: {"lead_id": w.ids[lead]}, data={"body": "Not"})
        for lead, expect in _STAFF_LEADS
    ],
    "leads.staff_assign": [
        *(
            Ask("POST", expect, url=lambda w, lead=lead: {"lead_id": w.ids[lead]}, data={})
            for lead, expect in _STAFF_LEADS
        ),
        Ask(
            "POST",
            staff(MISSING, agent=MOVED),
            url=lambda w: {"lead_id": w.ids["parent_lead"]},
            data=lambda w: {"assignee": w.ids["agent_member"]},
        ),
        Ask(
            "POST",
            staff(MISSING),
            url=lambda w: {"lead_id": w.ids["parent_lead"]},
            data=lambda w: {"assignee": w.ids["other_staff_member"]},
            note="a colleague outside the lead's grants, named in a form field, is a 404",
        ),
    ],
    "leads.staff_end": [
        Ask(
            "POST",
            expect,
            url=lambda w, lead=lead: {"lead_id": w.ids[lead]},
            data={"state": "lost", "reason": "Başka okul"},
        )
        for lead, expect in _STAFF_LEADS
    ],
    # The team (MANAGE_TEAM: company A's admin; the agent may not; company B's admin meets
    # company A's members as unknown ids). Company A's plan carries no "team_members" feature,
    # so its admin's invitation is refused as over the limit (422); company B is on the free
    # limit and may invite. An unknown invitation link is a 404 for everyone.
    "customer.team_list": [Ask("GET", staff(OK))],
    "customer.member": [
        Ask("GET", staff(MISSING, agent=DENIED, admin=OK), url=_member_url),
        Ask("GET", staff(MISSING, agent=DENIED), url={"member_id": "abc"}),
    ],
    "customer.member_role": [
        Ask("POST", staff(MISSING, agent=DENIED, admin=MOVED), url=_member_url, data={"role": 3}),
        Ask("POST", staff(MISSING, agent=DENIED, admin=FORM), url=_member_url, data={"role": ""}),
    ],
    "customer.member_grant": [
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=MOVED),
            url=_member_url,
            data=lambda w: {"target": f"school:{w.ids['school_a']}"},
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=FORM),
            url=_member_url,
            data=lambda w: {"target": f"school:{w.ids['school_b']}"},
            note="another company's school is not a choice",
        ),
    ],
    "customer.member_revoke_grant": [
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=MOVED),
            url=_member_url,
            data=lambda w: {"grant": _agent_grant(w)},
        )
    ],
    "customer.member_deactivate": [
        Ask("POST", staff(MISSING, agent=DENIED, admin=MOVED), url=_member_url)
    ],
    "customer.member_reactivate": [
        Ask("POST", staff(MISSING, agent=DENIED, admin=MOVED), url=_member_url)
    ],
    "customer.invite": [
        Ask(
            "POST",
            staff(MOVED, agent=DENIED, admin=FORM),
            data={"email": "davet@example.com", "role": 3, "title": ""},
        ),
        Ask("POST", staff(FORM, agent=DENIED), data={"email": "", "role": 3}),
    ],
    "customer.revoke_invitation": [
        Ask("POST", staff(MISSING, agent=DENIED), data={"invitation": "999999"})
    ],
    "customer.accept_invitation": [
        Ask("GET", everyone(MISSING), url={"token": "no-such-invitation"}),
        Ask("POST", everyone(MISSING), url={"token": "no-such-invitation"}),
    ],
    # The company's agreements (issue 13): read by members who may sign them or see billing
    # (company A's admin; its agent may not), another company's is a 404. A sign with a wrong
    # code is a refused form; the accepted signature is the feature tests' (a sign row cannot
    # be put back: the database refuses its deletion).
    "agreements.company_agreements": [Ask("GET", staff(OK, agent=DENIED))],
    "agreements.company_agreement": [
        Ask("GET", staff(MISSING, agent=DENIED, admin=OK), url=_agreement_url),
        Ask("GET", staff(MISSING, agent=DENIED), url={"agreement_id": "abc"}),
    ],
    "agreements.evidence_page": [
        Ask("GET", staff(MISSING, agent=DENIED, admin=OK), url=_agreement_url),
    ],
    # Company A's agreement awaits its signature: no evidence PDF yet, to anyone (the
    # download of a signed one is tests/agreements/test_evidence_pdf.py's).
    "agreements.evidence_pdf_download": [
        Ask("GET", staff(MISSING, agent=DENIED), url=_agreement_url),
    ],
    "agreements.send_signing_code": [
        Ask("POST", staff(MISSING, agent=DENIED, admin=MOVED), url=_agreement_url),
    ],
    "agreements.sign": [
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=FORM),
            url=_agreement_url,
            data=lambda w: {
                "code": "000000",
                "confirm": "y",
                "document_sha256": w.ids["agreement_a_sha256"],
            },
            note="no code was sent: refused next to the field",
        ),
    ],
    "agreements.decline": [
        Ask("POST", staff(MISSING, agent=DENIED, admin=FORM), url=_agreement_url, data={}),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=MOVED),
            url=_agreement_url,
            data={"reason": "Fiyat"},
        ),
    ],
    # Paying a signed agreement (issue 13 item 6): members who may manage billing (company A's
    # admin; the agent may not), another company's agreement is a 404; an unsigned one shows
    # that nothing can be paid, and a form for it is refused (422).
    "agreements.pay_agreement": [
        Ask("GET", staff(MISSING, agent=DENIED, admin=OK), url=_signed_agreement_url),
        Ask("GET", staff(MISSING, agent=DENIED, admin=OK), url=_agreement_url),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=FORM),
            url=_signed_agreement_url,
            data={"card": "abc"},
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=MOVED),
            url=_signed_agreement_url,
            data=lambda w: {"card": w.ids["company_spare_card"], "due_on": w.ids["signed_due"]},
            note="a saved card pays at once: to the receipt",
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=MOVED),
            url=_signed_agreement_url,
            data=lambda w: {"card": "new", "due_on": w.ids["signed_due"]},
            note="a new card: to the provider's hosted page",
        ),
        Ask(
            "POST",
            staff(MISSING, agent=DENIED, admin=FORM),
            url=_agreement_url,
            data=lambda w: {"card": "new", "due_on": w.ids["signed_due"]},
        ),
    ],
    "agreements.pay_agreement_return": [
        Ask(
            "GET",
            staff(MISSING, agent=DENIED, admin=400),
            url=_signed_agreement_url,
            note="without the provider's sealed answer there is nothing to check: 400",
        ),
    ],
    # The operators' agreement screen (issue 13): operators only; the domain's refusals are
    # forms refused (422), an unknown agreement a 404.
    "agreements.operator_agreements": [
        Ask("GET", operators(OK)),
        Ask("GET", operators(OK), url={"page": "2"}),
    ],
    "agreements.operator_publish_text": [
        Ask("POST", operators(FORM), data={}),
        Ask(
            "POST",
            operators(FORM),
            data={"kind": "company_service", "title": "Sürüm", "body": "{bilinmeyen}"},
            note="an unknown placeholder: refused next to the text",
        ),
    ],
    "agreements.operator_new_agreement": [
        Ask("GET", operators(OK)),
        Ask("POST", operators(FORM), data={}),
    ],
    "agreements.operator_agreement": [
        Ask("GET", operators(OK), url=_agreement_url),
        Ask("GET", operators(MISSING), url={"agreement_id": "abc"}),
    ],
    "agreements.operator_send_agreement": [
        Ask("POST", operators(FORM), url=_agreement_url, note="not a draft: refused, 422"),
    ],
    "agreements.operator_evidence_pdf": [
        Ask("GET", operators(MISSING), url=_agreement_url, note="not signed yet: no PDF"),
    ],
    "agreements.operator_void_agreement": [
        Ask("POST", operators(FORM), url=_agreement_url, data={}),
        Ask("POST", operators(MOVED), url=_agreement_url, data={"reason": "Yanlış firma"}),
    ],
    # Renewals (issue 13 item 5): operators only. Company A's agreement awaits signatures, so
    # renewing it or offering a discount is refused (422); there is no discount to follow up.
    "agreements.operator_renewals": [
        Ask("GET", operators(OK)),
        Ask("GET", operators(OK), url={"page": "2"}),
    ],
    "agreements.operator_follow_ups": [Ask("GET", operators(OK))],
    "agreements.operator_renewal": [
        Ask("GET", operators(OK), url=_agreement_url),
        Ask("GET", operators(MISSING), url={"agreement_id": "abc"}),
    ],
    "agreements.operator_renew_agreement": [
        Ask("POST", operators(FORM), url=_agreement_url, data={"rate": "abc"}),
        Ask(
            "POST",
            operators(FORM),
            url=_agreement_url,
            data={"rate": "10", "action": "renew"},
            note="not signed: refused, 422",
        ),
    ],
    "agreements.operator_offer_discount": [
        Ask("POST", operators(FORM), url=_agreement_url, data={}),
    ],
    "agreements.operator_follow_up_discount": [
        Ask("POST", operators(MISSING), url={"discount_id": "999999999"}, data={}),
        Ask("POST", operators(MISSING), url={"discount_id": "abc"}, data={}),
    ],
    # The public verification page: anyone, signed in or not.
    "agreements.verify": [
        Ask("GET", everyone(OK)),
        Ask("GET", everyone(OK), url=lambda w: {"sha256": w.ids["agreement_a_sha256"]}),
        Ask("GET", everyone(FORM), url={"sha256": "not-a-hash"}),
    ],
    "agreements.verify_pdf": [
        Ask("POST", everyone(FORM), data={}, note="no file: refused next to the field"),
    ],
    # Operators.
    "operator.index": [Ask("GET", operators(OK)), Ask("GET", operators(OK), url={"q": "Ayla"})],
}


@dataclass
class World:
    """The module's data: ids by name, a signed-in client per actor, and the snapshot that
    puts them back."""

    app: object
    ids: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    cookies: dict = field(default_factory=dict)
    written: set = field(default_factory=set)
    locked: list = field(default_factory=list)

    def tables(self):
        skipped = dbutil.REFERENCE_TABLES | BOOKKEEPING_TABLES
        return [t for t in db.metadata.sorted_tables if t.name not in skipped]

    def read_rows(self, only=None) -> dict:
        with self.app.app_context(), db.engine.connect() as connection:
            return {
                t.name: {
                    _key(t, row): dict(row) for row in connection.execute(select(t)).mappings()
                }
                for t in self.tables()
                if only is None or t.name in only
            }

    def watch_writes(self) -> None:
        """Note the tables every INSERT, UPDATE and DELETE names, so that after a request
        only those are read again (reading them all after each POST was most of the time)."""

        def note(conn, cursor, statement, parameters, context, executemany):
            if match := WRITE.match(statement):
                self.written.add(match.group(1).lower())
            elif LOCKING.search(statement):
                self.locked.append(statement)

        with self.app.app_context():
            event.listen(db.engine, "before_cursor_execute", note)

    def snapshot(self) -> None:
        self.rows = self.read_rows()
        self.cookies = {actor: dict(c._cookies) for actor, c in self.clients.items()}

    def changes(self) -> dict:
        """Per table, the keys of the rows added, removed and changed since the snapshot,
        among the tables written to since `written` was last cleared."""
        found = {}
        if not self.written & self.rows.keys():
            return found
        for name, rows in self.read_rows(only=self.written).items():
            before = self.rows[name]
            added, removed = rows.keys() - before.keys(), before.keys() - rows.keys()
            changed = {
                k for k in rows.keys() & before.keys() if _meaning(rows[k]) != _meaning(before[k])
            }
            if added or removed or changed:
                found[name] = (added, removed, changed)
        return found

    def restore(self, changes: dict) -> None:
        """Put back the rows that `changes` names, and every client's cookies, as they were
        when the world was built."""
        if changes:
            with self.app.app_context():
                db.session.remove()
                with db.engine.begin() as connection:
                    for table in reversed(self.tables()):
                        for key in changes.get(table.name, ((), (), ()))[0]:
                            connection.execute(delete(table).where(*_where(table, key)))
                    for table in self.tables():
                        if table.name not in changes:
                            continue
                        _, removed, changed = changes[table.name]
                        before = self.rows[table.name]
                        if removed:
                            connection.execute(insert(table), [before[key] for key in removed])
                        for key in changed:
                            connection.execute(
                                update(table).where(*_where(table, key)).values(before[key])
                            )
        for actor, client in self.clients.items():
            client._cookies.clear()
            client._cookies.update(self.cookies[actor])


def _key(table, row) -> tuple:
    return tuple(row[column.name] for column in table.primary_key.columns)


def _where(table, key: tuple) -> list:
    return [column == value for column, value in zip(table.primary_key.columns, key, strict=True)]


def _meaning(row: dict) -> dict:
    # What a refused request must leave alone: all but the bookkeeping columns.
    return {k: v for k, v in row.items() if k not in BOOKKEEPING_COLUMNS}


@pytest.fixture(scope="module")
def world(database_url):
    """Two parents, two companies (A with an agent granted one campus and an admin, B with
    an admin), an operator; the parent and company A on paid plans; everyone signed in."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False})
    app.test_client_class = IsolatedClient
    world = World(app)
    with app.app_context():
        _build(world, Factories(db.session))
        db.session.commit()
    world.clients = {actor: app.test_client() for actor in ACTORS}
    emails = world.ids.pop("emails")
    for actor, client in world.clients.items():
        if actor != ANON:
            # Each actor signs in from their own known browser: no one-time code is asked.
            device_id = f"matrix-device-{uuid.uuid4().hex}"
            with app.app_context():
                remember_device(db.session, world.ids[actor], device_id, Origin(), utcnow())
                db.session.commit()
            client.set_cookie(app.config["DEVICE_COOKIE_NAME"], device_id)
            response = AuthActions(client).login(emails[actor])
            assert response.status_code == 303, f"{actor} could not sign in"
        world.tokens[actor] = csrf_token(client)
    with app.app_context():
        for name, actor in (("parent_session", PARENT), ("admin_session", ADMIN)):
            world.ids[name] = db.session.scalar(
                select(UserSessionHash.id).where(UserSessionHash.user_id == world.ids[actor])
            )
    world.snapshot()
    world.watch_writes()
    yield world
    with app.app_context():
        db.session.remove()
        dbutil.empty_tables(db.engine, db.metadata)
        db.engine.dispose()


def _build(world: World, make: Factories) -> None:
    session = make.session
    ids = world.ids
    company_a = make.customer(name="Ata Eğitim")
    company_b = make.customer(name="Bora Eğitim")
    school_a = make.school(customer=company_a, campuses=("Moda", "Kadıköy"))
    school_b = make.school(customer=company_b)
    parent = make.user("parent", name="Ayla Demir")
    other_parent = make.user("parent", name="Burak Şahin")
    agent = make.customer_user(customer=company_a, role=Role.AGENT)
    make.grant(agent, school_a, school_a.campuses[0])
    admin = make.customer_user(customer=company_a, role=Role.ADMIN)
    other_staff = make.customer_user(customer=company_b, role=Role.ADMIN)
    operator = make.user("operator")
    users = {
        PARENT: parent,
        OTHER_PARENT: other_parent,
        AGENT: agent.user,
        OTHER_STAFF: other_staff.user,
        ADMIN: admin.user,
        OPERATOR: operator,
    }
    ids["emails"] = {actor: user.email for actor, user in users.items()}
    ids.update({actor: user.id for actor, user in users.items()})
    ids["school_a"], ids["school_a_slug"] = school_a.id, school_a.slug
    ids["school_a_campus"] = school_a.campuses[0].id

    for user in (parent, other_parent):
        session.add(UserContact(user_id=user.id, contact_type="phone", value="+905321234567"))
    session.add(UserNotificationId(user_id=parent.id, token="matrix-parent", platform="ios"))
    session.flush()
    ids["contact"] = session.scalar(select(UserContact.id).where(UserContact.user_id == parent.id))
    ids["parent_token"] = "matrix-parent"
    ids["consent_text"] = session.scalar(
        select(ConsentText.id)
        .where(ConsentText.kind == "kvkk_consent")
        .order_by(ConsentText.id.desc())
    )
    # The parent's lead to school A's first campus, with an open offer (leads).
    parent_lead = make.lead(parent, school_a, school_a.campuses[0])
    ids["parent_lead"] = parent_lead.id
    ids["parent_offer"] = make.offer(parent_lead).id
    # The staff's leads (leads.staff_*): one on school A's other campus, one on company B's
    # school, which B's admin is granted.
    ids["other_campus_lead"] = make.lead(other_parent, school_a, school_a.campuses[1]).id
    ids["other_school_lead"] = make.lead(other_parent, school_b).id
    make.grant(other_staff, school_b)
    ids["school_b"] = school_b.id
    ids["school_b_slug"], ids["school_b_campus"] = school_b.slug, school_b.campuses[0].id
    ids["agent_member"], ids["other_staff_member"] = agent.id, other_staff.id
    _agreement(session, make, ids, company_a)

    parents_plan = make.plan(
        audience="parents", features={"favorites": None, "school_comparison": None}
    )
    companies_plan = make.plan(audience="companies")
    prices = {
        "parent_price": make.price(parents_plan),
        "parent_yearly": make.price(parents_plan, billing_cycle="yearly", amount="1000.00"),
        "company_price": make.price(companies_plan, amount="1000.00"),
        "company_yearly": make.price(companies_plan, billing_cycle="yearly", amount="10000.00"),
    }
    ids.update({name: price.id for name, price in prices.items()})
    anchor = istanbul_today() - timedelta(days=5)
    for name, price, owner in (
        ("parent_payment", prices["parent_price"], {"user": parent}),
        ("company_payment", prices["company_price"], {"customer": company_a}),
    ):
        subscription = make.subscription(
            price,
            anchor_date=anchor,
            end_date=anchor + relativedelta(months=1),
            next_billing_date=anchor + relativedelta(months=1),
            last_payment_date=anchor,
            **owner,
        )
        payment = Payment(
            user_subscription_id=subscription.id,
            user_id=subscription.user_id,
            customer_id=subscription.customer_id,
            purpose="first_charge",
            plan_price_id=price.id,
            net_amount=price.amount,
            kdv_amount=Decimal("0.00"),
            gross_amount=price.amount,
            status="succeeded",
            gateway="sandbox",
            idempotency_key=uuid.uuid4().hex,
            charged_period=anchor,
        )
        session.add(payment)
        session.flush()
        ids[name] = payment.id
        if name == "parent_payment":
            parent_subscription = subscription
            _accepted_documents(session, ids, parent, price, payment.idempotency_key)
        else:
            company_subscription = subscription
    _saved_cards(session, ids, parent_subscription, company_subscription, other_parent, company_b)


def _accepted_documents(session, ids, parent, price, key) -> None:
    """The parent's confirmed pre-information form and contract of the sale (issue 13 item 7)."""
    from portal.agreements import acceptances
    from portal.agreements.evidence import Witness
    from portal.billing import subscriptions
    from portal.billing.subscribers import Subscriber

    quote = subscriptions.quote(session, Subscriber(user_id=parent.id), price, istanbul_today())
    buyer = acceptances.Buyer.of_user(parent)
    provider = {"name": "Okul", "legal_name": "Okul A.Ş.", "address": "İstanbul"}
    documents = acceptances.sale_documents(
        session, provider, buyer, quote, order_key=key, now=utcnow()
    )
    rows = acceptances.accept(
        session,
        buyer,
        documents,
        plan_price_id=price.id,
        idempotency_key=key,
        witness=Witness("192.0.2.1", "192.0.2.1", "matrix", "password_session"),
        now=utcnow(),
    )
    ids["parent_acceptance"] = rows[0].id


def _agreement(session, make, ids, company_a) -> None:
    """Company A's agreement, sent and awaiting its admin's signature (issue 13)."""
    from portal.agreements import agreements
    from portal.agreements.agreements import Party

    provider = Party("Okul", "Okul Bilişim A.Ş.", "Kadıköy", "1234567890", "İstanbul")
    agreement = make.agreement(company_a, make.agreement_text(), required_roles=(Role.ADMIN,))
    agreements.send_for_signature(session, agreement, provider, now=utcnow())
    ids["agreement_a"], ids["agreement_a_sha256"] = agreement.id, agreement.document_sha256
    # Signed, its term starting today: its first installment is due (issue 13 item 6).
    today = istanbul_today()
    signed = make.agreement(
        company_a, status="signed", starts_on=today, ends_on=today + relativedelta(years=1)
    )
    ids["signed_agreement_a"], ids["signed_due"] = signed.id, today.isoformat()


def _saved_cards(session, ids, parent_subscription, company_subscription, other_parent, company_b):
    """Saved cards (issue 12): the other parent's, the parent's two (renewals charge the
    first), company A's two (the same). A card id names a row of its own table, so company
    cards are numbered above every parent card (company B's removed cards fill the gap): no
    parent's card id is ever also a live company card's, and the other way round."""
    from portal.billing.cards import attach_card
    from portal.models import CustomerCreditCard, UserPaymentCard

    def card(model, last4, **owner):
        row = model(
            gateway="sandbox",
            token=f"sbx_ok_matrix{uuid.uuid4().hex}",
            brand="visa",
            last4=last4,
            exp_month=12,
            exp_year=2031,
            **owner,
        )
        session.add(row)
        session.flush()
        return row

    card(UserPaymentCard, "1111", user_id=other_parent.id)
    parent_card = card(UserPaymentCard, "2222", user_id=parent_subscription.user_id)
    ids["parent_spare_card"] = card(UserPaymentCard, "3333", user_id=parent_subscription.user_id).id
    attach_card(parent_subscription, parent_card)
    ids["parent_card"] = parent_card.id
    while True:
        pad = card(CustomerCreditCard, "0000", customer_id=company_b.id)
        pad.deleted_at = utcnow()
        if pad.id > ids["parent_spare_card"]:
            break
    company_card = card(CustomerCreditCard, "4444", customer_id=company_subscription.customer_id)
    attach_card(company_subscription, company_card)
    ids["company_card"] = company_card.id
    spare = card(CustomerCreditCard, "5555", customer_id=company_subscription.customer_id)
    ids["company_spare_card"] = spare.id
    session.flush()


def url_of(app, endpoint: str, ask: Ask, world: World) -> str:
    from flask import url_for

    arguments = ask.url(world) if callable(ask.url) else (ask.url or {})
    with app.test_request_context():
        return url_for(endpoint, **arguments)


def mismatch(outcome, response, mode: str) -> str | None:
    """Why the response is not `outcome`, or None when it is."""
    status = response.status_code
    location = response.headers.get("Location", "")
    hx_redirect = response.headers.get("HX-Redirect", "")
    to_login = location.startswith("/auth/login") or hx_redirect.startswith("/auth/login")
    got = f"{status}{' to ' + (location or hx_redirect) if (location or hx_redirect) else ''}"
    if isinstance(outcome, int):
        ok = status == outcome
    elif outcome == LOGIN:
        if mode == "json":
            ok = status == 401 and response.is_json
        elif mode == "htmx":
            ok = status == 200 and hx_redirect.startswith("/auth/login?next=")
            ok = ok and response.get_data() == b""
        else:
            ok = status in (302, 303) and location.startswith("/auth/login?next=")
    elif outcome == OUT:
        ok = (location or hx_redirect) == "/auth/login"
        ok = ok and (status == 200 if mode == "htmx" else status in (302, 303))
    elif outcome == MOVED:
        ok = not to_login and (status == 200 if mode == "htmx" else status in (302, 303))
    elif outcome == ALLOWED:
        ok = not to_login and status in (200, 302, 303, 422)
    else:
        ok = status == int(outcome) and not to_login
    return None if ok else f"expected {outcome}, got {got}"


def ask_all(world: World, endpoint: str) -> list[str]:
    """Every actor's answer to every request of the endpoint; the list of mismatches."""
    problems = []
    with world.app.app_context():
        declared = audiences_of(endpoint)
    for ask in ROUTES[endpoint]:
        url = url_of(world.app, endpoint, ask, world)
        modes = ("json",) if ask.json is not None else ("plain", "htmx")
        for actor in ACTORS:
            outcome = ask.expect[actor]
            # The audience hook refuses before any view code runs (test_route_guards proves
            # it for every route), so only the refusals a view makes are worth a look at the
            # database afterwards.
            by_hook = ANONYMOUS not in declared and AUDIENCE_OF[actor] not in declared
            for mode in modes:
                if mode == "htmx" and by_hook and actor != ANON:
                    continue  # the hook's 403 comes before anything looks at htmx headers
                world.written.clear()
                world.locked.clear()
                response = _send(world, actor, ask, url, mode)
                where = f"{ask.method} {url} as {actor} ({mode})"
                if problem := mismatch(outcome, response, mode):
                    problems.append(f"{where}: {problem}")
                if ask.method == "GET" and world.locked:
                    # A page view that locks rows waits for every request holding them, and
                    # makes the next one wait until it has rendered.
                    problems.append(f"{where}: a GET locked rows: {world.locked[0][:120]}")
                if ask.method == "GET" or (outcome in REFUSALS and by_hook):
                    continue
                changes = world.changes()
                if outcome in REFUSALS and changes:
                    problems.append(f"{where}: a refused request changed {sorted(changes)}")
                    world.restore(changes)
                elif outcome not in REFUSALS:
                    world.restore(changes)
    return problems


def _send(world: World, actor: str, ask: Ask, url: str, mode: str):
    client = world.clients[actor]
    token = world.tokens[actor]
    headers = {"X-CSRFToken": token}
    if mode == "htmx":
        headers.update(HTMX)
    if mode == "json":
        body = ask.json(world) if callable(ask.json) else ask.json
        return client.open(url, method=ask.method, json=body, headers=headers)
    data = ask.data(world) if callable(ask.data) else dict(ask.data or {})
    if ask.method != "GET":
        data["csrf_token"] = token
        return client.open(url, method=ask.method, data=data, headers=headers)
    return client.open(url, method="GET", headers=headers)


def test_every_route_has_an_entry(world):
    """A route of the URL map without an entry fails here, by name; so does a stale entry."""
    with world.app.app_context():
        endpoints = {rule.endpoint for rule in world.app.url_map.iter_rules()}
        methods = {
            (rule.endpoint, method)
            for rule in world.app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
    assert sorted(endpoints - set(ROUTES)) == [], "routes without an entry in ROUTES"
    assert sorted(set(ROUTES) - endpoints) == [], "entries for routes that no longer exist"
    asked = {(endpoint, ask.method) for endpoint, asks in ROUTES.items() for ask in asks}
    assert sorted(methods - asked) == [], "methods of a route that the matrix never asks"


def test_every_entry_names_every_actor():
    incomplete = {
        endpoint: sorted(set(ACTORS) - set(ask.expect))
        for endpoint, asks in ROUTES.items()
        for ask in asks
        if set(ask.expect) != set(ACTORS)
    }
    assert incomplete == {}


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_each_actor_gets_the_answer_the_route_declares(world, endpoint):
    problems = ask_all(world, endpoint)
    assert not problems, "\n".join(problems)
