"""Writes of the live final: the entry on stage, the pitch and Q&A timer, revealing a score,
and the stage's running order (set by hand or drawn by lot, 抽签).

Each change is audited and increments the contest's data version in the same
transaction, so the big screen, the judges' phones and every cached public page see it
at their next poll, on every worker. Services flush; the view commits once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.auth.models import User
from judging.common.audit import record
from judging.common.db import insert_for
from judging.common.enums import StageKind, StageState
from judging.common.models import utcnow
from judging.contests.models import Group, Stage
from judging.contests.versions import bump_stage_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.live.draw import SEED_MAX, draw_order, new_seed, normalize_seed
from judging.live.models import LivePhase, LiveState, Reveal, RunningPosition
from judging.live.queries import (
    GroupOrder,
    is_live,
    judge_statuses,
    running_order,
    show_started,
    stage_entries,
)
from judging.standings.groups import group_standings


class LiveError(ValueError):
    """A refused live-control request, with a message for the organizer."""

    status = 400


class RevealRefused(LiveError):
    """A reveal before every assigned judge has submitted (Rule 8): nothing is written."""

    status = 409


def _check_live(stage: Stage) -> None:
    if not is_live(stage):
        raise LiveError(_("%(stage)s is not a live roadshow stage now.", stage=stage.name))


def _check_entry(stage: Stage, entry: Entry) -> None:
    if entry.contest_id != stage.contest_id or entry.id not in {e.id for e in stage_entries(stage)}:
        raise LiveError(
            _("%(code)s does not take part in %(stage)s.", code=entry.code, stage=stage.name)
        )


def room(stage: Stage) -> LiveState:
    """The stage's room state, created idle on first use (safe against a concurrent create)."""
    state = db.session.scalar(sa.select(LiveState).where(LiveState.stage_id == stage.id))
    if state is not None:
        return state
    db.session.execute(
        insert_for(db.session, LiveState)
        .values(stage_id=stage.id, phase=LivePhase.IDLE, phase_seconds=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["stage_id"])
    )
    return db.session.scalar(
        sa.select(LiveState)
        .where(LiveState.stage_id == stage.id)
        .execution_options(populate_existing=True)
    )


def _changed(stage: Stage, state: LiveState, action: str, old: dict) -> LiveState:
    state.updated_at = utcnow()
    new = {
        "stage": stage.code,
        "entry": state.entry.code if state.entry_id and state.entry else None,
        "phase": str(state.phase),
        "seconds": state.phase_seconds,
    }
    record(
        action, contest_id=stage.contest_id, entry_id=state.entry_id, obj=state, old=old, new=new
    )
    bump_stage_version(stage.contest_id, stage_id=stage.id)  # the live pages only
    db.session.flush()
    return state


def _snapshot(state: LiveState) -> dict:
    return {
        "entry": state.entry.code if state.entry_id and state.entry else None,
        "phase": str(state.phase),
    }


def put_on_stage(*, stage: Stage, entry: Entry | None) -> LiveState:
    """Put an entry on stage (or nobody, with None); its timer waits for the organizer."""
    _check_live(stage)
    if entry is not None:
        _check_entry(stage, entry)
    state = room(stage)
    old = _snapshot(state)
    state.entry = entry
    state.entry_id = entry.id if entry is not None else None
    state.phase = LivePhase.IDLE
    state.phase_started_at = None
    state.phase_seconds = 0
    return _changed(stage, state, "live_on_stage", old)


def start_phase(*, stage: Stage, phase: LivePhase | str) -> LiveState:
    """Start the pitch or the Q&A timer of the entry on stage (or stop it with ``idle``)."""
    _check_live(stage)
    try:
        phase = LivePhase(phase)
    except ValueError as err:
        raise LiveError(_("Unknown timer phase.")) from err
    state = room(stage)
    if state.entry_id is None and phase != LivePhase.IDLE:
        raise LiveError(_("Put an entry on stage first."))
    old = _snapshot(state)
    state.phase = phase
    if phase == LivePhase.IDLE:
        state.phase_started_at = None
        state.phase_seconds = 0
    else:
        minutes = stage.pitch_minutes if phase == LivePhase.PITCH else stage.qa_minutes
        state.phase_started_at = utcnow()
        state.phase_seconds = 60 * minutes
    return _changed(stage, state, "live_timer", old)


