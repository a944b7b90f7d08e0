"""Standings from the database: read a stage's submitted sheets, rank them, cache the result.

Reading: each score sheet stores its total (``total_hundredths``, written with the points),
so one query aggregated per entry returns its sheets' totals and judges (as two lists)
and the sum of its first criterion's points: a 100,000-entry stage is 100,000 rows, and
its 3 million criterion scores never move into Python. Other criteria's points are
summed only for entries still tied after the first (tie-break step b) and, on request,
for the results page. Only sheets of non-conflicted judges on entries still competing
count (Rule 2). Ranking is the pure engine in ``judging.ranking`` (``rank_totals``), in
exact integer hundredths.

Caching: results are kept per process, keyed by the contest's ``data_version``, which
every change that can move standings increments in its own transaction; a worker that
sees a newer version recomputes, so several workers and hosts never serve stale standings.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import NamedTuple

import sqlalchemy as sa

from judging.common.db import int_list, plain_rows
from judging.common.enums import ConflictStatus, EntryStatus, SheetState
from judging.contests.models import Contest, Criterion, Group, Stage
from judging.contests.versions import data_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Conflict, Judge
from judging.judges.queries import binding_conflict_exists
from judging.ranking import EXACT, RuleParams, Standing, round_score
from judging.ranking.aggregation import zscore_exact
from judging.ranking.standings import (
    combine_stages,
    gc_paused,
    rank_combined,
    rank_totals,
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
    version: tuple[int, str]
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
_BY_ID_LIMIT = 20_000


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
#: A sheet's total (hundredths, never negative) and its judge's id in one integer:
#: total × 2³² + judge id (judge ids stay below 2³²); unpacked by the two below.
_PACKED = sa.cast(ScoreSheet.total_hundredths, sa.BigInteger) * (1 << 32) + ScoreSheet.judge_id
_TOTAL_OF = (32).__rrshift__  # packed >> 32
_JUDGE_OF = ((1 << 32) - 1).__and__  # packed & (2³² - 1)


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
    # In code order, the order the engine ranks in (its sort then finds nothing to do).
    query = query.order_by(Entry.code)
    return {
        row[0]: EntryFacts(row[0], row[1], row[2], row[3], bool(row[4]))
        for row in plain_rows(query)
    }


@dataclass
class CountedSheets:
    """The sheets that count in a stage, per entry (see ``stage_sheets``)."""

    #: entry id → its sheets as comma-separated integers (``int_list``; "" for none),
    #: each a total in hundredths of a point and a judge id packed into one (``_PACKED``)
    sheets: dict[int, str]
    #: entry id → the sum of its sheets' points of the rubric's first criterion, in hundredths
    first_criterion: dict[int, int]
    #: whether the contest has binding conflicts (criterion sums then apply the same filter)
    conflicts: bool
    #: rubric index → entry id → criterion sum in hundredths, as read so far for
    #: tie-breaks (kept for a second ranking with the previous stage's scores)
    sums: dict[int, dict[int, int]] = field(default_factory=dict)

    def pairs(self, entry_id: int) -> Iterable[tuple[int, int]]:
        """The entry's counted sheets as (total in hundredths, judge id), read as iterated."""
        text = self.sheets[entry_id]
        if not text:
            return ()
        packed = list(map(int, text.split(",")))
        return zip(map(_TOTAL_OF, packed), map(_JUDGE_OF, packed), strict=True)


def stage_sheets(
    stage: Stage, facts: Mapping[int, EntryFacts], criterion_ids: Sequence[int]
) -> CountedSheets:
    """Per entry in ``facts``: its counted sheets (``_counted``), and its first criterion's
    points (tie-break step b's first values, needed for most ties in a large group).

    One row per entry, aggregated by the database: its sheets as one list (total and
    judge packed in one integer, so nothing depends on the order the database lists
    them in), the first criterion's points summed (a 100,000-entry stage: 100,000 rows,
    not 500,000).
    """
    conflicts = _has_binding_conflicts(stage.contest_id)
    query = (
        sa.select(
            ScoreSheet.entry_id,
            int_list(_PACKED),
            sa.func.sum(_HUNDREDTHS),
        )
        .join(
            Score,
            sa.and_(Score.sheet_id == ScoreSheet.id, Score.criterion_id == criterion_ids[0]),
        )
        .where(*_counted(stage.id, len(criterion_ids), conflicts))
        .group_by(ScoreSheet.entry_id)
    )
    sheets = dict.fromkeys(facts, "")
    first = dict.fromkeys(facts, 0)
    for entry_id, packed, points in plain_rows(query):
        if entry_id in sheets:
            sheets[entry_id] = packed
            first[entry_id] = int(points)
    return CountedSheets(sheets, first, conflicts)


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
    previous: Mapping[int, Decimal] | None = None,
) -> list[Standing]:
    """Rank the counted sheets of one group by the stage's rule (``rank_totals``)."""
    width = len(criterion_ids)

    def sums(entry_ids: Sequence[int], index: int) -> Mapping[int, int]:
        known = counted.sums.setdefault(index, {})
        missing = [entry_id for entry_id in entry_ids if entry_id not in known]
        if missing:
            cid = criterion_ids[index]
            known.update(criterion_sums(stage.id, cid, width, counted.conflicts, missing))
        return known

    first, pairs = counted.first_criterion, counted.pairs
    return rank_totals(
        (
            (entry_id, facts[entry_id].code, pairs(entry_id), (first[entry_id],))
            for entry_id in facts
        ),
        params_of(stage),
        criteria_count=width,
        criterion_sums=sums,
        previous=previous,
        zscores=False,
    )


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
        judge_ids = {judge_id for row in rows for judge_id in row.judge_ids}
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
    stage: Stage, group: Group, rows: list[Standing], version: tuple[int, str]
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
    stage: Stage, group: Group, criterion_ids: tuple[int, ...], version: tuple[int, str]
) -> tuple[dict[int, EntryFacts], CountedSheets, list[Standing]]:
    """Read and rank one group's counted sheets (``group_standings`` without the cache)."""
    facts = entry_facts(stage, group)
    counted = stage_sheets(stage, facts, criterion_ids)
    rows = rank_counted(stage, criterion_ids, facts, counted)
    if any(row.tied for row in rows):
        # Step (c) of the tie-break needs the previous stage's scores: only then read them.
        previous = stage.previous_stage
        if previous is not None:
            before = group_standings(previous, group, version=version)
            scores = {r.entry_id: r.score for r in before.rows if r.score is not None}
            rows = rank_counted(stage, criterion_ids, facts, counted, scores)
    return facts, counted, rows
