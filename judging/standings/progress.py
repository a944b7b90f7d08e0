"""How far a contest has got: the sheets each stage needs (one definition for every count
of the product), and the counts of the organizer's and the judges' pages and exports."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from judging.common.enums import ConflictStatus, EntryStatus, SheetState
from judging.contests.models import Contest, Group, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Conflict, Judge
from judging.judges.queries import on_panel
from judging.scoring.models import ScoreSheet
from judging.standings.participation import taking_part


def needed_sheets(*conditions: sa.ColumnElement[bool]) -> sa.Subquery:
    """Every sheet a stage needs, with the state of the sheet written so far (one place).

    A sheet is needed for each assignment of an entry still competing whose judge has no
    binding conflict with it; ``state`` is the sheet's (draft or submitted), or None when
    the judge has not started. Columns: stage_id, judge_id, entry_id, group_id, state.
    Every count of the product (organizer progress, a judge's own progress, the export's
    summary, the live control, closing a stage, confirming results) reads this.
    ``conditions`` narrow it (on ``Assignment`` or ``Entry`` columns).
    """
    return (
        sa.select(
            Assignment.stage_id,
            Assignment.judge_id,
            Assignment.entry_id,
            Entry.group_id,
            ScoreSheet.state,
        )
        .join(Entry, Entry.id == Assignment.entry_id)
        .outerjoin(
            ScoreSheet,
            sa.and_(
                ScoreSheet.stage_id == Assignment.stage_id,
                ScoreSheet.judge_id == Assignment.judge_id,
                ScoreSheet.entry_id == Assignment.entry_id,
            ),
        )
        .where(
            Entry.status == EntryStatus.REGISTERED,
            on_panel(),
            *conditions,
        )
        .subquery("needed")
    )


@dataclass
class StageGroupCounts:
    """How far one stage has got for one group: ``assignments`` counts the sheets needed
    (``needed_sheets``: competing entries, binding conflicts excluded), ``submitted`` and
    ``drafts`` those of them written so far."""

    entries: int = 0
    assignments: int = 0
    submitted: int = 0
    drafts: int = 0

    @property
    def percent_submitted(self) -> int:
        """Submitted sheets as a whole percentage of assignments."""
        return round(100 * self.submitted / self.assignments) if self.assignments else 0


@dataclass
class StageSummary:
    """A stage with its counts per group."""

    stage: Stage
    by_group: dict[int, StageGroupCounts] = field(default_factory=dict)

    @property
    def totals(self) -> StageGroupCounts:
        """The counts summed over groups."""
        t = StageGroupCounts()
        for c in self.by_group.values():
            t.entries += c.entries
            t.assignments += c.assignments
            t.submitted += c.submitted
            t.drafts += c.drafts
        return t


@dataclass
class ContestOverview:
    """A contest's real state: entries per group, judges, conflicts and stage progress."""

    contest: Contest
    groups: list[Group]
    entries_by_group: dict[int, int]
    student_teams: int
    judges: int
    binding_conflicts: int
    proposed_conflicts: int
    stages: list[StageSummary]

    @property
    def entries(self) -> int:
        """All entries of the contest."""
        return sum(self.entries_by_group.values())


@dataclass
class JudgeStageProgress:
    """A judge's work in one stage: assigned entries and sheets by state."""

    stage: Stage
    assigned: int
    submitted: int
    drafts: int

    @property
    def percent(self) -> int:
        """Submitted as a whole percentage of assigned."""
        return round(100 * self.submitted / self.assigned) if self.assigned else 0


def judge_progress(judge: Judge) -> list[JudgeStageProgress]:
    """Per stage of the judge's contest: sheets needed from the judge, submitted, drafts."""
    need = needed_sheets(Assignment.judge_id == judge.id)
    counts: dict[int, dict] = {}
    for stage_id, state, n in db.session.execute(
        sa.select(need.c.stage_id, need.c.state, sa.func.count()).group_by(
            need.c.stage_id, need.c.state
        )
    ):
        row = counts.setdefault(stage_id, {"assigned": 0, "submitted": 0, "drafts": 0})
        row["assigned"] += n
        if state == SheetState.SUBMITTED:
            row["submitted"] += n
        elif state == SheetState.DRAFT:
            row["drafts"] += n
    return [
        JudgeStageProgress(stage=stage, **counts[stage.id])
        for stage in judge.contest.stages
        if counts.get(stage.id, {}).get("assigned")
    ]


def _stage_entry_counts(contest: Contest) -> dict[tuple[int, int], int]:
    """Entries taking part per (stage, group)."""
    part = taking_part(contest.id)
    rows = db.session.execute(
        sa.select(part.c.stage_id, Entry.group_id, sa.func.count())
        .join(Entry, Entry.id == part.c.entry_id)
        .group_by(part.c.stage_id, Entry.group_id)
    )
    return {(stage_id, group_id): n for stage_id, group_id, n in rows}


def contest_overview(contest: Contest) -> ContestOverview:
    """Gather the counts shown on the organizer's and the public home page."""
    entries_by_group = dict(
        db.session.execute(
            sa.select(Entry.group_id, sa.func.count())
            .where(Entry.contest_id == contest.id)
            .group_by(Entry.group_id)
        ).all()
    )
    student_teams = db.session.scalar(
        sa.select(sa.func.count()).where(Entry.contest_id == contest.id, Entry.is_student_team)
    )
    judges = db.session.scalar(
        sa.select(sa.func.count()).select_from(Judge).where(Judge.contest_id == contest.id)
    )
    conflicts = dict(
        db.session.execute(
            sa.select(Conflict.status, sa.func.count())
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.contest_id == contest.id)
            .group_by(Conflict.status)
        ).all()
    )
    need = needed_sheets(Entry.contest_id == contest.id)
    sheets = db.session.execute(
        sa.select(need.c.stage_id, need.c.group_id, need.c.state, sa.func.count()).group_by(
            need.c.stage_id, need.c.group_id, need.c.state
        )
    ).all()
    entry_counts = _stage_entry_counts(contest)

    summaries = []
    for stage in contest.stages:
        summary = StageSummary(stage=stage)
        for group in contest.groups:
            summary.by_group[group.id] = StageGroupCounts(
                entries=entry_counts.get((stage.id, group.id), 0)
            )
        summaries.append(summary)
    by_id = {s.stage.id: s for s in summaries}
    for stage_id, group_id, state, n in sheets:
        counts = by_id[stage_id].by_group[group_id]
        counts.assignments += n
        if state == SheetState.SUBMITTED:
            counts.submitted += n
        elif state == SheetState.DRAFT:
            counts.drafts += n

    return ContestOverview(
        contest=contest,
        groups=list(contest.groups),
        entries_by_group={g.id: entries_by_group.get(g.id, 0) for g in contest.groups},
        student_teams=student_teams or 0,
        judges=judges or 0,
        binding_conflicts=conflicts.get(ConflictStatus.BINDING, 0),
        proposed_conflicts=conflicts.get(ConflictStatus.PROPOSED, 0),
        stages=summaries,
    )
