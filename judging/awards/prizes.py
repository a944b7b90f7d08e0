"""Prize money (Rule 6): the prize list's rows and their exact totals per group and overall.

Plain rows in, totals out; no Flask, no database. Money arithmetic traps any rounding,
so a total is always the exact sum of its prizes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded
from typing import Protocol

from judging.ranking.rules import SpecialAwardRow, TierAllocation

__all__ = ["MONEY_ZERO", "PrizeRow", "PrizeTotals", "money_sum", "prize_rows", "prize_totals"]

#: Money arithmetic: any rounding at all raises, so totals are exact sums.
_MONEY = Context(prec=40, traps=[Inexact, Rounded, InvalidOperation, Overflow])
MONEY_ZERO = Decimal("0.00")


def money_sum(a: Decimal, b: Decimal) -> Decimal:
    """a + b, exactly (a rounding would raise)."""
    return _MONEY.add(a, b)


class _HasPrize(Protocol):
    """Anything with a group code and a prize: a prize row, a tier or special award."""

    group_code: str
    prize: Decimal


@dataclass(frozen=True, slots=True)
class PrizeRow:
    """One line of the prize list (获奖名单): an award to an entry of a group."""

    group_code: str
    entry_id: int
    award_name: str
    prize: Decimal


@dataclass(frozen=True, slots=True)
class PrizeTotals:
    """Prize money per group (in first-seen order) and overall, with row counts."""

    by_group: dict[str, Decimal]
    count_by_group: dict[str, int]
    overall: Decimal
    count: int


def prize_rows(
    allocations: Iterable[TierAllocation], specials: Iterable[SpecialAwardRow] = ()
) -> list[PrizeRow]:
    """The prize list's rows: every tier award, then every special award."""
    rows = [
        PrizeRow(award.group_code, award.entry_id, award.tier_name, award.prize)
        for allocation in allocations
        for award in allocation.awards
    ]
    rows.extend(PrizeRow(s.group_code, s.entry_id, s.name, s.prize) for s in specials)
    return rows


def prize_totals(rows: Iterable[_HasPrize]) -> PrizeTotals:
    """Exact prize totals per group and overall of rows carrying ``group_code`` and ``prize``.

    Raises TypeError for a prize that is not a Decimal (a float would not add up exactly).
    """
    by_group: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    overall = MONEY_ZERO
    count = 0
    for row in rows:
        prize = row.prize
        if not isinstance(prize, Decimal):
            raise TypeError(f"prize {prize!r} is not a Decimal")
        group = row.group_code
        by_group[group] = _MONEY.add(by_group.get(group, MONEY_ZERO), prize)
        counts[group] = counts.get(group, 0) + 1
        overall = _MONEY.add(overall, prize)
        count += 1
    return PrizeTotals(by_group, counts, overall, count)
