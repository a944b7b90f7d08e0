"""Who takes part in which stage: advanced into it, or assigned or scored there."""

from __future__ import annotations

import sqlalchemy as sa

from judging.contests.models import Stage
from judging.entries.models import Entry, Participation
from judging.judges.models import Assignment
from judging.scoring.models import ScoreSheet


def takes_part(stage: Stage) -> sa.ColumnElement[bool]:
    """SQL condition on ``Entry``: the entry takes part in (has reached) ``stage``.

    The same rule as ``taking_part`` (advanced into the stage, or assigned or scored
    there), as index probes per entry: cheaper than the union when one group's entries
    are listed.
    """
    return sa.or_(
        sa.exists().where(Assignment.stage_id == stage.id, Assignment.entry_id == Entry.id),
        sa.exists().where(ScoreSheet.stage_id == stage.id, ScoreSheet.entry_id == Entry.id),
        sa.exists().where(Participation.stage_id == stage.id, Participation.entry_id == Entry.id),
    )


def taking_part(contest_id: int, stage_id: int | None = None) -> sa.Subquery:
    """(stage_id, entry_id) for every entry taking part in a stage of the contest.

    An entry takes part in (has *reached*) a stage when it was advanced into it (a
    ``Participation`` row, written per stage by confirming the previous stage's
    advancement, by an import or by the demo loader), or has an assignment or a score
    sheet there (SPEC, Rule 6). With ``stage_id``, only that stage. Every arm is filtered
    by its stage, so the (stage_id, entry_id) indexes serve the whole union.
    """
    if stage_id is None:
        stages = sa.select(Stage.id).where(Stage.contest_id == contest_id).scalar_subquery()
        assigned = Assignment.stage_id.in_(stages)
        scored = ScoreSheet.stage_id.in_(stages)
        advanced = Participation.stage_id.in_(stages)
    else:
        assigned = Assignment.stage_id == stage_id
        scored = ScoreSheet.stage_id == stage_id
        advanced = Participation.stage_id == stage_id
    return sa.union(
        sa.select(Assignment.stage_id, Assignment.entry_id).where(assigned),
        sa.select(ScoreSheet.stage_id, ScoreSheet.entry_id).where(scored),
        sa.select(Participation.stage_id, Participation.entry_id).where(advanced),
    ).subquery()
