"""Read-only views of a contest's state for the home pages."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from judging.common.enums import ConflictStatus, SheetState
from judging.contests.models import Contest, Group, Stage
from judging.entries.models import Entry
from judging.entries.queries import taking_part
from judging.extensions import db
from judging.judges.models import Conflict, Judge
from judging.judges.queries import needed_sheets


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


def list_contests() -> list[Contest]:
    """Every contest, newest first."""
    return list(db.session.scalars(sa.select(Contest).order_by(Contest.year.desc(), Contest.id)))


def get_contest(slug: str) -> Contest | None:
    """The contest with this slug, or None."""
    return db.session.scalar(sa.select(Contest).where(Contest.slug == slug))


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


def contest_or_404(slug: str) -> Contest:
    """The contest with this slug, or a 404 answer."""
    from flask import abort

    contest = get_contest(slug)
    if contest is None:
        abort(404)
    return contest
