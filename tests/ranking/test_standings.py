"""Rules 3 and 4 by hand: every tie-break step, a tie that survives, stage weights.

Each worked example runs on the rule book (``rules.rank_group``) and as the app ranks
(``judging.ranking.rank``): the hand-computed answer is the rule book's, and the app's too.
"""

from decimal import Decimal

import pytest

from judging.ranking import EntryInput, SheetInput, combine_stages, rules
from judging.ranking import rank as app_rank
from judging.ranking.models import show_pair
from judging.ranking.standings import rank_combined as app_rank_combined

D = Decimal


@pytest.fixture(params=["rule book", "app"])
def rank(request):
    """Rank one group: by the rule book, then as the app ranks (``judging.ranking.rank``)."""
    return rules.rank_group if request.param == "rule book" else app_rank


@pytest.fixture(params=["rule book", "app"])
def ranked_on_weights(request):
    """Rank stage standings on combined scores (Rule 3): rule book, then as the app does."""
    if request.param == "rule book":
        return lambda entries, combined: rules.rank_combined(rules.rank_group(entries), combined)
    return lambda entries, combined: app_rank_combined(app_rank(entries), combined)


def entry(entry_id: int, *sheets: tuple[str, ...], previous: str | None = None) -> EntryInput:
    """An entry whose sheets are given as point strings, judges numbered 1, 2, 3, …"""
    return EntryInput(
        entry_id,
        f"A-{entry_id:03d}",
        tuple(
            SheetInput(judge, tuple(D(p) for p in points))
            for judge, points in enumerate(sheets, start=1)
        ),
        D(previous) if previous is not None else None,
    )


def by_code(standings):
    """The standings keyed by code."""
    return {s.code: s for s in standings}


def test_standings_sorted_by_score_with_trimmed_details(rank):
    # totals 70, 80, 85, 90, 100 → drop 70 and 100 → 255 / 3 = 85.00
    # totals 80, 80, 90, 90, 95 → drop 80 (judge 1) and 95 → 260 / 3 = 86.67
    a = entry(1, ("70",), ("80",), ("85",), ("90",), ("100",))
    b = entry(2, ("80",), ("80",), ("90",), ("90",), ("95",))
    standings = rank([a, b])
    assert [(s.code, s.rank, s.score) for s in standings] == [
        ("A-002", 1, D("86.67")),
        ("A-001", 2, D("85.00")),
    ]
    top = standings[0]
    assert top.sheet_count == 5
    assert top.dropped_low == ((1, D("80")),)  # of the two 80s, judge 1 (lower id)
    assert top.dropped_high == ((5, D("95")),)
    assert top.kept == ((2, D("80")), (3, D("90")), (4, D("90")))
    assert top.dropped == ((1, D("80")), (5, D("95")))
    assert top.tiebreak == () and not top.tied


def test_tie_broken_by_the_mean_of_all_sheets(rank):
    # Both trimmed to (80 + 85 + 90) / 3 = 85.00.
    # A-001 all sheets: (70 + 80 + 85 + 90 + 100) / 5 = 425 / 5 = 85.00
    # A-002 all sheets: (60 + 80 + 85 + 90 + 99) / 5 = 414 / 5 = 82.80 → behind
    a = entry(1, ("70",), ("80",), ("85",), ("90",), ("100",))
    b = entry(2, ("60",), ("80",), ("85",), ("90",), ("99",))
    standings = rank([b, a])
    assert [(s.code, s.rank, s.score) for s in standings] == [
        ("A-001", 1, D("85.00")),
        ("A-002", 2, D("85.00")),
    ]
    first, second = standings
    assert first.mean_all == D("85") and second.mean_all == D("82.8")
    (step,) = first.tiebreak
    assert (step.step, step.other_code, step.value, step.other_value, step.outcome) == (
        "all_sheets_mean",
        "A-002",
        D("85"),
        D("82.8"),
        "ahead",
    )
    assert step.describe() == (
        "tied with A-002 at 85.00; ahead, separated by the mean of all sheets: 85.00 vs 82.80"
    )
    assert second.tiebreak[0].describe() == (
        "tied with A-001 at 85.00; behind, separated by the mean of all sheets: 82.80 vs 85.00"
    )
    assert not first.tied and not second.tied


