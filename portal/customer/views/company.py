"""The company's invoice and contact details."""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.customer import bp
from portal.customer.forms import CompanyForm
from portal.extensions import db

# Roles (customer_user_roles.code) that may change the company's own record.


COMPANY_EDITOR_ROLES = {"admin"}


@bp.route("/company", methods=["GET", "POST"])
@allow(CUSTOMER_USER)
def company():
    """The company's invoice and contact details; admins edit, others read.

    :raise 403: when someone other than a company admin posts the form.
    """
    customer_user = current_user.customer_user
    customer = customer_user.customer
    may_edit = customer_user.role.code in COMPANY_EDITOR_ROLES
    form = CompanyForm(obj=customer)
    if request.method == "POST":
        if not may_edit:
            abort(403)
        if form.validate_on_submit():
            form.populate_obj(customer)
            db.session.commit()
            flash(_("Company details saved."), "success")
            return htmx.redirect_to(url_for("customer.company"))
    status = htmx.form_status(form)
    return htmx.render(
        "customer/company.html",
        "company_form",
        status=status,
        form=form,
        may_edit=may_edit,
        customer=customer,
    )
