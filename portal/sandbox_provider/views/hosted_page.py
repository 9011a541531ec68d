"""The hosted payment page: the order the portal signed, and the card form."""

from flask import current_app, redirect, render_template, request

from portal import htmx
from portal.access import ANONYMOUS, allow
from portal.billing.gateway import CardDetails, InvalidCheckout, SandboxGateway
from portal.clock import istanbul_today
from portal.sandbox_provider import bp
from portal.sandbox_provider.forms import CardForm


@bp.route("/checkout", methods=["GET", "POST"])
@allow(ANONYMOUS)  # the provider knows no portal account: the signed checkout is the key
def checkout():
    """Take the card for the checkout in the address, then send the buyer back to the portal
    with the sealed answer (a saved card, or why it was refused).

    :raise 400: the checkout is missing, forged, altered or has expired.
    """
    signed = request.args.get("checkout", "")
    provider = SandboxGateway(current_app.secret_key)
    try:
        order = provider.open_checkout(signed)
    except InvalidCheckout:
        return render_template("sandbox_provider/invalid.html"), 400
    form = CardForm()
    if form.validate_on_submit():
        card = CardDetails(
            number=form.number.data,
            exp_month=int(form.exp_month.data),
            exp_year=int(form.exp_year.data),
            cvc=form.cvc.data,
            holder_name=form.holder_name.data,
        )
        return redirect(provider.answer_url(order, card, istanbul_today()), code=303)
    return (
        render_template("sandbox_provider/checkout.html", form=form, order=order, signed=signed),
        htmx.form_status(form),
    )
