"""A stage's assignment from the database: the solver's question, and its answer written.

The entries of a stage are its participants still in the contest: every registered entry
for the first stage, the entries advanced into it (``Participation``) for a later one.
Judges are the contest's judges; a binding conflict keeps a judge from an entry. An
assignment whose judge has a sheet for the entry is always kept, even in a fresh
proposal: a score is never orphaned by a new plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.common.audit import record
from judging.common.enums import ConflictStatus, EntryStatus
from judging.common.models import utcnow
from judging.contests.models import Stage
from judging.contests.versions import bump_stage_version
from judging.entries.models import Entry, Participation
from judging.extensions import db
from judging.judges.assignment import (
    EntryIn,
    JudgeIn,
    Problem,
    Proposal,
    expertise_match,
    solve,
)
from judging.judges.models import Assignment, Conflict, Judge, judge_fields
from judging.scoring.models import ScoreSheet


@dataclass(frozen=True)
class Plan:
    """A proposal for a stage, with what it changes against the stage's assignments."""

    stage_id: int
    problem: Problem
    proposal: Proposal
    add: tuple[tuple[int, int], ...]
    remove: tuple[tuple[int, int], ...]
    #: "solver" (the proposal as it came) or "grid" (chosen by hand)
    source: str = "solver"


def stage_entry_ids(stage: Stage) -> sa.Select:
    """The ids of the entries a stage's assignment covers (registered participants)."""
    query = sa.select(Entry.id).where(
        Entry.contest_id == stage.contest_id, Entry.status == EntryStatus.REGISTERED
    )
    if stage.previous_stage is not None:
        query = query.where(
            sa.exists().where(
                Participation.stage_id == stage.id, Participation.entry_id == Entry.id
            )
        )
    return query


def _scored_pairs(stage: Stage) -> set[tuple[int, int]]:
    rows = db.session.execute(
        sa.select(ScoreSheet.entry_id, ScoreSheet.judge_id).where(ScoreSheet.stage_id == stage.id)
    )
    return {tuple(r) for r in rows}


def stage_problem(stage: Stage, *, keep: bool = True) -> Problem:
    """The solver's question for ``stage``. ``keep``: place only what is missing."""
    entries = tuple(
        EntryIn(id_, group, field)
        for id_, group, field in db.session.execute(
            sa.select(Entry.id, Entry.group_id, Entry.field_id)
            .where(Entry.id.in_(stage_entry_ids(stage).scalar_subquery()))
            .order_by(Entry.id)
        )
    )
    fields: dict[int, set[int]] = {}
    for judge_id, field_id in db.session.execute(
        sa.select(judge_fields.c.judge_id, judge_fields.c.field_id)
        .join(Judge, Judge.id == judge_fields.c.judge_id)
        .where(Judge.contest_id == stage.contest_id)
    ):
        fields.setdefault(judge_id, set()).add(field_id)
    judges = tuple(
        JudgeIn(j, frozenset(fields.get(j, ())), panel)
        for j, panel in db.session.execute(
            sa.select(Judge.id, Judge.panel_group_id)
            .where(Judge.contest_id == stage.contest_id)
            .order_by(Judge.id)
        )
    )
    conflicts = frozenset(
        tuple(r)
        for r in db.session.execute(
            sa.select(Conflict.entry_id, Conflict.judge_id)
            .join(Judge, Judge.id == Conflict.judge_id)
            .where(Judge.contest_id == stage.contest_id, Conflict.status == ConflictStatus.BINDING)
        )
    )
    existing = frozenset(
        tuple(r)
        for r in db.session.execute(
            sa.select(Assignment.entry_id, Assignment.judge_id).where(
                Assignment.stage_id == stage.id
            )
        )
    )
    if not keep:
        # A fresh plan still keeps every assignment that has a sheet.
        existing = existing & _scored_pairs(stage)
    # Panels as soon as one judge sits on a group's panel: a group's entries then go only
    # to its own judges and to those on every panel.
    panels = any(j.group is not None for j in judges)
    return Problem(
        entries, judges, stage.judges_per_entry, conflicts, existing, keep=True, panels=panels
    )


def _current(stage: Stage) -> set[tuple[int, int]]:
    return {
        tuple(r)
        for r in db.session.execute(
            sa.select(Assignment.entry_id, Assignment.judge_id).where(
                Assignment.stage_id == stage.id
            )
        )
    }


