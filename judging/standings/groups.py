"""Standings from the database: read a stage's submitted sheets, rank them, cache the result.

Reading: each score sheet stores its total (``total_hundredths``, written with the points),
so one query returns every counted sheet of the stage — its entry, judge, total and first
criterion's points — as two lists of integers in one row (``stage_sheets``), which numpy
parses at once: a 100,000-entry stage's 500,000 sheets arrive as two strings, and its 3
million criterion scores never move into Python. Other criteria's points are summed only
for entries still tied after the first (tie-break step b) and, on request, for the results
page; the previous stage's standings are read only when step c is needed. Only sheets of
non-conflicted judges on entries still competing count (Rule 2). Ranking is the fast path
``judging.ranking.fast``, proven equal to the rule book ``judging.ranking.rules``.

Caching: results are kept per process, keyed by the versions they depend on
(``judging.contests.versions``): the contest's and the group's in the stage and the stages
before it. Every change that can move standings grows one of them in its own transaction;
a worker that sees a newer version recomputes, so several workers and hosts never serve
stale standings, and a sheet in one group leaves the other group's standings cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from itertools import repeat
from typing import NamedTuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from judging.common.db import plain_rows
from judging.common.enums import ConflictStatus, EntryStatus, SheetState
from judging.contests.models import Contest, Criterion, Group, Stage
from judging.contests.versions import Versions, data_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Conflict, Judge
from judging.judges.queries import binding_conflict_exists
from judging.ranking import EXACT, RuleParams, Standing, round_score
from judging.ranking.aggregation import zscore_exact
from judging.ranking.fast import PreviousScores, rank_arrays
from judging.ranking.standings import (
    combine_stages,
    gc_paused,
    rank_combined,
    separate,
)
from judging.scoring.models import Score, ScoreSheet
from judging.standings.participation import takes_part


class EntryFacts(NamedTuple):
    """What the standings show about an entry besides its score (never contact data)."""

    id: int
    code: str
    title: str
    organization: str
    is_student_team: bool


@dataclass(frozen=True)
class StagePart:
    """One weighted stage's part of an entry's combined score (Rule 3): its official score
    and weight, and their product (exact), or None parts when the stage has no score."""

    code: str
    name: str
    weight: Decimal
    score: Decimal | None
    value: Decimal | None


@dataclass(frozen=True)
class GroupStandings:
    """One stage's standings for one group, with what is needed to explain them.

    ``zscore`` and ``criterion_means`` are computed on first use (the results page shows
    them; the leaderboard, API and exports do not) and kept with the standings.
    """

    stage_id: int
    group_id: int
    version: Versions
    params: RuleParams
    criteria: tuple[str, ...]
    rows: tuple[Standing, ...]
    entries: dict[int, EntryFacts] = field(repr=False)
    judges: dict[int, str] = field(repr=False)
    criterion_ids: tuple[int, ...] = ()
    #: whether the contest had binding conflicts (the counted sheets were filtered)
    conflicts: bool = False
    #: when the stage ranks on combined scores (Rule 3): (code, name, weight) of every
    #: weighted stage, and each entry's parts; the rows' scores are then the combined ones
    weights: tuple[tuple[str, str, Decimal], ...] = ()
    parts: dict[int, tuple[StagePart, ...]] = field(default_factory=dict, repr=False)
    stage_code: str = ""
    _lazy: dict = field(default_factory=dict, repr=False, compare=False)

    def stage_score(self, standing: Standing) -> Decimal | None:
        """The entry's own official score in this stage (its score, unless combined)."""
        if not self.weights:
            return standing.score
        for part in self.parts.get(standing.entry_id, ()):
            if part.code == self.stage_code:
                return part.score
        return None

    def facts(self, standing: Standing) -> EntryFacts:
        """The entry behind a standing."""
        return self.entries[standing.entry_id]

    def separation(self, upper: Standing, lower: Standing) -> tuple:
        """How two of these standings compare at their first differing step (``separate``),
        on their own stage scores when the rows carry combined ones."""
        if self.weights:
            upper = upper._replace(score=self.stage_score(upper))
            lower = lower._replace(score=self.stage_score(lower))
        return separate(upper, lower)

    def zscore(self, standing: Standing) -> Decimal | None:
        """The entry's judge-normalised score (Rule 2's z-score), rounded half-up."""
        if standing.zscore is not None or not standing.totals:
            return standing.zscore
        if "zscores" not in self._lazy:
            self._lazy["zscores"] = zscores_of(self.rows)
        return self._lazy["zscores"].get(standing.entry_id)

    def criterion_means(self, standing: Standing) -> tuple[Decimal, ...]:
        """The entry's mean points per criterion (rubric order) over its counted sheets."""
        if len(standing.criterion_means) == len(self.criterion_ids) or not standing.totals:
            return standing.criterion_means
        if "means" not in self._lazy:
            counts = {row.entry_id: len(row.totals) for row in self.rows if row.totals}
            width = len(self.criterion_ids)
            columns = [
                criterion_sums(self.stage_id, cid, width, self.conflicts, list(counts))
                for cid in self.criterion_ids
            ]
            with localcontext(EXACT):
                self._lazy["means"] = {
                    entry_id: tuple(
                        Decimal(column[entry_id]).scaleb(-2) / count for column in columns
                    )
                    for entry_id, count in counts.items()
                }
        return self._lazy["means"].get(standing.entry_id, ())


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
#: Up to this many entries, step b's points are read by entry id; beyond, in one pass.
#: (Measured on 100,000 entries: by id costs about what one pass costs at 80,000 ids,
#: on SQLite and on PostgreSQL alike.)
_BY_ID_LIMIT = 50_000


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


