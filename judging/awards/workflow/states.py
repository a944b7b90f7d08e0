"""Moving a stage through its states, and publishing its confirmed results."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.auth.models import User
from judging.awards import services
from judging.awards.models import Publication, ResultSnapshot
from judging.awards.queries import (
    snapshot_difference,
    stage_result,
)
from judging.awards.snapshots import SnapshotDiff, public_changes
from judging.awards.workflow.base import TRANSITIONS, WorkflowError, clean_reason, is_backward
from judging.awards.workflow.readiness import Readiness, readiness
from judging.common.audit import record
from judging.common.enums import StageState
from judging.common.models import utcnow
from judging.contests.models import Criterion, Stage
from judging.contests.versions import bump_data_version
from judging.extensions import db
from judging.judges.models import Assignment
from judging.standings.progress import needed_sheets


@dataclass
class TransitionPlan:
    """What moving a stage to ``target`` would do, and what keeps it from happening."""

    stage: Stage
    source: StageState
    target: StageState
    effects: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    readiness: Readiness | None = None
    snapshot: ResultSnapshot | None = None
    diff: SnapshotDiff | None = None
    correction: list[dict] = field(default_factory=list)

    @property
    def backward(self) -> bool:
        """Whether the move goes back (a reason is required)."""
        return is_backward(self.source, self.target)

    @property
    def allowed(self) -> bool:
        """Whether nothing blocks the move."""
        return not self.blockers


def current_publication(stage: Stage) -> Publication | None:
    """The stage's publication in force (not withdrawn), or None."""
    return db.session.scalar(
        sa.select(Publication)
        .where(Publication.stage_id == stage.id, Publication.withdrawn_at.is_(None))
        .order_by(Publication.id.desc())
        .limit(1)
    )


def last_publication(stage: Stage) -> Publication | None:
    """The stage's most recent publication, withdrawn or not, or None."""
    return db.session.scalar(
        sa.select(Publication)
        .where(Publication.stage_id == stage.id)
        .order_by(Publication.id.desc())
        .limit(1)
    )


def _missing_rubric(stage: Stage) -> list[str]:
    """Names of the groups whose entries need sheets in the stage but have no rubric."""
    need = needed_sheets(Assignment.stage_id == stage.id)
    groups = set(db.session.scalars(sa.select(sa.distinct(need.c.group_id))))
    with_rubric = set(
        db.session.scalars(
            sa.select(sa.distinct(Criterion.group_id)).where(Criterion.stage_id == stage.id)
        )
    )
    return [g.name for g in stage.contest.groups if g.id in groups - with_rubric]


def plan_transition(stage: Stage, target: StageState | str) -> TransitionPlan:
    """Plan moving ``stage`` to ``target``: its effects in words, and any blockers."""
    try:
        target = StageState(target)
    except ValueError as err:
        raise WorkflowError(_("Unknown stage state.")) from err
    plan = TransitionPlan(stage, stage.state, target)
    if target == stage.state:
        plan.blockers.append(
            _("%(stage)s is already %(state)s.", stage=stage.name, state=target.title)
        )
        return plan
    if target not in TRANSITIONS[stage.state]:
        plan.blockers.append(
            _(
                "A stage cannot go from %(old)s to %(new)s.",
                old=stage.state.title,
                new=target.title,
            )
        )
        return plan
    name = stage.name
    if (stage.state, target) == (StageState.DRAFT, StageState.OPEN):
        ready = plan.readiness = readiness(stage)
        plan.effects.append(
            _(
                "Judges can score %(stage)s: %(n)s sheets are needed from its judges.",
                stage=name,
                n=ready.needed,
            )
        )
        if not ready.needed:
            plan.effects.append(_("No judge is assigned to any entry of this stage yet."))
        for group in _missing_rubric(stage):
            plan.blockers.append(
                _(
                    "%(group)s has entries to score in %(stage)s but no rubric.",
                    group=group,
                    stage=name,
                )
            )
    elif (stage.state, target) == (StageState.OPEN, StageState.CLOSED):
        ready = plan.readiness = readiness(stage)
        plan.effects.append(
            _(
                "Judges can no longer change their sheets of %(stage)s; a sheet you reopen "
                "can still be finished by its judge.",
                stage=name,
            )
        )
        if ready.missing:
            plan.effects.append(
                _(
                    "%(missing)s of %(needed)s needed sheets are not submitted (listed below, "
                    "per judge). Results with missing sheets can only be confirmed with an "
                    "override and a reason.",
                    missing=len(ready.missing),
                    needed=ready.needed,
                )
            )
        else:
            plan.effects.append(_("All %(n)s needed sheets are submitted.", n=ready.needed))
    elif (stage.state, target) == (StageState.CLOSED, StageState.PUBLISHED):
        result = stage_result(stage)
        plan.snapshot, plan.diff = snapshot_difference(result)
        if plan.snapshot is None:
            plan.blockers.append(
                _(
                    "Nothing has been confirmed for %(stage)s yet: confirm the advancement, "
                    "the awards or the results first.",
                    stage=name,
                )
            )
        elif plan.diff:
            plan.blockers.append(
                _(
                    "The live results differ from the confirmed snapshot (below): confirm "
                    "them again, or undo the change, before publishing."
                )
            )
        else:
            plan.effects.append(
                _(
                    "The public sees the standings of %(stage)s as confirmed (snapshot "
                    "%(hash)s), with advancement and award badges; they stay frozen until "
                    "you withdraw the publication.",
                    stage=name,
                    hash=plan.snapshot.content_hash[:12],
                )
            )
            previous = last_publication(stage)
            if previous is not None and previous.snapshot is not None:
                plan.correction = public_changes(previous.snapshot.payload, plan.snapshot.payload)
                if plan.correction:
                    plan.effects.append(
                        _(
                            "The results changed since they were first published: the public "
                            "pages show a correction notice dated today with the old and new "
                            "values (%(n)s changes).",
                            n=len(plan.correction),
                        )
                    )
    elif (stage.state, target) == (StageState.PUBLISHED, StageState.CLOSED):
        plan.effects.append(
            _(
                "The public pages stop showing the results of %(stage)s until you publish "
                "them again; sheets can then be reopened and results confirmed again. A "
                "republication shows a dated correction notice with what changed.",
                stage=name,
            )
        )
    elif (stage.state, target) == (StageState.CLOSED, StageState.OPEN):
        plan.effects.append(
            _(
                "Judges can score %(stage)s again and change their unsubmitted sheets.",
                stage=name,
            )
        )
    elif (stage.state, target) == (StageState.OPEN, StageState.DRAFT):
        plan.effects.append(
            _(
                "Judges no longer see %(stage)s; their sheets are kept as they are.",
                stage=name,
            )
        )
    return plan


