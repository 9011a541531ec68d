"""The team's forms: inviting, a member's role and title, a grant, and accepting an invitation.

Role and title choices come from the config tables (customer_user_roles, customer_user_titles)
and the grant's from the company's schools; the view fills them in (`with_choices`).
"""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.access.permissions import ROLE_NAMES, Role
from portal.forms import Form, strip_or_none

NO_TITLE = ""


def _coerce_id(value):
    """A select's value as an id: the empty choice stays "", anything not digits is refused by
    the choices check (it is never one of them)."""
    if isinstance(value, int):
        return value
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else text


def role_choices(roles) -> list[tuple[int, str]]:
    """The roles in the visitor's language (the table's own name for a role the permission
    table does not know)."""
    choices = []
    for role in roles:
        try:
            label = ROLE_NAMES[Role(role.code)]
        except ValueError:
            label = role.name
        choices.append((role.id, label))
    return choices


def title_choices(titles) -> list[tuple[int | str, str]]:
    return [(NO_TITLE, _l("No title")), *((title.id, title.name) for title in titles)]


class _RoleAndTitle(Form):
    role = SelectField(_l("Role"), coerce=_coerce_id, validators=[DataRequired()])
    title = SelectField(_l("Title"), coerce=_coerce_id, default=NO_TITLE)

    def with_choices(self, roles, titles):
        """Offer the config tables' rows."""
        self.role.choices = role_choices(roles)
        self.title.choices = title_choices(titles)
        return self

    @property
    def title_id(self) -> int | None:
        return self.title.data if isinstance(self.title.data, int) else None


class InviteForm(_RoleAndTitle):
    """Invite a person by e-mail, with the role and title they will have."""

    email = EmailField(
        _l("E-mail"),
        filters=[strip_or_none],
        validators=[DataRequired(), Email(), Length(max=255)],
    )


class MemberRoleForm(_RoleAndTitle):
    """A member's role and title."""


class GrantForm(Form):
    """One school of the company, whole, or one campus of it: the school is chosen first
    (GrantSchoolForm), then this form offers it and its campuses."""

    target = RadioField(_l("Access to"), validators=[DataRequired()])

    def with_target(self, target):
        """The choices of `target` (a team.GrantTarget, or None: nothing to choose)."""
        if target is None:
            self.target.choices = []
            return self
        school = target.school
        self.target.label.text = _l("Access to %(school)s", school=school.name)
        self.target.choices = [
            (f"school:{school.id}", _l("%(school)s: the whole school", school=school.name)),
            *(
                (f"campus:{c.id}", _l("%(campus)s campus only", campus=c.name))
                for c in target.campuses
            ),
        ]
        if self.target.data is None:
            self.target.data = f"school:{school.id}"
        return self


class GrantSchoolForm(Form):
    """Which school a grant is for: a GET form (no CSRF token, nothing changes), whose answer
    is the member's page offering that school and its campuses."""

    class Meta:
        csrf = False

    grant_school = SelectField(_l("School"), validators=[DataRequired()])

    def with_choices(self, schools):
        self.grant_school.choices = [
            ("", _l("Choose a school")),
            *((str(s.id), s.name) for s in schools),
        ]
        return self


class AcceptForm(Form):
    """A new person's name and password, on accepting an invitation."""

    name = StringField(
        _l("Full name"), filters=[strip_or_none], validators=[DataRequired(), Length(max=255)]
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(min=10, max=256, message=_l("Use at least 10 characters.")),
        ],
    )
    password_again = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