def _has_binding_conflicts(contest_id: int) -> bool:
    """Whether any judge of the contest has a binding conflict (then sheets are filtered)."""
    return (
        db.session.scalar(
            sa.select(Conflict.id)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.contest_id == contest_id, Conflict.status == ConflictStatus.BINDING)
            .limit(1)
        )
        is not None
    )


#: A criterion's points as a whole number of hundredths, computed by the database (exact:
#: points have 2 decimals; SQLite's float is rounded back to the integer it stands for).
_HUNDREDTHS = sa.cast(sa.func.round(Score.points * 100), sa.Integer)
#: Per counted sheet, two integers, each listed by one aggregate of the same query (so
#: both list the same sheets in the same order): its entry and judge, entry id × 2³² +
#: judge id (ids stay below 2³¹); and its total and first criterion's points (hundredths,
#: below 2³¹ and 2²⁰: a point is at most 9999.99) with the judge id's low 12 bits, to
#: check that the two lists line up: (total × 2²⁰ + first) × 2¹² + judge id mod 2¹².
_ENTRY_JUDGE = sa.cast(ScoreSheet.entry_id, sa.BigInteger) * (1 << 32) + ScoreSheet.judge_id
_TOTAL_AND_FIRST = sa.cast(ScoreSheet.total_hundredths, sa.BigInteger) * (1 << 20) + _HUNDREDTHS
_TOTAL_FIRST = _TOTAL_AND_FIRST * (1 << 12) + ScoreSheet.judge_id % (1 << 12)


def _counted(stage_id: int, width: int, conflicts: bool) -> list[sa.ColumnElement[bool]]:
    """Conditions on ``ScoreSheet``: the sheet counts in the stage (Rule 2).

    Submitted, complete for the rubric of ``width`` criteria (a sheet that lacks some
    criterion, because the rubric grew after it was submitted, cannot be totalled
    fairly), and, when the contest has any binding conflict (``conflicts``), by a judge
    with no binding conflict with the entry. The group and the entry's status are
    applied by the callers: joining them per sheet costs more than reading the sheets.
    """
    conditions = [
        ScoreSheet.stage_id == stage_id,
        ScoreSheet.state == SheetState.SUBMITTED,
        ScoreSheet.points_count == width,
    ]
    if conflicts:
        conditions.append(~binding_conflict_exists(ScoreSheet.judge_id, ScoreSheet.entry_id))
    return conditions


