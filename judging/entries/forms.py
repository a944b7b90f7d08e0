"""The organizer's entry forms: one entry's fields, and a change of its status."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from judging.common.enums import EntryStatus
from judging.common.forms import BaseForm, clean
from judging.contests.models import Contest
from judging.entries.services import MAX_REASON, EntryError

NO_FIELD = ""


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class EntryForm(BaseForm):
    """One entry: code (unique in the contest), title, group, field, organization, leader,
    student team, contact (private to organizers) and summary."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=32),
            Regexp(r"^\S+$", message=_l("A code has no spaces.")),
        ],
        filters=[clean],
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)], filters=[clean])
    group = SelectField(_l("Group"), coerce=_int_or_none, validate_choice=True)
    field = SelectField(_l("Field"), coerce=_int_or_none, validate_choice=True)
    organization = StringField(_l("Organization"), validators=[Length(max=255)], filters=[clean])
    leader = StringField(_l("Leader"), validators=[Length(max=120)], filters=[clean])
    is_student_team = BooleanField(_l("Student team"))
    phone = StringField(_l("Phone"), validators=[Length(max=64)], filters=[clean])
    email = StringField(
        _l("Email"),
        validators=[
            Optional(),
            Length(max=255),
            Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Not an email address.")),
        ],
        filters=[clean],
    )
    summary = TextAreaField(_l("Summary"), validators=[Length(max=10_000)], filters=[clean])

    def __init__(self, *args, contest: Contest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest = contest
        self.group.choices = [(g.id, g.name) for g in contest.groups]
        self.field.choices = [(None, _l("(none)")), *((f.id, f.name) for f in contest.fields)]

    def values(self) -> dict:
        """The validated fields for ``create_entry`` / ``update_entry``."""
        groups = {g.id: g for g in self.contest.groups}
        fields = {f.id: f for f in self.contest.fields}
        return {
            "code": self.code.data,
            "title": self.title.data,
            "group": groups.get(self.group.data),
            "field": fields.get(self.field.data),
            "organization": self.organization.data or "",
            "leader": self.leader.data or "",
            "is_student_team": bool(self.is_student_team.data),
            "phone": self.phone.data or "",
            "email": self.email.data or "",
            "summary": self.summary.data or "",
        }


class EntryStatusForm(BaseForm):
    """Withdraw, disqualify or reinstate an entry, with a reason."""

    status = SelectField(_l("New status"), choices=EntryStatus.choices(), validate_choice=True)
    reason = TextAreaField(_l("Reason"), validators=[Length(max=MAX_REASON)], filters=[clean])


#: What the pages say for each refused entry change (``EntryError.code``).
ENTRY_ERRORS = {
    "code_taken": _l("The code %(code)s is already used by another entry of this contest."),
    "unknown_group": _l("Choose one of the contest's groups."),
    "unknown_field": _l("Choose one of the contest's fields."),
    "same_status": _l("The entry already has this status."),
    "reason_required": _l("Give a reason."),
    "published": _l(
        "The entry takes part in %(stage)s, which is published: withdraw its publication "
        "before changing its code, group or status."
    ),
    "group_scored": _l(
        "The entry has score sheets on its group's rubric: its group cannot change."
    ),
}


def report_entry_error(form, err: EntryError) -> None:
    """Put a refused entry change on its form field (or the form when it has none)."""
    message = str(ENTRY_ERRORS.get(err.code, err.code))
    if err.params:
        message = message % err.params
    field = form._fields.get(err.field)
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]
