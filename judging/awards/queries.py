"""Reads for advancement and awards: proposals from the live standings, and snapshots."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from judging.awards.models import ResultSnapshot
from judging.awards.prizes import PrizeTotals, prize_rows, prize_totals
from judging.awards.snapshots import diff_snapshots, snapshot_payload
from judging.common.enums import EntryStatus
from judging.contests.models import AwardTier, Contest, Group, SpecialAward, Stage
from judging.contests.versions import data_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.ranking.rules import (
    AdvancementProposal,
    SpecialAwardRow,
    SpecialEntry,
    SpecialInput,
    TierAllocation,
    TierInput,
    allocate_tiers,
    apply_special_awards,
    propose_advancement,
)
from judging.standings.groups import GroupStandings, group_standings, weighted_stages
from judging.standings.participation import taking_part


@dataclass
class GroupResult:
    """One group of a stage: standings, and the advancement and tier proposals."""

    group: Group
    standings: GroupStandings
    quota: int | None
    advancement: AdvancementProposal | None
    tiers: TierAllocation | None


@dataclass
class StageResult:
    """A stage's results per group, plus the stage that entries advance into."""

    stage: Stage
    next_stage: Stage | None
    groups: list[GroupResult]
    version: tuple[int, str]
    #: why stage weights are not applied (they do not sum to 1), or None
    weight_error: str | None = None

    @property
    def has_tiers(self) -> bool:
        """Whether the stage gives tier awards."""
        return any(g.tiers is not None for g in self.groups)


def tier_inputs(stage: Stage, group: Group) -> list[TierInput]:
    """The award tiers of (stage, group) as engine input."""
    tiers = db.session.scalars(
        sa.select(AwardTier)
        .where(AwardTier.stage_id == stage.id, AwardTier.group_id == group.id)
        .order_by(AwardTier.position)
    )
    return [TierInput(t.id, t.name, t.position, t.quota, t.prize) for t in tiers]


def stage_result(stage: Stage) -> StageResult:
    """Standings and proposals of every group of a stage."""
    version = data_version(stage.contest_id)
    nxt = stage.next_stage
    groups = []
    for group in stage.contest.groups:
        standings = group_standings(stage, group, version=version)
        quota = stage.quota_for(group) if nxt is not None else None
        advancement = None
        if nxt is not None and (quota is not None or stage.advance_threshold is not None):
            advancement = propose_advancement(
                standings.rows,
                quota=quota if stage.advance_threshold is None else None,
                threshold=stage.advance_threshold,
            )
        tiers = tier_inputs(stage, group)
        allocation = allocate_tiers(standings.rows, tiers, group_code=group.code) if tiers else None
        groups.append(GroupResult(group, standings, quota, advancement, allocation))
    _weighted, problem = weighted_stages(stage.contest)
    return StageResult(stage, nxt, groups, version, problem)


def reached_stages(contest: Contest) -> dict[int, frozenset[str]]:
    """For every entry, the codes of the stages it reached (took part in)."""
    part = taking_part(contest.id)
    reached: dict[int, set[str]] = defaultdict(set)
    for entry_id, code in db.session.execute(
        sa.select(part.c.entry_id, Stage.code).join(Stage, Stage.id == part.c.stage_id)
    ):
        reached[entry_id].add(code)
    return {entry_id: frozenset(codes) for entry_id, codes in reached.items()}


def special_award_rows(contest: Contest) -> list[SpecialAwardRow]:
    """Every special award the contest's rules grant now."""
    specials = [
        SpecialInput(s.id, s.name, s.rule, s.prize)
        for s in db.session.scalars(
            sa.select(SpecialAward).where(SpecialAward.contest_id == contest.id)
        )
    ]
    if not specials:
        return []
    reached = reached_stages(contest)
    entries = [
        SpecialEntry(entry_id, is_student, reached.get(entry_id, frozenset()), group_code)
        for entry_id, is_student, group_code in db.session.execute(
            sa.select(Entry.id, Entry.is_student_team, Group.code)
            .join(Group, Group.id == Entry.group_id)
            .where(Entry.contest_id == contest.id, Entry.status == EntryStatus.REGISTERED)
        )
    ]
    return apply_special_awards(entries, specials)


@dataclass
class AwardsResult:
    """The contest's awards now: tier awards of the awarding stages, special awards, money."""

    stages: list[StageResult]
    specials: list[SpecialAwardRow]
    totals: PrizeTotals
    entries: dict[int, Entry]


def awards_result(contest: Contest) -> AwardsResult:
    """Tier awards of every stage that has tiers, special awards, and prize totals."""
    stages = [r for r in (stage_result(s) for s in contest.stages) if r.has_tiers]
    specials = special_award_rows(contest)
    allocations = [g.tiers for r in stages for g in r.groups if g.tiers is not None]
    totals = prize_totals(prize_rows(allocations, specials))
    ids = {a.entry_id for al in allocations for a in al.awards} | {s.entry_id for s in specials}
    entries = (
        {e.id: e for e in db.session.scalars(sa.select(Entry).where(Entry.id.in_(ids)))}
        if ids
        else {}
    )
    return AwardsResult(stages, specials, totals, entries)


def rules_of(result: StageResult, specials: list[SpecialAwardRow] | None = None) -> dict:
    """The rules and parameters a stage's results were computed with, for a snapshot."""
    stage = result.stage
    weights = result.groups[0].standings.weights if result.groups else ()
    rules = {
        "stage": stage.code,
        "rule": str(stage.rule),
        "trim": stage.trim,
        "min_sheets_to_trim": stage.min_sheets_to_trim,
        "threshold": stage.advance_threshold,
        "quotas": {g.group.code: g.quota for g in result.groups},
        "tiers": {
            g.group.code: [
                {"name": f.name, "quota": f.quota} for f in (g.tiers.tiers if g.tiers else ())
            ]
            for g in result.groups
        },
    }
    if weights:
        rules["weights"] = {code: weight for code, _name, weight in weights}
    if specials is not None:
        rules["special_awards"] = sorted({s.name for s in specials})
    return rules


def live_payload(result: StageResult, *, with_specials: bool) -> dict:
    """The snapshot payload the stage's results would freeze now."""
    specials = special_award_rows(result.stage.contest) if with_specials else []
    return snapshot_payload(
        rules=rules_of(result, specials if with_specials else None),
        standings={g.group.code: g.standings.rows for g in result.groups},
        advancement={g.group.code: g.advancement for g in result.groups if g.advancement},
        tiers={g.group.code: g.tiers for g in result.groups if g.tiers},
        specials=specials,
        parts={
            entry_id: [
                {"stage": p.code, "weight": p.weight, "score": p.score, "part": p.value}
                for p in entry_parts
            ]
            for g in result.groups
            for entry_id, entry_parts in g.standings.parts.items()
        },
    )


def latest_snapshot(stage: Stage) -> ResultSnapshot | None:
    """The stage's most recent frozen results, or None."""
    return db.session.scalar(
        sa.select(ResultSnapshot)
        .where(ResultSnapshot.stage_id == stage.id)
        .order_by(ResultSnapshot.id.desc())
        .limit(1)
    )


def snapshot_difference(result: StageResult):
    """(latest snapshot, its difference from the live results) or (None, None)."""
    snapshot = latest_snapshot(result.stage)
    if snapshot is None:
        return None, None
    # Compared like with like: special awards are frozen with awards only.
    live = live_payload(result, with_specials="special_awards" in (snapshot.rules or {}))
    return snapshot, diff_snapshots(snapshot.payload, live)
