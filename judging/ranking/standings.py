"""The app's ranking entry points: the fast path, behind the shapes the app uses.

What the standings are is written in the rule book, ``judging.ranking.rules``; these are
the fast ways to compute them, checked equal to it by
``tests/ranking/test_fast_matches_rules.py``:

- ``rank``: a group's standings from sheets of points (``EntryInput``);
- ``rank_totals``: the same from sheet totals, with the criterion sums asked only for
  the entries that reach step (b) of the tie-break (the database's way);
- ``rank_combined`` and ``separate``: Rule 3's ranking on combined scores, from a
  stage's standings (the combined scores themselves come from ``rules.combine_stages``).

All three hand the work to ``judging.ranking.fast`` or do it on ``Standing`` tuples;
``gc_paused`` keeps the cyclic collector out of building a large group's tuples.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from operator import attrgetter

import numpy as np

from judging.ranking.fast import CriterionSums, rank_arrays
from judging.ranking.models import (
    ZERO,
    EntryInput,
    RuleParams,
    Standing,
    TieBreakStep,
)
from judging.ranking.rules import combine_stages

__all__ = [
    "CriterionSums",
    "combine_stages",
    "gc_paused",
    "rank",
    "rank_combined",
    "rank_totals",
    "separate",
]

_CODE = attrgetter("code", "entry_id")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic tuples.

    Ranking 100,000 entries makes a few hundred thousand tuples (standings, tie-break
    steps, sheet tuples); the collector would walk the whole heap again and again for
    cycles that are never made here. Nested use leaves the collector as the outermost
    found it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # What was made meanwhile goes straight to the oldest generation: re-enabled
        # alone, the collector would first walk every one of those objects though they
        # are kept (cached standings) or freed by their reference counts anyway. Cycles
        # among them are still found by the next full collection.
        gc.freeze()
        gc.enable()
        gc.unfreeze()


def _cents(total: Decimal, code: str) -> int:
    """Points as a whole number of hundredths of a point (exact)."""
    scaled = total.scaleb(2)
    whole = scaled.to_integral_value()
    if scaled != whole:
        raise ValueError(f"entry {code}: a sheet total {total} has more than 2 decimals")
    return int(whole)


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
    then the unranked ones (no sheets) by code; every standing has every criterion mean
    and the judge-normalised score.
    """
    if criteria_count is not None and criteria_count < 1:
        raise ValueError("a rubric needs at least one criterion")
    # In code order, so the rubric's width is inferred from, and a malformed entry is
    # reported as, the same entry whatever order the entries came in.
    entries = sorted(entries, key=_CODE)
    width = criteria_count
    rows, totals, judges, sums = [], [], [], []
    for index, entry in enumerate(entries):
        points = [sheet.points for sheet in entry.sheets]
        if not points:
            sums.append(None)
            continue
        try:
            # strict: every sheet of the entry has as many points as the first.
            columns = list(zip(*points, strict=True))
        except ValueError:
            raise ValueError(
                f"entry {entry.code}: its sheets carry different numbers of criterion points"
            ) from None
        if len(columns) != width:
            if width is not None or not columns:
                raise ValueError(
                    f"entry {entry.code}: its sheets carry {len(columns)} criterion "
                    f"points, expected {width if width is not None else 'at least one'}"
                )
            width = len(columns)
        for sheet in entry.sheets:
            rows.append(index)
            totals.append(_cents(sum(sheet.points, ZERO), entry.code))
            judges.append(sheet.judge_id)
        sums.append([_cents(sum(column, ZERO), entry.code) for column in columns])
    width = width or 0
    known = np.zeros((len(entries), width), dtype=np.int64)
    for index, entry_sums in enumerate(sums):
        if entry_sums is not None:
            known[index] = entry_sums
    return rank_arrays(
        [e.entry_id for e in entries],
        [e.code for e in entries],
        np.asarray(rows, dtype=np.int64),
        np.asarray(totals, dtype=np.int64),
        np.asarray(judges, dtype=np.int64),
        params,
        width=width,
        known=known,
        previous={e.entry_id: e.previous_score for e in entries},
        zscores=True,
    )


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
    sums of the first criteria's points over those sheets, in hundredths, already at hand
    (the same number for every entry with sheets: often the first criterion's, or none);
    ``previous`` the previous stage's scores (step c). Other criterion sums are asked
    from ``criterion_sums`` only for the entries that reach step b of the tie-break, one
    criterion at a time; a standing carries the means that were known or needed
    (``criterion_means`` may be shorter than the rubric, or empty).
    With ``zscores=False`` (and a rule other than ``zscore``) the judge-normalised score
    is not computed (``zscore`` None).
    """
    ids, codes, rows, totals, judges, known = [], [], [], [], [], []
    for index, (entry_id, code, sheets, sums) in enumerate(entries):
        ids.append(entry_id)
        codes.append(code)
        had = len(rows)
        for total, judge_id in sheets:
            rows.append(index)
            totals.append(total)
            judges.append(judge_id)
        known.append(tuple(sums) if len(rows) > had else None)
    depth = min((len(k) for k in known if k is not None), default=0)
    first = np.zeros((len(ids), depth), dtype=np.int64)
    for index, sums in enumerate(known):
        if sums is not None and depth:
            first[index] = sums[:depth]
    return rank_arrays(
        ids,
        codes,
        np.asarray(rows, dtype=np.int64),
        np.asarray(totals, dtype=np.int64),
        np.asarray(judges, dtype=np.int64),
        params,
        width=criteria_count,
        known=first,
        criterion_sums=criterion_sums,
        previous=previous or {},
        zscores=zscores,
    )


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
