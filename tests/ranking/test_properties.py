"""Properties of the ranking rules, checked on generated groups (hypothesis).

An independent oracle recomputes every score and tie-break key with exact fractions, so
the rule book's competition ranks (``rules.rank_group``) can be checked against their
definition: 1 + the number of entries strictly ahead. That the app's fast path gives the
rule book's standings is ``test_fast_matches_rules.py``.
"""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from judging.ranking import EntryInput, RuleParams, SheetInput, rank, rules
from judging.ranking.rules import combine_stages, rank_combined
from judging.ranking.standings import rank_totals

FAST = settings(max_examples=150, deadline=None)
MAX_POINTS = 4  # a small range on purpose: ties at every step are common
HALF = st.integers(0, 2 * MAX_POINTS).map(lambda k: Decimal(k) / 2)
NON_Z_RULES = [
    RuleParams(),
    RuleParams("mean"),
    RuleParams("median"),
    RuleParams("trimmed", trim=2, min_sheets_to_trim=5),
    RuleParams("trimmed", trim=1, min_sheets_to_trim=3),
]
ALL_RULES = [*NON_Z_RULES, RuleParams("zscore")]


@st.composite
def groups(draw, min_entries=1, max_entries=8):
    """A rubric width and one group's entries: 0–6 sheets each, half-point steps."""
    width = draw(st.integers(1, 3))
    count = draw(st.integers(min_entries, max_entries))
    entries = []
    for number in range(1, count + 1):
        sheets = draw(
            st.lists(
                st.tuples(st.integers(1, 8), st.tuples(*[HALF] * width)),
                unique_by=lambda sheet: sheet[0],
                max_size=6,
            )
        )
        previous = draw(st.none() | st.integers(0, 400).map(lambda k: Decimal(k) / 100))
        entries.append(
            EntryInput(
                number,
                f"A-{number:03d}",
                tuple(SheetInput(judge, points) for judge, points in sheets),
                previous,
            )
        )
    return width, entries


def half_up(value: Fraction) -> Fraction:
    """Round a non-negative fraction half-up to cents."""
    return Fraction(int(value * 100 + Fraction(1, 2)), 100)


def oracle_key(entry: EntryInput, params: RuleParams):
    """(score, mean of all, criterion means, previous) in exact fractions, or None."""
    n = len(entry.sheets)
    if not n:
        return None
    totals = sorted(sum(map(Fraction, s.points), Fraction(0)) for s in entry.sheets)
    if params.rule == "median":
        middle = n // 2
        exact = totals[middle] if n % 2 else (totals[middle - 1] + totals[middle]) / 2
    else:
        k = params.trim if params.rule == "trimmed" else 0
        if not (n >= params.min_sheets_to_trim and n > 2 * k):
            k = 0
        kept = totals[k : n - k]
        exact = sum(kept, Fraction(0)) / len(kept)
    columns = zip(*(s.points for s in entry.sheets), strict=True)
    previous = entry.previous_score
    return (
        half_up(exact),
        sum(totals, Fraction(0)) / n,
        tuple(sum(map(Fraction, column), Fraction(0)) / n for column in columns),
        (0,) if previous is None else (1, Fraction(previous)),
    )


@FAST
@given(groups(), st.sampled_from(NON_Z_RULES))
def test_ranks_match_an_exact_oracle(group, params):
    """rank = 1 + the number strictly ahead; tied exactly when another key is equal."""
    width, entries = group
    keys = {e.entry_id: oracle_key(e, params) for e in entries}
    standings = rules.rank_group(entries, params, criteria_count=width)
    assert len(standings) == len(entries)
    for s in standings:
        key = keys[s.entry_id]
        if key is None:
            assert s.rank is None and s.score is None
            continue
        others = [k for i, k in keys.items() if i != s.entry_id and k is not None]
        assert Fraction(s.score) == key[0]
        assert s.rank == 1 + sum(1 for k in others if k > key)
        assert s.tied == any(k == key for k in others)
    ranked = [s.rank for s in standings if s.rank is not None]
    assert ranked == sorted(ranked)
    assert all(s.rank is None for s in standings[len(ranked) :])