def next_entry(*, stage: Stage) -> LiveState:
    """Put the entry after the current one in the running order on stage."""
    _check_live(stage)
    order = stage_entries(stage)
    if not order:
        raise LiveError(_("No entries take part in %(stage)s.", stage=stage.name))
    state = room(stage)
    ids = [e.id for e in order]
    if state.entry_id in ids:
        index = ids.index(state.entry_id) + 1
        if index >= len(order):
            raise LiveError(_("That was the last entry of %(stage)s.", stage=stage.name))
    else:
        index = 0
    return put_on_stage(stage=stage, entry=order[index])


def reveal(*, stage: Stage, entry: Entry, user: User | None) -> Reveal:
    """Reveal an entry's score on the big screen (当场亮分); refused until every assigned,
    non-conflicted judge has submitted. The score and the totals are frozen as shown."""
    _check_live(stage)
    _check_entry(stage, entry)
    statuses = judge_statuses(stage, entry)
    done = sum(1 for s in statuses if s.submitted)
    if not statuses:
        raise RevealRefused(_("No judge is assigned to %(code)s.", code=entry.code))
    if done < len(statuses):
        raise RevealRefused(
            _(
                "%(done)s of %(total)s judges have submitted for %(code)s: the score can be "
                "revealed once all have.",
                done=done,
                total=len(statuses),
                code=entry.code,
            )
        )
    standings = group_standings(stage, entry.group)
    row = next((r for r in standings.rows if r.entry_id == entry.id), None)
    # The stage's own score, the one its totals make (not a combined score, Rule 3).
    score = standings.stage_score(row) if row is not None else None
    if row is None or score is None or row.sheet_count != len(statuses):
        raise RevealRefused(
            _("The sheets of %(code)s are not complete yet; try again shortly.", code=entry.code)
        )
    totals = [
        {"judge_id": judge_id, "total": str(total)}
        for judge_id, total in zip(row.judge_ids, row.totals, strict=True)
    ]
    values = {
        "revealed_at": utcnow(),
        "revealed_by_id": user.id if user is not None else None,
        "score": score,
        "cut": row.cut,
        "totals": totals,
    }
    stmt = insert_for(db.session, Reveal).values(stage_id=stage.id, entry_id=entry.id, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["stage_id", "entry_id"], set_={k: stmt.excluded[k] for k in values}
    ).returning(Reveal.id)
    reveal_id = db.session.execute(stmt).scalar()
    record(
        "live_reveal",
        contest_id=stage.contest_id,
        entry_id=entry.id,
        object_type="Reveal",
        object_id=reveal_id,
        new={
            "stage": stage.code,
            "score": str(score),
            "totals": [t["total"] for t in totals],
            "dropped_each_end": row.cut,
        },
        user_id=user.id if user is not None else None,
    )
    bump_stage_version(stage.contest_id, stage_id=stage.id)
    db.session.flush()
    return db.session.get(Reveal, reveal_id, populate_existing=True)


# ------------------------------------------------------------------ the running order


class OrderError(LiveError):
    """A refused change of the running order: nothing is written. ``field`` names the form
    field the message concerns (None: the page as a whole)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_order_change(stage: Stage, reason: str) -> None:
    """Refuse a change of a stage's running order: not a roadshow, published (its order is
    history), or the live final has begun (the room has seen the order) and no reason."""
    if stage.kind != StageKind.ROADSHOW:
        raise OrderError(
            _("%(stage)s is not a live roadshow: it has no running order.", stage=stage.name)
        )
    if stage.state == StageState.PUBLISHED:
        raise OrderError(_("%(stage)s is published: its running order is final.", stage=stage.name))
    if not (reason or "").strip() and show_started(stage):
        raise OrderError(
            _(
                "The live final of %(stage)s has begun: give a reason to change its running order.",
                stage=stage.name,
            ),
            field="reason",
        )


def _lock_stage(stage: Stage) -> None:
    # Two organizers saving at once take turns (PostgreSQL; SQLite's writer lock already
    # serializes the requests), so the second replaces the first's rows cleanly.
    db.session.execute(sa.select(Stage.id).where(Stage.id == stage.id).with_for_update())


def _codes(entries: Sequence[Entry]) -> list[str]:
    return [e.code for e in entries]


def _write_group(stage: Stage, group: Group, entries: Sequence[Entry], seed: str | None) -> None:
    """Replace a group's places in the stage with ``entries`` in order, numbered from 1."""
    # The group's places, and any place its entries kept under a group they have left
    # (by a subquery of the group's entries: no bind parameter per entry).
    in_group = sa.select(Entry.id).where(Entry.group_id == group.id)
    db.session.execute(
        sa.delete(RunningPosition).where(
            RunningPosition.stage_id == stage.id,
            sa.or_(RunningPosition.group_id == group.id, RunningPosition.entry_id.in_(in_group)),
        )
    )
    if entries:
        db.session.execute(
            sa.insert(RunningPosition),
            [
                {
                    "stage_id": stage.id,
                    "group_id": group.id,
                    "entry_id": entry_id,
                    "position": n,
                    "seed": seed,
                }
                for n, entry_id in enumerate((e.id for e in entries), start=1)
            ],
        )


