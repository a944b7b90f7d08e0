"""Sign-in forms."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from judging.common.forms import BaseForm


class SignInForm(BaseForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class LanguageForm(BaseForm):
    """Switch the interface language."""

    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()
