"""Editing a stage's rubric for one group: add, reorder and edit criteria (name, max, step).

Before score sheets exist a change is simply saved. Once they do, ``plan_rubric`` lists
every sheet of the stage and group and what the change does to it, and ``apply_rubric``
needs a reason: points already given stay, so a new maximum or step that some given
points do not fit is refused (naming the sheets); a new criterion reopens the submitted
sheets through the workflow's ``reopen_sheet`` (Rule 7: audited, a revealed score
withdrawn), whose judges then score it (a sheet counts only with every criterion
scored). A published stage's rubric is frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.awards.workflow import WorkflowError, reopen_sheet
from judging.common.audit import record
from judging.common.enums import SheetState, StageState
from judging.contests.models import Criterion, Group, Stage
from judging.contests.versions import bump_data_version, bump_stage_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Judge
from judging.scoring.models import Score, ScoreSheet

#: The total a rubric is expected to have (a warning, not a rule).
USUAL_TOTAL = Decimal(100)


@dataclass(frozen=True, slots=True)
class Line:
    """One criterion as the organizer wants it (``id`` None: a new one)."""

    id: int | None
    name: str
    description: str
    max_points: Decimal
    step: Decimal
    position: int


@dataclass(frozen=True, slots=True)
class AffectedSheet:
    """A sheet of the stage and group, and what the change does to it."""

    id: int
    judge: str
    entry: str
    state: SheetState
    reopened: bool


@dataclass
class RubricPlan:
    """What saving these lines would do."""

    stage: Stage
    group: Group
    lines: list[Line]
    changes: list[dict] = field(default_factory=list)
    sheets: list[AffectedSheet] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.max_points for line in self.lines), Decimal(0))

    @property
    def needs_reason(self) -> bool:
        return bool(self.changes) and bool(self.sheets)


class RubricError(ValueError):
    """The change was refused; nothing was written."""


def _line_of(c: Criterion) -> Line:
    return Line(c.id, c.name, c.description, c.max_points, c.step, c.position)


def current_lines(stage: Stage, group: Group) -> list[Line]:
    """The rubric as it is."""
    return [_line_of(c) for c in stage.rubric(group)]


def _fits(points: Decimal, max_points: Decimal, step: Decimal) -> bool:
    return 0 <= points <= max_points and (points / step) == (points / step).to_integral_value()


def plan_rubric(stage: Stage, group: Group, lines: list[Line]) -> RubricPlan:
    """What saving ``lines`` as the rubric of (stage, group) changes, and for which sheets."""
    plan = RubricPlan(stage, group, sorted(lines, key=lambda line: line.position))
    if stage.state == StageState.PUBLISHED:
        plan.problems.append(_("%(stage)s is published: its rubric is frozen.", stage=stage.name))
    current = {c.id: c for c in stage.rubric(group)}
    rescaled = []
    for line in plan.lines:
        if line.id is None:
            plan.changes.append({"criterion": line.name, "added": True})
            continue
        before = current[line.id]
        for name in ("name", "description", "max_points", "step", "position"):
            old, new = getattr(before, name), getattr(line, name)
            if old != new:
                plan.changes.append(
                    {"criterion": before.name, "field": name, "old": str(old), "new": str(new)}
                )
        if (before.max_points, before.step) != (line.max_points, line.step):
            rescaled.append(line)
    if not plan.changes:
        return plan
    added = any(line.id is None for line in plan.lines)
    rows = db.session.execute(
        sa.select(ScoreSheet.id, Judge.name, Entry.code, ScoreSheet.state)
        .join(Judge, Judge.id == ScoreSheet.judge_id)
        .join(Entry, Entry.id == ScoreSheet.entry_id)
        .where(ScoreSheet.stage_id == stage.id, Entry.group_id == group.id)
        .order_by(Entry.code, Judge.name)
    ).all()
    plan.sheets = [
        AffectedSheet(i, judge, entry, state, added and state == SheetState.SUBMITTED)
        for i, judge, entry, state in rows
    ]
    if stage.state == StageState.DRAFT and any(s.reopened for s in plan.sheets):
        plan.problems.append(
            _(
                "%(stage)s is a draft with submitted sheets: open it before adding a "
                "criterion, so that their judges can score it.",
                stage=stage.name,
            )
        )
    names = {s.id: (s.judge, s.entry) for s in plan.sheets}
    for line in rescaled:
        for sheet_id, points in db.session.execute(
            sa.select(Score.sheet_id, Score.points).where(Score.criterion_id == line.id)
        ):
            if sheet_id in names and not _fits(points, line.max_points, line.step):
                judge, entry = names[sheet_id]
                plan.problems.append(
                    _(
                        "%(judge)s gave %(entry)s %(points)s points on %(criterion)s: they do "
                        "not fit a maximum of %(max)s in steps of %(step)s.",
                        judge=judge,
                        entry=entry,
                        points=points.normalize(),
                        criterion=line.name,
                        max=line.max_points.normalize(),
                        step=line.step.normalize(),
                    )
                )
    return plan


def apply_rubric(plan: RubricPlan, *, reason: str = "") -> None:
    """Save the plan's lines (in the caller's transaction); ``RubricError`` when refused."""
    if plan.problems:
        raise RubricError(plan.problems[0])
    if not plan.changes:
        return
    reason = (reason or "").strip()
    if plan.needs_reason and not reason:
        raise RubricError(_("Score sheets exist: say why the rubric changes."))
    stage, group = plan.stage, plan.group
    old = [_described(line) for line in current_lines(stage, group)]
    current = {c.id: c for c in stage.rubric(group)}
    # Positions are unique: move every line out of the way first.
    for offset, criterion in enumerate(current.values()):
        criterion.position = 1000 + offset
    db.session.flush()
    for line in plan.lines:
        criterion = current.get(line.id) if line.id is not None else None
        if criterion is None:
            criterion = Criterion(stage_id=stage.id, group_id=group.id)
            db.session.add(criterion)
        criterion.name, criterion.description = line.name, line.description
        criterion.max_points, criterion.step = line.max_points, line.step
        criterion.position = line.position
    db.session.flush()
    reopened = [s for s in plan.sheets if s.reopened]
    for affected in reopened:
        try:
            reopen_sheet(sheet=db.session.get(ScoreSheet, affected.id), reason=reason)
        except WorkflowError as error:
            raise RubricError(str(error)) from error
    record(
        "rubric_save",
        contest_id=stage.contest_id,
        obj=stage,
        old={"group": group.code, "criteria": old},
        new={
            "group": group.code,
            "criteria": [_described(line) for line in current_lines(stage, group)],
            "reopened": len(reopened),
        },
        reason=reason,
    )
    bump_stage_version(stage.contest_id, stage_id=stage.id, group_id=group.id)
    bump_data_version(stage.contest_id)


def _described(line: Line) -> str:
    return f"{line.position}. {line.name} /{line.max_points.normalize()} ({line.step.normalize()})"