def test_tie_broken_by_the_first_criterion(rank):
    # Every sheet totals 85, so score and mean of all sheets are 85.00 for both.
    # First criterion: A-001 (50 + 48 + 46) / 3 = 48.00, A-002 (45 + 45 + 45) / 3 = 45.00.
    # Step b comes before step c: A-002's better previous stage does not matter.
    a = entry(1, ("50", "35"), ("48", "37"), ("46", "39"), previous="70.00")
    b = entry(2, ("45", "40"), ("45", "40"), ("45", "40"), previous="90.00")
    first, second = rank([b, a])
    assert (first.code, second.code) == ("A-001", "A-002")
    assert (first.rank, second.rank) == (1, 2)
    step = first.tiebreak[0]
    assert (step.step, step.criterion_index, step.value, step.other_value) == (
        "criterion:0",
        0,
        D("48"),
        D("45"),
    )
    assert step.describe(["技术与产品", "商业模式"]) == (
        "tied with A-002 at 85.00; ahead, separated by the mean points of 技术与产品: "
        "48.00 vs 45.00"
    )


def test_tie_broken_by_the_second_criterion(rank):
    # Totals all 85; first criterion 30 for both; second criterion
    # A-001 (32 + 30) / 2 = 31.00 against A-002 (30 + 30) / 2 = 30.00.
    a = entry(1, ("30", "32", "23"), ("30", "30", "25"))
    b = entry(2, ("30", "30", "25"), ("30", "30", "25"))
    first, second = rank([b, a], criteria_count=3)
    assert (first.code, first.rank, second.code, second.rank) == ("A-001", 1, "A-002", 2)
    assert first.tiebreak[0].step == "criterion:1"
    assert (first.tiebreak[0].value, first.tiebreak[0].other_value) == (D("31"), D("30"))
    assert first.criterion_means == (D("30"), D("31"), D("24"))
    assert first.tiebreak[0].describe() == (
        "tied with A-002 at 85.00; ahead, separated by the mean points of criterion 2: "
        "31.00 vs 30.00"
    )


def test_tie_broken_by_the_previous_stage(rank):
    # Identical sheets (score, mean and criteria equal: (85 + 83) / 2 = 84.00); previous
    # stage 80.00 beats 78.50, and any previous score beats none.
    sheets = (("40", "45"), ("42", "41"))
    a = entry(1, *sheets, previous="78.50")
    b = entry(2, *sheets, previous="80.00")
    c = entry(3, *sheets)
    standings = rank([a, c, b])
    assert [(s.code, s.rank) for s in standings] == [("A-002", 1), ("A-001", 2), ("A-003", 3)]
    top, middle, last = standings
    assert top.tiebreak[0].step == "previous_stage"
    assert (top.tiebreak[0].value, top.tiebreak[0].other_value) == (D("80.00"), D("78.50"))
    # the middle entry explains both neighbours
    assert [(t.other_code, t.outcome) for t in middle.tiebreak] == [
        ("A-002", "behind"),
        ("A-003", "ahead"),
    ]
    # totals 85 and 83: (85 + 83) / 2 = 84.00 for all three
    assert middle.tiebreak[1].describe() == (
        "tied with A-003 at 84.00; ahead, separated by the previous stage's score: 78.50 vs none"
    )
    assert not any(s.tied for s in standings)


def test_a_tie_that_survives_every_step_shares_the_rank(rank):
    # W 90, X and Y identical (same sheets, no previous stage), Z 80 → ranks 1, 2, 2, 4.
    w = entry(1, ("90",), ("90",))
    x = entry(3, ("85",), ("86",))
    y = entry(2, ("86",), ("85",))
    z = entry(4, ("80",), ("80",))
    standings = rank([z, y, x, w])
    assert [(s.code, s.rank, s.score, s.tied) for s in standings] == [
        ("A-001", 1, D("90.00"), False),
        ("A-002", 2, D("85.50"), True),  # fully tied entries are listed by code
        ("A-003", 2, D("85.50"), True),
        ("A-004", 4, D("80.00"), False),
    ]
    step = by_code(standings)["A-002"].tiebreak[0]
    assert (step.step, step.other_code, step.outcome) == ("unresolved", "A-003", "tied")
    assert step.describe() == (
        "tied with A-003 at 85.50; still tied after every tie-break step: shared rank, for the jury"
    )


