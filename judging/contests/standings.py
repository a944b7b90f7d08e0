"""Standings from the database: read a stage's submitted sheets, rank them, cache the result.

Reading: one GROUP BY query returns one row per submitted sheet with its points pivoted
into columns in rubric order, summed in SQL, so a 100,000-entry stage never moves its
3 million criterion rows into Python one by one. Only sheets of non-conflicted judges on
entries still competing count (Rule 2). Ranking is the pure engine in ``judging.ranking``.

Caching: results are kept per process, keyed by the contest's ``data_version``, which
every change that can move standings increments in its own transaction; a worker that
sees a newer version recomputes, so several workers and hosts never serve stale standings.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from judging.common.enums import EntryStatus, SheetState
from judging.contests.models import Contest, Criterion, Group, Stage
from judging.entries.models import Entry
from judging.entries.queries import taking_part
from judging.extensions import db
from judging.judges.models import Judge
from judging.judges.queries import binding_conflict_exists
from judging.ranking import EntryInput, RuleParams, SheetInput, Standing, rank
from judging.scoring.models import Score, ScoreSheet

CENT = Decimal("0.01")


@dataclass(frozen=True)
class EntryFacts:
    """What the standings show about an entry besides its score (never contact data)."""

    id: int
    code: str
    title: str
    organization: str
    is_student_team: bool


@dataclass(frozen=True)
class GroupStandings:
    """One stage's standings for one group, with what is needed to explain them."""

    stage_id: int
    group_id: int
    version: tuple[int, str]
    params: RuleParams
    criteria: tuple[str, ...]
    rows: tuple[Standing, ...]
    entries: dict[int, EntryFacts] = field(repr=False)
    judges: dict[int, str] = field(repr=False)

    def facts(self, standing: Standing) -> EntryFacts:
        """The entry behind a standing."""
        return self.entries[standing.entry_id]


def data_version(contest_id: int) -> tuple[int, str]:
    """The contest's current data version (read fresh, never from the identity map).

    With the contest's creation time, so a database rebuilt under a running worker (ids and
    versions starting again at 1) can never hit standings cached from the old one.
    """
    version, created = db.session.execute(
        sa.select(Contest.data_version, Contest.created_at).where(Contest.id == contest_id)
    ).one()
    return version, created.isoformat()


def bump_data_version(contest_id: int) -> None:
    """Mark that standings of the contest may have changed (in the caller's transaction)."""
    db.session.execute(
        sa.update(Contest)
        .where(Contest.id == contest_id)
        .values(data_version=Contest.data_version + 1)
        .execution_options(synchronize_session=False)
    )


class _Cache:
    """A small thread-safe LRU of computed standings."""

    def __init__(self, size: int = 64):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_cache = _Cache()


def clear_cache() -> None:
    """Forget every cached standing (tests; a version bump already makes old keys unused)."""
    _cache.clear()


def params_of(stage: Stage) -> RuleParams:
    """The stage's aggregation rule as engine parameters."""
    return RuleParams(
        rule=str(stage.rule), trim=stage.trim, min_sheets_to_trim=stage.min_sheets_to_trim
    )


def _rubric_ids(stage_id: int, group_id: int) -> list[tuple[int, str]]:
    return list(
        db.session.execute(
            sa.select(Criterion.id, Criterion.name)
            .where(Criterion.stage_id == stage_id, Criterion.group_id == group_id)
            .order_by(Criterion.position)
        )
    )


def _previous_stage(stage: Stage) -> Stage | None:
    earlier = [s for s in stage.contest.stages if s.position < stage.position]
    return max(earlier, key=lambda s: s.position) if earlier else None


