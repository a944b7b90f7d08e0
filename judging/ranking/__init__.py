"""The contest's ranking rules as pure code: plain sheets in, standings out (no Flask, no DB).

- ``judging.ranking.rules``: the rule book. Rules 1–6 of SPEC.md written plainly (exact
  fractions, lists, dataclasses), each function quoting the rule it implements: how a
  sheet is totalled, a stage score aggregated and rounded, a tie broken, stage weights
  combined, who advances and who wins an award. Read it to know how anything is decided.
- ``judging.ranking.fast``: the same standings from integer arrays (numpy), fast enough
  for 100,000 entries; proven equal to the rule book by property tests. The app's
  standings (``judging.standings.groups``) hand it the arrays they read;
  ``judging.ranking.standings`` wraps it for sheets of points (``rank``) or sheet totals
  (``rank_totals``) and ranks on stage weights (``rank_combined``).
- ``judging.ranking.models``: the shapes both use (``Standing``, ``TieBreakStep``, …).
"""

from judging.ranking.models import (
    CENT,
    EXACT,
    RULES,
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
    "EntryInput",
    "RuleParams",
    "SheetInput",
    "Standing",
    "TieBreakStep",
    "combine_stages",
    "rank",
    "round_score",
]