def test_entries_without_sheets_come_last_unranked(rank):
    scored = entry(2, ("70",))
    empty = EntryInput(1, "A-001", ())
    standings = rank([empty, scored])
    assert [(s.code, s.rank, s.score) for s in standings] == [
        ("A-002", 1, D("70.00")),
        ("A-001", None, None),
    ]
    assert not standings[1].is_ranked


def test_sheets_must_match_the_rubric(rank):
    with pytest.raises(ValueError, match="A-001"):
        rank([entry(1, ("1", "2"), ("1",))])
    with pytest.raises(ValueError, match="expected 3"):
        rank([entry(1, ("1", "2"))], criteria_count=3)


def test_stage_weights_thirty_seventy():
    # 复赛 30% + 决赛 70%:
    #   entry 1: 0.3 × 80.00 + 0.7 × 90.00 = 24.000 + 63.000 = 87.00
    #   entry 2: 0.3 × 80.15 + 0.7 × 80.00 = 24.045 + 56.000 = 80.045 → 80.05 half-up
    #            (round-half-even would give 80.04)
    #   entry 3: no final score → None
    semi = {1: D("80.00"), 2: D("80.15"), 3: D("88.00")}
    final = {1: D("90.00"), 2: D("80.00")}
    combined = combine_stages({"semi": semi, "final": final}, {"semi": D("0.3"), "final": D("0.7")})
    assert combined == {1: D("87.00"), 2: D("80.05"), 3: None}


def test_stage_weights_must_sum_to_one():
    with pytest.raises(ValueError, match="sum to 1"):
        combine_stages({"semi": {}, "final": {}}, {"semi": D("0.3"), "final": D("0.6")})
    with pytest.raises(TypeError, match="float"):
        combine_stages({"semi": {}, "final": {}}, {"semi": 0.5, "final": 0.5})
    with pytest.raises(ValueError, match="without a weight"):
        combine_stages(
            {"semi": {}, "final": {}, "prelim": {}}, {"semi": D("0.3"), "final": D("0.7")}
        )


def test_explanations_show_as_many_decimals_as_tell_values_apart():
    assert show_pair(D("85.43"), D("85.1")) == ("85.43", "85.10")
    # 85.433 and 85.427 both read 85.43 with two decimals
    assert show_pair(D("85.433"), D("85.427")) == ("85.433", "85.427")
    assert show_pair(D("78.5"), None) == ("78.50", "none")


def test_weights_reorder_the_final_and_ties_go_to_the_stage_score(ranked_on_weights):
    # 复赛 0.3 + 决赛 0.7, one sheet per entry and stage (plain mean):
    #   entry  复赛   决赛   combined = 0.3 × 复赛 + 0.7 × 决赛
    #   P      90.00  80.00  27.00 + 56.00 = 83.00
    #   Q      70.00  85.00  21.00 + 59.50 = 80.50
    #   R      80.00  82.00  24.00 + 57.40 = 81.40
    #   T      87.00  79.00  26.10 + 55.30 = 81.40   (ties R; R's 决赛 82 > 79: R first)
    #   U      —      95.00  no 复赛 score: not ranked on the combined score
    # The 决赛 alone ranks U 95, Q 85, R 82, P 80, T 79; combined: P, R, T, Q; U unranked.
    final = [entry(i, (points,)) for i, points in enumerate(["80", "85", "82", "79", "95"], 1)]
    semi = {1: D("90.00"), 2: D("70.00"), 3: D("80.00"), 4: D("87.00")}
    scores = {"semi": semi, "final": {e.entry_id: D(e.sheets[0].points[0]) for e in final}}
    combined = combine_stages(scores, {"semi": D("0.3"), "final": D("0.7")})
    assert combined == {1: D("83.00"), 2: D("80.50"), 3: D("81.40"), 4: D("81.40"), 5: None}
    rows = ranked_on_weights(final, combined)
    assert [(s.code, s.rank, s.score, s.tied) for s in rows] == [
        ("A-001", 1, D("83.00"), False),
        ("A-003", 2, D("81.40"), False),
        ("A-004", 3, D("81.40"), False),
        ("A-002", 4, D("80.50"), False),
        ("A-005", None, None, False),
    ]
    step = rows[1].tiebreak[0]
    assert (step.step, step.other_code, step.value, step.other_value, step.outcome) == (
        "stage_score",
        "A-004",
        D("82.00"),
        D("79.00"),
        "ahead",
    )
