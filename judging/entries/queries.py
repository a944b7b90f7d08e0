"""Reads about entries: which stages each entry takes part in."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from judging.contests.models import Stage
from judging.entries.models import Entry
from judging.judges.models import Assignment
from judging.scoring.models import ScoreSheet


def takes_part(stage: Stage) -> sa.ColumnElement[bool]:
    """SQL condition on ``Entry``: the entry takes part in (has reached) ``stage``.

    The same rule as ``taking_part`` (advanced into this or a later stage, or assigned or
    scored here), as index probes per entry: cheaper than the union when one group's
    entries are listed.
    """
    later = sa.select(Stage.id).where(
        Stage.contest_id == stage.contest_id, Stage.position >= stage.position
    )
    return sa.or_(
        sa.exists().where(Assignment.stage_id == stage.id, Assignment.entry_id == Entry.id),
        sa.exists().where(ScoreSheet.stage_id == stage.id, ScoreSheet.entry_id == Entry.id),
        Entry.advanced_stage_id.in_(later),
    )


def taking_part(contest_id: int, stage_id: int | None = None) -> sa.Subquery:
    """(stage_id, entry_id) for every entry taking part in a stage of the contest.

    An entry takes part in (has *reached*) a stage when it was advanced into it or a
    later stage, or has an assignment or a score sheet there (SPEC, Rule 6). With
    ``stage_id``, only that stage. Assignments and sheets are filtered by their stage,
    so the (stage_id, entry_id) indexes serve every arm of the union.
    """
    if stage_id is None:
        stages = sa.select(Stage.id).where(Stage.contest_id == contest_id).scalar_subquery()
        assigned = Assignment.stage_id.in_(stages)
        scored = ScoreSheet.stage_id.in_(stages)
    else:
        assigned = Assignment.stage_id == stage_id
        scored = ScoreSheet.stage_id == stage_id
    advanced_to = aliased(Stage)
    advanced = (
        sa.select(Stage.id.label("stage_id"), Entry.id.label("entry_id"))
        .join(advanced_to, advanced_to.id == Entry.advanced_stage_id)
        .join(
            Stage,
            sa.and_(Stage.contest_id == Entry.contest_id, Stage.position <= advanced_to.position),
        )
        .where(Entry.contest_id == contest_id)
    )
    if stage_id is not None:
        advanced = advanced.where(Stage.id == stage_id)
    return sa.union(
        sa.select(Assignment.stage_id, Assignment.entry_id).where(assigned),
        sa.select(ScoreSheet.stage_id, ScoreSheet.entry_id).where(scored),
        advanced,
    ).subquery()
