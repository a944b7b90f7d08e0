"""Writes of the live final: the entry on stage, the pitch and Q&A timer, revealing a score.

Each change is audited and increments the contest's data version in the same
transaction, so the big screen, the judges' phones and every cached public page see it
at their next poll, on every worker. Services flush; the view commits once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.auth.models import User
from judging.common.audit import record
from judging.common.db import insert_for
from judging.common.models import utcnow
from judging.contests.models import Stage
from judging.contests.versions import bump_stage_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.live.models import LivePhase, LiveState, Reveal
from judging.live.queries import is_live, judge_statuses, stage_entries
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