def stage_inputs(
    stage: Stage, group: Group, criterion_ids: list[int], previous: dict[int, Decimal] | None = None
) -> tuple[list[EntryInput], dict[int, EntryFacts], set[int]]:
    """The engine's input for (stage, group): every active entry taking part, with its
    submitted sheets of non-conflicted judges, points in rubric order."""
    part = taking_part(stage.contest_id, stage.id)
    facts = {
        row.id: EntryFacts(row.id, row.code, row.title, row.organization, row.is_student_team)
        for row in db.session.execute(
            sa.select(
                Entry.id, Entry.code, Entry.title, Entry.organization, Entry.is_student_team
            ).where(
                Entry.group_id == group.id,
                Entry.status == EntryStatus.REGISTERED,
                Entry.id.in_(sa.select(part.c.entry_id)),
            )
        )
    }
    # Raw values (no Decimal processing by SQLAlchemy): converted once per distinct value below.
    pivot = [
        sa.type_coerce(
            sa.func.sum(sa.case((Score.criterion_id == cid, Score.points))), sa.types.NullType()
        )
        for cid in criterion_ids
    ]
    query = (
        sa.select(ScoreSheet.entry_id, ScoreSheet.judge_id, *pivot)
        .join(Score, Score.sheet_id == ScoreSheet.id)
        .join(Entry, Entry.id == ScoreSheet.entry_id)
        .where(
            ScoreSheet.stage_id == stage.id,
            ScoreSheet.state == SheetState.SUBMITTED,
            Entry.group_id == group.id,
            Entry.status == EntryStatus.REGISTERED,
            ~binding_conflict_exists(ScoreSheet.judge_id, ScoreSheet.entry_id),
        )
        .group_by(ScoreSheet.id, ScoreSheet.entry_id, ScoreSheet.judge_id)
        # A submitted sheet has every criterion; one that lacks some (the rubric grew
        # after it was submitted) cannot be totalled fairly and is left out.
        .having(sa.func.count(Score.id) == len(criterion_ids))
    )
    # Points repeat a lot (0.5 steps): one Decimal per distinct value keeps memory flat.
    # SQLite hands back floats for NUMERIC; every point has at most 2 decimals, so
    # quantizing to 0.01 restores the exact value.
    interned: dict[object, Decimal] = {}

    def exact(value) -> Decimal:
        d = interned.get(value)
        if d is None:
            d = interned[value] = Decimal(str(value)).quantize(CENT)
        return d

    sheets: dict[int, list[SheetInput]] = {entry_id: [] for entry_id in facts}
    judges: set[int] = set()
    for entry_id, judge_id, *points in db.session.connection().execute(query):
        bucket = sheets.get(entry_id)
        if bucket is not None:  # else not taking part in this stage (no assignment)
            bucket.append(SheetInput(judge_id, tuple(map(exact, points))))
            judges.add(judge_id)
    previous = previous or {}
    inputs = [
        EntryInput(entry_id, facts[entry_id].code, tuple(entry_sheets), previous.get(entry_id))
        for entry_id, entry_sheets in sheets.items()
    ]
    return inputs, facts, judges


def group_standings(
    stage: Stage, group: Group, *, version: tuple[int, str] | None = None
) -> GroupStandings:
    """The standings of one group in one stage (cached by the contest's data version)."""
    version = data_version(stage.contest_id) if version is None else version
    key = (stage.contest_id, version, stage.id, group.id)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    rubric = _rubric_ids(stage.id, group.id)
    criterion_ids = [cid for cid, _ in rubric]
    params = params_of(stage)
    if criterion_ids:
        inputs, facts, judge_ids = stage_inputs(stage, group, criterion_ids)
        rows = rank(inputs, params, criteria_count=len(criterion_ids))
        if any(row.tied for row in rows):
            # Step (c) of the tie-break needs the previous stage's scores: only then read them.
            previous = _previous_stage(stage)
            if previous is not None:
                before = group_standings(previous, group, version=version)
                scores = {r.entry_id: r.score for r in before.rows if r.score is not None}
                inputs, facts, judge_ids = stage_inputs(stage, group, criterion_ids, scores)
                rows = rank(inputs, params, criteria_count=len(criterion_ids))
    else:
        facts, judge_ids, rows = {}, set(), []
    judges = (
        dict(
            db.session.execute(sa.select(Judge.id, Judge.name).where(Judge.id.in_(judge_ids))).all()
        )
        if judge_ids
        else {}
    )
    result = GroupStandings(
        stage_id=stage.id,
        group_id=group.id,
        version=version,
        params=params,
        criteria=tuple(name for _, name in rubric),
        rows=tuple(rows),
        entries=facts,
        judges=judges,
    )
    _cache.put(key, result)
    return result
