"""The fast path of Rules 2 and 4: one group's standings from integer arrays (numpy).

``judging.ranking.rules`` says what the standings are; this module computes the same
standings for 100,000 entries in a fraction of a second, and
``tests/ranking/test_fast_matches_rules.py`` checks on random contests that the two give
identical standings, dropped sheets and tie-break steps. Nothing here is a rule of its
own: read the rule book for what, this module for how fast.

How it is fast, and why it stays exact:

- Points have at most 2 decimals, so every sheet total and criterion sum is a whole
  number of hundredths of a point ("cents"), held in int64 arrays.
- The sheets are sorted per entry by (total, judge id) with one sort of the whole group;
  prefix sums then give any entry's kept sum (the trimmed or median slice) without a loop.
- The official score num / den cents is rounded half-up in integers:
  ``(2 num + den) // (2 den)`` (never negative).
- Means are fractions sum / n with different n; they are compared exactly as the
  integers sum × (L / n), L the least common multiple of the sheet counts, when that fits
  in int64, else through dense ranks of Python integers (``_fraction_keys``).
- The tie chain is one ``lexsort`` on (score, step a, the criterion sums at hand); then,
  for the entries still equal only, the next criterion's sums (asked from the caller, so
  the database reads them for those entries alone), and finally the previous stage's
  scores (asked once, and only when some entries are still equal).
- Every Decimal the standings show is made once per distinct value, and the ``Standing``
  and ``TieBreakStep`` tuples are built column by column with C-level ``map``/``zip``, in
  rank order (objects made in the order they are read stay close in memory).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, localcontext
from itertools import repeat
from math import lcm

import numpy as np

from judging.ranking.aggregation import zscore_exact
from judging.ranking.models import CENT, EXACT, HALF_UP, RuleParams, Standing, TieBreakStep

__all__ = ["CriterionSums", "PreviousScores", "rank_arrays"]

#: Gives, for the entry ids asked, each entry's sum of the points of the criterion at the
#: given rubric index (0-based) over its counted sheets, in hundredths of a point.
CriterionSums = Callable[[Sequence[int], int], Mapping[int, int]]
#: The previous stage's scores by entry id: a mapping, or a function giving it, called at
#: most once and only when some entries are equal through every criterion (step c).
PreviousScores = Mapping[int, Decimal | None] | Callable[[], Mapping[int, Decimal | None]]

_I64 = np.int64
_BIG = 1 << 62  # int64 keys stay below this, so negating and comparing them is safe
_new = tuple.__new__  # a NamedTuple from a ready tuple, with no Python-level call


def rank_arrays(
    entry_ids: Sequence[int],
    codes: Sequence[str],
    sheet_rows: np.ndarray,
    sheet_totals: np.ndarray,
    sheet_judges: np.ndarray,
    params: RuleParams,
    *,
    width: int,
    known: np.ndarray | None = None,
    criterion_sums: CriterionSums | None = None,
    previous: PreviousScores | None = None,
    zscores: bool = False,
) -> list[Standing]:
    """Rank one group: its entries, and their sheets as three aligned int64 arrays.

    ``sheet_rows[i]`` is the index in ``entry_ids`` of sheet i's entry, ``sheet_totals[i]``
    its total in cents and ``sheet_judges[i]`` its judge, in any order. ``known`` holds,
    per entry, the sums of the first ``known.shape[1]`` criteria in cents; the others are
    asked from ``criterion_sums`` for the entries that reach them in the tie chain, and a
    standing's ``criterion_means`` are those known or asked. ``previous`` as a mapping
    fills every standing's ``previous_score``; as a function it is called only when step
    c is needed, and ``previous_score`` stays None otherwise. ``zscores`` computes the
    judge-normalised score of every entry (always done under the ``zscore`` rule).
    Returns the ranked entries in rank order (full ties by code), then the others by code.
    """
    codes = list(codes)
    entry_ids = list(entry_ids)
    rows = np.asarray(sheet_rows, dtype=_I64)
    # Work in (code, id) order: full ties stay in it, and nothing depends on input order.
    perm = _code_order(codes, entry_ids)
    if perm is not None:
        codes = [codes[i] for i in perm]
        entry_ids = [entry_ids[i] for i in perm]
        where = np.empty(len(perm), dtype=_I64)
        where[np.asarray(perm, dtype=_I64)] = np.arange(len(perm), dtype=_I64)
        rows = where[rows]
        if known is not None:
            known = known[np.asarray(perm, dtype=_I64)]
    group = _Group(
        entry_ids, codes, rows, np.asarray(sheet_totals, _I64), np.asarray(sheet_judges, _I64)
    )
    z_exact = group.apply(params)  # the z-scores under the zscore rule, else None
    chain = _TieChain(group, known)
    chain.run(width, criterion_sums, previous)
    return _standings(group, chain, z_exact, zscores and z_exact is None)


def _code_order(codes: list[str], entry_ids: list[int]) -> list[int] | None:
    """The (code, id) order of the entries as indices, or None when they are in it."""
    if all(map(str.__lt__, codes, codes[1:])):  # strictly ascending codes: in order
        return None
    if len(set(codes)) == len(codes):  # codes are unique in a contest: sort by them alone
        return sorted(range(len(codes)), key=codes.__getitem__)
    return sorted(range(len(codes)), key=lambda i: (codes[i], entry_ids[i]))


def _bits(values: np.ndarray) -> int:
    """How many bits the largest of some non-negative integers needs."""
    return int(values.max()).bit_length() if values.size else 0


class _Group:
    """One group's entries (code order) and their sheets sorted by (entry, total, judge),
    with per scored entry: sheet count, where its sheets start and end, the sum of all
    totals, and (``apply``) the official value num / den cents, its rounded score and how
    many totals were cut at each end."""

    def __init__(self, entry_ids, codes, rows, totals, judges):
        if totals.size and (totals.min() < 0 or judges.min() < 0):
            raise ValueError("sheet totals and judge ids must not be negative")
        judge_bits, total_bits = _bits(judges), _bits(totals)
        if _bits(rows) + total_bits + judge_bits <= 63:
            # One sort of a packed key; equal keys are equal sheets: stability is moot.
            packed = (rows << (total_bits + judge_bits)) | (totals << judge_bits) | judges
            order = np.argsort(packed)
        else:
            order = np.lexsort((judges, totals, rows))
        self.entry_ids, self.codes = entry_ids, codes
        self.totals, self.judges = totals[order], judges[order]
        counts = np.bincount(rows, minlength=len(entry_ids))
        self.scored = np.flatnonzero(counts)  # code-order indices of the entries with sheets
        self.size = len(self.scored)
        self.n = counts[self.scored]
        self.ends = np.cumsum(counts)[self.scored]
        self.starts = self.ends - self.n
        self.prefix = np.concatenate((np.zeros(1, dtype=_I64), np.cumsum(self.totals)))
        self.total_sum = self.prefix[self.ends] - self.prefix[self.starts]
        self.num = self.den = self.score = None
        self.cut = np.zeros(self.size, dtype=_I64)

    def apply(self, params: RuleParams) -> list[Decimal] | None:
        """Each entry's official value by the stage's rule (Rule 2), and its rounded score.

        Under the ``zscore`` rule the official value is the z-score: returns the exact
        z-scores (scored entries, code order); otherwise None.
        """
        n, starts = self.n, self.starts
        if params.rule == "zscore":
            z_exact = self.zscores(np.arange(self.size))
            self.score = np.fromiter(
                (int(HALF_UP.quantize(z, CENT).scaleb(2)) for z in z_exact), _I64, self.size
            )
            return z_exact
        if params.rule == "median":
            half = n // 2
            odd = (n % 2).astype(bool)
            middle = self.totals[starts + half]
            below = self.totals[np.maximum(starts + half - 1, 0)]
            self.num = np.where(odd, middle, below + middle)
            self.den = np.where(odd, 1, 2).astype(_I64)
            self.cut = np.where(odd, half, half - 1)
        else:
            if params.rule == "trimmed" and params.trim:
                trims = (n >= params.min_sheets_to_trim) & (n > 2 * params.trim)
                self.cut = np.where(trims, params.trim, 0).astype(_I64)
            self.num = self.prefix[self.ends - self.cut] - self.prefix[starts + self.cut]
            self.den = n - 2 * self.cut
        self.score = (2 * self.num + self.den) // (2 * self.den)
        return None

    def sheets(self, select: np.ndarray) -> tuple[list[tuple], list[tuple]]:
        """The sheet totals (Decimal) and judge ids of the selected scored entries, one
        tuple each, ascending by (total, judge id), made in the order selected."""
        size = len(select)
        totals: list = [()] * size
        judges: list = [()] * size
        counts = self.n[select]
        # The entries with c sheets at once: their sheets form a matrix of c columns.
        for c in np.unique(counts).tolist():
            members = np.flatnonzero(counts == c)
            at = self.starts[select[members]][:, None] + np.arange(c)
            made = (
                list(map(tuple, _cents_decimals(self.totals[at]).tolist())),
                list(map(tuple, self.judges[at].tolist())),
            )
            if len(members) == size:
                return made
            for position, total, judge in zip(members.tolist(), *made, strict=True):
                totals[position] = total
                judges[position] = judge
        return totals, judges

    def zscores(self, select: np.ndarray) -> list[Decimal]:
        """The exact judge-normalised score of the selected scored entries (Rule 2)."""
        if not len(select):
            return []
        totals, judges = self.sheets(select)
        with localcontext(EXACT):
            return zscore_exact(judges, totals)


class _TieChain:
    """The rank order of a group's scored entries by Rule 4's chain, refined step by step.

    ``order`` lists scored-entry indices best first; ``equal[p]`` says whether the entry at
    position p equals the one above through every step so far. ``sums`` and ``keys`` hold
    one column per criterion (known, or asked for the entries still equal: 0 elsewhere)
    and ``depth`` how many leading criterion sums each entry has.
    """

    def __init__(self, group: _Group, known: np.ndarray | None):
        self.group = group
        size, n = group.size, group.n
        self.common = lcm(*set(n.tolist())) if size else 1
        self.mean_key = _fraction_keys(group.total_sum, n, self.common)
        self.sums: list[np.ndarray] = []
        self.keys: list[np.ndarray] = []
        self.depth = np.zeros(size, dtype=_I64)
        if known is not None:
            for level in range(known.shape[1]):
                column = np.ascontiguousarray(known[group.scored, level], dtype=_I64)
                self.sums.append(column)
                self.keys.append(_fraction_keys(column, n, self.common))
            self.depth[:] = known.shape[1]
        self.previous_key = np.zeros(size, dtype=_I64)
        self.previous_of: Mapping[int, Decimal | None] | None = None
        # (score, step a, criteria at hand) descending; the index keeps code order.
        columns = [np.arange(size, dtype=_I64), *(-k for k in reversed(self.keys))]
        self.order = np.lexsort((*columns, -self.mean_key, -group.score))
        self.equal = _equal_above(group.score[self.order]) & _equal_above(self.mean_key[self.order])
        for key in self.keys:
            self.equal &= _equal_above(key[self.order])

    def run(self, width: int, criterion_sums, previous) -> None:
        """Steps b (the criteria not at hand) and c for the entries still equal."""
        group = self.group
        ids = np.asarray(group.entry_ids, dtype=_I64)[group.scored]
        for level in range(len(self.keys), width):
            positions = _tied_positions(self.equal)
            if not positions.size:
                break
            if criterion_sums is None:
                raise ValueError("criterion sums are needed to break a tie but none were given")
            tied = self.order[positions]
            asked = ids[tied].tolist()
            found = criterion_sums(asked, level)
            column = np.zeros(group.size, dtype=_I64)
            column[tied] = np.fromiter(map(found.__getitem__, asked), _I64, len(asked))
            key = np.zeros(group.size, dtype=_I64)
            key[tied] = _fraction_keys(column[tied], group.n[tied], self.common)
            self.sums.append(column)
            self.keys.append(key)
            self.depth[tied] = level + 1
            self._refine(positions, key)
        if previous is not None and not callable(previous):
            self.previous_of = previous
        positions = _tied_positions(self.equal)
        if positions.size:
            if self.previous_of is None:
                self.previous_of = previous() if callable(previous) else {}
            tied = self.order[positions]
            values = list(map(self.previous_of.get, ids[tied].tolist()))
            ladder = {v: k for k, v in enumerate(sorted({v for v in values if v is not None}), 1)}
            self.previous_key[tied] = [0 if v is None else ladder[v] for v in values]
            self._refine(positions, self.previous_key)

    def _refine(self, positions: np.ndarray, key: np.ndarray) -> None:
        """Sort each run of equal entries by ``key`` (descending; code order among equals)
        where it stands, and keep as equal only those whose key matches too."""
        run = np.cumsum(~self.equal)[positions]
        moved = self.order[positions]
        self.order[positions] = moved[np.lexsort((positions, -key[moved], run))]
        self.equal &= _equal_above(key[self.order])


def _fraction_keys(nums: np.ndarray, dens: np.ndarray, common: int) -> np.ndarray:
    """Integers ordered exactly as the fractions nums / dens (each den divides ``common``).

    nums × (common / den) when that fits in int64; otherwise the dense ranks of the
    distinct fractions, ordered by the same products in Python integers.
    """
    if not nums.size:
        return np.zeros(0, dtype=_I64)
    if common < _BIG and int(nums.min()) >= 0 and int(nums.max()) * common < _BIG:
        return nums * (common // dens)
    pairs, inverse = np.unique(np.stack((nums, dens), axis=1), axis=0, return_inverse=True)
    products = [a * (common // b) for a, b in pairs.tolist()]
    ladder = {v: k for k, v in enumerate(sorted(set(products)))}
    return np.asarray([ladder[v] for v in products], dtype=_I64)[inverse.reshape(-1)]


def _equal_above(values: np.ndarray) -> np.ndarray:
    """Per position: whether the value equals the one just above it."""
    out = np.zeros(len(values), dtype=bool)
    out[1:] = values[1:] == values[:-1]
    return out


def _tied_positions(equal: np.ndarray) -> np.ndarray:
    """The positions whose entry equals the one above or the one below."""
    tied = equal.copy()
    tied[:-1] |= equal[1:]
    return np.flatnonzero(tied)


def _cents_decimals(cents: np.ndarray) -> np.ndarray:
    """Hundredths of a point as Decimals with 2 places (8513 → 85.13), in an object
    array of the same shape, one Decimal made per distinct value."""
    if not cents.size:
        return np.empty(cents.shape, dtype=object)
    top = int(cents.max())
    if int(cents.min()) >= 0 and top < 4 * cents.size + (1 << 16):  # a table by value
        present = np.flatnonzero(np.bincount(cents.reshape(-1)))
        table = np.empty(top + 1, dtype=object)
        table[present] = [Decimal(v).scaleb(-2) for v in present.tolist()]
        return table[cents]
    distinct, inverse = np.unique(cents, return_inverse=True)
    table = np.empty(len(distinct), dtype=object)
    table[:] = [Decimal(v).scaleb(-2) for v in distinct.tolist()]
    return table[inverse.reshape(cents.shape)]


def _fractions(nums: np.ndarray, dens: np.ndarray) -> list[Decimal]:
    """nums / dens hundredths of a point as exact Decimals (40 digits), each made once."""
    if not nums.size:
        return []
    span = int(dens.max()) + 1  # one integer per fraction: num × span + den
    if int(nums.min()) >= 0 and int(nums.max()) * span + span < _BIG:
        distinct, inverse = np.unique(nums * span + dens, return_inverse=True)
        pairs = [divmod(v, span) for v in distinct.tolist()]
    else:
        stacked = np.stack((nums, dens), axis=1)
        distinct, inverse = np.unique(stacked, axis=0, return_inverse=True)
        pairs = distinct.tolist()
    with localcontext(EXACT):
        values = [Decimal(a).scaleb(-2) / b for a, b in pairs]
    return list(map(values.__getitem__, inverse.reshape(-1).tolist()))


def _standings(
    group: _Group, chain: _TieChain, z_exact: list[Decimal] | None, zscores: bool
) -> list[Standing]:
    """The Standing tuples in rank order, then the unscored entries' by code."""
    order, equal, size = chain.order, chain.equal, group.size
    # Competition ranks: an entry equal through every step to the one above shares its rank.
    ranks = np.maximum.accumulate(np.where(equal, 0, np.arange(1, size + 1)))
    tied = equal.copy()
    tied[:-1] |= equal[1:]
    # Every column in rank order.
    ids = np.asarray(group.entry_ids, dtype=_I64)[group.scored[order]].tolist()
    codes = list(map(group.codes.__getitem__, group.scored[order].tolist()))
    n = group.n[order]
    scores = _cents_decimals(group.score[order]).tolist()
    means = _fractions(group.total_sum[order], n)
    # A criterion's means only where the entry has it (deeper criteria: few entries).
    depth = chain.depth[order]
    level_means = []
    for level, column in enumerate(chain.sums):
        has = np.flatnonzero(depth > level)
        if len(has) == size:
            level_means.append(_fractions(column[order], n))
            continue
        means_here: list = [None] * size
        for position, value in zip(
            has.tolist(), _fractions(column[order][has], n[has]), strict=True
        ):
            means_here[position] = value
        level_means.append(means_here)
    totals, judges = group.sheets(order)
    if z_exact is not None:  # the zscore rule: the official value is the z-score
        exact = z_ranked = list(map(z_exact.__getitem__, order.tolist()))
    else:
        exact = _fractions(group.num[order], group.den[order])
        z_ranked = group.zscores(order) if zscores else None
    rounded_z = [None] * size if z_ranked is None else [HALF_UP.quantize(z, CENT) for z in z_ranked]
    previous = list(map(chain.previous_of.get, ids)) if chain.previous_of is not None else None
    criterion_means = _criterion_means(depth, level_means)
    steps = _steps(group, chain, ids, codes, scores, means, level_means, previous)
    standings = list(
        map(
            _new,
            repeat(Standing),
            zip(
                ids,
                codes,
                ranks.tolist(),
                scores,
                exact,
                judges,
                totals,
                group.cut[order].tolist(),
                means,
                criterion_means,
                rounded_z,
                [None] * size if previous is None else previous,
                steps,
                tied.tolist(),
                strict=True,
            ),
        )
    )
    unscored = np.ones(len(group.entry_ids), dtype=bool)
    unscored[group.scored] = False
    get_previous = (lambda _: None) if chain.previous_of is None else chain.previous_of.get
    for i in np.flatnonzero(unscored).tolist():
        entry_id = group.entry_ids[i]
        standings.append(
            Standing(
                entry_id,
                group.codes[i],
                None,
                None,
                None,
                (),
                (),
                0,
                None,
                (),
                None,
                get_previous(entry_id),
                (),
                False,
            )
        )
    return standings


