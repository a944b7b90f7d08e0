"""Writes about entries: recording the stages an entry reached (``Participation``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from judging.common.db import ID_CHUNK, id_table, insert_for
from judging.common.enums import ParticipationSource
from judging.common.models import utcnow
from judging.contests.models import Stage
from judging.entries.models import Participation
from judging.extensions import db


def _stage_ids_by_position(contest_id: int) -> list[tuple[int, int]]:
    """The contest's (position, stage id), in order."""
    return list(
        db.session.execute(
            sa.select(Stage.position, Stage.id)
            .where(Stage.contest_id == contest_id)
            .order_by(Stage.position)
        ).all()
    )


def add_participations(pairs: Iterable[tuple[int, int]], *, source: ParticipationSource) -> int:
    """Record each (stage id, entry id) as taken part in; rows that exist are kept. Returns
    how many pairs were given."""
    rows = [
        {"stage_id": stage_id, "entry_id": entry_id, "source": source, "created_at": utcnow()}
        for stage_id, entry_id in sorted(set(pairs))
    ]
    if rows:
        stmt = insert_for(db.session, Participation).on_conflict_do_nothing(
            index_elements=["stage_id", "entry_id"]
        )
        for start in range(0, len(rows), ID_CHUNK):
            db.session.execute(stmt, rows[start : start + ID_CHUNK])
    return len(rows)


def record_reached(
    contest_id: int,
    furthest: Mapping[int, int | None],
    *,
    source: ParticipationSource,
    replace: bool = False,
) -> None:
    """For entry id → the position of the furthest stage it reached: a participation row for
    every stage after the first up to that one (an entry cannot reach the final without the
    semi-final). With ``replace``, the entries' other participation rows go (an imported
    "advanced to" column states the whole path); None then means "only registered"."""
    stages = _stage_ids_by_position(contest_id)
    if not stages:
        return
    first = stages[0][0]
    if replace:
        with id_table(furthest) as listed:
            db.session.execute(
                sa.delete(Participation).where(Participation.entry_id.in_(sa.select(listed.c.id)))
            )
    add_participations(
        (
            (stage_id, entry_id)
            for entry_id, position in furthest.items()
            if position is not None
            for stage_position, stage_id in stages
            if first < stage_position <= position
        ),
        source=source,
    )