def entry_facts(stage: Stage, group: Group) -> dict[int, EntryFacts]:
    """Every active entry of the group taking part in the stage, by id."""
    query = sa.select(
        Entry.id, Entry.code, Entry.title, Entry.organization, Entry.is_student_team
    ).where(
        Entry.group_id == group.id,
        Entry.status == EntryStatus.REGISTERED,
        takes_part(stage),
    )
    # In no set order: the fast path sorts by code itself (by Python's order, which the
    # database's collation need not follow); sorting here could spill to disk.
    rows = plain_rows(query)
    if not rows:
        return {}
    # Column-wise at C speed (a 100,000-entry group): tuple.__new__ makes each EntryFacts
    # from a ready tuple, without a Python-level call.
    ids, codes, titles, organizations, students = zip(*rows, strict=True)
    made = zip(ids, codes, titles, organizations, map(bool, students), strict=True)
    return dict(zip(ids, map(tuple.__new__, repeat(EntryFacts), made), strict=True))


@dataclass
class CountedSheets:
    """The sheets that count in a stage for one group's entries (see ``stage_sheets``),
    as aligned int64 arrays with one element per sheet, in no set order."""

    #: each sheet's entry, as its index in the group's entries (``entry_facts`` order)
    rows: np.ndarray
    #: each sheet's judge id
    judges: np.ndarray
    #: each sheet's total in hundredths of a point
    totals: np.ndarray
    #: per entry (``entry_facts`` order): its sheets' points of the rubric's first
    #: criterion, summed, in hundredths (a column: the known criterion sums)
    first: np.ndarray
    #: whether the contest has binding conflicts (criterion sums then apply the same filter)
    conflicts: bool
    #: rubric index → entry id → criterion sum in hundredths, as read so far for tie-breaks
    sums: dict[int, dict[int, int]] = field(default_factory=dict)


class _int64s(FunctionElement):  # noqa: N801 - used like a SQL function
    """Aggregate: a group's int64 values as one value, in no set order: on PostgreSQL
    their 8-byte big-endian forms run together (``int8send``: nothing is written out as
    text and parsed back), elsewhere a comma-separated text (SQLite ``group_concat``)."""

    type = sa.Text()
    inherit_cache = True


@compiles(_int64s)
def _int64s_default(element, compiler, **kw) -> str:
    return f"string_agg(int8send(CAST({compiler.process(element.clauses, **kw)} AS BIGINT)), '')"


@compiles(_int64s, "sqlite")
def _int64s_sqlite(element, compiler, **kw) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


def _integers(value: bytes | str | None) -> np.ndarray:
    """The values of an ``_int64s`` aggregate as an int64 array."""
    if not value:
        return np.zeros(0, dtype=np.int64)
    if isinstance(value, bytes | memoryview):
        return np.frombuffer(value, dtype=">i8").astype(np.int64)
    return np.fromstring(value, dtype=np.int64, sep=",")


