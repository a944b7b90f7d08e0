"""Confirming a stage's advancement, awards or results, and freezing them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from operator import itemgetter

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.auth.models import User
from judging.awards import services
from judging.awards.models import ResultSnapshot
from judging.awards.queries import (
    StageResult,
    live_payload,
    stage_result,
)
from judging.awards.snapshots import content_hash
from judging.awards.workflow.base import (
    CONFIRM_KINDS,
    ChangedMeanwhile,
    WorkflowError,
    clean_reason,
)
from judging.awards.workflow.readiness import Readiness, readiness
from judging.common.db import id_table
from judging.common.enums import StageState
from judging.contests.models import Stage
from judging.entries.models import Participation
from judging.extensions import db
from judging.judges.models import Assignment
from judging.scoring.models import ScoreSheet
from judging.standings.participation import taking_part


@dataclass(frozen=True)
class Footprint:
    """What an entry leaving the next stage has in the stages after this one."""

    entry_id: int
    code: str
    stages: tuple[str, ...]
    assignments: int
    sheets: int
    participations: int


@dataclass
class AdvancementChanges:
    """How confirming advancement would change who takes part in the next stage."""

    into: Stage
    added: list[tuple[int, str]]
    removed: list[tuple[int, str]]
    #: sheets in the stages after this one (any entry)
    later_sheets: int
    #: per removed entry with anything in a later stage beyond its record of advancement
    footprints: list[Footprint]
    published_later: list[Stage]

    @property
    def changes(self) -> bool:
        """Whether any entry joins or leaves the next stage."""
        return bool(self.added or self.removed)

    @property
    def needs_cascade(self) -> bool:
        """Whether the change reaches later stages: they have sheets already, or a leaving
        entry has assignments, sheets or participation beyond its record in the next
        stage (only an explicit cascade, with a reason, may touch them)."""
        return self.changes and bool(self.later_sheets or self.footprints)


def advancement_changes(result: StageResult) -> AdvancementChanges | None:
    """Who would join and leave the next stage if the proposal were confirmed now."""
    stage, nxt = result.stage, result.next_stage
    if nxt is None:
        return None
    codes: dict[int, str] = {}
    proposed: set[int] = set()
    for g in result.groups:
        if g.advancement is None:
            continue
        for row in g.standings.rows:
            codes[row.entry_id] = row.code
        proposed.update(g.advancement.advancing)
    part = taking_part(stage.contest_id, nxt.id)
    current = set(db.session.scalars(sa.select(part.c.entry_id))) & set(codes)
    by_code = itemgetter(1)
    added = sorted(((eid, codes[eid]) for eid in proposed - current), key=by_code)
    removed = sorted(((eid, codes[eid]) for eid in current - proposed), key=by_code)
    later = stage.later_stages
    later_ids = [s.id for s in later]
    later_sheets = db.session.scalar(
        sa.select(sa.func.count()).select_from(ScoreSheet).where(ScoreSheet.stage_id.in_(later_ids))
    )
    footprints = []
    if removed:
        removed_ids = [eid for eid, _ in removed]
        code_of = {s.id: s.code for s in later}
        seen: dict[int, dict] = defaultdict(lambda: {"stages": set(), "a": 0, "s": 0, "p": 0})
        beyond = [s.id for s in later if s.position > nxt.position]
        with id_table(removed_ids) as listed:
            for model, key in ((Assignment, "a"), (ScoreSheet, "s")):
                for entry_id, stage_id, n in db.session.execute(
                    sa.select(model.entry_id, model.stage_id, sa.func.count())
                    .where(
                        model.stage_id.in_(later_ids), model.entry_id.in_(sa.select(listed.c.id))
                    )
                    .group_by(model.entry_id, model.stage_id)
                ):
                    seen[entry_id]["stages"].add(code_of[stage_id])
                    seen[entry_id][key] += n
            for entry_id, stage_id in db.session.execute(
                sa.select(Participation.entry_id, Participation.stage_id).where(
                    Participation.stage_id.in_(beyond),
                    Participation.entry_id.in_(sa.select(listed.c.id)),
                )
            ):
                seen[entry_id]["stages"].add(code_of[stage_id])
                seen[entry_id]["p"] += 1
        order = {s.code: s.position for s in later}
        footprints = [
            Footprint(
                eid,
                code,
                tuple(sorted(seen[eid]["stages"], key=order.get)),
                seen[eid]["a"],
                seen[eid]["s"],
                seen[eid]["p"],
            )
            for eid, code in removed
            if eid in seen
        ]
    return AdvancementChanges(
        into=nxt,
        added=added,
        removed=removed,
        later_sheets=later_sheets or 0,
        footprints=footprints,
        published_later=[s for s in later if s.is_published],
    )


@dataclass
class ConfirmPlan:
    """What confirming a stage's advancement, awards or results would do."""

    kind: str
    result: StageResult
    readiness: Readiness
    effects: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    changes: AdvancementChanges | None = None
    #: the content hash of what would be frozen now: the page sends it back, and a
    #: confirmation whose results changed meanwhile is refused
    fingerprint: str = ""

    @property
    def stage(self) -> Stage:
        """The stage whose results are confirmed."""
        return self.result.stage

    @property
    def needs_override(self) -> bool:
        """Whether the stage is not closed or misses sheets (a reason is then required)."""
        return not self.readiness.is_complete

    @property
    def needs_cascade(self) -> bool:
        """Whether the change reaches later stages (a cascade reason is then required)."""
        return self.changes is not None and self.changes.needs_cascade

    @property
    def allowed(self) -> bool:
        """Whether nothing blocks the confirmation (override and cascade reasons aside)."""
        return not self.blockers


