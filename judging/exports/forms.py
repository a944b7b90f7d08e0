"""The upload forms of the Excel page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField

from judging.common.forms import BaseForm


class UploadForm(BaseForm):
    """A workbook to import; optionally update rows that differ, or only check the file."""

    file = FileField(_l("Workbook (.xlsx)"), validators=[FileRequired()])
    update = BooleanField(_l("Update existing rows that differ"))
    dry_run = BooleanField(_l("Only check the file; write nothing"))


class ScoresUploadForm(UploadForm):
    """Paper score sheets typed into a workbook, for one stage or the stages the rows name."""

    stage = SelectField(_l("Stage"), choices=[], validate_choice=True)

    def __init__(self, *args, stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.stage.choices = [("", _l("As the rows say"))] + [(s.code, s.name) for s in stages]
