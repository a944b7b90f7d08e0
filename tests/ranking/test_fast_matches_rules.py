"""The fast path agrees with the rule book, exactly, on random groups (hypothesis).

The rule book (``judging.ranking.rules``) states Rules 2–4 and Rule 3's weights plainly;
the app ranks with the fast path (``judging.ranking.fast`` through ``rank``,
``rank_totals`` and ``rank_combined``). On generated groups built to tie at every step
— the rounded score, (a) the mean of all sheets, (b) each criterion in turn, (c) the
previous stage, and through all of them — under every rule (trimmed with various trim
and minimum, mean, median, z-score), both must give the same standings: order, ranks,
scores, exact values, kept and dropped sheets, tie flags and every tie-break step.
The database's path is checked the same way in ``test_database_matches_rules.py``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal, localcontext
from fractions import Fraction
from math import lcm

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from judging.ranking import fast, rules
from judging.ranking.models import EXACT, EntryInput, RuleParams, SheetInput
from judging.ranking.standings import rank, rank_combined, rank_totals

MANY = settings(max_examples=300, deadline=None)
MAX_POINTS = 4  # a small range on purpose: equal values at every step are common
HALF = st.integers(0, 2 * MAX_POINTS).map(lambda k: Decimal(k) / 2)
PREVIOUS = st.sampled_from([None, Decimal("1.00"), Decimal("2.50"), Decimal("2.5")])
RULE_PARAMS = st.one_of(
    st.builds(
        RuleParams,
        st.just("trimmed"),
        trim=st.integers(0, 3),
        min_sheets_to_trim=st.integers(0, 6),
    ),
    st.sampled_from([RuleParams(), RuleParams("mean"), RuleParams("median")]),
    st.just(RuleParams("zscore")),
)


@st.composite
def sheets(draw, width: int):
    """0–7 sheets of distinct judges (1–9), half points 0..4 on each criterion."""
    judges = draw(st.lists(st.integers(1, 9), unique=True, max_size=7))
    return [SheetInput(j, tuple(draw(HALF) for _ in range(width))) for j in judges]


@st.composite
def twin(draw, original: list[SheetInput], width: int) -> list[SheetInput]:
    """Sheets equal to ``original`` up to a chosen step: the same sheets (equal through
    steps a and b: on to step c); the same sheets from other judges; half a point moved
    between two criteria of one sheet (equal totals: apart at step b, on the first of
    the two criteria); or the lowest sheet half a point lower (the same trimmed score
    when the rule drops it: apart at step a)."""
    how = draw(st.sampled_from(["same", "judges", "moved", "lowered"]))
    result = list(original)
    if how == "judges":
        result = [SheetInput(10 + k, s.points) for k, s in enumerate(original)]
    elif how == "moved" and original and width > 1:
        i = draw(st.integers(0, len(original) - 1))
        a, b = draw(st.permutations(range(width)))[:2]
        points = list(original[i].points)
        if points[a] >= Decimal("0.5"):
            points[a] -= Decimal("0.5")
            points[b] += Decimal("0.5")
        result[i] = SheetInput(original[i].judge_id, tuple(points))
    elif how == "lowered" and original:
        i = min(range(len(original)), key=lambda k: rules.sheet_total(original[k]))
        points = list(original[i].points)
        c = max(range(width), key=lambda k: points[k])
        if points[c] >= Decimal("0.5"):
            points[c] -= Decimal("0.5")
        result[i] = SheetInput(original[i].judge_id, tuple(points))
    return result


@st.composite
def groups(draw, max_entries: int = 9):
    """A rubric width and one group's entries, many of them twins of an earlier one."""
    width = draw(st.integers(1, 4))
    entries: list[EntryInput] = []
    for number in range(1, draw(st.integers(1, max_entries)) + 1):
        if entries and draw(st.booleans()):
            model = draw(st.sampled_from(entries))
            chosen = draw(twin(list(model.sheets), width))
        else:
            chosen = draw(sheets(width))
        entries.append(EntryInput(number, f"A-{number:03d}", tuple(chosen), draw(PREVIOUS)))
    return width, draw(st.permutations(entries))


def criterion_sums_of(entries, asked=None):
    """A ``criterion_sums`` for ``rank_totals`` from the entries' points (in hundredths),
    recording what it is asked."""
    by_id = {e.entry_id: e for e in entries}

    def sums(entry_ids, index):
        if asked is not None:
            asked.extend((entry_id, index) for entry_id in entry_ids)
        return {
            entry_id: int(sum((s.points[index] for s in by_id[entry_id].sheets), Decimal(0)) * 100)
            for entry_id in entry_ids
        }

    return sums


