"""The company's invoice and contact details."""

from dataclasses import fields, replace

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.access.permissions import Permission, can, members_who_can
from portal.customer import bp
from portal.customer.company import CompanyDetails, change_company_details, company_details_of
from portal.customer.forms import CompanyForm
from portal.extensions import db
from portal.origin import current_origin


@bp.route("/company", methods=["GET", "POST"])
@allow(CUSTOMER_USER)
def company():
    """The company's details: a form for members who may edit them, a read-only page otherwise.

    The tax identity (VKN or TC Kimlik No) is shown only to members who may edit the company or
    see its billing. Only the form's own fields are read: anything else posted is ignored.

    :raise 403: when a member who may not edit the company posts the form.
    """
    customer_user = current_user.customer_user
    customer = customer_user.customer
    if not can(customer_user, Permission.EDIT_COMPANY):
        if request.method == "POST":
            abort(403)
        return htmx.render(
            "customer/company.html",
            "company_form",
            may_edit=False,
            customer=customer,
            shows_tax_identity=can(customer_user, Permission.SEE_BILLING),
            editors=members_who_can(db.session, customer.id, Permission.EDIT_COMPANY),
        )
    stored = company_details_of(customer)
    form = CompanyForm(obj=stored)
    # The TC Kimlik No is shown masked, never as the field's value; left empty, it is kept.
    form.stored_tc_no = stored.tc_no
    if not form.is_submitted():
        form.tc_no.data = None
    if form.validate_on_submit():
        details = CompanyDetails(**{f.name: form[f.name].data for f in fields(CompanyDetails)})
        if details.customer_type == "sole_proprietor" and not details.tc_no:
            details = replace(details, tc_no=stored.tc_no)
        changed = change_company_details(db.session, customer_user, details, current_origin())
        db.session.commit()
        flash(_("Company details saved.") if changed else _("Nothing changed."), "success")
        return htmx.redirect_to(url_for("customer.company"))
    return htmx.render(
        "customer/company.html",
        "company_form",
        status=htmx.form_status(form),
        may_edit=True,
        form=form,
        customer=customer,
    )
