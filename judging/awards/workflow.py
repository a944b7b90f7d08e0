"""The results workflow (SPEC, "The results workflow"), one module for pages and commands.

- A stage moves draft → open → closed → published; every move back needs a reason,
  recorded in the audit log. Closing lists what is missing: the needed sheets not
  submitted, per judge (``readiness``).
- Confirming advancement, awards or results needs a closed stage with every needed sheet
  submitted, or an override with a reason, kept with the snapshot and shown on the
  results page and in exports. Nothing is confirmed on a published stage.
- Advancement is recorded per (entry, stage): confirming writes only the next stage's
  participants. A confirmation that would change entries which already have sheets,
  assignments or participation in later stages is refused, listing them, unless the
  organizer cascades it with a reason.
- Publishing needs a confirmed snapshot equal to the live results; the public then sees
  that snapshot, frozen. Publishing again after a withdrawal records a dated correction
  with the old and new values.

Every change is planned first (``plan_transition``, ``plan_confirmation``): a plan says
what will happen and what blocks it; the confirmation pages show it, and applying a
change plans it again and refuses what the plan refuses. Services flush; the request or
command commits once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from operator import itemgetter

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from judging.auth.models import User
from judging.awards import services
from judging.awards.models import Publication, ResultSnapshot
from judging.awards.queries import (
    StageResult,
    live_payload,
    snapshot_difference,
    stage_result,
)
from judging.awards.snapshots import SnapshotDiff, content_hash, public_changes
from judging.common.audit import record
from judging.common.enums import SheetState, StageState
from judging.common.models import utcnow
from judging.contests.models import Criterion, Stage
from judging.contests.versions import bump_data_version
from judging.entries.models import Entry, Participation
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.live.models import Reveal
from judging.scoring.models import ScoreSheet
from judging.scoring.services import describe_sheet
from judging.standings.participation import taking_part
from judging.standings.progress import needed_sheets

MAX_REASON = 500

#: Forward along draft → open → closed → published, and one step back (with a reason):
#: withdraw published results, reopen a closed stage for late sheets, or take an open
#: stage back to draft.
TRANSITIONS: dict[StageState, tuple[StageState, ...]] = {
    StageState.DRAFT: (StageState.OPEN,),
    StageState.OPEN: (StageState.CLOSED, StageState.DRAFT),
    StageState.CLOSED: (StageState.PUBLISHED, StageState.OPEN),
    StageState.PUBLISHED: (StageState.CLOSED,),
}
_ORDER = [StageState.DRAFT, StageState.OPEN, StageState.CLOSED, StageState.PUBLISHED]

#: What each move is called on its button and page.
TRANSITION_LABELS = {
    (StageState.DRAFT, StageState.OPEN): _l("Open scoring"),
    (StageState.OPEN, StageState.CLOSED): _l("Close scoring"),
    (StageState.CLOSED, StageState.PUBLISHED): _l("Publish the results"),
    (StageState.PUBLISHED, StageState.CLOSED): _l("Withdraw the publication"),
    (StageState.CLOSED, StageState.OPEN): _l("Reopen scoring"),
    (StageState.OPEN, StageState.DRAFT): _l("Back to draft"),
}


def transition_label(source: StageState | str, target: StageState | str) -> str:
    """The name of a move between two states (its button), e.g. 撤回公布 for published →
    closed; "set to <state>" for a move that has no name."""
    try:
        label = TRANSITION_LABELS.get((StageState(source), StageState(target)))
    except ValueError:
        label = None
    if label is not None:
        return str(label)
    return _("Set to: %(state)s", state=StageState(target).title)


#: What the organizer can confirm on a results page.
CONFIRM_KINDS = ("advancement", "awards", "standings")


class WorkflowError(ValueError):
    """A refused change, with a message for the organizer; ``field`` names the form field
    the message is about (a missing reason), if any."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def is_backward(source: StageState, target: StageState) -> bool:
    """Whether a move goes back along the stage's life (and so needs a reason)."""
    return _ORDER.index(target) < _ORDER.index(source)