def _with_specials(kind: str) -> bool:
    return kind == "awards"


def plan_confirmation(stage: Stage, kind: str) -> ConfirmPlan:
    """Plan confirming the stage's ``kind`` ("advancement", "awards" or "standings")."""
    if kind not in CONFIRM_KINDS:
        raise WorkflowError(_("Unknown confirmation."))
    result = stage_result(stage)
    plan = ConfirmPlan(kind, result, readiness(stage))
    name = stage.name
    if stage.state == StageState.PUBLISHED:
        plan.blockers.append(
            _(
                "%(stage)s is published: its results are frozen. Withdraw the publication "
                "(with a reason) before confirming anything again.",
                stage=name,
            )
        )
    elif stage.state == StageState.DRAFT:
        plan.blockers.append(_("%(stage)s has not been opened for scoring yet.", stage=name))
    if kind == "advancement":
        if result.next_stage is None:
            plan.blockers.append(_("This is the last stage: nobody advances from it."))
        elif not any(g.advancement for g in result.groups):
            plan.blockers.append(_("No advancement quota or threshold is set for this stage."))
        else:
            plan.changes = changes = advancement_changes(result)
            into = changes.into.name
            for g in result.groups:
                if g.advancement is not None:
                    plan.effects.append(
                        _(
                            "%(group)s: %(n)s entries advance into %(stage)s.",
                            group=g.group.name,
                            n=len(g.advancement.advancing),
                            stage=into,
                        )
                    )
            if not changes.changes:
                plan.effects.append(_("Who takes part in %(stage)s does not change.", stage=into))
            if changes.changes and changes.published_later:
                plan.blockers.append(
                    _(
                        "%(stages)s is published: withdraw its publication before changing "
                        "who takes part in it.",
                        stages="、".join(s.name for s in changes.published_later),
                    )
                )
            if changes.needs_cascade:
                plan.effects.append(
                    _(
                        "Later stages already have %(n)s sheets: this changes who took part "
                        "in them. It is refused unless you cascade it, with a reason: "
                        "entries leaving %(stage)s also leave every later stage, and their "
                        "assignments and sheets there are deleted (the audit log keeps "
                        "each sheet).",
                        n=changes.later_sheets,
                        stage=into,
                    )
                )
    elif kind == "awards" and not result.has_tiers:
        plan.blockers.append(_("This stage has no award tiers."))
    if kind == "awards" and result.has_tiers:
        plan.effects.append(
            _(
                "The tier awards of this stage and every special award of the contest are "
                "written (replacing those confirmed before), with the prize money."
            )
        )
    plan.effects.append(
        _("These results are frozen in a snapshot; later changes show as differences.")
    )
    if plan.needs_override and not plan.blockers:
        ready = plan.readiness
        if stage.state != StageState.CLOSED:
            plan.effects.append(
                _(
                    "%(stage)s is still open: confirming now needs an override with a reason, "
                    "shown on the results page and in exports.",
                    stage=name,
                )
            )
        if ready.missing:
            plan.effects.append(
                _(
                    "%(missing)s of %(needed)s needed sheets are not submitted: confirming "
                    "now needs an override with a reason, shown on the results page and in "
                    "exports.",
                    missing=len(ready.missing),
                    needed=ready.needed,
                )
            )
    plan.fingerprint = content_hash(
        {
            "payload": live_payload(result, with_specials=_with_specials(kind)),
            "kind": kind,
            "added": [c for _, c in plan.changes.added] if plan.changes else [],
            "removed": [c for _, c in plan.changes.removed] if plan.changes else [],
            "state": str(stage.state),
            "missing": len(plan.readiness.missing),
            # The stage's last confirmation: a page shown before another confirmation
            # was made cannot confirm again on the strength of what it showed.
            "after": _last_snapshot_id(stage),
        }
    )
    return plan