def assert_same_standings(fast, book, *, partial_means=False, zscores=True):
    """Identical standings; with ``partial_means`` the fast ones may carry only the
    leading criterion means (those it read), without ``zscores`` no z-score."""
    assert [s.entry_id for s in fast] == [s.entry_id for s in book]
    for f, b in zip(fast, book, strict=True):
        trimmed_f, trimmed_b = f, b
        if partial_means:
            assert f.criterion_means == b.criterion_means[: len(f.criterion_means)]
            trimmed_f = trimmed_f._replace(criterion_means=())
            trimmed_b = trimmed_b._replace(criterion_means=())
        if not zscores:
            assert f.zscore is None or f.zscore == b.zscore
            trimmed_f = trimmed_f._replace(zscore=None)
            trimmed_b = trimmed_b._replace(zscore=None)
        assert trimmed_f == trimmed_b, f"{f.code}: {f} != {b}"
        # The dropped sheets, named explicitly (they derive from the fields above).
        assert (f.kept, f.dropped_low, f.dropped_high) == (b.kept, b.dropped_low, b.dropped_high)
        assert [tuple(t) for t in f.tiebreak] == [tuple(t) for t in b.tiebreak]


@MANY
@given(groups(), RULE_PARAMS)
def test_rank_from_points_is_the_rule_book(group, params):
    width, entries = group
    fast = rank(entries, params, criteria_count=width)
    book = rules.rank_group(entries, params, criteria_count=width)
    assert_same_standings(fast, book)
    # The rounded score shows with 2 decimals in both (pages print it as it is).
    assert [str(s.score) for s in fast] == [str(s.score) for s in book]


@MANY
@given(groups(), RULE_PARAMS, st.booleans(), st.booleans())
def test_rank_from_totals_is_the_rule_book(group, params, first_known, zscores):
    """The database's way: sheet totals, criterion sums asked criterion by criterion for
    the entries still equal, never twice and never when given."""
    width, entries = group
    asked: list[tuple[int, int]] = []
    sums = criterion_sums_of(entries, asked)
    totals = [
        (
            e.entry_id,
            e.code,
            iter([(int(rules.sheet_total(s) * 100), s.judge_id) for s in e.sheets]),
            tuple(sums([e.entry_id], 0).values()) if first_known and e.sheets else (),
        )
        for e in entries
    ]
    asked.clear()
    previous = {e.entry_id: e.previous_score for e in entries if e.previous_score is not None}
    fast = rank_totals(
        totals,
        params,
        criteria_count=width,
        criterion_sums=sums,
        previous=previous,
        zscores=zscores,
    )
    book = rules.rank_group(entries, params, criteria_count=width)
    assert_same_standings(
        fast, book, partial_means=True, zscores=zscores or params.rule == "zscore"
    )
    assert len(asked) == len(set(asked))
    assert not (first_known and any(index == 0 for _, index in asked))
    # Every step names a criterion both entries have read.
    for row in fast:
        for step in row.tiebreak:
            if step.criterion_index is not None:
                assert len(row.criterion_means) > step.criterion_index


@MANY
@given(groups(), RULE_PARAMS, st.integers(0, 10), st.data())
def test_combined_scores_rank_as_the_rule_book_says(group, params, tenths, data):
    """Rule 3 with weights 0.1·k and 1 − 0.1·k on an earlier stage and this one; some
    entries lack the earlier stage's score (not ranked on the combined score)."""
    width, entries = group
    earlier = {
        e.entry_id: data.draw(st.sampled_from([None, Decimal("1.00"), Decimal("3.25")]))
        for e in entries
    }
    weight = Decimal(tenths) / 10
    book_rows = rules.rank_group(entries, params, criteria_count=width)
    combined = rules.combine_stages(
        {"earlier": earlier, "this": {r.entry_id: r.score for r in book_rows}},
        {"earlier": weight, "this": 1 - weight},
    )
    book = rules.rank_combined(book_rows, combined)
    assert_same_standings(
        rank_combined(rank(entries, params, criteria_count=width), combined), book
    )
    # From partial criterion means too, as the database's standings carry them.
    totals = [
        (e.entry_id, e.code, [(int(rules.sheet_total(s) * 100), s.judge_id) for s in e.sheets], ())
        for e in entries
    ]
    previous = {e.entry_id: e.previous_score for e in entries if e.previous_score is not None}
    partial = rank_totals(
        totals,
        params,
        criteria_count=width,
        criterion_sums=criterion_sums_of(entries),
        previous=previous,
    )
    assert_same_standings(rank_combined(partial, combined), book, partial_means=True)


