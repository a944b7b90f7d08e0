"""The organizer's contest settings form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from judging.auth.forms import NO_CONTROL
from judging.common.enums import AggregationRule, ContestStatus, StageKind
from judging.common.forms import BaseForm, FiniteDecimalField
from judging.common.numbers import more_places

AUTOMATIC = "auto"


class ContestSettingsForm(BaseForm):
    """Who may see the contest, and its status (following the stages, or set by hand)."""

    visibility = SelectField(
        _l("Visibility"),
        choices=[
            ("draft", _l("Draft: only organizers and judges see it")),
            ("public", _l("Public: on the home page, results pages and the API")),
        ],
        validate_choice=True,
    )
    status = SelectField(
        _l("Status"),
        choices=[(AUTOMATIC, _l("Follows the stages")), *ContestStatus.choices()],
        validate_choice=True,
    )


# -- setup: the contest, its groups, fields, stages and awards

_CODE = Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", message=_l("Letters, digits, - and _ only."))
_SLUG = Regexp(
    r"^[a-z0-9][a-z0-9-]*$", message=_l("Lower-case letters, digits and - only (used in links).")
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ContestForm(BaseForm):
    """A contest's own facts; its address (slug) is set once, at creation."""

    slug = StringField(
        _l("Address (slug)"), [DataRequired(), Length(2, 64), _SLUG], filters=[_strip]
    )
    name = StringField(_l("Contest name"), [DataRequired(), Length(max=255)], filters=[_strip])
    year = IntegerField(_l("Year"), [InputRequired(), NumberRange(1900, 9999)])
    organizers = TextAreaField(_l("Organizers"), [Optional(), Length(max=2000)], filters=[_strip])
    starts_on = DateField(_l("First day"), [Optional()])
    ends_on = DateField(_l("Last day"), [Optional()])

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("Not before the first day."))


class GroupForm(BaseForm):
    """A group (组别)."""

    code = StringField(_l("Code"), [DataRequired(), Length(max=32), _CODE], filters=[_strip])
    name = StringField(_l("Group name"), [DataRequired(), Length(max=120)], filters=[_strip])
    position = IntegerField(_l("Order"), [Optional(), NumberRange(0, 999)])


class FieldForm(BaseForm):
    """A technology field (领域)."""

    name = StringField(_l("Field name"), [DataRequired(), Length(max=120)], filters=[_strip])
    position = IntegerField(_l("Order"), [Optional(), NumberRange(0, 999)])


class StageForm(BaseForm):
    """A stage (赛段) and its rules; per-group advancement quotas are added by the view."""

    code = StringField(_l("Code"), [DataRequired(), Length(max=32), _CODE], filters=[_strip])
    name = StringField(_l("Stage name"), [DataRequired(), Length(max=120)], filters=[_strip])
    position = IntegerField(_l("Order"), [InputRequired(), NumberRange(1, 99)])
    kind = SelectField(_l("Kind"), choices=StageKind.choices(), validate_choice=True)
    judges_per_entry = IntegerField(
        _l("Judges per entry"), [InputRequired(), NumberRange(1, 99)], default=5
    )
    rule = SelectField(
        _l("Aggregation rule"), choices=AggregationRule.choices(), validate_choice=True
    )
    trim = IntegerField(_l("Dropped at each end"), [InputRequired(), NumberRange(0, 10)], default=1)
    min_sheets_to_trim = IntegerField(
        _l("Sheets needed to drop"), [InputRequired(), NumberRange(0, 99)], default=5
    )
    pitch_minutes = IntegerField(
        _l("Pitch (minutes)"), [InputRequired(), NumberRange(0, 180)], default=8
    )
    qa_minutes = IntegerField(
        _l("Q&A (minutes)"), [InputRequired(), NumberRange(0, 180)], default=7
    )
    advance_quota = IntegerField(_l("Entries advancing"), [Optional(), NumberRange(0, 100000)])
    advance_threshold = FiniteDecimalField(
        _l("Advancement threshold (score)"), [Optional(), NumberRange(0, 9999)], places=2
    )
    weight = FiniteDecimalField(_l("Weight in the combined score"), [Optional(), NumberRange(0, 1)])

    def validate_advance_threshold(self, field):
        if field.data is not None and more_places(field.data, "0.01"):
            raise ValidationError(_l("At most 2 decimals."))

    def validate_weight(self, field):
        if field.data is not None and more_places(field.data, "0.0001"):
            raise ValidationError(_l("At most 4 decimals."))


class AwardTierForm(BaseForm):
    """A prize level of a stage and group (奖项等级), filled in rank order up to its quota."""

    stage = SelectField(_l("Stage"), choices=[], validate_choice=True)
    group = SelectField(_l("Group"), choices=[], validate_choice=True)
    name = StringField(_l("Award name"), [DataRequired(), Length(max=120)], filters=[_strip])
    position = IntegerField(_l("Order"), [InputRequired(), NumberRange(1, 99)], default=1)
    quota = IntegerField(_l("How many"), [InputRequired(), NumberRange(0, 100000)], default=1)
    prize = FiniteDecimalField(_l("Prize (¥ each)"), [InputRequired(), NumberRange(0, 10**9)])

    def validate_prize(self, field):
        if field.data is not None and more_places(field.data, "0.01"):
            raise ValidationError(_l("At most 2 decimals (fen)."))


class SpecialAwardForm(BaseForm):
    """An award given by a rule (专项奖)."""

    name = StringField(_l("Award name"), [DataRequired(), Length(max=120)], filters=[_strip])
    rule = SelectField(_l("Rule"), choices=[], validate_choice=True)
    prize = FiniteDecimalField(_l("Prize (¥ each)"), [InputRequired(), NumberRange(0, 10**9)])

    validate_prize = AwardTierForm.validate_prize


class OrganizerGrantForm(BaseForm):
    """Give the contest to another organizer account, named by its username."""

    username = StringField(
        _l("Username"),
        [DataRequired(), Length(max=80), NO_CONTROL],
        filters=[_strip],
        description=_l("An existing organizer account (see Organizer accounts)."),
    )
