"""Reopening a submitted sheet (Rule 7): never in a published stage."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.awards.workflow.base import WorkflowError, clean_reason
from judging.common.audit import record
from judging.common.enums import SheetState, StageState
from judging.common.models import utcnow
from judging.contests.models import Stage
from judging.contests.versions import bump_stage_version
from judging.extensions import db
from judging.live.models import Reveal
from judging.scoring.models import ScoreSheet
from judging.scoring.services import describe_sheet


def reopen_sheet(*, sheet: ScoreSheet, reason: str) -> ScoreSheet:
    """Organizer: turn a submitted sheet back into a draft its judge can change (Rule 7).

    Refused in a published stage (withdraw the publication first) and in a draft one. The
    judge can finish the sheet while the stage is open or closed. A score revealed on the
    big screen from this sheet is withdrawn with it.
    """
    reason = clean_reason(reason)
    if not reason:
        raise WorkflowError(_("A reason is required to reopen a sheet."), field="reason")
    stage = sheet.stage
    if stage.state == StageState.PUBLISHED:
        raise WorkflowError(
            _(
                "%(stage)s is published: its sheets are frozen. Withdraw the publication "
                "(with a reason) before reopening a sheet.",
                stage=stage.name,
            )
        )
    if stage.state == StageState.DRAFT:
        raise WorkflowError(_("%(stage)s is not open for scoring.", stage=stage.name))
    old = describe_sheet(sheet.id)
    now = utcnow()
    done = db.session.execute(
        sa.update(ScoreSheet)
        .where(ScoreSheet.id == sheet.id, ScoreSheet.state == SheetState.SUBMITTED)
        .values(
            state=SheetState.DRAFT,
            version=ScoreSheet.version + 1,
            submitted_at=None,
            updated_at=now,
            reopened_at=now,
        )
        .returning(ScoreSheet.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if done is None:
        raise WorkflowError(_("This sheet is not submitted, so there is nothing to reopen."))
    record(
        "sheet_reopen",
        contest_id=stage.contest_id,
        entry_id=sheet.entry_id,
        object_type="ScoreSheet",
        object_id=sheet.id,
        old=old,
        new=describe_sheet(sheet.id),
        reason=reason,
    )
    _withdraw_reveal(stage, sheet.entry_id, reason)
    bump_stage_version(stage.contest_id, stage_id=stage.id, group_id=sheet.entry.group_id)
    db.session.flush()
    return db.session.get(ScoreSheet, sheet.id, populate_existing=True)


def _withdraw_reveal(stage: Stage, entry_id: int, reason: str) -> None:
    """Take back a score revealed on the big screen: a sheet behind it is open again."""
    revealed = db.session.execute(
        sa.delete(Reveal)
        .where(Reveal.stage_id == stage.id, Reveal.entry_id == entry_id)
        .returning(Reveal.id, Reveal.score)
    ).first()
    if revealed is not None:
        record(
            "reveal_withdraw",
            contest_id=stage.contest_id,
            entry_id=entry_id,
            object_type="Reveal",
            object_id=revealed[0],
            old={"stage": stage.code, "score": str(revealed[1])},
            reason=reason,
        )
