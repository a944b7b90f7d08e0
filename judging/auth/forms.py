"""Sign-in forms."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from judging.auth.services import MIN_PASSWORD_LENGTH, AccountError
from judging.common.forms import BaseForm, clean

#: A username: letters, digits and . _ - (as imports make them), no spaces.
USERNAME = Regexp(
    r"^[\w.\-]+$", message=_l("Use letters, digits, dots, dashes or underscores, no spaces.")
)


#: No username has a control character (NUL cannot even be looked up on PostgreSQL).
NO_CONTROL = Regexp(r"^[^\x00-\x1f\x7f]*$", message=_l("Control characters are not allowed."))


class SignInForm(BaseForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80), NO_CONTROL])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class LanguageForm(BaseForm):
    """Switch the interface language."""

    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class ChangePasswordForm(BaseForm):
    """A user chooses their own password (the current one is asked unless they must
    replace a temporary one)."""

    current = PasswordField(_l("Current password"), validators=[Length(max=256)])
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two new passwords differ.")),
        ],
    )


class TemporaryPasswordForm(BaseForm):
    """An organizer sets a temporary password for someone, to be changed at first sign-in."""

    password = PasswordField(
        _l("Temporary password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
    )


class InviteOrganizerForm(BaseForm):
    """A new organizer account: a temporary password, or none and a one-time link."""

    username = StringField(
        _l("Username"), validators=[DataRequired(), Length(max=80), USERNAME], filters=[clean]
    )
    display_name = StringField(_l("Name"), validators=[Length(max=120)], filters=[clean])
    password = PasswordField(
        _l("Temporary password"),
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
        description=_l("Leave empty to give a one-time sign-in link instead."),
    )


#: What the pages say for each refused account change (``AccountError.code``).
ACCOUNT_ERRORS = {
    "username_empty": _l("Enter a username."),
    "username_taken": _l("This username is already taken."),
    "password_short": _l("At least %(min)d characters."),
    "password_common": _l(
        "Too common or too easy to guess (a well-known password, a run of keys or digits, "
        "or the username): choose a longer, less predictable one."
    ),
    "password_wrong": _l("The current password is wrong."),
    "password_same": _l("Choose a password different from the one it replaces."),
    "self": _l("You cannot deactivate your own account."),
    "last_organizer": _l("The last active organizer cannot be deactivated."),
}


def account_error(err: AccountError) -> str:
    """The message of a refused account change in the visitor's language."""
    message = ACCOUNT_ERRORS.get(err.code)
    return str(err) if message is None else str(message) % {"min": MIN_PASSWORD_LENGTH}


def report_account_error(form, err: AccountError) -> None:
    """Put a refused account change on its form field (or the form when it has none)."""
    field = form._fields.get(err.field)
    target = field.errors if field is not None else form.form_errors
    if isinstance(target, tuple):  # WTForms leaves errors a tuple until validated
        target = field.errors = list(target)
    target.append(account_error(err))