def _apply(
    stage: Stage,
    changes: list[tuple[GroupOrder, list[Entry]]],
    *,
    seed: str | None,
    reason: str,
) -> list[GroupOrder]:
    """Write the groups whose order (or draw) changes, audit them in one event, bump the
    stage's live pages; return the groups written."""
    written = []
    old: dict[str, list[str]] = {}
    new: dict[str, list[str]] = {}
    for order, entries in changes:
        same = _codes(order.entries) == _codes(entries) and not order.unplaced
        # Saving by hand the order a draw gave keeps that draw (and its seed).
        if order.is_saved and same and (seed is None or order.seed == seed):
            continue
        _write_group(stage, order.group, entries, seed)
        old[order.group.code] = _codes(order.entries)
        new[order.group.code] = _codes(entries)
        written.append(order)
    if not written:
        return written
    after = {"stage": stage.code, "order": new}
    if seed is not None:
        after["seed"] = seed
    record(
        "running_order_draw" if seed is not None else "running_order_save",
        contest_id=stage.contest_id,
        obj=stage,
        old={"stage": stage.code, "order": old},
        new=after,
        reason=(reason or "").strip(),
    )
    bump_stage_version(stage.contest_id, stage_id=stage.id)  # the live pages
    db.session.flush()
    return written


def save_order(
    *, stage: Stage, orders: Mapping[int, Sequence[int]], reason: str = ""
) -> list[GroupOrder]:
    """Set the running order by hand: per group id, its entries' ids in order. Each group
    given must list every one of its entries in the stage once; groups not given keep
    their order. Returns the groups whose order was written (none: nothing changed)."""
    check_order_change(stage, reason)
    _lock_stage(stage)
    current = {o.group.id: o for o in running_order(stage)}
    unknown = set(orders) - set(current)
    if unknown:
        raise OrderError(_("The running order names a group that has no entry in this stage."))
    changes = []
    for group_id, entry_ids in orders.items():
        order = current[group_id]
        by_id = {e.id: e for e in order.entries}
        if sorted(entry_ids) != sorted(by_id):
            raise OrderError(
                _(
                    "The entries of %(group)s in %(stage)s have changed since the page was "
                    "shown; check the order again.",
                    group=order.group.name,
                    stage=stage.name,
                )
            )
        changes.append((order, [by_id[i] for i in entry_ids]))
    return _apply(stage, changes, seed=None, reason=reason)


def draw_running_order(
    *, stage: Stage, seed: str = "", group: Group | None = None, reason: str = ""
) -> tuple[str, list[GroupOrder]]:
    """Draw the running order by lot (抽签): every group of the stage, or only ``group``,
    with ``seed`` (a new random one when blank); ``judging.live.draw`` says how, so the
    same seed always gives the same order. Returns the seed and the groups written."""
    seed = normalize_seed(seed)
    if len(seed) > SEED_MAX:
        raise OrderError(_("The seed may have at most %(n)s characters.", n=SEED_MAX), field="seed")
    check_order_change(stage, reason)
    seed = seed or new_seed()
    _lock_stage(stage)
    orders = running_order(stage)
    if group is not None:
        orders = [o for o in orders if o.group.id == group.id]
    if not orders:
        raise OrderError(_("No entries take part in %(stage)s.", stage=stage.name))
    changes = []
    for order in orders:
        by_code = {e.code: e for e in order.entries}
        drawn = draw_order(seed, order.group.code, list(by_code))
        changes.append((order, [by_code[c] for c in drawn]))
    return seed, _apply(stage, changes, seed=seed, reason=reason)
