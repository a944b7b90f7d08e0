"""Rules 3 and 4: one group's standings, tie-breaks, and stage weights.

Standings (``rank``): every entry's official score by the stage's rule (see
``judging.ranking.aggregation``), sorted by score, highest first. Entries with the same
*rounded* score are told apart, comparing exact values, by

  a. the mean of all submitted sheets' totals, nothing dropped (higher wins);
  b. the mean points of the first criterion over all submitted sheets, then of the
     second, and so on in rubric order (higher wins);
  c. the previous stage's score (higher wins; no score loses to any score).

Entries still equal share the rank (competition ranking: 1, 2, 2, 4) and are flagged
``tied`` for the jury. Every entry that shares its rounded score with others records,
against its neighbours above and below, the step that separated them (or
``unresolved``). Entries with no sheets have no score and no rank and come last. Fully
tied entries are listed by code.

Stage weights (``combine_stages``): stage scores do not carry over unless the organizer
sets weights (e.g. 复赛 0.3 + 决赛 0.7); then the combined score is the weighted sum of
the official stage scores, rounded half-up to 2 decimals.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, localcontext
from itertools import repeat
from math import lcm
from operator import attrgetter, itemgetter

from judging.ranking.aggregation import zscore_exact
from judging.ranking.models import (
    CENT,
    EXACT,
    HALF_UP,
    ZERO,
    EntryInput,
    RuleParams,
    Standing,
    TieBreakStep,
    round_score,
)

__all__ = [
    "CriterionSums",
    "combine_stages",
    "gc_paused",
    "rank",
    "rank_combined",
    "rank_totals",
    "separate",
]

#: Gives, for the entry ids asked, each entry's sum of the points of the criterion at the
#: given rubric index (0-based) over the same sheets that were ranked, in hundredths of a
#: point (an int; tie-break step b compares its mean, the sum over the sheet count).
#: Asked only for entries whose rounded score, mean of all sheets and means of the
#: earlier criteria all equal a neighbour's.
CriterionSums = Callable[[Sequence[int], int], Mapping[int, int]]

_CODE = attrgetter("code", "entry_id")
_ZEROS = repeat(ZERO)  # the start value for map(sum, ...): sums stay Decimal
_HAS_NO_PREVIOUS = (0,)  # sorts below (1, score) in the descending sort

# A working row per scored entry. Sums are exact integers in hundredths of a point
# ("cents"): points carry at most 2 decimals, so every total is a whole number of them.
(
    _SCORE,  # the official score rounded half-up, in cents (int)
    _MEAN_KEY,  # the mean of all totals scaled by a common multiple of the counts (int)
    _CRITERIA,  # criterion sums in cents (int tuple), as far as step b needed them
    _PREVIOUS,  # (0,) or (1, previous score)
    _ID,
    _CODE_AT,
    _CENTS,  # totals in cents, ascending by (total, judge id)
    _JUDGES,  # their judges
    _CUT,  # how many totals the rule dropped at each end
    _NUM,  # the exact official score is _NUM / _DEN cents
    _DEN,
    _SUM,  # the sum of all totals, in cents
    _PREV_SCORE,
    _SCALE,  # common multiple / count: a sum times it compares means exactly
    _FIRST_KEY,  # the first criterion's mean key when every row knows it, else 0
) = range(15)
_PRIMARY = itemgetter(_SCORE, _MEAN_KEY, _FIRST_KEY)
_BY_CODE = itemgetter(_CODE_AT, _ID)
_CRITERION_STEPS = tuple(f"criterion:{index}" for index in range(32))
_new_standing = tuple.__new__
_new_step = tuple.__new__


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic tuples.

    Ranking 100,000 entries allocates about a million tuples; the collector would walk
    the whole (input-heavy) heap again and again for cycles that are never made here.
    Nested use leaves the collector as the outermost found it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # What was made meanwhile goes straight to the oldest generation: re-enabled
        # alone, the collector would first walk every one of those objects (about 0.2 s
        # for a 100,000-entry stage) though they are kept (cached standings) or freed
        # by their reference counts anyway. Cycles among them are still found by the
        # next full collection.
        gc.freeze()
        gc.enable()
        gc.unfreeze()


def _cents(total: Decimal, code: str) -> int:
    """A sheet total as a whole number of hundredths of a point (exact)."""
    scaled = total.scaleb(2)
    whole = scaled.to_integral_value()
    if scaled != whole:
        raise ValueError(f"entry {code}: a sheet total {total} has more than 2 decimals")
    return int(whole)


def _decimal_cents(cents: int) -> Decimal:
    """Cents back to points: 8513 → Decimal('85.13')."""
    return Decimal(cents).scaleb(-2)


def rank(
    entries: Iterable[EntryInput],
    params: RuleParams = RuleParams(),
    *,
    criteria_count: int | None = None,
) -> list[Standing]:
    """Rank one group's entries by the rule in ``params``, breaking ties as Rule 4 says.

    Every sheet must carry ``criteria_count`` points (at least one; inferred from the
    first sheet when None), each with at most 2 decimals; otherwise ValueError. The result
    lists the ranked entries in rank order (entries tied through every step by code),
    then the unranked ones (no sheets) by code.
    """
    if criteria_count is not None and criteria_count < 1:
        raise ValueError("a rubric needs at least one criterion")
    # In code order, so the rubric's width is inferred from, and a malformed entry is
    # reported as, the same entry whatever order the entries came in (``_rank`` orders
    # its rows itself).
    entries = sorted(entries, key=_CODE)
    width = criteria_count
    items = []
    previous = {}
    with localcontext(EXACT), gc_paused():
        for entry in entries:
            sheets = entry.sheets
            if not sheets:
                items.append((entry.entry_id, entry.code, (), ()))
                previous[entry.entry_id] = entry.previous_score
                continue
            points = [sheet.points for sheet in sheets]
            try:
                # strict: every sheet of the entry has as many points as the first.
                column_sums = list(map(sum, zip(*points, strict=True), _ZEROS))
            except ValueError:
                raise ValueError(
                    f"entry {entry.code}: its sheets carry different numbers of criterion points"
                ) from None
            if len(column_sums) != width:
                if width is not None or not column_sums:
                    raise ValueError(
                        f"entry {entry.code}: its sheets carry {len(column_sums)} criterion "
                        f"points, expected {width if width is not None else 'at least one'}"
                    )
                width = len(column_sums)
            pairs = [
                (_cents(sum(sheet.points, ZERO), entry.code), sheet.judge_id) for sheet in sheets
            ]
            sums = tuple(_cents(column, entry.code) for column in column_sums)
            items.append((entry.entry_id, entry.code, pairs, sums))
            previous[entry.entry_id] = entry.previous_score
        return _rank(items, previous, params, width or 0, None, zscores=True)


def rank_totals(
    entries: Iterable[tuple[int, str, Iterable[tuple[int, int]], tuple[int, ...]]],
    params: RuleParams = RuleParams(),
    *,
    criteria_count: int,
    criterion_sums: CriterionSums,
    previous: Mapping[int, Decimal] | None = None,
    zscores: bool = True,
) -> list[Standing]:
    """``rank`` for sheets known by their totals: the same rules and the same result.

    ``entries`` are (entry id, code, sheets, known) with each sheet a (total in hundredths
    of a point, judge id) pair, in any order (any iterable, read once), and ``known`` the
    sums of the first criteria's points over those sheets, in hundredths, that are
    already at hand (often the first criterion's, or none: ``()``); ``previous`` the
    previous stage's scores (step c). Other criterion sums are asked from
    ``criterion_sums`` only for the entries that reach step b of the tie-break, one
    criterion at a time; a standing carries the means that were known or needed
    (``criterion_means`` may be shorter than the rubric, or empty).
    With ``zscores=False`` (and a rule other than ``zscore``) the judge-normalised score
    is not computed (``zscore`` None): it costs more than the ranking itself at scale.
    """
    with localcontext(EXACT), gc_paused():
        return _rank(
            entries, previous or {}, params, criteria_count, criterion_sums, zscores=zscores
        )


def _rank(
    items: Iterable,
    previous: Mapping[int, Decimal | None],
    params: RuleParams,
    width: int,
    sums_of: CriterionSums | None,
    *,
    zscores: bool,
):
    # The hot path, sized for 100,000 entries x 5 sheets: integer sums, one sort on
    # integer keys, Decimal only for the values the standings show.
    rows, unscored, first_known = _score_rows(items, previous, params)
    # In code order first, so the stable sorts below leave entries tied at every step by
    # code (and nothing depends on the order the entries came in).
    rows.sort(key=_BY_CODE)
    unscored.sort(key=itemgetter(1, 0))
    z_of = {}
    if rows and (zscores or params.rule == "zscore"):
        totals = [list(map(_decimal_cents, row[_CENTS])) for row in rows]
        exact = zscore_exact([row[_JUDGES] for row in rows], totals)
        z_of = dict(zip((row[_ID] for row in rows), exact, strict=True))
        if params.rule == "zscore":
            for row in rows:
                z = z_of[row[_ID]]
                row[_SCORE] = int(HALF_UP.quantize(z, CENT).scaleb(2))
    rows.sort(key=_PRIMARY, reverse=True)  # stable: equal rows stay in code order
    _order_ties(rows, width, sums_of, 1 if first_known else 0)

    quantize = HALF_UP.quantize
    zscore_official = params.rule == "zscore"
    # Values repeat a lot (a few thousand distinct totals, scores and means among
    # 100,000 entries): each Decimal is made once.
    points = _Memo(_decimal_cents)
    point = points.__getitem__
    fraction = _Memo(lambda pair: Decimal(pair[0]).scaleb(-2) / pair[1])
    standings = []
    append = standings.append
    get_z = z_of.get
    last = len(rows) - 1
    from_above = None  # how this row compares with the one above, when they share a score
    rank_here = 0
    for position, row in enumerate(rows):
        score_cents, mean_key, criteria, _, entry_id, code, cents, judges, cut, num, den, total = (
            row[:_PREV_SCORE]
        )
        n = len(cents)
        score = point(score_cents)
        mean_all = fraction[total, n]
        means = tuple([fraction[s, n] for s in criteria])
        if from_above is None:
            rank_here = position + 1
            tied = False
            steps = ()
        else:
            tied = from_above[-1] == "tied"
            if not tied:
                rank_here = position + 1
            steps = (from_above,)
            from_above = None
        if position < last and rows[position + 1][_SCORE] == score_cents:
            below = rows[position + 1]
            # The two usual outcomes first (what _separate would find, decided faster).
            if below[_MEAN_KEY] != mean_key:
                step, mine = "all_sheets_mean", mean_all
                theirs = fraction[below[_SUM], len(below[_CENTS])]
            elif below[_FIRST_KEY] != row[_FIRST_KEY]:  # both know the first criterion
                step, mine = "criterion:0", means[0]
                theirs = fraction[below[_CRITERIA][0], len(below[_CENTS])]
            else:
                step, mine, theirs = _separate(row, below, fraction)
            if step == "unresolved":
                tied = True
                outcome = lower_outcome = "tied"
            else:
                outcome, lower_outcome = "ahead", "behind"
            steps += (
                _new_step(
                    TieBreakStep, (step, below[_ID], below[_CODE_AT], score, mine, theirs, outcome)
                ),
            )
            from_above = _new_step(
                TieBreakStep, (step, entry_id, code, score, theirs, mine, lower_outcome)
            )
        if z_of:
            z = get_z(entry_id)
            exact = z if zscore_official else fraction[num, den]
            z = None if z is None else quantize(z, CENT)
        else:
            exact, z = fraction[num, den], None
        append(
            _new_standing(
                Standing,
                (
                    entry_id,
                    code,
                    rank_here,
                    score,
                    exact,
                    judges,
                    tuple(map(point, cents)),
                    cut,
                    mean_all,
                    means,
                    z,
                    row[_PREV_SCORE],
                    steps,
                    tied,
                ),
            )
        )
    for entry_id, code, _, previous, _ in unscored:
        append(
            Standing(
                entry_id, code, None, None, None, (), (), 0, None, (), None, previous, (), False
            )
        )
    return standings


class _Memo(dict):
    """A dict that makes a missing value with ``make(key)`` and keeps it."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value


def _score_rows(
    items: Iterable, previous_scores: Mapping[int, Decimal | None], params: RuleParams
) -> tuple[list, list, bool]:
    """The working rows of the scored entries (score and step-a key set), the others, and
    whether every scored row knows its first criterion's sum (then it is in the key)."""
    rows = []
    append = rows.append
    unscored = []
    median = params.rule == "median"
    cut_for = _Memo(params.trim_for)
    get_previous = previous_scores.get
    for entry_id, code, sheets, sums in items:
        # (total, judge id): the order that decides which of equal totals is dropped.
        ordered = sorted(sheets)
        previous = get_previous(entry_id)
        if not ordered:
            unscored.append((entry_id, code, (), previous, None))
            continue
        cents, judges = zip(*ordered, strict=True)
        n = len(cents)
        total = sum(cents)
        if median:
            half = n // 2
            if n % 2:
                num, den, cut = cents[half], 1, half
            else:
                num, den, cut = cents[half - 1] + cents[half], 2, half - 1
        else:
            cut = cut_for[n]
            if cut:
                num, den = sum(cents[cut : n - cut]), n - 2 * cut
            else:
                num, den = total, n
        append(
            [
                (2 * num + den) // (2 * den),  # num/den rounded half-up (never negative)
                0,  # the mean key, set below
                sums or (),
                _HAS_NO_PREVIOUS if previous is None else (1, previous),
                entry_id,
                code,
                cents,
                judges,
                cut,
                num,
                den,
                total,
                previous,
                n,  # replaced by the scale below
                0,  # the first criterion's key, set below when every row knows it
            ]
        )
    # Means compared exactly as integers: sum × (L / n), L a common multiple of every
    # count (usually all entries have the same count and L = n).
    counts = {row[_SCALE] for row in rows}
    common = lcm(*counts) if rows else 1
    for row in rows:
        scale = row[_SCALE] = common // row[_SCALE]
        row[_MEAN_KEY] = row[_SUM] * scale
    # Step b's first criterion joins the sort key when every row knows it.
    first_known = bool(rows) and all(row[_CRITERIA] for row in rows)
    if first_known:
        for row in rows:
            row[_FIRST_KEY] = row[_CRITERIA][0] * row[_SCALE]
    return rows, unscored, first_known


def _runs(rows: list, start: int, stop: int, key) -> list[tuple[int, int]]:
    """The [a, b) stretches of at least two adjacent rows with equal key in rows[start:stop]."""
    runs = []
    keys = list(map(key, rows[start:stop]))
    a = 0
    previous = keys[0] if keys else None
    for i, current in enumerate(keys):
        if current != previous:
            if i - a > 1:
                runs.append((start + a, start + i))
            a = i
            previous = current
    if len(keys) - a > 1:
        runs.append((start + a, start + len(keys)))
    return runs


def _criterion_key(level: int):
    """The sort key of a row by its mean points of the criterion at ``level`` (exact: the
    sum scaled to the common multiple of the sheet counts)."""

    def key(row: list) -> int:
        return row[_CRITERIA][level] * row[_SCALE]

    return key


def _order_ties(rows: list, width: int, sums_of: CriterionSums | None, start: int) -> None:
    """Order each run of rows equal in score and step a by steps b and c, in place.

    Rows come sorted by score, step a and, from ``start`` 1, the first criterion (every
    row knew it). Step b compares criterion means one criterion at a time, and asks
    ``sums_of`` for the next criterion only for the rows still equal.
    """
    runs = _runs(rows, 0, len(rows), _PRIMARY)
    for level in range(start, width):
        if not runs:
            return
        missing = [row for a, b in runs for row in rows[a:b] if len(row[_CRITERIA]) <= level]
        if missing:
            if sums_of is None:
                raise ValueError("criterion sums are needed to break a tie but none were given")
            found = sums_of([row[_ID] for row in missing], level)
            for row in missing:
                row[_CRITERIA] += (found[row[_ID]],)
        key = _criterion_key(level)
        deeper = []
        for a, b in runs:
            rows[a:b] = sorted(rows[a:b], key=key, reverse=True)
            deeper += _runs(rows, a, b, key)
        runs = deeper
    for a, b in runs:
        rows[a:b] = sorted(rows[a:b], key=itemgetter(_PREVIOUS), reverse=True)


def _separate(
    upper: list, lower: list, fraction: _Memo
) -> tuple[str, Decimal | None, Decimal | None]:
    """The first tie-break step at which two rows of equal rounded score differ.

    ``fraction[cents, n]`` is the exact value of cents / n hundredths of a point.
    """
    if upper[_MEAN_KEY] != lower[_MEAN_KEY]:
        return (
            "all_sheets_mean",
            fraction[upper[_SUM], len(upper[_CENTS])],
            fraction[lower[_SUM], len(lower[_CENTS])],
        )
    # Rows equal through criterion i were both asked criterion i + 1: the shorter tuple
    # of two neighbours is never a strict prefix of a longer one with all means equal.
    scale_upper, scale_lower = upper[_SCALE], lower[_SCALE]
    for index, (a, b) in enumerate(zip(upper[_CRITERIA], lower[_CRITERIA], strict=False)):
        if a * scale_upper != b * scale_lower:
            return (
                _CRITERION_STEPS[index] if index < len(_CRITERION_STEPS) else f"criterion:{index}",
                fraction[a, len(upper[_CENTS])],
                fraction[b, len(lower[_CENTS])],
            )
    a, b = upper[_PREV_SCORE], lower[_PREV_SCORE]
    if a != b:
        return "previous_stage", a, b
    return "unresolved", a, b


def rank_combined(
    rows: Sequence[Standing], combined: Mapping[int, Decimal | None]
) -> list[Standing]:
    """Rule 3: rank one group on the combined score of the weighted stages.

    ``rows`` are the current stage's standings in rank order (``rank``); ``combined`` the
    combined score of each entry (``combine_stages``: None when a weighted stage's score
    is missing). Higher combined scores rank first; equal combined scores go to the
    current stage's score, then to Rule 4's chain within the current stage, which is the
    order of ``rows`` (so the two entries' tie-break step is the first at which their
    current-stage values differ). Entries equal through all of it share the rank and are
    flagged. Entries without a combined score are not ranked on it: no rank, no score,
    listed last in their current-stage order. Each standing's ``score`` and ``exact`` are
    the combined score; the other fields describe the current stage.
    """
    order = {row.entry_id: index for index, row in enumerate(rows)}
    scored = [row for row in rows if combined.get(row.entry_id) is not None]
    scored.sort(key=lambda row: (-combined[row.entry_id], order[row.entry_id]))
    result = []
    rank_here = 0
    for index, row in enumerate(scored):
        score = combined[row.entry_id]
        steps = []
        tied = False
        above = scored[index - 1] if index else None
        below = scored[index + 1] if index + 1 < len(scored) else None
        for other in (above, below):
            if other is None or combined[other.entry_id] != score:
                continue
            step, mine, theirs = separate(row, other)
            if step == "unresolved":
                outcome = "tied"
                tied = True
            else:
                outcome = "ahead" if order[row.entry_id] < order[other.entry_id] else "behind"
            steps.append(
                TieBreakStep(step, other.entry_id, other.code, score, mine, theirs, outcome)
            )
        shares = steps and above is not None and steps[0].other_entry_id == above.entry_id
        if not (shares and steps[0].outcome == "tied"):
            rank_here = index + 1
        result.append(
            row._replace(rank=rank_here, score=score, exact=score, tiebreak=tuple(steps), tied=tied)
        )
    result.extend(
        row._replace(rank=None, score=None, exact=None, tiebreak=(), tied=False)
        for row in rows
        if combined.get(row.entry_id) is None
    )
    return result


def separate(upper: Standing, lower: Standing) -> tuple[str, Decimal | None, Decimal | None]:
    """The first step at which two entries' current-stage values differ: the stage's score,
    then Rule 4's (a) mean of all sheets, (b) criterion means, (c) previous stage's score.

    Entries of equal stage score and mean of all sheets were ranked against each other
    by ``rank``, which read their criterion means as far as it needed to tell them apart.
    """
    if upper.score != lower.score:
        return "stage_score", upper.score, lower.score
    if upper.mean_all != lower.mean_all:
        return "all_sheets_mean", upper.mean_all, lower.mean_all
    for index, (a, b) in enumerate(zip(upper.criterion_means, lower.criterion_means, strict=False)):
        if a != b:
            return f"criterion:{index}", a, b
    if upper.previous_score != lower.previous_score:
        return "previous_stage", upper.previous_score, lower.previous_score
    return "unresolved", upper.previous_score, lower.previous_score


def combine_stages(
    scores_by_stage: Mapping[str, Mapping[int, Decimal | None]],
    weights: Mapping[str, Decimal],
) -> dict[int, Decimal | None]:
    """Weighted sum of each entry's official stage scores, rounded half-up to 2 decimals.

    ``weights`` names every stage that counts and must sum to exactly 1; each of those
    stages must appear in ``scores_by_stage`` and no other stage may. An entry missing
    a score in any weighted stage (absent or None) gets None: it cannot be compared
    fairly with entries that have every stage.
    """
    if any(isinstance(w, float) for w in weights.values()):
        raise TypeError("stage weights must be Decimal (or str), not float")
    weights = {stage: Decimal(w) for stage, w in weights.items()}
    if any(w < 0 for w in weights.values()):
        raise ValueError("stage weights must not be negative")
    if sum(weights.values(), ZERO) != 1:
        raise ValueError(
            f"stage weights must sum to 1, got {sum(weights.values(), ZERO)} "
            f"({', '.join(f'{s}={w}' for s, w in weights.items())})"
        )
    missing = set(weights) - set(scores_by_stage)
    unweighted = set(scores_by_stage) - set(weights)
    if missing or unweighted:
        raise ValueError(
            f"stages without scores: {sorted(missing)}; stages without a weight: "
            f"{sorted(unweighted)}"
        )
    entry_ids = {entry_id for scores in scores_by_stage.values() for entry_id in scores}
    combined: dict[int, Decimal | None] = {}
    with localcontext(EXACT):
        for entry_id in sorted(entry_ids):
            total = ZERO
            for stage, weight in weights.items():
                score = scores_by_stage[stage].get(entry_id)
                if score is None:
                    total = None
                    break
                total += weight * score
            combined[entry_id] = None if total is None else round_score(total)
    return combined