@MANY
@given(groups(), RULE_PARAMS, st.randoms(use_true_random=False))
def test_neither_depends_on_the_order_of_entries_or_sheets(group, params, rnd):
    width, entries = group
    shuffled = []
    for e in entries:
        sheets_ = list(e.sheets)
        rnd.shuffle(sheets_)
        shuffled.append(EntryInput(e.entry_id, e.code, tuple(sheets_), e.previous_score))
    rnd.shuffle(shuffled)
    assert rank(shuffled, params, criteria_count=width) == rank(
        entries, params, criteria_count=width
    )
    assert rules.rank_group(shuffled, params, criteria_count=width) == rules.rank_group(
        entries, params, criteria_count=width
    )


@MANY
@given(st.lists(sheets(2), min_size=1, max_size=6))
def test_the_fast_zscore_is_the_rule_books(sheet_lists):
    """Rule 2's z-score: the rule book's plain loop and the fast C-level maps give the
    same 40-digit values (so the same rounded scores and ranks)."""
    from judging.ranking.aggregation import zscore_exact

    entries = [EntryInput(i, f"A-{i:03d}", tuple(s)) for i, s in enumerate(sheet_lists, 1)]
    book = rules.zscores(entries)
    scored = [e for e in entries if e.sheets]
    with localcontext(EXACT):
        fast = zscore_exact(
            [[s.judge_id for s in e.sheets] for e in scored],
            [[rules.sheet_total(s) for s in e.sheets] for e in scored],
        )
    assert {e.entry_id: z for e, z in zip(scored, fast, strict=True)} == book


def test_the_generated_groups_reach_every_step():
    """The groups above do tie at every step, under every rule (else the properties
    above would prove less than they say)."""
    seen: Counter = Counter()

    @settings(max_examples=300, derandomize=True, database=None, deadline=None)
    @given(groups(), RULE_PARAMS)
    def collect(group, params):
        width, entries = group
        rows = rules.rank_group(entries, params, criteria_count=width)
        seen[params.rule] += 1
        seen.update({step.step for row in rows for step in row.tiebreak})
        seen["cut"] += any(row.cut for row in rows)

    collect()
    steps = ["all_sheets_mean", "criterion:0", "criterion:1", "criterion:2"]
    steps += ["previous_stage", "unresolved", "trimmed", "mean", "median", "zscore", "cut"]
    assert all(seen[step] >= 5 for step in steps), seen


@MANY
@given(groups(), RULE_PARAMS)
def test_huge_judge_ids_take_the_exact_slow_sort(group, params):
    """Judge ids too large to pack with the entry and total into one 63-bit sort key
    (the fast path then sorts on three keys): still the rule book's standings."""
    width, entries = group
    big = [
        EntryInput(
            e.entry_id,
            e.code,
            tuple(SheetInput(s.judge_id + (1 << 55), s.points) for s in e.sheets),
            e.previous_score,
        )
        for e in entries
    ]
    fast = rank(big, params, criteria_count=width)
    assert_same_standings(fast, rules.rank_group(big, params, criteria_count=width))


@MANY
@given(
    st.lists(
        st.tuples(st.integers(0, 10**17), st.integers(1, 60)),
        min_size=1,
        max_size=25,
    )
)
def test_fractions_compare_and_show_exactly_past_int64(pairs):
    """Means sum / n with sums and counts so large that sum × lcm(counts) or
    sum × (max n + 1) pass 2⁶³: ordered exactly (dense ranks in Python integers) and
    shown exactly (40 digits), as with small ones."""
    nums = np.array([a for a, _ in pairs], dtype=np.int64)
    dens = np.array([b for _, b in pairs], dtype=np.int64)
    keys = fast._fraction_keys(nums, dens, lcm(*{b for _, b in pairs})).tolist()
    exact = [Fraction(a, b) for a, b in pairs]
    for (k1, f1), (k2, f2) in itertools.product(zip(keys, exact, strict=True), repeat=2):
        assert (k1 < k2) == (f1 < f2)
        assert (k1 == k2) == (f1 == f2)
    with localcontext(EXACT):
        expected = [Decimal(a).scaleb(-2) / b for a, b in pairs]
    assert fast._fractions(nums, dens) == expected
    cents = np.array([a for a, _ in pairs], dtype=np.int64)
    shown = fast._cents_decimals(cents).tolist()
    assert [str(d) for d in shown] == [str(Decimal(a).scaleb(-2)) for a, _ in pairs]
