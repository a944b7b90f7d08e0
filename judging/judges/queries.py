"""Reads for a judge's own pages."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from judging.auth.models import User
from judging.common.enums import ConflictStatus, SheetState
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


def judge_records(user: User) -> list[Judge]:
    """The judge records of a user, one per contest."""
    return list(db.session.scalars(sa.select(Judge).where(Judge.user_id == user.id)))


def judge_progress(judge: Judge) -> list[JudgeStageProgress]:
    """Per stage of the judge's contest: assigned (non-conflicted) entries, submitted, drafts."""
    not_conflicted = ~binding_conflict_exists(Assignment.judge_id, Assignment.entry_id)
    assigned = dict(
        db.session.execute(
            sa.select(Assignment.stage_id, sa.func.count())
            .where(Assignment.judge_id == judge.id, not_conflicted)
            .group_by(Assignment.stage_id)
        ).all()
    )
    sheet_rows = db.session.execute(
        sa.select(ScoreSheet.stage_id, ScoreSheet.state, sa.func.count())
        .join(
            Assignment,
            sa.and_(
                Assignment.stage_id == ScoreSheet.stage_id,
                Assignment.judge_id == ScoreSheet.judge_id,
                Assignment.entry_id == ScoreSheet.entry_id,
            ),
        )
        .where(ScoreSheet.judge_id == judge.id, not_conflicted)
        .group_by(ScoreSheet.stage_id, ScoreSheet.state)
    ).all()
    submitted = {s: n for s, st, n in sheet_rows if st == SheetState.SUBMITTED}
    drafts = {s: n for s, st, n in sheet_rows if st == SheetState.DRAFT}
    return [
        JudgeStageProgress(
            stage=stage,
            assigned=assigned.get(stage.id, 0),
            submitted=submitted.get(stage.id, 0),
            drafts=drafts.get(stage.id, 0),
        )
        for stage in judge.contest.stages
        if assigned.get(stage.id)
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
