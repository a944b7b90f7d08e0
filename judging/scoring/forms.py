"""The scoring form, built from the stage's rubric for the entry's group."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from judging.common.forms import BaseForm, FiniteDecimalField, SubForm
from judging.common.inputs import MAX_ID, refused_text
from judging.common.numbers import plain
from judging.scoring.rubric import CriterionSpec
from judging.scoring.services import MAX_COMMENT


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PointsField(StringField):
    """A criterion's points: typed as text, so full-width digits and partial drafts survive.

    The numbers are checked by the scoring service (range, step, completeness), which
    is the one place the rules live; the browser gets matching HTML hints.
    """

    def __init__(self, *args, criterion: CriterionSpec, **kwargs):
        super().__init__(*args, **kwargs)
        self.criterion = criterion

    def __call__(self, **kwargs):
        kwargs.setdefault("type", "number")
        kwargs.setdefault("inputmode", "decimal")
        kwargs.setdefault("min", "0")
        kwargs.setdefault("max", plain(self.criterion.max_points))
        kwargs.setdefault("step", plain(self.criterion.step))
        kwargs.setdefault("data-max", str(self.criterion.max_points))
        return super().__call__(**kwargs)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SheetFormBase(BaseForm):
    """Fields every sheet has; the criteria are added per rubric."""

    version = HiddenField(default="0")
    comment = TextAreaField(_l("Comment"), validators=[Length(max=MAX_COMMENT)])

    def criterion_fields(self) -> list[PointsField]:
        """The points fields in rubric order."""
        return [f for f in self if isinstance(f, PointsField)]

    def raw_points(self) -> dict[int, str]:
        """What was typed per criterion id."""
        return {f.criterion.id: f.data for f in self.criterion_fields()}


@lru_cache(maxsize=256)
def sheet_form_class(rubric: tuple[CriterionSpec, ...]) -> type[SheetFormBase]:
    """A form class with one PointsField per criterion, named c<criterion id>.

    Cached by the rubric's values, so a changed rubric gets a new class.
    """
    attrs = {
        f"c{c.id}": PointsField(
            c.name,
            description=c.description,
            criterion=c,
            filters=[_strip],
        )
        for c in rubric
    }
    return type("SheetForm", (SheetFormBase,), attrs)


@dataclass(frozen=True, slots=True)
class PostedSheet:
    """A sheet's form as posted: what was typed per criterion id, the comment, the version
    the form was loaded with, and whether it was sent to submit."""

    points: dict[int, str | None]
    comment: str
    version: str
    submit: bool

    @property
    def expected_version(self) -> int:
        """The version as a number (-1, which matches no sheet, when it is not one or is
        beyond any version a sheet can have)."""
        text = (self.version or "0").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 10):
            return -1
        value = int(text)
        return value if value <= MAX_ID else -1

    @classmethod
    def of_form(cls, form: SheetFormBase, *, submit: bool) -> PostedSheet:
        """What a validated sheet form holds."""
        return cls(form.raw_points(), form.comment.data or "", form.version.data or "0", submit)


#: The bodies ``posted_sheet`` reads (a browser's form posts); anything else goes through
#: the form class, which also reads JSON.
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def posted_sheet(rubric: tuple[CriterionSpec, ...], request) -> PostedSheet | None:
    """The sheet form's data read straight from a posted form, exactly as
    ``sheet_form_class(rubric)`` reads and validates it; None when that form would not
    validate or the body is not a form post (then build the form: it says why).

    The form class costs more to build than the rest of a submission's checks (the
    profile of bench/scoring_profile.py), and a submission needs only its few values:
    the scoring page's POST reads them here and builds the form only to show a page.
    tests/scoring/test_forms.py holds the two readings equal. (CSRF is checked for every
    POST by ``CSRFProtect`` before any view, and the form then skips it too.)
    """
    if request.mimetype not in FORM_MIMETYPES:
        return None
    data = request.form
    comment = data.get("comment")
    if comment is not None and len(comment) > MAX_COMMENT:  # SheetFormBase.comment's Length
        return None
    points = {c.id: _strip(data.get(f"c{c.id}")) for c in rubric}
    version = data.get("version")
    # Every text field's first check (judging.common.forms.plain_text).
    if any(refused_text(text) for text in (comment, version, *points.values())):
        return None
    return PostedSheet(
        points=points,
        comment=comment or "",
        version=version or "0",
        submit=data.get("action") == "submit",
    )


class ConflictForm(BaseForm):
    """A judge declares a conflict of interest."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])


class ReopenForm(BaseForm):
    """The organizer reopens a submitted sheet."""

    reason = StringField(_l("Reason"), validators=[Length(max=500)])


class AssignmentForm(BaseForm):
    """The organizer saves a stage's assignment grid (its cells are read as a list)."""


class RubricRowForm(SubForm):
    """One criterion of a rubric being edited (no CSRF: a part of ``RubricForm``)."""

    id = HiddenField()
    name = StringField(_l("Criterion"), [Optional(), Length(max=120)], filters=[_strip])
    description = TextAreaField(_l("Description"), [Optional(), Length(max=2000)], filters=[_strip])
    max_points = FiniteDecimalField(_l("Max"), [Optional(), NumberRange(0, 1000)])
    step = FiniteDecimalField(_l("Step"), [Optional(), NumberRange(0, 1000)])
    position = IntegerField(_l("Order"), [Optional(), NumberRange(1, 99)])


class RubricForm(BaseForm):
    """A stage's rubric for one group: its criteria and one new line; a reason when
    score sheets exist (asked on the confirmation page)."""

    criteria = FieldList(FormField(RubricRowForm), min_entries=0)
    reason = TextAreaField(_l("Reason"), [Optional(), Length(max=500)], filters=[_strip])
    confirmed = HiddenField()