def _last_snapshot_id(stage: Stage) -> int | None:
    return db.session.scalar(
        sa.select(sa.func.max(ResultSnapshot.id)).where(ResultSnapshot.stage_id == stage.id)
    )


def _lock_stage(stage: Stage) -> None:
    """Confirmations of a stage take turns: the stage's row is locked until the request or
    command commits (PostgreSQL, ``FOR NO KEY UPDATE``, which does not hold up the sheets
    and other rows that refer to the stage; SQLite: the write transaction, begun
    immediately, already holds the database's one write lock). The stage is read again
    as the lock is taken, so the plan after it sees what a confirmation before it wrote."""
    db.session.execute(
        sa.select(Stage)
        .where(Stage.id == stage.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def confirm(
    *,
    stage: Stage,
    kind: str,
    user: User | None,
    override_reason: str = "",
    cascade_reason: str = "",
    fingerprint: str | None = None,
) -> ResultSnapshot:
    """Confirm the stage's advancement, awards or results (standings alone) and freeze them.

    Refused (WorkflowError, nothing written) when the plan has a blocker, when the stage
    is incomplete and no override reason is given, when the change reaches later stages
    and no cascade reason is given, or (ChangedMeanwhile) when ``fingerprint`` (what the
    organizer saw) no longer matches the results or another confirmation came since.
    Confirmations of one stage run one at a time (``_lock_stage``): of several sent at
    once, the first is made and the others, planned after it, are refused.
    """
    _lock_stage(stage)
    plan = plan_confirmation(stage, kind)
    if plan.blockers:
        raise WorkflowError(plan.blockers[0])
    if fingerprint is not None and fingerprint != plan.fingerprint:
        raise ChangedMeanwhile(
            _("The results changed while you were reviewing them: check them again.")
        )
    override_reason = clean_reason(override_reason)
    cascade_reason = clean_reason(cascade_reason)
    if plan.needs_override and not override_reason:
        if stage.state != StageState.CLOSED:
            why = _("%(stage)s is still open for scoring.", stage=stage.name)
        else:
            why = _(
                "%(missing)s needed sheets of %(stage)s are not submitted.",
                stage=stage.name,
                missing=len(plan.readiness.missing),
            )
        raise WorkflowError(
            _("%(why)s Give a reason to confirm it anyway.", why=why), field="override_reason"
        )
    if plan.needs_cascade and not cascade_reason:
        changes = plan.changes
        codes = [c for _, c in changes.added] + [c for _, c in changes.removed]
        raise WorkflowError(
            _(
                "Refused: later stages already have sheets, and this would change who takes "
                "part in %(stage)s (%(codes)s). Cascade it with a reason, or leave it.",
                stage=changes.into.name,
                codes="、".join(codes),
            ),
            field="cascade_reason",
        )
    details: dict = {}
    if plan.needs_override:
        details["override"] = {**plan.readiness.describe(), "reason": override_reason}
    if plan.needs_cascade:
        details["cascade"] = {
            "reason": cascade_reason,
            "added": [c for _, c in plan.changes.added],
            "removed": [c for _, c in plan.changes.removed],
        }
    if kind == "advancement":
        return services.confirm_advancement(
            result=plan.result,
            changes=plan.changes,
            user=user,
            override_reason=override_reason,
            cascade_reason=cascade_reason if plan.needs_cascade else "",
            details=details or None,
        )
    if kind == "awards":
        return services.confirm_awards(
            result=plan.result, user=user, override_reason=override_reason, details=details or None
        )
    return services.confirm_standings(
        result=plan.result, user=user, override_reason=override_reason, details=details or None
    )
