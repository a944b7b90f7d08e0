"""The organizer's forms about the jury: one judge's fields, and conflicts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from judging.auth.forms import USERNAME
from judging.common.forms import BaseForm, clean
from judging.common.inputs import MAX_ID  # ids beyond it name no row: a form error, no query
from judging.contests.models import Contest
from judging.judges.services import JudgeError


class AddConflictForm(BaseForm):
    """Set a conflict between a judge and an entry (by code), with a reason."""

    judge = IntegerField(_l("Judge"), validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    entry = StringField(_l("Entry code"), validators=[DataRequired(), Length(max=32)])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])
    confirmed = HiddenField()


class PairForm(BaseForm):
    """Accept or dismiss a same-organization proposal."""

    judge = IntegerField(_l("Judge"), validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    entry = IntegerField(_l("Entry"), validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])
    confirmed = HiddenField()


class WithdrawConflictForm(BaseForm):
    """Withdraw a binding conflict, with a reason."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])
    confirmed = HiddenField()


class ReviewConflictForm(BaseForm):
    """Mark a judge's declaration as seen, with an optional note."""

    note = StringField(_l("Note"), validators=[Length(max=500)])


def _panel_id(value):
    """The panel select's value: a group id, or None for every group."""
    if value in (None, "", "None"):
        return None
    return int(value)


class JudgeForm(BaseForm):
    """One judge: name, title (职称), organization, email and fields of expertise; a
    username when added (empty: one is made from the contest's slug)."""

    username = StringField(
        _l("Username"),
        validators=[Optional(), Length(max=80), USERNAME],
        filters=[clean],
        description=_l("Empty: one is made. An existing judge's username adds that account."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=[clean])
    title = StringField(_l("Job title"), validators=[Length(max=120)], filters=[clean])
    organization = StringField(_l("Organization"), validators=[Length(max=255)], filters=[clean])
    email = StringField(
        _l("Email"),
        validators=[
            Optional(),
            Length(max=255),
            Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Not an email address.")),
        ],
        filters=[clean],
    )
    expertise = SelectMultipleField(_l("Expertise"), coerce=int, validate_choice=True)
    panel = SelectField(
        _l("Panel"),
        coerce=_panel_id,
        validate_choice=True,
        description=_l(
            "The group whose entries this judge scores when a stage is assigned by panels."
        ),
    )

    def __init__(self, *args, contest: Contest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest = contest
        self.expertise.choices = [(f.id, f.name) for f in contest.fields]
        self.panel.choices = [(None, _l("Every group"))] + [(g.id, g.name) for g in contest.groups]

    def values(self) -> dict:
        """The validated fields for ``create_judge`` / ``update_judge``."""
        chosen = set(self.expertise.data or ())
        return {
            "name": self.name.data,
            "title": self.title.data or "",
            "organization": self.organization.data or "",
            "email": self.email.data or "",
            "expertise": [f for f in self.contest.fields if f.id in chosen],
            "panel_group_id": self.panel.data,
        }


#: What the pages say for each refused judge change (``JudgeError.code``).
JUDGE_ERRORS = {
    "username_organizer": _l("This username is an organizer's account."),
    "judge_exists": _l("%(username)s already judges in this contest."),
    "unknown_field": _l("Choose among the contest's fields."),
}


def report_judge_error(form, err: JudgeError) -> None:
    """Put a refused judge change on its form field (or the form when it has none)."""
    message = str(JUDGE_ERRORS.get(err.code, err.code))
    if err.params:
        message = message % err.params
    field = form._fields.get(err.field)
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]
