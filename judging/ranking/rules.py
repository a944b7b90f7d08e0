"""The rule book: how a score, a rank, a tie, an advancement and an award are decided.

SPEC.md's Rules 1–6, written to be read, not to be fast: exact fractions, lists and
small dataclasses, one function per rule, each quoting the rule it implements. A reader
needs nothing else to know how the contest is decided.

This is the reference. The app ranks with the fast path (``judging.ranking.fast``, numpy
arrays of integer hundredths), which must agree with this book exactly:
``tests/ranking/test_fast_matches_rules.py`` runs both on random contests, from the
database and from plain sheets, and requires the same standings, dropped sheets and
tie-break steps. The worked examples computed by hand (``tests/ranking/``) test this
book. Rules 5 and 6 are used as written here by ``judging.awards``; the stage
weights of Rule 3 (``combine_stages``) by the standings of the app.

Where SPEC leaves a detail open, the book decides it and says so ("Decided here").
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from math import floor

from judging.ranking.models import (
    EXACT,
    HALF_UP,
    ZERO,
    EntryInput,
    RuleParams,
    SheetInput,
    Standing,
    TieBreakStep,
)

__all__ = [
    "AdvancementProposal",
    "SpecialAwardRow",
    "SpecialEntry",
    "SpecialInput",
    "StageScore",
    "TierAllocation",
    "TierAward",
    "TierFill",
    "TierInput",
    "allocate_tiers",
    "apply_special_awards",
    "combine_stages",
    "first_difference",
    "parse_special_rule",
    "propose_advancement",
    "rank_combined",
    "rank_group",
    "round_half_up",
    "sheet_counts",
    "sheet_total",
    "stage_score",
    "trim_count",
    "zscores",
]


# ------------------------------------------------------------------ Rule 1: a sheet


def sheet_total(sheet: SheetInput) -> Decimal:
    """Rule 1: "A sheet's total is the sum of its criterion points. Points are decimals
    (``Decimal``, never ``float``), within 0..max, in the criterion's step."

    The scoring pages and the imports check the range and the step; the sum is exact.
    """
    with localcontext(EXACT):
        return sum(sheet.points, ZERO)


# ------------------------------------------------------------------ Rule 2: a stage score


def sheet_counts(*, submitted: bool, binding_conflict: bool, points: int, rubric: int) -> bool:
    """Rule 2: "An entry's stage score aggregates the **submitted** sheets of its
    non-conflicted judges": a draft never counts, nor a sheet whose judge has a binding
    conflict with the entry (SPEC: "never counted in its score").

    Decided here: a sheet with fewer or more points than the rubric has criteria (the
    rubric changed after it was submitted) cannot be totalled fairly and does not count.
    """
    return submitted and not binding_conflict and points == rubric


def round_half_up(value: Fraction) -> Decimal:
    """Rule 2: "Rounded half-up to 2 decimals": 85.125 → 85.13, 85.115 → 85.12
    (a half goes away from zero)."""
    cents = floor(abs(value) * 100 + Fraction(1, 2))
    return Decimal(cents if value >= 0 else -cents).scaleb(-2)


def trim_count(sheets: int, params: RuleParams) -> int:
    """Rule 2: how many totals the ``trimmed`` rule drops at each end: "with 5 or more
    sheets, drop one highest and one lowest total (去掉一个最高分和一个最低分) and average
    the rest; with fewer, plain mean", or with a stage's own numbers, "trimmed mean with
    k dropped at each end".

    ``min_sheets_to_trim`` is the 5, ``trim`` the k. Decided here: when dropping k at
    each end would leave nothing (2k sheets or fewer), nothing is dropped.
    """
    if sheets >= params.min_sheets_to_trim and sheets > 2 * params.trim:
        return params.trim
    return 0


@dataclass(frozen=True)
class StageScore:
    """One entry's stage score: the exact value, the official (rounded) score, and which
    sheets it kept. ``sheets`` are (total, judge id) pairs ascending; the rule dropped
    ``cut`` of them at each end."""

    exact: Fraction
    score: Decimal
    sheets: tuple[tuple[Decimal, int], ...]
    cut: int

    @property
    def kept(self) -> tuple[tuple[Decimal, int], ...]:
        """The (total, judge id) pairs the score averages."""
        return self.sheets[self.cut : len(self.sheets) - self.cut]

    @property
    def dropped_low(self) -> tuple[tuple[Decimal, int], ...]:
        """The lowest pairs dropped."""
        return self.sheets[: self.cut]

    @property
    def dropped_high(self) -> tuple[tuple[Decimal, int], ...]:
        """The highest pairs dropped."""
        return self.sheets[len(self.sheets) - self.cut :] if self.cut else ()


def stage_score(sheets: Sequence[SheetInput], params: RuleParams) -> StageScore | None:
    """Rule 2: an entry's stage score from its counted sheets, by the stage's rule.

    - ``trimmed`` (the default): drop ``trim_count`` totals at each end, average the rest;
    - ``mean``: "mean" of every total;
    - ``median``: the middle total, or the mean of the two middle ones for an even count
      (decided here: the totals below and above the middle count as dropped);
    - ``zscore``: the plain mean here; the official value is the z-score (``zscores``),
      which needs the other entries' sheets.

    Decided here: of equal totals, the one dropped is chosen by judge id (sheets are
    ordered by (total, judge id)), so nothing depends on the order the sheets come in.
    No sheets: no score (None).
    """
    if not sheets:
        return None
    ordered = tuple(sorted((sheet_total(sheet), sheet.judge_id) for sheet in sheets))
    totals = [Fraction(total) for total, _ in ordered]
    n = len(totals)
    if params.rule == "median":
        middle = n // 2
        if n % 2:
            exact, cut = totals[middle], middle
        else:
            exact, cut = (totals[middle - 1] + totals[middle]) / 2, middle - 1
    else:
        cut = trim_count(n, params) if params.rule == "trimmed" else 0
        kept = totals[cut : n - cut]
        exact = sum(kept, Fraction(0)) / len(kept)
    return StageScore(exact, round_half_up(exact), ordered, cut)


#: Each sheet's z is fixed to 28 decimals before an entry's are averaged (|z| < 10¹²).
Z_QUANTUM = Decimal("1e-28")


def zscores(entries: Iterable[EntryInput]) -> dict[int, Decimal]:
    """Rule 2's "per-judge z-score normalized mean", exact to 40 digits, per entry with
    sheets.

    For each sheet, z = (total − the judge's mean) / the judge's population standard
    deviation, both over every sheet that judge gave in these entries (a judge with one
    sheet, or no spread, gives z = 0). An entry's value is the mean of its sheets' z,
    mapped back onto the points scale as ``overall mean + mean z × overall standard
    deviation`` (over all sheets) so that it reads like a score.

    Decided here: a z-score is not a fraction (square roots), so it is computed with
    ``Decimal`` at 40 significant digits, every operation in this order: the judge's mean
    s / n; 1 / SD as n / √(n·Σx² − s²); each sheet's z as (total − mean) × (1 / SD), fixed
    to 28 decimals (so an entry's sum of z is exact and nothing depends on the order of
    its sheets); overall SD as √(N·Σx² − S²) / N; then mean + (Σz / count) × SD.
    """
    entries = [entry for entry in entries if entry.sheets]
    with localcontext(EXACT):
        by_judge: defaultdict[int, list[Decimal]] = defaultdict(list)
        for entry in entries:
            for sheet in entry.sheets:
                by_judge[sheet.judge_id].append(sheet_total(sheet))
        judge_mean: dict[int, Decimal] = {}
        judge_inverse_sd: dict[int, Decimal] = {}
        every_total: list[Decimal] = []
        for judge_id, totals in by_judge.items():
            n = len(totals)
            total = sum(totals, ZERO)
            spread = n * sum((t * t for t in totals), ZERO) - total * total  # n² × variance
            judge_mean[judge_id] = total / n
            judge_inverse_sd[judge_id] = n / spread.sqrt() if spread > 0 else ZERO
            every_total.extend(totals)
        count = len(every_total)
        if not count:
            return {}
        grand = sum(every_total, ZERO)
        spread = count * sum((t * t for t in every_total), ZERO) - grand * grand
        overall_mean = grand / count
        overall_sd = spread.sqrt() / count if spread > 0 else ZERO
        result = {}
        for entry in entries:
            z_sum = ZERO
            for sheet in entry.sheets:
                judge = sheet.judge_id
                z = (sheet_total(sheet) - judge_mean[judge]) * judge_inverse_sd[judge]
                z_sum += z.quantize(Z_QUANTUM)
            result[entry.entry_id] = overall_mean + z_sum / len(entry.sheets) * overall_sd
        return result


# ------------------------------------------------------------------ Rule 4: ties


@dataclass(frozen=True)
class _Scored:
    """One entry of a group with the values Rule 4 compares, exact."""

    entry: EntryInput
    stage: StageScore
    exact: Decimal  # the official value to 40 digits (the z-score under that rule)
    score: Decimal  # the official score, rounded half-up
    mean_all: Fraction  # step (a)
    criterion_means: tuple[Fraction, ...]  # step (b), in rubric order
    zscore: Decimal | None

    @property
    def previous(self) -> Decimal | None:
        """Step (c): the previous stage's score."""
        return self.entry.previous_score

    def chain(self) -> tuple:
        """Rule 4's chain as one comparable value: higher is better at every step.

        Decided here: an entry with no previous-stage score comes after one with a score.
        """
        previous = (0,) if self.previous is None else (1, self.previous)
        return (self.score, self.mean_all, self.criterion_means, previous)


def first_difference(upper: _Scored, lower: _Scored) -> tuple[str, Decimal | None, Decimal | None]:
    """Rule 4: "Ties (the same rounded score) are broken in this order, comparing exact
    values, each step shown to the organizer: (a) the mean of all submitted sheets,
    nothing dropped; (b) the mean points of the first criterion over all submitted
    sheets, then of the second, and so on in rubric order; (c) the previous stage's
    score."

    The first step at which two entries of the same rounded score differ, with their two
    values there: ``all_sheets_mean``, ``criterion:<index>`` (0-based), ``previous_stage``,
    or ``unresolved`` (with the previous-stage scores, equal or both missing).
    """
    if upper.mean_all != lower.mean_all:
        return "all_sheets_mean", _decimal(upper.mean_all), _decimal(lower.mean_all)
    for index, (a, b) in enumerate(zip(upper.criterion_means, lower.criterion_means, strict=True)):
        if a != b:
            return f"criterion:{index}", _decimal(a), _decimal(b)
    if upper.previous != lower.previous:
        return "previous_stage", upper.previous, lower.previous
    return "unresolved", upper.previous, lower.previous


def rank_group(
    entries: Iterable[EntryInput],
    params: RuleParams = RuleParams(),
    *,
    criteria_count: int | None = None,
) -> list[Standing]:
    """Rules 2 and 4: one group's standings in one stage.

    Each entry's official score is its stage score by the stage's rule (Rule 2), the
    z-score under the ``zscore`` rule. Entries rank by that rounded score, highest first;
    entries with the same rounded score by Rule 4's chain (``first_difference``). "Still
    equal: the entries share the rank (competition ranking 1, 2, 2, 4) and the tie is
    flagged for the jury to decide": an entry's rank is 1 + the number of entries
    strictly ahead of it in the chain, and it is ``tied`` when another is equal in all of
    it. Each entry that shares its rounded score with the entry just above or just below
    records the step that separates them (a ``TieBreakStep``, the one above first).

    Decided here: fully tied entries are listed by code; entries with no sheets have no
    score and no rank and come last, by code. Every sheet must carry ``criteria_count``
    points (inferred from the first entry by code when None); otherwise ValueError.
    """
    entries = sorted(entries, key=lambda e: (e.code, e.entry_id))
    width = criteria_count
    for entry in entries:
        for sheet in entry.sheets:
            if width is None:
                width = len(sheet.points)
            if len(sheet.points) != width or not width:
                raise ValueError(
                    f"entry {entry.code}: a sheet carries {len(sheet.points)} criterion "
                    f"points, expected {width or 'at least one'}"
                )
    z = zscores(entries)
    scored: list[_Scored] = []
    unscored: list[EntryInput] = []
    for entry in entries:
        stage = stage_score(entry.sheets, params)
        if stage is None:
            unscored.append(entry)
            continue
        n = len(entry.sheets)
        columns = zip(*(sheet.points for sheet in entry.sheets), strict=True)
        if params.rule == "zscore":
            exact = z[entry.entry_id]
            score = HALF_UP.quantize(exact, Decimal("0.01"))
        else:
            exact, score = _decimal(stage.exact), stage.score
        scored.append(
            _Scored(
                entry=entry,
                stage=stage,
                exact=exact,
                score=score,
                mean_all=sum((Fraction(t) for t, _ in stage.sheets), Fraction(0)) / n,
                criterion_means=tuple(sum(map(Fraction, c), Fraction(0)) / n for c in columns),
                zscore=HALF_UP.quantize(z[entry.entry_id], Decimal("0.01")),
            )
        )
    # Best first; Python's sort is stable, so equal chains stay in code order.
    ranked = sorted(scored, key=_Scored.chain, reverse=True)
    standings = []
    for position, entry in enumerate(ranked):
        ahead = sum(1 for other in ranked if other.chain() > entry.chain())
        tied = any(other is not entry and other.chain() == entry.chain() for other in ranked)
        steps = []
        for neighbour in (_at(ranked, position - 1), _at(ranked, position + 1)):
            if neighbour is None or neighbour.score != entry.score:
                continue
            above = neighbour is _at(ranked, position - 1)
            upper, lower = (neighbour, entry) if above else (entry, neighbour)
            step, upper_value, lower_value = first_difference(upper, lower)
            mine, theirs = (lower_value, upper_value) if above else (upper_value, lower_value)
            outcome = "tied" if step == "unresolved" else "behind" if above else "ahead"
            steps.append(
                TieBreakStep(
                    step,
                    neighbour.entry.entry_id,
                    neighbour.entry.code,
                    upper.score,
                    mine,
                    theirs,
                    outcome,
                )
            )
        stage = entry.stage
        standings.append(
            Standing(
                entry_id=entry.entry.entry_id,
                code=entry.entry.code,
                rank=1 + ahead,
                score=entry.score,
                exact=entry.exact,
                judge_ids=tuple(judge for _, judge in stage.sheets),
                totals=tuple(total for total, _ in stage.sheets),
                cut=stage.cut,
                mean_all=_decimal(entry.mean_all),
                criterion_means=tuple(_decimal(m) for m in entry.criterion_means),
                zscore=entry.zscore,
                previous_score=entry.previous,
                tiebreak=tuple(steps),
                tied=tied,
            )
        )
    standings.extend(
        Standing(e.entry_id, e.code, None, None, None, (), (), 0, None, (), None,
                 e.previous_score, (), False)
        for e in unscored
    )  # fmt: skip
    return standings


def _at(items: Sequence, index: int):
    """items[index], or None outside the list."""
    return items[index] if 0 <= index < len(items) else None


def _decimal(value: Fraction) -> Decimal:
    """An exact fraction as a Decimal: exact when it terminates, else to 40 digits."""
    with localcontext(EXACT):
        return Decimal(value.numerator) / value.denominator


# ------------------------------------------------------------------ Rule 3: stage weights


def combine_stages(
    scores_by_stage: Mapping[str, Mapping[int, Decimal | None]],
    weights: Mapping[str, Decimal],
) -> dict[int, Decimal | None]:
    """Rule 3: "Stage scores qualify for the next stage; they do not carry over unless
    the organizer sets stage weights (e.g. 复赛 30% + 决赛 70%, summing to 1). Then the
    stage's ranking, advancement and awards use the combined score: the weighted sum of
    the entry's official (rounded) stage scores, rounded half-up to 2 decimals; an entry
    missing a weighted stage's score is not ranked on it."

    ``weights`` names every stage that counts and must sum to exactly 1 (Decimal, never
    float); each of those stages must appear in ``scores_by_stage`` and no other. An
    entry missing a score in a weighted stage (absent or None) gets None.
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
    for entry_id in sorted(entry_ids):
        parts = [scores_by_stage[stage].get(entry_id) for stage in weights]
        if any(score is None for score in parts):
            combined[entry_id] = None
            continue
        total = sum(
            (Fraction(w) * Fraction(s) for w, s in zip(weights.values(), parts, strict=True)),
            Fraction(0),
        )
        combined[entry_id] = round_half_up(total)
    return combined


def rank_combined(
    rows: Sequence[Standing], combined: Mapping[int, Decimal | None]
) -> list[Standing]:
    """Rule 3: rank one group on the combined score of the weighted stages. "Ties on the
    combined score go to the current stage's score, then to Rule 4's chain within the
    current stage."

    ``rows`` are the current stage's standings (``rank_group``), ``combined`` each entry's
    combined score (``combine_stages``). Each standing's ``score`` and ``exact`` become
    the combined score and its rank, tie flag and tie-break steps are recomputed (a step
    may now be ``stage_score``); its other fields still describe the current stage.
    Entries without a combined score are not ranked on it: no rank, no score, listed
    last in their current-stage order.
    """

    def chain(row: Standing) -> tuple:
        previous = (0,) if row.previous_score is None else (1, row.previous_score)
        return (combined[row.entry_id], row.score, row.mean_all, row.criterion_means, previous)

    def difference(upper: Standing, lower: Standing):
        for step, a, b in (
            ("stage_score", upper.score, lower.score),
            ("all_sheets_mean", upper.mean_all, lower.mean_all),
            *(
                (f"criterion:{i}", x, y)
                for i, (x, y) in enumerate(
                    zip(upper.criterion_means, lower.criterion_means, strict=True)
                )
            ),
            ("previous_stage", upper.previous_score, lower.previous_score),
        ):
            if a != b:
                return step, a, b
        return "unresolved", upper.previous_score, lower.previous_score

    scored = [row for row in rows if combined.get(row.entry_id) is not None]
    ranked = sorted(sorted(scored, key=lambda r: (r.code, r.entry_id)), key=chain, reverse=True)
    result = []
    for position, row in enumerate(ranked):
        steps = []
        for neighbour in (_at(ranked, position - 1), _at(ranked, position + 1)):
            if neighbour is None or combined[neighbour.entry_id] != combined[row.entry_id]:
                continue
            above = neighbour is _at(ranked, position - 1)
            upper, lower = (neighbour, row) if above else (row, neighbour)
            step, upper_value, lower_value = difference(upper, lower)
            mine, theirs = (lower_value, upper_value) if above else (upper_value, lower_value)
            outcome = "tied" if step == "unresolved" else "behind" if above else "ahead"
            steps.append(
                TieBreakStep(
                    step,
                    neighbour.entry_id,
                    neighbour.code,
                    combined[row.entry_id],
                    mine,
                    theirs,
                    outcome,
                )
            )
        score = combined[row.entry_id]
        result.append(
            row._replace(
                rank=1 + sum(1 for other in ranked if chain(other) > chain(row)),
                score=score,
                exact=score,
                tiebreak=tuple(steps),
                tied=any(other is not row and chain(other) == chain(row) for other in ranked),
            )
        )
    result.extend(
        row._replace(rank=None, score=None, exact=None, tiebreak=(), tied=False)
        for row in rows
        if combined.get(row.entry_id) is None
    )
    return result


def _ranked(standings: Iterable[Standing]) -> list[Standing]:
    """The standings with a rank, in (rank, code) order; ValueError on a repeated entry."""
    standings = list(standings)
    ids = [s.entry_id for s in standings]
    if len(set(ids)) != len(ids):
        raise ValueError("an entry appears more than once in the standings")
    return sorted(
        (s for s in standings if s.rank is not None and s.score is not None),
        key=lambda s: (s.rank, s.code, s.entry_id),
    )


def _rank_groups(ranked: list[Standing]) -> list[list[Standing]]:
    """Consecutive runs of entries sharing a rank."""
    groups: list[list[Standing]] = []
    for standing in ranked:
        if groups and groups[-1][0].rank == standing.rank:
            groups[-1].append(standing)
        else:
            groups.append([standing])
    return groups


# ------------------------------------------------------------------ Rule 5: advancement


@dataclass(frozen=True, slots=True)
class AdvancementProposal:
    """Who advances from one group, and any tie across the cut (Rule 5).

    ``advancing`` and ``not_advancing`` are entry ids in rank order (entries with no
    score come last in ``not_advancing``). ``cut_tie`` are the entries sharing the rank
    that straddles the quota (empty with a threshold); ``reason`` explains a tie or a
    count different from the quota, for the organizer.
    """

    advancing: tuple[int, ...]
    not_advancing: tuple[int, ...]
    cut_tie: tuple[int, ...]
    cut_tie_rank: int | None
    tie_advances: bool
    quota: int | None
    threshold: Decimal | None
    reason: str

    @property
    def over_quota(self) -> int:
        """How many more entries advance than the quota allows (0 without a quota)."""
        return max(0, len(self.advancing) - self.quota) if self.quota is not None else 0


def propose_advancement(
    standings: Iterable[Standing],
    *,
    quota: int | None = None,
    threshold: Decimal | None = None,
    advance_cut_tie: bool = True,
) -> AdvancementProposal:
    """Rule 5: "Advancement: the top N of each group (or everyone above a score) advance;
    a tie across the cut is flagged; by default all tied entries advance."

    Give exactly one of ``quota`` (N: an entry advances when its competition rank is at
    most N) and ``threshold`` (decided here: "above a score" includes the score itself).
    Entries that share the rank straddling the quota are the tie across the cut: flagged
    in ``cut_tie``, and they all advance, so more than N may (the reason says so); with
    ``advance_cut_tie`` False they are held back for the jury. Entries without a score
    never advance.
    """
    if (quota is None) == (threshold is None):
        raise ValueError("give exactly one of quota and threshold")
    if quota is not None and quota < 0:
        raise ValueError("the advancement quota must not be negative")
    if threshold is not None and not isinstance(threshold, Decimal):
        raise TypeError("the advancement threshold must be a Decimal")
    standings = list(standings)
    ranked = _ranked(standings)
    unranked = sorted(
        (s for s in standings if s.rank is None or s.score is None),
        key=lambda s: (s.code, s.entry_id),
    )
    cut_tie: tuple[int, ...] = ()
    cut_rank = None
    reason = ""
    if threshold is not None:
        advancing = [s for s in ranked if s.score >= threshold]
        reason = f"{len(advancing)} entries score {threshold} or more"
    else:
        advancing = [s for s in ranked if s.rank <= quota]
        for group in _rank_groups(ranked):
            rank = group[0].rank
            if rank <= quota < rank + len(group) - 1:
                cut_tie = tuple(s.entry_id for s in group)
                cut_rank = rank
                if advance_cut_tie:
                    reason = (
                        f"{len(group)} entries share rank {rank} across the cut at {quota}: "
                        f"all advance ({len(advancing)} for a quota of {quota})"
                    )
                else:
                    held = set(cut_tie)
                    advancing = [s for s in advancing if s.entry_id not in held]
                    reason = (
                        f"{len(group)} entries share rank {rank} across the cut at {quota}: "
                        f"held back for the jury ({len(advancing)} advance for now)"
                    )
                break
        else:
            if len(advancing) < quota:
                reason = f"only {len(advancing)} ranked entries for a quota of {quota}"
    advancing_ids = {s.entry_id for s in advancing}
    return AdvancementProposal(
        advancing=tuple(s.entry_id for s in advancing),
        not_advancing=tuple(s.entry_id for s in ranked if s.entry_id not in advancing_ids)
        + tuple(s.entry_id for s in unranked),
        cut_tie=cut_tie,
        cut_tie_rank=cut_rank,
        tie_advances=advance_cut_tie,
        quota=quota,
        threshold=threshold,
        reason=reason,
    )


# ------------------------------------------------------------------ Rule 6: awards


@dataclass(frozen=True, slots=True)
class TierInput:
    """An award tier of one stage and group: filled in position order up to its quota."""

    tier_id: int
    name: str
    position: int
    quota: int
    prize: Decimal


@dataclass(frozen=True, slots=True)
class TierAward:
    """One entry's tier award (at most one per entry)."""

    entry_id: int
    code: str
    rank: int
    tier_id: int
    tier_name: str
    prize: Decimal
    group_code: str = ""


@dataclass(frozen=True, slots=True)
class TierFill:
    """How one tier was filled: its holders, and the tie that overfilled it, if any.

    ``tied_entries`` are the entries sharing ``tied_rank`` across the tier's lower
    boundary, which is why the tier holds more than its quota; a tier short of its quota
    (a tie above it used its places, or too few entries) has ``shortfall`` > 0.
    """

    tier_id: int
    name: str
    quota: int
    holders: tuple[int, ...]
    tied_rank: int | None
    tied_entries: tuple[int, ...]

    @property
    def over_quota(self) -> int:
        """How many more entries the tier holds than its quota."""
        return max(0, len(self.holders) - self.quota)

    @property
    def shortfall(self) -> int:
        """How many of the tier's places are empty."""
        return max(0, self.quota - len(self.holders))

    @property
    def is_flagged(self) -> bool:
        """Whether a tie across the tier's boundary made it hold more than its quota."""
        return bool(self.tied_entries)


@dataclass(frozen=True, slots=True)
class TierAllocation:
    """The tier awards of one group, every tier's fill, and the flagged boundary ties."""

    awards: tuple[TierAward, ...]
    tiers: tuple[TierFill, ...]
    no_award: tuple[int, ...]
    group_code: str = ""

    @property
    def boundary_ties(self) -> tuple[TierFill, ...]:
        """The tiers overfilled by a tie across their boundary, for the organizer."""
        return tuple(fill for fill in self.tiers if fill.is_flagged)

    def award_of(self, entry_id: int) -> TierAward | None:
        """The entry's tier award, if it has one."""
        return next((a for a in self.awards if a.entry_id == entry_id), None)


def allocate_tiers(
    standings: Iterable[Standing], tiers: Iterable[TierInput], *, group_code: str = ""
) -> TierAllocation:
    """Rule 6: "Awards: tiers are filled in rank order within each group by quota; a tie
    across a tier boundary is flagged for the organizer, never silently cut."

    An entry of competition rank r gets the first tier (by position) whose cumulative
    quota is at least r; entries ranked beyond the total quota get none. Entries sharing
    a rank so share a tier, even past its quota: that tier holds more than its quota (and
    a later one may fall short), and it is flagged with the tied entries.
    """
    standings = list(standings)
    tiers = sorted(tiers, key=lambda t: (t.position, t.tier_id))
    for tier in tiers:
        if tier.quota < 0:
            raise ValueError(f"tier {tier.name}: the quota must not be negative")
        if not isinstance(tier.prize, Decimal) or tier.prize < 0:
            raise ValueError(f"tier {tier.name}: the prize must be a Decimal of 0 or more")
    ceilings = []
    running = 0
    for tier in tiers:
        running += tier.quota
        ceilings.append(running)
    holders: list[list[Standing]] = [[] for _ in tiers]
    awards = []
    no_award = []
    for standing in _ranked(standings):
        index = bisect_left(ceilings, standing.rank)
        if index == len(tiers):
            no_award.append(standing.entry_id)
            continue
        tier = tiers[index]
        holders[index].append(standing)
        awards.append(
            TierAward(
                standing.entry_id,
                standing.code,
                standing.rank,
                tier.tier_id,
                tier.name,
                tier.prize,
                group_code,
            )
        )
    fills = []
    for tier, held in zip(tiers, holders, strict=True):
        tied_rank = None
        tied: tuple[int, ...] = ()
        if len(held) > tier.quota:
            # The overflow is the run of entries sharing the last rank the tier took.
            tied_rank = held[-1].rank
            tied = tuple(s.entry_id for s in held if s.rank == tied_rank)
        fills.append(
            TierFill(
                tier.tier_id,
                tier.name,
                tier.quota,
                tuple(s.entry_id for s in held),
                tied_rank,
                tied,
            )
        )
    unranked = [
        s.entry_id
        for s in sorted(standings, key=lambda s: (s.code, s.entry_id))
        if s.rank is None or s.score is None
    ]
    return TierAllocation(tuple(awards), tuple(fills), tuple(no_award + unranked), group_code)


@dataclass(frozen=True, slots=True)
class SpecialEntry:
    """What special-award rules look at: whether a student team, which stages it reached.

    An entry *reached* a stage when it takes part in it: it was advanced into it, or has
    an assignment or a score there.
    """

    entry_id: int
    is_student_team: bool
    reached_stage_codes: frozenset[str]
    group_code: str = ""


@dataclass(frozen=True, slots=True)
class SpecialInput:
    """A special award (专项奖): its rule and the prize each recipient gets."""

    award_id: int
    name: str
    rule: str
    prize: Decimal


@dataclass(frozen=True, slots=True)
class SpecialAwardRow:
    """One special award given to one entry."""

    award_id: int
    name: str
    entry_id: int
    prize: Decimal
    group_code: str = ""


def parse_special_rule(rule: str) -> tuple[str, str]:
    """Split a special-award rule into (kind, argument); ValueError naming an unknown rule.

    The grammar: ``student_team_reached:<stage code>``.
    """
    kind, sep, argument = str(rule).strip().partition(":")
    kind, argument = kind.strip(), argument.strip()
    if kind == "student_team_reached" and sep and argument:
        return kind, argument
    raise ValueError(
        f"unknown special award rule {rule!r}; expected student_team_reached:<stage code>"
    )


def apply_special_awards(
    entries: Iterable[SpecialEntry], specials: Iterable[SpecialInput]
) -> list[SpecialAwardRow]:
    """Rule 6: "special awards are applied by their rules (an entry *reached* a stage
    when it takes part in it: it was advanced into it, or has an assignment or a score
    there); an entry can hold one tier award plus any special awards."

    The one rule there is, ``student_team_reached:<stage code>``, gives the award to
    every student team that reached that stage (学生团队优秀奖: every student team that
    reached 复赛). Returns every (award, entry) granted, by award id then entry id. Every
    rule is checked before any is applied, so one bad rule gives nothing at all.
    """
    entries = sorted(entries, key=lambda e: e.entry_id)
    ids = [e.entry_id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("an entry appears more than once")
    specials = sorted(specials, key=lambda s: s.award_id)
    parsed = []
    for special in specials:
        if not isinstance(special.prize, Decimal) or special.prize < 0:
            raise ValueError(f"special award {special.name}: the prize must be a Decimal >= 0")
        parsed.append((special, parse_special_rule(special.rule)))
    rows = []
    for special, (_kind, stage_code) in parsed:
        # The one kind there is: student_team_reached.
        rows.extend(
            SpecialAwardRow(
                special.award_id, special.name, entry.entry_id, special.prize, entry.group_code
            )
            for entry in entries
            if entry.is_student_team and stage_code in entry.reached_stage_codes
        )
    return rows
