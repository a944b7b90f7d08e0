"""Rule 2's judge-normalised (z-score) value, computed for many entries at once.

The rule, and the exact order of its 40-digit operations, is stated in the rule book
(``judging.ranking.rules.zscores``); this is the same arithmetic over plain lists with
C-level ``map`` (no Python loop per sheet), for a stage's ranking under the ``zscore``
rule (``judging.ranking.fast``) and for the results page's analysis column.
``tests/ranking/test_fast_matches_rules.py`` checks the two give the same values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from itertools import chain, repeat
from operator import mul, sub

from judging.ranking.models import (
    ZERO,
)

__all__ = ["zscore_exact"]

_Z_PLACES = repeat(Decimal("1e-28"))  # the quantum of each sheet's z (|z| < 10^12)


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