@FAST
@given(groups(), st.sampled_from(ALL_RULES), st.randoms(use_true_random=False))
def test_the_order_of_entries_and_sheets_changes_nothing(group, params, rnd):
    width, entries = group
    shuffled = []
    for e in entries:
        sheets = list(e.sheets)
        rnd.shuffle(sheets)
        shuffled.append(EntryInput(e.entry_id, e.code, tuple(sheets), e.previous_score))
    rnd.shuffle(shuffled)
    assert rank(shuffled, params) == rank(entries, params)
    assert rules.zscores(shuffled) == rules.zscores(entries)


@FAST
@given(groups(), st.sampled_from(ALL_RULES), st.permutations(range(1, 9)))
def test_renaming_the_judges_changes_no_score_or_rank(group, params, new_ids):
    width, entries = group
    renamed = [
        EntryInput(
            e.entry_id,
            e.code,
            tuple(SheetInput(new_ids[s.judge_id - 1], s.points) for s in e.sheets),
            e.previous_score,
        )
        for e in entries
    ]

    def outcome(group_entries):
        return [
            (s.entry_id, s.rank, s.score, s.exact, s.zscore, s.tied, s.mean_all, s.totals)
            for s in rank(group_entries, params)
        ]

    assert outcome(renamed) == outcome(entries)


@FAST
@given(st.lists(HALF, min_size=1, max_size=9), st.integers(0, 3), st.integers(0, 6))
def test_a_trimmed_mean_lies_within_the_kept_totals(values, trim, minimum):
    params = RuleParams("trimmed", trim=trim, min_sheets_to_trim=minimum)
    sheets = [SheetInput(judge, (value,)) for judge, value in enumerate(values, start=1)]
    result = rules.stage_score(sheets, params)
    kept = [total for total, _ in result.kept]
    assert min(kept) <= result.exact <= max(kept)
    assert len(result.dropped_low) == len(result.dropped_high)
    assert sorted(result.kept + result.dropped_low + result.dropped_high) == sorted(
        zip(values, range(1, len(values) + 1), strict=True)
    )
    assert all(total <= min(kept) for total, _ in result.dropped_low)
    assert all(total >= max(kept) for total, _ in result.dropped_high)


@FAST
@given(groups(), st.sampled_from(NON_Z_RULES), st.data())
def test_raising_a_point_never_lowers_the_rank(group, params, data):
    width, entries = group
    candidates = [
        (e_index, s_index, p_index)
        for e_index, e in enumerate(entries)
        for s_index, s in enumerate(e.sheets)
        for p_index, p in enumerate(s.points)
        if p < MAX_POINTS
    ]
    if not candidates:
        return
    e_index, s_index, p_index = data.draw(st.sampled_from(candidates))
    target = entries[e_index]
    sheet = target.sheets[s_index]
    points = list(sheet.points)
    points[p_index] += Decimal("0.5")
    sheets = list(target.sheets)
    sheets[s_index] = SheetInput(sheet.judge_id, tuple(points))
    raised = list(entries)
    raised[e_index] = EntryInput(target.entry_id, target.code, tuple(sheets), target.previous_score)

    def rank_of(group_entries):
        standings = rules.rank_group(group_entries, params)
        return next(s.rank for s in standings if s.entry_id == target.entry_id)

    assert rank_of(raised) <= rank_of(entries)


