"""How far one stage has got, judge by judge and entry by entry, and what is missing.

Counts come from ``needed_sheets`` (the one definition of the sheets a stage needs:
competing entries, binding conflicts excluded), in three grouped queries; a judge's last
activity is the latest change of any of their sheets in the stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from judging.common.enums import SheetState
from judging.contests.models import Group, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.scoring.models import ScoreSheet
from judging.standings.progress import needed_sheets


@dataclass(frozen=True, slots=True)
class JudgeRow:
    """One judge's sheets in the stage: assigned (needed), drafts and submitted."""

    id: int
    name: str
    assigned: int
    drafts: int
    submitted: int
    last_activity: datetime | None

    @property
    def missing(self) -> int:
        return self.assigned - self.submitted


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One entry's sheets in the stage: needed, drafts and submitted."""

    id: int
    code: str
    title: str
    group: str
    needed: int
    drafts: int
    submitted: int

    @property
    def missing(self) -> int:
        return self.needed - self.submitted


@dataclass(frozen=True, slots=True)
class MissingSheet:
    """A needed sheet not submitted yet: not started (state None) or a draft."""

    judge_id: int
    judge: str
    entry: str
    state: SheetState | None


@dataclass(frozen=True, slots=True)
class StageProgress:
    """The stage's progress: per judge, per entry, the missing sheets and the totals."""

    judges: list[JudgeRow]
    entries: list[EntryRow]
    missing: list[MissingSheet]

    @property
    def needed(self) -> int:
        return sum(j.assigned for j in self.judges)

    @property
    def submitted(self) -> int:
        return sum(j.submitted for j in self.judges)

    @property
    def drafts(self) -> int:
        return sum(j.drafts for j in self.judges)

    def numbers(self) -> dict:
        """The counts as plain data (the page's script refreshes them from this)."""
        return {
            "needed": self.needed,
            "submitted": self.submitted,
            "drafts": self.drafts,
            "judges": {j.id: [j.assigned, j.drafts, j.submitted] for j in self.judges},
            "entries": {e.id: [e.needed, e.drafts, e.submitted] for e in self.entries},
        }


def _counts(needed, key):
    return (
        key,
        sa.func.count(),
        sa.func.count().filter(needed.c.state == SheetState.DRAFT),
        sa.func.count().filter(needed.c.state == SheetState.SUBMITTED),
    )


def stage_progress(stage: Stage) -> StageProgress:
    """Every judge and entry of the stage with its counts, and the sheets still missing."""
    needed = needed_sheets(Assignment.stage_id == stage.id)
    last = dict(
        db.session.execute(
            sa.select(ScoreSheet.judge_id, sa.func.max(ScoreSheet.updated_at))
            .where(ScoreSheet.stage_id == stage.id)
            .group_by(ScoreSheet.judge_id)
        ).all()
    )
    judges = [
        JudgeRow(judge_id, name, assigned, drafts, submitted, last.get(judge_id))
        for judge_id, assigned, drafts, submitted, name in db.session.execute(
            sa.select(*_counts(needed, needed.c.judge_id), Judge.name)
            .join(Judge, Judge.id == needed.c.judge_id)
            .group_by(needed.c.judge_id, Judge.name)
            .order_by(Judge.name)
        ).all()
    ]
    entries = [
        EntryRow(*row)
        for row in db.session.execute(
            sa.select(
                needed.c.entry_id,
                Entry.code,
                Entry.title,
                Group.name,
                sa.func.count(),
                sa.func.count().filter(needed.c.state == SheetState.DRAFT),
                sa.func.count().filter(needed.c.state == SheetState.SUBMITTED),
            )
            .join(Entry, Entry.id == needed.c.entry_id)
            .join(Group, Group.id == Entry.group_id)
            .group_by(needed.c.entry_id, Entry.code, Entry.title, Group.name, Group.position)
            .order_by(Group.position, Entry.code)
        ).all()
    ]
    missing = [
        MissingSheet(judge_id, judge, entry, SheetState(state) if state else None)
        for judge_id, judge, entry, state in db.session.execute(
            sa.select(needed.c.judge_id, Judge.name, Entry.code, needed.c.state)
            .join(Judge, Judge.id == needed.c.judge_id)
            .join(Entry, Entry.id == needed.c.entry_id)
            .where(sa.or_(needed.c.state.is_(None), needed.c.state != SheetState.SUBMITTED))
            .order_by(Judge.name, Entry.code)
        ).all()
    ]
    return StageProgress(judges, entries, missing)
