"""The organizer's contest settings form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from judging.common.enums import ContestStatus
from judging.common.forms import BaseForm

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