def _criterion_means(depth: np.ndarray, level_means: list[list[Decimal]]) -> list[tuple]:
    """Per position, the criterion means at hand: the first ``depth`` levels."""
    result: list[tuple] = [()] * len(depth)
    for d in np.unique(depth).tolist():
        if not d:
            continue
        members = np.flatnonzero(depth == d).tolist()
        columns = [list(map(level_means[level].__getitem__, members)) for level in range(d)]
        for member, values in zip(members, zip(*columns, strict=True), strict=True):
            result[member] = values
    return result


def _steps(group, chain, ids, codes, scores, means, level_means, previous) -> list[tuple]:
    """Per position, how the entry compares with its neighbours of equal rounded score:
    () or up to two TieBreakSteps (the one above first), each at the first step where the
    two differ, or ``unresolved``."""
    order, size = chain.order, group.size
    pairs = np.flatnonzero(_equal_above(group.score[order]))  # p: entries p - 1 and p
    if not pairs.size:
        return [()] * size
    # The first differing step of each pair: 1 the mean of all sheets, 2 + i criterion i,
    # then the previous stage's score, then none (unresolved).
    step = np.zeros(size, dtype=_I64)
    undecided = np.zeros(size, dtype=bool)
    undecided[pairs] = True
    columns = [chain.mean_key, *chain.keys, chain.previous_key]
    for code, key in enumerate(columns, 1):
        differs = undecided & ~_equal_above(key[order])
        step[differs] = code
        undecided &= ~differs
    unresolved = len(columns) + 1
    step[undecided] = unresolved
    names = [None, "all_sheets_mean", *(f"criterion:{i}" for i in range(len(chain.keys)))]
    names += ["previous_stage", "unresolved"]
    no_previous = [None] * size
    values = [None, means, *level_means, previous or no_previous, previous or no_previous]
    lower_at = pairs.tolist()  # the lower entry of each pair, and the upper one:
    upper_at = (pairs - 1).tolist()
    step_list = step[pairs].tolist()
    columns_of = list(map(values.__getitem__, step_list))
    upper = list(map(list.__getitem__, columns_of, upper_at))
    lower = list(map(list.__getitem__, columns_of, lower_at))
    names_of = list(map(names.__getitem__, step_list))
    at = list(map(scores.__getitem__, upper_at))
    tied = (step[pairs] == unresolved).tolist()
    # Each pair gives the upper entry a step "down" (ahead) and the lower one "up" (behind).
    downs = list(
        map(
            _new,
            repeat(TieBreakStep),
            zip(
                names_of,
                map(ids.__getitem__, lower_at),
                map(codes.__getitem__, lower_at),
                at,
                upper,
                lower,
                map(("ahead", "tied").__getitem__, tied),
                strict=True,
            ),
        )
    )
    ups = list(
        map(
            _new,
            repeat(TieBreakStep),
            zip(
                names_of,
                map(ids.__getitem__, upper_at),
                map(codes.__getitem__, upper_at),
                at,
                lower,
                upper,
                map(("behind", "tied").__getitem__, tied),
                strict=True,
            ),
        )
    )
    # Pairs at consecutive positions form a run of entries sharing a rounded score: its
    # first entry has only a step down, its last only a step up, the others both.
    result: list[tuple] = [()] * size
    breaks = np.flatnonzero(np.diff(pairs) != 1) + 1
    for first, last in zip(
        [0, *breaks.tolist()], [*(breaks - 1).tolist(), len(lower_at) - 1], strict=True
    ):
        top, bottom = upper_at[first], lower_at[last]
        result[top] = (downs[first],)
        result[top + 1 : bottom] = zip(ups[first:last], downs[first + 1 : last + 1], strict=True)
        result[bottom] = (ups[last],)
    return result
