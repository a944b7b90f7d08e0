"""Reads for a judge's own pages."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from judging.auth.models import User
from judging.common.enums import ConflictStatus, EntryStatus, SheetState
from judging.contests.models import Stage
from judging.extensions import db
from judging.judges.models import Assignment, Conflict, Judge
from judging.scoring.models import ScoreSheet


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


def binding_conflict_exists(judge_id_col, entry_id_col):
    """SQL condition: a binding conflict between these judge and entry columns."""
    return (
        sa.select(Conflict.id)
        .where(
            Conflict.judge_id == judge_id_col,
            Conflict.entry_id == entry_id_col,
            Conflict.status == ConflictStatus.BINDING,
        )
        .exists()
    )


def needed_sheets(*conditions: sa.ColumnElement[bool]) -> sa.Subquery:
    """Every sheet a stage needs, with the state of the sheet written so far (one place).

    A sheet is needed for each assignment of an entry still competing whose judge has no
    binding conflict with it; ``state`` is the sheet's (draft or submitted), or None when
    the judge has not started. Columns: stage_id, judge_id, entry_id, group_id, state.
    Every count of the product (organizer progress, a judge's own progress, the export's
    summary, the live control, closing a stage, confirming results) reads this.
    ``conditions`` narrow it (on ``Assignment`` or ``Entry`` columns).
    """
    from judging.entries.models import Entry

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
            ~binding_conflict_exists(Assignment.judge_id, Assignment.entry_id),
            *conditions,
        )
        .subquery("needed")
    )


def judge_records(user: User) -> list[Judge]:
    """The judge records of a user, one per contest."""
    return list(db.session.scalars(sa.select(Judge).where(Judge.user_id == user.id)))


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


def contest_judges(contest_id: int) -> list[Judge]:
    """The contest's judges by name, with their accounts."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            sa.select(Judge)
            .where(Judge.contest_id == contest_id)
            .options(selectinload(Judge.user), selectinload(Judge.expertise))
            .order_by(Judge.name)
        )
    )


def contest_conflicts(contest_id: int) -> list[Conflict]:
    """Every conflict of the contest, newest first, with judge and entry."""
    from sqlalchemy.orm import joinedload

    from judging.entries.models import Entry

    return list(
        db.session.scalars(
            sa.select(Conflict)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.contest_id == contest_id)
            .options(joinedload(Conflict.judge), joinedload(Conflict.entry))
            .order_by(Conflict.created_at.desc(), Conflict.id.desc())
        )
    )
