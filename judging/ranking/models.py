"""Plain data in and out of the ranking engine: sheets, entries, rule parameters, standings.

Everything numeric is ``decimal.Decimal``. Official scores are rounded half-up to two
decimals (``ROUND_HALF_UP``); exact values are kept for comparisons in ``EXACT``, a
decimal context of 40 significant digits, so the sums of points are always exact and a
mean that does not terminate (``256/3``) is carried to 40 digits — far more than any two
different means of real sheets need to compare correctly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from functools import reduce
from typing import NamedTuple

__all__ = [
    "CENT",
    "EXACT",
    "HALF_UP",
    "RULES",
    "ZERO",
    "EntryInput",
    "RuleParams",
    "SheetInput",
    "Standing",
    "TieBreakStep",
    "round_score",
]

#: The context for exact work: 40 significant digits; rounding only happens in divisions
#: and square roots, and official scores are then rounded half-up with ``round_score``.
EXACT = Context(
    prec=40,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
#: The same precision, rounding half-up: official scores are quantized to ``CENT`` in it.
HALF_UP = Context(prec=40, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])
ZERO = Decimal(0)
CENT = Decimal("0.01")
#: The aggregation rules a stage can use (``AggregationRule`` values).
RULES = frozenset({"trimmed", "mean", "median", "zscore"})


def round_score(value: Decimal) -> Decimal:
    """Round a score half-up to two decimals (85.125 → 85.13), as official scores are."""
    return HALF_UP.quantize(value, CENT)


@dataclass(frozen=True, slots=True)
class SheetInput:
    """One submitted score sheet: its judge and the points in rubric order."""

    judge_id: int
    points: tuple[Decimal, ...]

    @property
    def total(self) -> Decimal:
        """The sheet's total: the sum of its criterion points (Rule 1), exact."""
        return reduce(EXACT.add, self.points, ZERO)


@dataclass(frozen=True, slots=True)
class EntryInput:
    """An entry of one group in one stage, with its submitted, non-conflicted sheets."""

    entry_id: int
    code: str
    sheets: tuple[SheetInput, ...]
    previous_score: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RuleParams:
    """How sheets become a stage score: the rule, and for ``trimmed`` how many to drop."""

    rule: str = "trimmed"
    trim: int = 1
    min_sheets_to_trim: int = 5

    def __post_init__(self) -> None:
        # Accept the AggregationRule enum (a str enum) as well as a plain string.
        rule = str(self.rule)
        if rule not in RULES:
            raise ValueError(f"unknown aggregation rule {rule!r}; expected one of {sorted(RULES)}")
        if self.trim < 0 or self.min_sheets_to_trim < 0:
            raise ValueError("trim and min_sheets_to_trim must not be negative")
        object.__setattr__(self, "rule", rule)


#: How ``TieBreakStep.describe`` names the steps that are not about one criterion.
STEP_TEXT = {
    "stage_score": "the current stage's score",
    "all_sheets_mean": "the mean of all sheets",
    "previous_stage": "the previous stage's score",
}


class TieBreakStep(NamedTuple):
    """How one entry compares with a neighbour that has the same rounded score (immutable).

    ``step`` is ``"all_sheets_mean"``, ``"criterion:<index>"`` (0-based, rubric order),
    ``"previous_stage"``, ``"stage_score"`` (combined scores only, Rule 3) or
    ``"unresolved"``; ``value`` and ``other_value`` are the exact
    values compared at that step (for ``unresolved``, the previous-stage scores, which
    are equal or both missing); ``outcome`` is ``"ahead"``, ``"behind"`` or ``"tied"``.
    """

    step: str
    other_entry_id: int
    other_code: str
    at_score: Decimal
    value: Decimal | None
    other_value: Decimal | None
    outcome: str

    @property
    def criterion_index(self) -> int | None:
        """The 0-based rubric index for a ``criterion:<index>`` step, else None."""
        if self.step.startswith("criterion:"):
            return int(self.step.partition(":")[2])
        return None

    def describe(self, criterion_names: Sequence[str] | None = None) -> str:
        """A sentence for the organizer: with whom, at what score, and what separated them."""
        head = f"tied with {self.other_code} at {self.at_score}"
        if self.outcome == "tied":
            return f"{head}; still tied after every tie-break step: shared rank, for the jury"
        index = self.criterion_index
        if index is not None:
            name = (
                criterion_names[index]
                if criterion_names is not None and index < len(criterion_names)
                else f"criterion {index + 1}"
            )
            what = f"the mean points of {name}"
        else:
            what = STEP_TEXT[self.step]
        mine, theirs = show_pair(self.value, self.other_value)
        verb = "ahead" if self.outcome == "ahead" else "behind"
        return f"{head}; {verb}, separated by {what}: {mine} vs {theirs}"