def _positions_in(ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``values`` are among ``ids``, and the index in ``ids`` of each of those."""
    if not len(ids):
        return np.zeros(len(values), dtype=bool), np.zeros(0, dtype=np.int64)
    by_id = np.argsort(ids)
    at = by_id[np.minimum(np.searchsorted(ids, values, sorter=by_id), len(ids) - 1)]
    found = ids[at] == values
    return found, at[found]


def stage_sheets(
    stage: Stage, facts: Mapping[int, EntryFacts], criterion_ids: Sequence[int]
) -> CountedSheets:
    """The counted sheets (``_counted``) of the entries in ``facts``, with each sheet's
    first criterion's points (tie-break step b's first values, needed for most ties in a
    large group).

    One row, aggregated by the database: every counted sheet of the stage as two lists of
    integers (``_ENTRY_JUDGE``, ``_TOTAL_FIRST``), 500,000 sheets in two strings that
    numpy parses at once; no row per entry or per sheet moves into Python.
    """
    conflicts = _has_binding_conflicts(stage.contest_id)
    query = (
        sa.select(_int64s(_ENTRY_JUDGE), _int64s(_TOTAL_FIRST))
        .select_from(ScoreSheet)
        .join(
            Score,
            sa.and_(Score.sheet_id == ScoreSheet.id, Score.criterion_id == criterion_ids[0]),
        )
        .where(*_counted(stage.id, len(criterion_ids), conflicts))
    )
    ((entry_judge, total_first),) = plain_rows(query)
    entry_judge, total_first = _integers(entry_judge), _integers(total_first)
    judges = entry_judge & ((1 << 32) - 1)
    if len(entry_judge) != len(total_first) or np.any(
        (total_first & ((1 << 12) - 1)) != (judges & ((1 << 12) - 1))
    ):
        raise RuntimeError("the database listed a stage's sheets in two different orders")
    # Only this group's entries taking part (the sheets of the stage are read whole:
    # joining the entries per sheet costs more), as their index in ``facts``.
    ids = np.fromiter(facts, dtype=np.int64, count=len(facts))
    keep, rows = _positions_in(ids, entry_judge >> 32)
    first = (total_first[keep] >> 12) & ((1 << 20) - 1)
    # bincount adds in float64: exact, as every sum stays far below 2⁵³.
    first_sums = np.bincount(rows, weights=first, minlength=len(ids)).astype(np.int64)
    return CountedSheets(
        rows=rows,
        judges=judges[keep],
        totals=total_first[keep] >> 32,
        first=first_sums.reshape(-1, 1),
        conflicts=conflicts,
    )


def criterion_sums(
    stage_id: int,
    criterion_id: int,
    width: int,
    conflicts: bool,
    entry_ids: Sequence[int],
) -> dict[int, int]:
    """Each entry's sum of one criterion's points over its counted sheets, in hundredths
    (tie-break step b; the mean is the sum over the count of sheets).

    The same sheets as ``stage_sheets`` (``_counted``: ``width`` is the rubric's length,
    ``conflicts`` whether the contest has binding conflicts). Many entries: one pass over
    the stage; few: by id.
    """
    if not entry_ids:
        return {}
    query = (
        sa.select(ScoreSheet.entry_id, sa.func.sum(_HUNDREDTHS))
        .join(Score, Score.sheet_id == ScoreSheet.id)
        .group_by(ScoreSheet.entry_id)
    )
    conditions = [*_counted(stage_id, width, conflicts), Score.criterion_id == criterion_id]
    if len(entry_ids) <= _BY_ID_LIMIT:
        # Ids inlined as integer literals: thousands of bound parameters cost more to
        # compile than the query takes to run. One statement: PostgreSQL may plan a pass
        # over the criterion's scores for a few thousand ids, better once than per chunk.
        conditions.append(ScoreSheet.entry_id.in_(_id_list(entry_ids)))
    wanted = set(entry_ids)
    return {
        entry_id: int(total)
        for entry_id, total in plain_rows(query.where(*conditions))
        if entry_id in wanted
    }


def _id_list(ids: Sequence[int]) -> sa.TextClause:
    """A list of integers written into the SQL (ints only: nothing else can be inlined)."""
    return sa.text(",".join(str(int(i)) for i in ids))


def zscores_of(rows: Sequence[Standing]) -> dict[int, Decimal]:
    """The judge-normalised score of every ranked row, rounded half-up (Rule 2)."""
    scored = [row for row in rows if row.totals]
    with localcontext(EXACT):
        exact = zscore_exact([r.judge_ids for r in scored], [r.totals for r in scored])
        return {r.entry_id: round_score(z) for r, z in zip(scored, exact, strict=True)}


def rank_counted(
    stage: Stage,
    criterion_ids: Sequence[int],
    facts: Mapping[int, EntryFacts],
    counted: CountedSheets,
    previous: PreviousScores | None = None,
) -> list[Standing]:
    """Rank the counted sheets of one group by the stage's rule (the fast path,
    ``judging.ranking.fast``): criterion sums beyond the first are read only for the
    entries still tied, and ``previous`` (the previous stage's scores, or a function
    giving them) only when step c is needed."""
    width = len(criterion_ids)

    def sums(entry_ids: Sequence[int], index: int) -> Mapping[int, int]:
        known = counted.sums.setdefault(index, {})
        missing = [entry_id for entry_id in entry_ids if entry_id not in known]
        if missing:
            cid = criterion_ids[index]
            known.update(criterion_sums(stage.id, cid, width, counted.conflicts, missing))
        return known

    return rank_arrays(
        list(facts),
        [fact.code for fact in facts.values()],
        counted.rows,
        counted.totals,
        counted.judges,
        params_of(stage),
        width=width,
        known=counted.first,
        criterion_sums=sums,
        previous=previous,
        zscores=False,
    )


def group_standings(
    stage: Stage, group: Group, *, version: Versions | None = None
) -> GroupStandings:
    """The standings of one group in one stage, cached by the versions they depend on: the
    contest's, and the group's in this stage and the stages before it (weights, tie-breaks
    on earlier scores), so a sheet in another group or a later stage keeps them."""
    version = data_version(stage.contest_id) if version is None else version
    upto = [s.id for s in stage.contest.stages if s.position <= stage.position]
    key = (stage.contest_id, version.of_group(upto, group.id), stage.id, group.id)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    rubric = _rubric_ids(stage.id, group.id)
    criterion_ids = tuple(cid for cid, _ in rubric)
    facts: dict[int, EntryFacts] = {}
    rows: list[Standing] = []
    judges: dict[int, str] = {}
    conflicts = False
    weights: tuple = ()
    parts: dict = {}
    if criterion_ids:
        with gc_paused():  # a large stage reads and makes many acyclic tuples
            facts, counted, rows = _compute(stage, group, criterion_ids, version)
        conflicts = counted.conflicts
        rows, weights, parts = _combine(stage, group, rows, version)
        judge_ids = set(np.unique(counted.judges).tolist())
        if judge_ids:
            named = plain_rows(
                sa.select(Judge.id, Judge.name).where(Judge.contest_id == stage.contest_id)
            )
            judges = {judge_id: name for judge_id, name in named if judge_id in judge_ids}
    result = GroupStandings(
        stage_id=stage.id,
        group_id=group.id,
        version=version,
        params=params_of(stage),
        criteria=tuple(name for _, name in rubric),
        rows=tuple(rows),
        entries=facts,
        judges=judges,
        criterion_ids=criterion_ids,
        conflicts=conflicts,
        weights=weights,
        parts=parts,
        stage_code=stage.code,
    )
    _cache.put(key, result)
    return result


def weighted_stages(contest: Contest) -> tuple[list[Stage], str | None]:
    """The contest's weighted stages in order (Rule 3), and a problem in words when their
    weights do not sum to exactly 1 (then no stage ranks on combined scores)."""
    weighted = [s for s in contest.stages if s.weight is not None]
    if not weighted:
        return [], None
    total = sum((Decimal(s.weight) for s in weighted), Decimal(0))
    if total != 1:
        from flask_babel import gettext as _

        return weighted, _(
            "The stage weights sum to %(total)s, not 1: no stage ranks on combined scores "
            "until they are corrected.",
            total=total.normalize(),
        )
    return weighted, None


def _combine(
    stage: Stage, group: Group, rows: list[Standing], version: Versions
) -> tuple[list[Standing], tuple, dict]:
    """Rank on combined scores when ``stage`` is the last weighted stage (Rule 3)."""
    weighted, problem = weighted_stages(stage.contest)
    if problem or not weighted or weighted[-1].id != stage.id:
        return rows, (), {}
    scores = {}
    for other in weighted:
        if other.id == stage.id:
            scores[other.code] = {row.entry_id: row.score for row in rows}
        else:
            before = group_standings(other, group, version=version)
            scores[other.code] = {row.entry_id: before.stage_score(row) for row in before.rows}
    weights = {s.code: Decimal(s.weight) for s in weighted}
    combined = combine_stages(scores, weights)
    parts = {}
    with localcontext(EXACT):
        for row in rows:
            parts[row.entry_id] = tuple(
                StagePart(
                    s.code,
                    s.name,
                    weights[s.code],
                    scores[s.code].get(row.entry_id),
                    None
                    if scores[s.code].get(row.entry_id) is None
                    else (weights[s.code] * scores[s.code][row.entry_id]).normalize(),
                )
                for s in weighted
            )
    return (
        rank_combined(rows, combined),
        tuple((s.code, s.name, weights[s.code]) for s in weighted),
        parts,
    )


def _compute(
    stage: Stage, group: Group, criterion_ids: tuple[int, ...], version: Versions
) -> tuple[dict[int, EntryFacts], CountedSheets, list[Standing]]:
    """Read and rank one group's counted sheets (``group_standings`` without the cache)."""
    facts = entry_facts(stage, group)
    counted = stage_sheets(stage, facts, criterion_ids)

    def previous_scores() -> dict[int, Decimal]:
        # Step (c) of the tie-break needs the previous stage's scores: only then read them.
        previous = stage.previous_stage
        if previous is None:
            return {}
        before = group_standings(previous, group, version=version)
        return {r.entry_id: r.score for r in before.rows if r.score is not None}

    rows = rank_counted(stage, criterion_ids, facts, counted, previous_scores)
    return facts, counted, rows