def change_state(
    *, stage: Stage, target: StageState | str, reason: str = "", user: User | None = None
) -> TransitionPlan:
    """Move the stage to ``target`` if its plan allows it; back only with a reason.

    Audited (old → new state, the reason); publishing records a ``Publication`` of the
    confirmed snapshot, withdrawing ends the one in force. Raises WorkflowError.
    """
    plan = plan_transition(stage, target)
    if plan.blockers:
        raise WorkflowError(plan.blockers[0])
    reason = clean_reason(reason)
    if plan.backward and not reason:
        raise WorkflowError(_("Going back needs a reason."), field="reason")
    now = utcnow()
    user_id = user.id if user is not None else None
    if plan.target == StageState.PUBLISHED:
        db.session.add(
            Publication(
                stage_id=stage.id,
                snapshot_id=plan.snapshot.id,
                published_at=now,
                published_by_id=user_id,
                correction=plan.correction or None,
            )
        )
    elif plan.source == StageState.PUBLISHED:
        publication = current_publication(stage)
        if publication is not None:
            publication.withdrawn_at = now
            publication.withdrawn_by_id = user_id
            publication.withdraw_reason = reason
    stage.state = plan.target
    new = {"stage": stage.code, "state": str(plan.target)}
    if plan.snapshot is not None and plan.target == StageState.PUBLISHED:
        new["hash"] = plan.snapshot.content_hash
        if plan.correction:
            new["corrections"] = len(plan.correction)
    if plan.readiness is not None and plan.target == StageState.CLOSED:
        new["missing"] = len(plan.readiness.missing)
    record(
        "stage_state",
        contest_id=stage.contest_id,
        obj=stage,
        old={"state": str(plan.source)},
        new=new,
        reason=reason,
        user_id=user_id,
    )
    bump_data_version(stage.contest_id)
    db.session.flush()
    return plan


def publish_as_loaded(stage: Stage, *, user: User | None) -> Publication:
    """For a loader of a contest run elsewhere (the demo): freeze a published stage's live
    results and record their publication, as if confirmed and published here. No checks:
    the stage already says it is published."""
    result = stage_result(stage)
    kind = (
        "awards"
        if result.has_tiers
        else "advancement"
        if result.next_stage is not None and any(g.advancement for g in result.groups)
        else "standings"
    )
    snapshot = services.freeze(
        result,
        kind=kind,
        user=user,
        with_specials=kind == "awards",
        override_reason="",
        details=None,
    )
    publication = Publication(
        stage_id=stage.id,
        snapshot_id=snapshot.id,
        published_at=utcnow(),
        published_by_id=user.id if user is not None else None,
    )
    db.session.add(publication)
    db.session.flush()
    return publication