@FAST
@given(groups(), st.sampled_from(ALL_RULES), st.booleans())
def test_ranking_by_totals_gives_what_ranking_by_points_gives(group, params, first_known):
    """``rank_totals`` (the database's path: sheet totals, criterion sums asked for
    lazily) agrees with the rule book on every field but the criterion means it was not
    asked for; it asks only for entries still tied, one criterion at a time, and never
    for a sum it was given (the first criterion's, when ``first_known``)."""
    width, entries = group
    by_id = {e.entry_id: e for e in entries}
    asked: list[tuple[int, int]] = []

    def sum_of(entry_id, index):
        return int(sum((s.points[index] for s in by_id[entry_id].sheets), Decimal(0)) * 100)

    def sums(entry_ids, index):
        asked.extend((entry_id, index) for entry_id in entry_ids)
        return {entry_id: sum_of(entry_id, index) for entry_id in entry_ids}

    totals = [
        (
            e.entry_id,
            e.code,
            iter([(int(s.total * 100), s.judge_id) for s in e.sheets]),  # read once
            (sum_of(e.entry_id, 0),) if first_known and e.sheets else (),
        )
        for e in entries
    ]
    previous = {e.entry_id: e.previous_score for e in entries if e.previous_score is not None}
    fast = rank_totals(totals, params, criteria_count=width, criterion_sums=sums, previous=previous)
    full = rules.rank_group(entries, params, criteria_count=width)
    assert [s._replace(criterion_means=()) for s in fast] == [
        s._replace(criterion_means=()) for s in full
    ]
    for f, s in zip(fast, full, strict=True):
        assert f.criterion_means == s.criterion_means[: len(f.criterion_means)]
    assert len(asked) == len(set(asked))
    assert not (first_known and any(index == 0 for _, index in asked))
    if params.rule == "zscore":  # the oracle knows the other rules' scores
        return
    keys = {e.entry_id: oracle_key(e, params) for e in entries}
    for entry_id, index in asked:  # only entries equal to another through step b so far
        key = keys[entry_id]
        assert any(
            other is not None
            and other_id != entry_id
            and other[:2] == key[:2]
            and other[2][:index] == key[2][:index]
            for other_id, other in keys.items()
        )


@FAST
@given(
    groups(),
    st.sampled_from(NON_Z_RULES),
    st.lists(st.integers(0, 400).map(lambda k: Decimal(k) / 100), min_size=8, max_size=8),
    st.integers(0, 10),
)
def test_combined_ranks_match_an_exact_oracle(group, params, earlier, tenths):
    """Rule 3: rank on 0.1·k × an earlier stage's score + the rest × this stage's score; ties
    go to this stage's score, then Rule 4's chain. rank = 1 + the number strictly ahead on
    (combined, stage key); entries without every stage's score are unranked, last."""
    width, entries = group
    rows = rules.rank_group(entries, params, criteria_count=width)
    weight = Decimal(tenths) / 10
    scores = {
        "earlier": {e.entry_id: earlier[e.entry_id - 1] for e in entries if e.entry_id % 3},
        "this": {r.entry_id: r.score for r in rows},
    }
    combined = combine_stages(scores, {"earlier": weight, "this": 1 - weight})
    result = rank_combined(rows, combined)
    keys = {e.entry_id: oracle_key(e, params) for e in entries}

    def key(entry_id):
        if combined.get(entry_id) is None:
            return None
        return (Fraction(combined[entry_id]), keys[entry_id])

    assert sorted(s.entry_id for s in result) == sorted(e.entry_id for e in entries)
    for s in result:
        mine = key(s.entry_id)
        if mine is None:
            assert s.rank is None and s.score is None
            continue
        others = [key(i) for i in combined if i != s.entry_id and key(i) is not None]
        assert s.score == combined[s.entry_id]
        assert s.rank == 1 + sum(1 for k in others if k > mine)
        assert s.tied == any(k == mine for k in others)
    ranked = [s.rank for s in result if s.rank is not None]
    assert ranked == sorted(ranked)
    assert all(s.rank is None for s in result[len(ranked) :])


@FAST
@given(groups(), st.sampled_from(NON_Z_RULES))
def test_a_single_stage_of_weight_one_ranks_as_the_stage_itself(group, params):
    width, entries = group
    rows = rules.rank_group(entries, params, criteria_count=width)
    combined = combine_stages({"this": {r.entry_id: r.score for r in rows}}, {"this": Decimal(1)})
    result = rank_combined(rows, combined)
    assert [(s.entry_id, s.rank, s.score, s.tied) for s in result] == [
        (s.entry_id, s.rank, s.score, s.tied) for s in rows
    ]
