"""Reads about entries: the stages they were recorded as advanced into."""

from __future__ import annotations

import sqlalchemy as sa

from judging.contests.models import Stage
from judging.entries.models import Participation
from judging.extensions import db


def advanced_into(stage: Stage) -> set[int]:
    """The ids of the entries recorded as advanced into ``stage``."""
    return set(
        db.session.scalars(
            sa.select(Participation.entry_id).where(Participation.stage_id == stage.id)
        )
    )


def furthest_advanced(contest_id: int) -> dict[int, int]:
    """Entry id → the id of the furthest stage (by position) it was recorded as advanced
    into; entries only registered are absent (the workbook's 晋级至 column)."""
    rows = db.session.execute(
        sa.select(Participation.entry_id, Stage.id, Stage.position)
        .join(Stage, Stage.id == Participation.stage_id)
        .where(Stage.contest_id == contest_id)
    )
    best: dict[int, tuple[int, int]] = {}
    for entry_id, stage_id, position in rows:
        if entry_id not in best or position > best[entry_id][0]:
            best[entry_id] = (position, stage_id)
    return {entry_id: stage_id for entry_id, (_, stage_id) in best.items()}
