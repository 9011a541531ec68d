"""Paying a signed agreement, for the company's staff: the pay page, and the way back from the
provider's hosted page when a new card was typed there.

Members with Permission.MANAGE_BILLING pay; everyone else gets 403 (readers of the agreement
see its installments and their state on the agreement's page, without the button). Another
company's agreement, a draft or an unknown id is a 404. A saved company card is charged at
once; a new card goes to the hosted page first (the portal never sees its number), whose
answer comes back to pay_agreement_return. The domain is portal.agreements.payments.
"""

import re
from datetime import date

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal import htmx
from portal.access import CUSTOMER_USER, allow, member_who_may
from portal.access.permissions import Permission, can
from portal.agreements import bp, company
from portal.agreements import payments as agreement_payments
from portal.agreements.operator_forms import PERIOD_LABELS
from portal.agreements.payment_forms import AgreementPaymentForm
from portal.agreements.payments import AgreementPaymentError
from portal.billing import cards as saved_cards
from portal.billing.gateway import HostedCheckout, InvalidCheckout
from portal.billing.payments import PaymentFailed
from portal.billing.subscribers import Subscriber
from portal.billing.views.common import failure_message, gateway
from portal.clock import istanbul_today
from portal.core.views.errors import refuse_not_yours
from portal.extensions import db
from portal.forms import posted_id
from portal.i18n import money
from portal.models.customers import AgreementStatus
from portal.origin import current_origin

TEMPLATE = "agreements/pay.html"
_KEY = re.compile(r"[0-9a-f]{32}")
# AgreementPaymentError codes, for the person.
REFUSALS = {
    agreement_payments.NOT_SIGNED: _l("Only a signed agreement can be paid."),
    agreement_payments.NOT_PAYABLE: _l(
        "That installment cannot be paid now: it has been paid, or its day has not come. "
        "Nothing was charged."
    ),
    agreement_payments.FORM_ALREADY_USED: _l(
        "That payment form was already used. Nothing more was charged; start again."
    ),
}
EXPIRED_CARD = _l("This card has expired. Choose another card, or a new one.")


def payment_context(customer_user, agreement) -> dict:
    """What the agreement's page shows of its payments: the installments with their state
    (once it has been signed), and whether the reader may pay or open the receipts."""
    shown = agreement.status in (
        AgreementStatus.SIGNED,
        AgreementStatus.EXPIRED,
        AgreementStatus.RENEWED,
    )
    return {
        "payment_schedule": (
            agreement_payments.schedule(db.session, agreement, istanbul_today()) if shown else []
        ),
        "may_pay": can(customer_user, Permission.MANAGE_BILLING),
        "may_see_receipts": can(customer_user, Permission.SEE_BILLING),
    }


def _payer():
    """The signed-in member, who must be allowed to manage the company's billing.

    :raise 403: when they may not.
    """
    return member_who_may(Permission.MANAGE_BILLING)


def _agreement(actor, agreement_id: str):
    """:raise 404: not an agreement of the actor's company (or a draft, or not a number)."""
    wanted = posted_id(agreement_id)
    agreement = (
        company.agreement_of(db.session, actor.customer_id, wanted) if wanted is not None else None
    )
    if agreement is None:
        refuse_not_yours("customer_agreement", agreement_id)
    return agreement


def _usable_cards(customer_id: int) -> list:
    """The company's saved cards that have not expired, newest first."""
    today = istanbul_today()
    return [
        card
        for card in saved_cards.cards_of(db.session, Subscriber(customer_id=customer_id))
        if (card.exp_year, card.exp_month) >= (today.year, today.month)
    ]


def _page(actor, agreement, form=None, *, status=None, error=None, refusal=None):
    """The pay page: the installment payable now with its lines, net, KDV and total, and the
    card choice; `error` goes next to the card field, `refusal` above the form."""
    # Imported here: billing's receipts import this package (the parent's sale documents), so
    # at import time billing's cards page may be half-loaded.
    from portal.billing.views.cards import card_label

    installment = agreement_payments.payable_installment(db.session, agreement, istanbul_today())
    cards = _usable_cards(actor.customer_id)
    if form is None:
        form = AgreementPaymentForm(formdata=None)
        if not cards:
            form.card.data = "new"  # nothing else to choose
    if installment is not None:
        form.due_on.data = installment.due_on.isoformat()
    if error:
        form.card.errors = [*form.card.errors, error]
    return htmx.render(
        TEMPLATE,
        "pay_form",
        status=status or htmx.form_status(form, failed=bool(error or refusal)),
        agreement=agreement,
        installment=installment,
        form=form.with_cards(cards, card_label),
        refusal=refusal,
        product_period_names=PERIOD_LABELS,
        signed=AgreementStatus.SIGNED,
    )


def _fresh_form(form: AgreementPaymentForm) -> AgreementPaymentForm:
    """The same choice of card, with a new key: a new attempt is a new charge."""
    return AgreementPaymentForm(formdata=None, card=form.card.data)


def _reference(actor, agreement, due_on: date, key: str) -> str:
    # Whose order, for which agreement and installment, so that an answer brought to another
    # company, agreement or installment is refused; the key makes the attempt idempotent.
    return f"customer-{actor.customer_id}:agreement-{agreement.id}:{due_on.isoformat()}:{key}"


def _answer_of(reference: str, actor, agreement) -> tuple[date, str]:
    """The installment's day and the attempt's key, when the answer is for this company and
    agreement.

    :raise InvalidCheckout: the answer belongs to another checkout.
    """
    prefix, _sep, key = reference.rpartition(":")
    head, _sep, day = prefix.rpartition(":")
    try:
        due_on = date.fromisoformat(day)
    except ValueError:
        raise InvalidCheckout("the answer is for another checkout") from None
    if reference != _reference(actor, agreement, due_on, key) or not _KEY.fullmatch(key):
        raise InvalidCheckout("the answer is for another checkout")
    return due_on, key