def show_pair(a: Decimal | None, b: Decimal | None) -> tuple[str, str]:
    """Two values shown with 2 decimals, or with as many more (up to 6) as tell them apart."""
    if a is None or b is None:
        return (
            "none" if a is None else str(round_score(a)),
            "none" if b is None else str(round_score(b)),
        )
    for places in range(2, 7):
        q = Decimal(1).scaleb(-places)
        sa = HALF_UP.quantize(a, q)
        sb = HALF_UP.quantize(b, q)
        if sa != sb:
            break
    return str(sa), str(sb)


class Standing(NamedTuple):
    """One entry's place in its group: rank, official score, and why it sits there (immutable).

    ``rank`` is the competition rank (1, 2, 2, 4), None for an entry with no sheets.
    ``exact`` is the unrounded official value. ``totals`` are the sheet totals in
    ascending (total, judge id) order and ``judge_ids`` their judges; the rule dropped
    ``cut`` of them at each end (see ``kept``, ``dropped_low``, ``dropped_high``).
    ``mean_all`` is the mean of all sheets (tie-break step a) and ``criterion_means``
    the mean points of each criterion in rubric order (step b). ``zscore`` is the
    judge-normalised score: official under the ``zscore`` rule, an analysis beside it
    otherwise. ``tiebreak`` compares the entry with its neighbours above and below that
    share its rounded score; ``tied`` says a tie survived every step, so the rank is
    shared and the jury decides.
    """

    entry_id: int
    code: str
    rank: int | None
    score: Decimal | None
    exact: Decimal | None
    judge_ids: tuple[int, ...]
    totals: tuple[Decimal, ...]
    cut: int
    mean_all: Decimal | None
    criterion_means: tuple[Decimal, ...]
    zscore: Decimal | None
    previous_score: Decimal | None
    tiebreak: tuple[TieBreakStep, ...]
    tied: bool

    @property
    def sheet_count(self) -> int:
        """How many submitted sheets the score aggregates."""
        return len(self.totals)

    def _pairs(self, start: int, stop: int) -> tuple[tuple[int, Decimal], ...]:
        return tuple(zip(self.judge_ids[start:stop], self.totals[start:stop], strict=True))

    @property
    def kept(self) -> tuple[tuple[int, Decimal], ...]:
        """The (judge id, total) pairs that make the score, ascending by total."""
        return self._pairs(self.cut, len(self.totals) - self.cut)

    @property
    def dropped_low(self) -> tuple[tuple[int, Decimal], ...]:
        """The lowest (judge id, total) pairs the rule dropped."""
        return self._pairs(0, self.cut)

    @property
    def dropped_high(self) -> tuple[tuple[int, Decimal], ...]:
        """The highest (judge id, total) pairs the rule dropped."""
        return self._pairs(len(self.totals) - self.cut, len(self.totals)) if self.cut else ()

    @property
    def dropped(self) -> tuple[tuple[int, Decimal], ...]:
        """Every dropped (judge id, total), the low ones first."""
        return self.dropped_low + self.dropped_high

    @property
    def is_ranked(self) -> bool:
        """Whether the entry has a score and so a rank."""
        return self.rank is not None

    def tie_note(self, criterion_names: Sequence[str] | None = None) -> str:
        """The tie-break explanation for the organizer, one line per neighbour."""
        return "\n".join(step.describe(criterion_names) for step in self.tiebreak)
