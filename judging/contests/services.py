"""Writes to a contest's structure: moving a stage through its states."""

from __future__ import annotations

from flask_babel import gettext as _

from judging.common.audit import record
from judging.common.enums import StageState
from judging.contests.models import Stage
from judging.contests.standings import bump_data_version
from judging.extensions import db

# Forward through draft → open → closed → published, and one step back where organizers
# need it: reopen a closed stage for late sheets, or withdraw published results.
TRANSITIONS = {
    StageState.DRAFT: (StageState.OPEN,),
    StageState.OPEN: (StageState.CLOSED, StageState.DRAFT),
    StageState.CLOSED: (StageState.PUBLISHED, StageState.OPEN),
    StageState.PUBLISHED: (StageState.CLOSED,),
}


class StageStateError(ValueError):
    """A refused state change, with a message for the organizer."""


def set_stage_state(*, stage: Stage, state: StageState | str) -> Stage:
    """Move a stage to another state along TRANSITIONS; audited; standings caches renew."""
    try:
        target = StageState(state)
    except ValueError as err:
        raise StageStateError(_("Unknown stage state.")) from err
    if target not in TRANSITIONS[stage.state]:
        raise StageStateError(
            _("A stage cannot go from %(old)s to %(new)s.", old=stage.state.title, new=target.title)
        )
    old = stage.state
    stage.state = target
    record(
        "stage_state",
        contest_id=stage.contest_id,
        obj=stage,
        old={"state": str(old)},
        new={"state": str(target), "stage": stage.code},
    )
    bump_data_version(stage.contest_id)
    db.session.flush()
    return stage