def clean_reason(text: str | None) -> str:
    """A reason as stored: stripped, NUL-free, at most ``MAX_REASON`` characters."""
    return (text or "").replace("\x00", "").strip()[:MAX_REASON]


# ------------------------------------------------------------------ what is missing


@dataclass(frozen=True)
class MissingSheet:
    """A needed sheet not submitted: its judge, its entry, and its state (None: not started)."""

    judge_id: int
    judge: str
    entry_id: int
    code: str
    state: SheetState | None


@dataclass
class Readiness:
    """How complete a stage is: the needed sheets (``needed_sheets``) and those missing."""

    stage: Stage
    needed: int
    missing: list[MissingSheet]

    @property
    def submitted(self) -> int:
        """Needed sheets that are submitted."""
        return self.needed - len(self.missing)

    @property
    def is_complete(self) -> bool:
        """Closed, with every needed sheet submitted: results can be confirmed as they are."""
        return self.stage.state == StageState.CLOSED and not self.missing

    def by_judge(self) -> list[tuple[str, list[MissingSheet]]]:
        """The missing sheets grouped by judge, in judge-name order."""
        grouped: dict[tuple[str, int], list[MissingSheet]] = defaultdict(list)
        for sheet in self.missing:
            grouped[(sheet.judge, sheet.judge_id)].append(sheet)
        return [(name, sheets) for (name, _id), sheets in sorted(grouped.items())]

    def describe(self) -> dict:
        """What was incomplete, for a snapshot's details: state, counts, codes per judge."""
        return {
            "state": str(self.stage.state),
            "needed": self.needed,
            "missing": len(self.missing),
            "by_judge": {name: [s.code for s in sheets] for name, sheets in self.by_judge()},
        }


def readiness(stage: Stage) -> Readiness:
    """The stage's needed sheets and which of them are not submitted yet."""
    need = needed_sheets(Assignment.stage_id == stage.id)
    rows = db.session.execute(
        sa.select(need.c.judge_id, Judge.name, need.c.entry_id, Entry.code, need.c.state)
        .join(Judge, Judge.id == need.c.judge_id)
        .join(Entry, Entry.id == need.c.entry_id)
        .order_by(Judge.name, Judge.id, Entry.code)
    ).all()
    missing = [
        MissingSheet(judge_id, name, entry_id, code, state)
        for judge_id, name, entry_id, code, state in rows
        if state != SheetState.SUBMITTED
    ]
    return Readiness(stage, len(rows), missing)


# ------------------------------------------------------------------ state changes


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


# ------------------------------------------------------------------ confirming results


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
        for model, key in ((Assignment, "a"), (ScoreSheet, "s")):
            for entry_id, stage_id, n in db.session.execute(
                sa.select(model.entry_id, model.stage_id, sa.func.count())
                .where(model.stage_id.in_(later_ids), model.entry_id.in_(removed_ids))
                .group_by(model.entry_id, model.stage_id)
            ):
                seen[entry_id]["stages"].add(code_of[stage_id])
                seen[entry_id][key] += n
        beyond = [s.id for s in later if s.position > nxt.position]
        for entry_id, stage_id in db.session.execute(
            sa.select(Participation.entry_id, Participation.stage_id).where(
                Participation.stage_id.in_(beyond), Participation.entry_id.in_(removed_ids)
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
        }
    )
    return plan


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
    and no cascade reason is given, or when ``fingerprint`` (what the organizer saw) no
    longer matches the results.
    """
    plan = plan_confirmation(stage, kind)
    if plan.blockers:
        raise WorkflowError(plan.blockers[0])
    if fingerprint is not None and fingerprint != plan.fingerprint:
        raise WorkflowError(
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


# ------------------------------------------------------------------ reopening a sheet


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
    bump_data_version(stage.contest_id)
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
