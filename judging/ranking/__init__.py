"""The contest's ranking rules as pure code: plain sheets in, standings out (no Flask, no DB).

Rule 1: a sheet's total is the sum of its criterion points (``Decimal``, never float).
Rule 2: an entry's stage score aggregates its submitted, non-conflicted sheets: by
default, with 5 or more sheets drop one highest and one lowest total (去掉一个最高分和一个
最低分) and average the rest, else the plain mean; also mean, median, trimmed with k
dropped at each end, and the per-judge z-score normalised mean (an analysis beside the
official score unless it is the stage's rule). Official scores are rounded half-up to 2
decimals; comparisons use exact values (40 significant digits).
Rule 3: stage scores carry over only through explicit stage weights that sum to 1.
Rule 4: equal rounded scores are split by (a) the mean of all sheets, (b) each
criterion's mean in rubric order, (c) the previous stage's score; entries still equal
share a competition rank (1, 2, 2, 4) and are flagged for the jury.
"""

from judging.ranking.aggregation import aggregate, zscore_scores
from judging.ranking.models import (
    CENT,
    EXACT,
    RULES,
    Aggregate,
    EntryInput,
    RuleParams,
    SheetInput,
    Standing,
    TieBreakStep,
    round_score,
)
from judging.ranking.standings import combine_stages, rank

__all__ = [
    "CENT",
    "EXACT",
    "RULES",
    "Aggregate",
    "EntryInput",
    "RuleParams",
    "SheetInput",
    "Standing",
    "TieBreakStep",
    "aggregate",
    "combine_stages",
    "rank",
    "round_score",
    "zscore_scores",
]