def check_selection(stage: Stage, selected: set[tuple[int, int]]) -> list[str]:
    """Why a hand-made set of (entry, judge) pairs for the stage's entries cannot be saved
    (empty when it can): each entry its judges per entry, never a binding conflict, every
    assignment with a sheet kept, only the stage's entries and the contest's judges."""
    problem = stage_problem(stage, keep=False)
    entries = {e.id for e in problem.entries}
    judges = {j.id for j in problem.judges}
    codes = dict(
        db.session.execute(
            sa.select(Entry.id, Entry.code).where(Entry.contest_id == stage.contest_id)
        ).all()
    )
    names = dict(
        db.session.execute(
            sa.select(Judge.id, Judge.name).where(Judge.contest_id == stage.contest_id)
        ).all()
    )
    problems = []
    if any(e not in entries or j not in judges for e, j in selected):
        problems.append(_("The grid named an entry or a judge this stage does not have."))
    for e, j in sorted(selected & problem.conflicts):
        problems.append(
            _("%(code)s: %(judge)s has a binding conflict with it.", code=codes[e], judge=names[j])
        )
    for e, j in sorted(problem.existing - selected):
        problems.append(
            _(
                "%(code)s: %(judge)s has a sheet for it, so that assignment stays.",
                code=codes[e],
                judge=names[j],
            )
        )
    count = dict.fromkeys(entries, 0)
    for e, _j in selected:
        if e in count:
            count[e] += 1
    for e in sorted(entries, key=lambda x: codes[x]):
        if count[e] != stage.judges_per_entry:
            problems.append(
                _(
                    "%(code)s: %(n)s judges instead of %(k)s.",
                    code=codes[e],
                    n=count[e],
                    k=stage.judges_per_entry,
                )
            )
    return problems


def plan_of_selection(stage: Stage, selected: set[tuple[int, int]]) -> Plan:
    """A plan that makes the stage's entries' assignments exactly ``selected`` (checked
    with ``check_selection`` first)."""
    problem = stage_problem(stage, keep=False)
    entries = {e.id: e for e in problem.entries}
    judges = {j.id: j for j in problem.judges}
    current = _current(stage)
    remove = tuple(sorted(p for p in current - selected if p[0] in entries))
    after = (current - set(remove)) | selected
    loads = dict.fromkeys(judges, 0)
    for _e, j in after:
        if j in loads:
            loads[j] += 1
    matches = sum(1 for e, j in selected if e in entries and expertise_match(entries[e], judges[j]))
    proposal = Proposal(
        pairs=tuple(sorted(selected)),
        new=tuple(sorted(selected - current)),
        kept=tuple(sorted(selected & current)),
        loads=loads,
        matches=matches,
    )
    return Plan(stage.id, problem, proposal, proposal.new, remove, source="grid")


def plan_assignment(stage: Stage, *, keep: bool = True) -> Plan:
    """The solver's proposal for ``stage`` and what it adds and removes. A fresh plan
    (``keep=False``) replaces the assignments of the stage's entries (those without a
    sheet); assignments of entries no longer taking part are left for the organizer."""
    problem = stage_problem(stage, keep=keep)
    proposal = solve(problem)
    if not proposal.feasible:
        return Plan(stage.id, problem, proposal, (), ())
    current = _current(stage)
    wanted = set(proposal.pairs)
    remove = ()
    if not keep:
        participants = {e.id for e in problem.entries}
        remove = tuple(sorted(p for p in current - wanted if p[0] in participants))
    return Plan(stage.id, problem, proposal, tuple(sorted(wanted - current)), remove)


def apply_plan(stage: Stage, plan: Plan) -> None:
    """Write a feasible plan (in the caller's transaction): one audit event, the stage's
    versions bumped."""
    if plan.stage_id != stage.id or not plan.proposal.feasible:
        raise ValueError("not a feasible plan of this stage")
    if plan.remove:
        table = Assignment.__table__  # Core: one statement, executed for every pair
        gone = sa.delete(table).where(
            table.c.stage_id == stage.id,
            table.c.entry_id == sa.bindparam("e"),
            table.c.judge_id == sa.bindparam("j"),
        )
        db.session.execute(gone, [{"e": e, "j": j} for e, j in plan.remove])
    if plan.add:
        now = utcnow()
        db.session.execute(
            sa.insert(Assignment.__table__),
            [
                {"stage_id": stage.id, "entry_id": e, "judge_id": j, "created_at": now}
                for e, j in plan.add
            ],
        )
    loads = plan.proposal.loads
    record(
        "assignment_save",
        contest_id=stage.contest_id,
        object_type="stage",
        object_id=stage.id,
        new={
            "source": plan.source,
            "added": len(plan.add),
            "removed": len(plan.remove),
            "kept": len(plan.proposal.pairs) - len(plan.add),
            "per_entry": stage.judges_per_entry,
            "load_min": min(loads.values()) if loads else 0,
            "load_max": max(loads.values()) if loads else 0,
            "expertise_matches": plan.proposal.matches,
        },
    )
    bump_stage_version(stage.contest_id, stage_id=stage.id)