def _paid(payment, agreement):
    flash(
        _(
            "Thank you. %(amount)s was paid for agreement %(number)s; the receipt is below.",
            amount=money(payment.gross_amount),
            number=agreement.agreement_no,
        ),
        "success",
    )
    return htmx.redirect_to(url_for("billing.receipt", payment_id=payment.id))


def _charge(actor, agreement, form, due_on: date, card, *, new_card: bool):
    """Charge `card` for the installment; the answer: the receipt, or the pay page with why
    not. A `new_card` (the hosted page's SavedCard) is kept among the company's cards once it
    has paid (a refused one is not, as at checkout), never made the one renewals charge by
    itself: which card renewals charge is chosen on the cards page."""
    try:
        payment = agreement_payments.pay(
            db.session,
            gateway(),
            agreement,
            due_on,
            card,
            idempotency_key=form.idempotency_key.data,
            today=istanbul_today(),
            actor_user_id=current_user.id,
            origin=current_origin(),
        )
        if new_card:
            payer = Subscriber(customer_id=actor.customer_id)
            saved_cards.add_card(db.session, payer, card, None, current_user.id, current_origin())
        db.session.commit()
    except PaymentFailed as failed:
        db.session.commit()  # the failed payment row and its audit are kept
        return _page(actor, agreement, _fresh_form(form), error=failure_message(failed))
    except AgreementPaymentError as refused:
        db.session.rollback()
        return _page(actor, agreement, _fresh_form(form), refusal=REFUSALS[refused.code])
    except IntegrityError:
        # The same installment paid by another request at the same moment (SQLite only: the
        # other databases make this one wait on the agreement's row): it holds the payment.
        db.session.rollback()
        flash(REFUSALS[agreement_payments.NOT_PAYABLE], "error")
        return htmx.redirect_to(url_for("agreements.company_agreement", agreement_id=agreement.id))
    return _paid(payment, agreement)


@bp.route("/customer/agreements/<agreement_id>/pay", methods=["GET", "POST"])
@allow(CUSTOMER_USER)
def pay_agreement(agreement_id):
    """The installment payable now (its lines, net, KDV and total) and the card to pay it
    with: a saved company card is charged at once, a new card is typed on the provider's
    hosted page first. A refused card or charge comes back next to the card field (422).

    :raise 403: the member may not manage the company's billing.
    :raise 404: not an agreement of their company (a draft, another company's, unknown).
    """
    actor = _payer()
    agreement = _agreement(actor, agreement_id)
    if request.method == "GET":
        return _page(actor, agreement)
    form = AgreementPaymentForm()
    if not form.validate_on_submit():
        return _page(actor, agreement, form)
    due_on = form.due_date
    if due_on is None:
        refusal = REFUSALS[agreement_payments.NOT_PAYABLE]
        return _page(actor, agreement, _fresh_form(form), refusal=refusal)
    if form.card_id is None:
        installment = agreement_payments.payable_installment(
            db.session, agreement, istanbul_today()
        )
        if installment is None or installment.due_on != due_on:
            refusal = REFUSALS[
                agreement_payments.NOT_SIGNED
                if agreement.status != AgreementStatus.SIGNED
                else agreement_payments.NOT_PAYABLE
            ]
            return _page(actor, agreement, _fresh_form(form), refusal=refusal)
        hosted = HostedCheckout(
            reference=_reference(actor, agreement, due_on, form.idempotency_key.data),
            description=_("Agreement %(number)s", number=agreement.agreement_no),
            amount=installment.charge.gross,
            currency=agreement.currency,
            return_url=url_for("agreements.pay_agreement_return", agreement_id=agreement.id),
            cancel_url=url_for("agreements.pay_agreement", agreement_id=agreement.id),
        )
        return htmx.redirect_to(gateway().hosted_page_url(hosted))
    card = saved_cards.card_of(db.session, Subscriber(customer_id=actor.customer_id), form.card_id)
    if card is None:
        refuse_not_yours("card", form.card_id)  # another's, removed or unknown: one answer
    today = istanbul_today()
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        return _page(actor, agreement, _fresh_form(form), error=EXPIRED_CARD)
    return _charge(actor, agreement, form, due_on, card, new_card=False)


@bp.route("/customer/agreements/<agreement_id>/pay/return")
@allow(CUSTOMER_USER)
def pay_agreement_return(agreement_id):
    """Back from the hosted payment page: pay the installment with the card it saved, or say
    why not next to the card field (422), with a new key for the next attempt. The same answer
    brought back twice (a reload) gives the first result and charges once.

    :raise 400: the answer is missing, forged, expired, or for another company, agreement or
        installment.
    :raise 403, 404: as pay_agreement().
    """
    actor = _payer()
    agreement = _agreement(actor, agreement_id)
    try:
        outcome = gateway().checkout_outcome(request.args.get("answer", ""))
        due_on, key = _answer_of(outcome.reference, actor, agreement)
    except InvalidCheckout:
        return _page(
            actor,
            agreement,
            status=400,
            refusal=_(
                "The payment page's answer could not be checked. Nothing was charged; try again."
            ),
        )
    form = AgreementPaymentForm(formdata=None, idempotency_key=key, card="new")
    if outcome.card is None:
        agreement_payments.log_refused_card(
            db.session, agreement, due_on, outcome.failure_code, current_user.id, current_origin()
        )
        db.session.commit()
        error = failure_message(PaymentFailed(outcome.failure_code))
        return _page(actor, agreement, _fresh_form(form), status=422, error=error)
    return _charge(actor, agreement, form, due_on, outcome.card, new_card=True)
