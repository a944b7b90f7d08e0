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
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, localcontext
from functools import partial
from itertools import repeat
from operator import attrgetter, itemgetter, truediv

from judging.ranking.aggregation import kept_slice, zscore_exact
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

__all__ = ["combine_stages", "rank"]

_JUDGE = attrgetter("judge_id")
_POINTS = attrgetter("points")
_CODE = attrgetter("code", "entry_id")
_ZEROS = repeat(ZERO)  # the start value for map(sum, ...): sums stay Decimal
_HAS_NO_PREVIOUS = (0,)  # sorts below (1, score) in the descending sort

# A working row per scored entry, a list filled by ``_score_rows`` and then ``_rank``.
_ENTRY, _JUDGES, _TOTALS, _CUT, _EXACT, _MEAN_ALL, _CRITERIA, _SCORE, _PREVIOUS, _Z = range(10)
# Score, then tie-break steps a, b, c: sorted descending, higher wins every step.
_ORDER = itemgetter(_SCORE, _MEAN_ALL, _CRITERIA, _PREVIOUS)
_new_standing = partial(tuple.__new__, Standing)
_new_step = partial(tuple.__new__, TieBreakStep)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic tuples.

    Ranking 100,000 entries allocates about a million tuples; the collector would walk
    the whole (input-heavy) heap again and again for cycles that are never made here.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _separate(upper: list, lower: list) -> tuple[str, Decimal | None, Decimal | None]:
    """The first tie-break step at which two rows of equal rounded score differ."""
    a, b = upper[_MEAN_ALL], lower[_MEAN_ALL]
    if a != b:
        return "all_sheets_mean", a, b
    for index, (a, b) in enumerate(zip(upper[_CRITERIA], lower[_CRITERIA], strict=True)):
        if a != b:
            return f"criterion:{index}", a, b
    a, b = upper[_ENTRY].previous_score, lower[_ENTRY].previous_score
    if a != b:
        return "previous_stage", a, b
    return "unresolved", a, b


def rank(
    entries: Iterable[EntryInput],
    params: RuleParams = RuleParams(),
    *,
    criteria_count: int | None = None,
) -> list[Standing]:
    """Rank one group's entries by the rule in ``params``, breaking ties as Rule 4 says.

    Every sheet must carry ``criteria_count`` points (at least one; inferred from the
    first sheet when None); one that does not raises ValueError. The result lists the
    ranked entries in rank order (entries tied through every step by code), then the
    unranked ones (no sheets) by code.
    """
    if criteria_count is not None and criteria_count < 1:
        raise ValueError("a rubric needs at least one criterion")
    # In code order, so the stable sort below leaves entries tied at every step by code
    # (and nothing depends on the order the entries came in).
    entries = sorted(entries, key=_CODE)
    with localcontext(EXACT), _gc_paused():
        return _rank(entries, params, criteria_count)


def _rank(entries: list[EntryInput], params: RuleParams, width: int | None) -> list[Standing]:
    # The hot path, sized for 100,000 entries x 5 sheets x 6 criteria: C-level sums, maps
    # and one sort over plain lists and tuples, few objects per entry, three passes.
    rows, unscored = _score_rows(entries, params, width)
    zscores = zscore_exact([row[_JUDGES] for row in rows], [row[_TOTALS] for row in rows])
    quantize = HALF_UP.quantize
    zscore_official = params.rule == "zscore"
    for row, z in zip(rows, zscores, strict=True):
        if zscore_official:
            row[_EXACT] = z
        previous = row[_ENTRY].previous_score
        row += (
            quantize(row[_EXACT], CENT),
            _HAS_NO_PREVIOUS if previous is None else (1, previous),
            z,
        )
    rows.sort(key=_ORDER, reverse=True)  # stable: entries equal at every step stay by code

    standings = []
    append = standings.append
    last = len(rows) - 1
    rank_here = 0
    from_above = None  # how this row compares with the one above, when they share a score
    for position, row in enumerate(rows):
        entry, judges, totals, cut, exact, mean_all, criteria, score, _, z = row
        tied = False
        if from_above is None:
            rank_here = position + 1
            steps = ()
        else:
            if from_above[-1] == "tied":
                tied = True
            else:
                rank_here = position + 1
            steps = (from_above,)
            from_above = None
        if position < last and rows[position + 1][_SCORE] == score:
            below = rows[position + 1]
            if below[_MEAN_ALL] != mean_all:  # the usual case, inline
                step, mine, theirs = "all_sheets_mean", mean_all, below[_MEAN_ALL]
            else:
                step, mine, theirs = _separate(row, below)
            other = below[_ENTRY]
            if step == "unresolved":
                tied = True
                outcome = lower_outcome = "tied"
            else:
                outcome, lower_outcome = "ahead", "behind"
            steps += (_new_step((step, other.entry_id, other.code, score, mine, theirs, outcome)),)
            from_above = _new_step(
                (step, entry.entry_id, entry.code, score, theirs, mine, lower_outcome)
            )
        append(
            _new_standing(
                (
                    entry.entry_id,
                    entry.code,
                    rank_here,
                    score,
                    exact,
                    judges,
                    totals,
                    cut,
                    mean_all,
                    criteria,
                    quantize(z, CENT),
                    entry.previous_score,
                    steps,
                    tied,
                )
            )
        )
    for entry in unscored:
        append(
            Standing(
                entry.entry_id,
                entry.code,
                None,
                None,
                None,
                (),
                (),
                0,
                None,
                (),
                None,
                entry.previous_score,
                (),
                False,
            )
        )
    return standings


def _score_rows(entries: list[EntryInput], params: RuleParams, width: int | None):
    """Per scored entry a row [entry, judges, totals, cut, exact, mean_all, criterion means].

    ``totals`` are the sheet totals sorted by (total, judge id), ``judges`` their judges;
    the kept ones are ``totals[cut:n - cut]``. Also returns the entries with no sheets.
    """
    rows = []
    unscored = []
    for entry in entries:
        sheets = entry.sheets
        n = len(sheets)
        if not n:
            unscored.append(entry)
            continue
        points = list(map(_POINTS, sheets))
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
        # (total, judge id): the order that decides which of equal totals is dropped.
        totals, judges = zip(
            *sorted(zip(map(sum, points, _ZEROS), map(_JUDGE, sheets), strict=True)), strict=True
        )
        total_sum = sum(column_sums, ZERO)
        exact, cut = kept_slice(totals, total_sum, params)
        rows.append(
            [
                entry,
                judges,
                totals,
                cut,
                exact,
                total_sum / n,
                tuple(map(truediv, column_sums, repeat(n))),
            ]
        )
    return rows, unscored


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
