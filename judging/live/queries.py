"""Reads of the live final: which stage is live, its running order, the room, who has
submitted (counts from ``needed_sheets``), the revealed scores."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from judging.common.enums import EntryStatus, SheetState, StageKind, StageState
from judging.contests.models import Contest, Group, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.live.models import LiveState, Reveal, RunningPosition
from judging.standings.participation import taking_part
from judging.standings.progress import needed_sheets

LIVE_STATES = (StageState.OPEN, StageState.CLOSED)


def is_live(stage: Stage) -> bool:
    """Whether a stage is a live roadshow now: Rule 8's view of it is public."""
    return stage.kind == StageKind.ROADSHOW and stage.state in LIVE_STATES


def live_stage(contest: Contest) -> Stage | None:
    """The contest's live roadshow stage (the latest if several), or None."""
    live = [s for s in contest.stages if is_live(s)]
    return max(live, key=lambda s: s.position) if live else None


def stage_entries(stage: Stage) -> list[Entry]:
    """The competing entries taking part in a stage, in its running order: group by group,
    each group in the order the organizer saved or drew (``RunningPosition``); entries
    without a place there (none saved yet, or they joined since) follow by code."""
    part = taking_part(stage.contest_id)
    placed = sa.and_(
        RunningPosition.stage_id == stage.id,
        RunningPosition.entry_id == Entry.id,
        RunningPosition.group_id == Entry.group_id,  # a place in its old group is no place
    )
    return list(
        db.session.scalars(
            sa.select(Entry)
            .join(Group, Group.id == Entry.group_id)
            .outerjoin(RunningPosition, placed)
            .where(
                Entry.id.in_(sa.select(part.c.entry_id).where(part.c.stage_id == stage.id)),
                Entry.status == EntryStatus.REGISTERED,
            )
            .order_by(
                Group.position,
                Group.id,
                RunningPosition.position.is_(None),
                RunningPosition.position,
                Entry.code,
            )
        )
    )


@dataclass
class GroupOrder:
    """One group's running order in a stage: its entries in order (numbered from 1 on the
    pages), the seed when the order was drawn by lot, whether it was saved at all, and
    the entries that have no place in it (they joined the stage after it was saved)."""

    group: Group
    entries: list[Entry] = field(default_factory=list)
    seed: str | None = None
    is_saved: bool = False
    unplaced: list[Entry] = field(default_factory=list)


def running_order(stage: Stage) -> list[GroupOrder]:
    """The stage's running order per group (groups with no entry in the stage left out)."""
    rows = db.session.scalars(
        sa.select(RunningPosition).where(RunningPosition.stage_id == stage.id)
    ).all()
    places = {(r.entry_id, r.group_id): r for r in rows}
    orders: dict[int, GroupOrder] = {}
    for entry in stage_entries(stage):
        order = orders.get(entry.group_id)
        if order is None:
            order = orders[entry.group_id] = GroupOrder(entry.group)
        order.entries.append(entry)
        if (entry.id, entry.group_id) not in places:
            order.unplaced.append(entry)
    for order in orders.values():
        saved = [r for r in rows if r.group_id == order.group.id]
        order.is_saved = bool(saved)
        seeds = {r.seed for r in saved}
        order.seed = seeds.pop() if len(seeds) == 1 and not order.unplaced else None
    return list(orders.values())


def show_started(stage: Stage) -> bool:
    """Whether the live control has been used on the stage (an entry put on stage, a timer,
    a score revealed): from then on the room has seen the running order."""
    used = sa.exists().where(LiveState.stage_id == stage.id)
    revealed = sa.exists().where(Reveal.stage_id == stage.id)
    return bool(db.session.scalar(sa.select(sa.or_(used, revealed))))


def live_state(stage: Stage) -> LiveState | None:
    """The room state of a stage, if the organizer has used the live control."""
    return db.session.scalar(sa.select(LiveState).where(LiveState.stage_id == stage.id))


def submission_counts(stage: Stage, entry_ids: list[int] | None = None) -> dict[int, tuple]:
    """Per entry: (sheets needed, of them submitted), in one query (``needed_sheets``)."""
    conditions = [Assignment.stage_id == stage.id]
    if entry_ids is not None:
        conditions.append(Assignment.entry_id.in_(entry_ids))
    need = needed_sheets(*conditions)
    submitted = sa.func.count().filter(need.c.state == SheetState.SUBMITTED)
    query = sa.select(need.c.entry_id, sa.func.count(), submitted).group_by(need.c.entry_id)
    return {entry_id: (assigned, done) for entry_id, assigned, done in db.session.execute(query)}


@dataclass
class JudgeStatus:
    """One assigned judge of the entry on stage, for the organizer: submitted or not."""

    judge_id: int
    name: str
    submitted: bool


def judge_statuses(stage: Stage, entry: Entry) -> list[JudgeStatus]:
    """The judges whose sheets the entry needs in the stage (``needed_sheets``) and whether
    each submitted."""
    need = needed_sheets(Assignment.stage_id == stage.id, Assignment.entry_id == entry.id)
    rows = db.session.execute(
        sa.select(Judge.id, Judge.name, need.c.state)
        .join(need, need.c.judge_id == Judge.id)
        .order_by(Judge.name, Judge.id)
    )
    return [
        JudgeStatus(judge_id, name, state == SheetState.SUBMITTED) for judge_id, name, state in rows
    ]


def reveals(stage: Stage) -> dict[int, Reveal]:
    """The stage's revealed scores by entry."""
    found = db.session.scalars(sa.select(Reveal).where(Reveal.stage_id == stage.id))
    return {r.entry_id: r for r in found}
