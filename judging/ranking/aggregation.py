"""Rule 2: how an entry's submitted sheets become its stage score.

- ``trimmed`` (the default, 去掉一个最高分和一个最低分): with at least
  ``min_sheets_to_trim`` sheets (5) and more than ``2 * trim`` of them, drop the ``trim``
  highest and the ``trim`` lowest totals (1 each) and average the rest; otherwise the
  plain mean. Among equal totals the one dropped is chosen by (total, judge id), so the
  choice never depends on the order of the sheets (and the score never depends on it).
- ``mean``: the mean of all totals.
- ``median``: the middle total, or the mean of the two middle ones for an even count;
  the totals below and above the middle count as dropped low and high.
- ``zscore``: per judge, z = (total − the judge's mean) / the judge's population
  standard deviation over every sheet that judge gave in the group (a judge with one
  sheet or no spread gives z = 0); an entry's z is the mean of its sheets' z, mapped back
  onto the points scale as ``overall mean + z × overall standard deviation`` (over all
  sheets) so it reads like a score.

Official scores are rounded half-up to 2 decimals; exact values are computed in the
40-digit ``EXACT`` context. Sums of points are exact; each sheet's z is fixed to 28
decimals before an entry's are summed, so that sum is exact too, and no result depends
on the order of the sheets or on how the judges are numbered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal, localcontext
from itertools import chain, repeat
from operator import mul, sub

from judging.ranking.models import (
    EXACT,
    ZERO,
    Aggregate,
    EntryInput,
    RuleParams,
    round_score,
)

__all__ = ["aggregate", "zscore_scores"]

_Z_PLACES = repeat(Decimal("1e-28"))  # the quantum of each sheet's z (|z| < 10^12)


def kept_slice(sorted_totals: Sequence[Decimal], total_sum: Decimal, params: RuleParams):
    """The exact score and how many totals are cut at each end, from ascending totals.

    Runs in the caller's decimal context (``EXACT`` inside this package).
    """
    n = len(sorted_totals)
    if params.rule == "median":
        half = n // 2
        if n % 2:
            return sorted_totals[half], half
        return (sorted_totals[half - 1] + sorted_totals[half]) / 2, half - 1
    k = params.trim_for(n)
    if k:
        kept_sum = total_sum - sum(sorted_totals[:k], ZERO) - sum(sorted_totals[n - k :], ZERO)
        return kept_sum / (n - 2 * k), k
    return total_sum / n, 0


def aggregate(
    totals: Sequence[Decimal],
    params: RuleParams = RuleParams(),
    *,
    judge_ids: Sequence[int] | None = None,
) -> Aggregate:
    """Aggregate one entry's sheet totals by the rule (``zscore`` gives the plain mean here).

    Equal totals are told apart by ``judge_ids`` when given, else by their position;
    the z-score needs the other entries' sheets, see ``zscore_scores``.
    """
    n = len(totals)
    if not n:
        return Aggregate(None, None, (), (), ())
    keys = range(n) if judge_ids is None else judge_ids
    if len(keys) != n:
        raise ValueError("judge_ids and totals differ in length")
    order = sorted(range(n), key=lambda i: (totals[i], keys[i], i))
    with localcontext(EXACT):
        exact, cut = kept_slice([totals[i] for i in order], sum(totals, ZERO), params)
    return Aggregate(
        exact=exact,
        score=round_score(exact),
        kept=tuple(order[cut : n - cut]),
        dropped_low=tuple(order[:cut]),
        dropped_high=tuple(order[n - cut :]),
    )


def zscore_exact(
    judge_ids: Sequence[Sequence[int]], totals: Sequence[Sequence[Decimal]]
) -> list[Decimal | None]:
    """Exact z-scores on the points scale, one per entry, from its judges and sheet totals.

    An entry with no sheets gets None. Runs in the caller's decimal context (``EXACT``).
    """
    by_judge: defaultdict[int, list[Decimal]] = defaultdict(list)
    flat = zip(chain.from_iterable(judge_ids), chain.from_iterable(totals), strict=True)
    for judge_id, total in flat:
        by_judge[judge_id].append(total)
    means: dict[int, Decimal] = {}
    inverse_sds: dict[int, Decimal] = {}
    count = 0
    grand = grand_sq = ZERO
    for judge_id, values in by_judge.items():
        n = len(values)
        s = sum(values, ZERO)
        sq = sum(map(mul, values, values), ZERO)
        count += n
        grand += s
        grand_sq += sq
        means[judge_id] = s / n
        # n² · variance = n · Σx² − (Σx)², exact. One sheet or no spread: 1/SD := 0, z = 0.
        spread = n * sq - s * s
        inverse_sds[judge_id] = n / spread.sqrt() if spread > 0 else ZERO
    if not count:
        return [None] * len(totals)
    spread = count * grand_sq - grand * grand
    overall_mean = grand / count
    overall_sd = spread.sqrt() / count if spread > 0 else ZERO
    # Each sheet's z = (total − judge mean) × (1/SD), fixed to 28 decimals so that an
    # entry's sum is exact: the result cannot depend on the order of its sheets, nor on
    # which judge is called what. C-level maps, no Python loop per sheet.
    mean_of, inverse_of = means.__getitem__, inverse_sds.__getitem__
    return [
        overall_mean
        + sum(
            map(
                Decimal.quantize,
                map(mul, map(sub, values, map(mean_of, judges)), map(inverse_of, judges)),
                _Z_PLACES,
            ),
            ZERO,
        )
        / len(values)
        * overall_sd
        if values
        else None
        for judges, values in zip(judge_ids, totals, strict=True)
    ]


def zscore_scores(entries: Iterable[EntryInput]) -> dict[int, Decimal]:
    """Judge-normalised (z-score) scores of the given entries, rounded half-up to 2 decimals.

    Entries without sheets are left out of the result.
    """
    entries = [e for e in entries if e.sheets]
    with localcontext(EXACT):
        exact = zscore_exact(
            [[s.judge_id for s in e.sheets] for e in entries],
            [[s.total for s in e.sheets] for e in entries],
        )
        return {e.entry_id: round_score(z) for e, z in zip(entries, exact, strict=True)}
