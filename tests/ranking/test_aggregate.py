"""Rule 2 by hand: each aggregation rule, half-up rounding, and the z-score on a small case."""

from decimal import Decimal

import pytest

from judging.ranking import (
    EXACT,
    EntryInput,
    RuleParams,
    SheetInput,
    aggregate,
    rank,
    round_score,
    zscore_scores,
)

D = Decimal


def totals(*values: str) -> list[Decimal]:
    """Sheet totals from strings (never floats)."""
    return [D(v) for v in values]


def test_a_sheet_total_is_the_sum_of_its_points():
    # Rule 1: 28.5 + 20 + 17.5 + 9 + 8 = 83.0
    sheet = SheetInput(7, (D("28.5"), D("20"), D("17.5"), D("9"), D("8")))
    assert sheet.total == D("83.0")


def test_trimmed_with_five_sheets_drops_one_highest_and_one_lowest():
    # 去掉一个最高分和一个最低分: sorted 60, 78.5, 82, 88, 91.5 → drop 60 and 91.5;
    # (78.5 + 82 + 88) / 3 = 248.5 / 3 = 82.8333… → 82.83
    result = aggregate(totals("78.5", "91.5", "60", "82", "88"))
    assert result.score == D("82.83")
    # exact to 40 significant digits: 82.83333333333333333333333333333333333333
    assert result.exact == EXACT.divide(D("248.5"), 3)
    assert str(result.exact) == "82." + "8" + "3" * 37
    assert result.dropped_low == (2,)  # the 60
    assert result.dropped_high == (1,)  # the 91.5
    assert result.kept == (0, 3, 4)  # 78.5, 82, 88 in ascending order


def test_trimmed_with_four_sheets_is_the_plain_mean():
    # Fewer than 5 sheets: nothing dropped; (60 + 78.5 + 82 + 88) / 4 = 308.5 / 4 = 77.125
    # → 77.13 half-up (round-half-even would give 77.12).
    result = aggregate(totals("60", "78.5", "82", "88"))
    assert result.exact == D("77.125")
    assert result.score == D("77.13")
    assert result.dropped_low == result.dropped_high == ()
    assert len(result.kept) == 4


def test_trimmed_with_k_two_drops_two_at_each_end():
    # trim=2, 7 sheets: sorted 50, 60, 70, 80, 90, 95, 99 → drop 50, 60 and 95, 99;
    # (70 + 80 + 90) / 3 = 240 / 3 = 80.00
    params = RuleParams("trimmed", trim=2, min_sheets_to_trim=5)
    result = aggregate(totals("99", "50", "70", "95", "60", "90", "80"), params)
    assert result.score == D("80.00")
    assert sorted(result.dropped_low) == [1, 4]  # 50, 60
    assert sorted(result.dropped_high) == [0, 3]  # 99, 95
    # With 4 sheets trim=2 would drop everything (4 is not more than 2 × 2): plain mean,
    # (50 + 60 + 70 + 81) / 4 = 261 / 4 = 65.25.
    assert aggregate(totals("50", "60", "70", "81"), params).score == D("65.25")


def test_mean_averages_every_sheet():
    # (85.5 + 86 + 90) / 3 = 261.5 / 3 = 87.1666… → 87.17
    result = aggregate(totals("85.5", "86", "90"), RuleParams("mean"))
    assert result.score == D("87.17")
    assert result.kept == (0, 1, 2)


def test_median_of_an_odd_count_is_the_middle_total():
    # sorted 70, 80, 95 → 80.00; 70 counts as dropped low and 95 as dropped high
    result = aggregate(totals("70", "95", "80"), RuleParams("median"))
    assert result.score == D("80.00")
    assert result.kept == (2,)
    assert result.dropped_low == (0,)
    assert result.dropped_high == (1,)


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_totals():
    # sorted 70, 80.5, 85, 95 → (80.5 + 85) / 2 = 165.5 / 2 = 82.75
    result = aggregate(totals("95", "80.5", "70", "85"), RuleParams("median"))
    assert result.score == D("82.75")
    assert result.kept == (1, 3)


def test_no_sheets_means_no_score():
    result = aggregate([])
    assert result.score is None and result.exact is None


def test_rounding_is_half_up_at_xx5_where_float_would_round_down():
    # (85 + 85 + 85.5 + 85) / 4 = 340.5 / 4 = 85.125 exactly → 85.13 half-up.
    # float: 85.125 is exact in binary and round() rounds half to even → 85.12.
    four = totals("85", "85", "85.5", "85")
    assert aggregate(four).score == D("85.13")
    assert round((85 + 85 + 85.5 + 85) / 4, 2) == 85.12
    # (85.1 + 85.13) / 2 = 170.23 / 2 = 85.115 exactly → 85.12 half-up.
    # float: 170.23 / 2 is 85.114999… in binary → round() gives 85.11.
    two = totals("85.1", "85.13")
    assert aggregate(two, RuleParams("mean")).score == D("85.12")
    assert round((85.1 + 85.13) / 2, 2) == 85.11
    assert round_score(D("85.115")) == D("85.12")
    assert round_score(D("85.125")) == D("85.13")
    assert round_score(D("85.1249999")) == D("85.12")


def test_which_equal_total_is_dropped_follows_the_judge_not_the_order():
    # Two 95s: the one dropped as highest is the larger judge id (ascending by total, judge).
    values = totals("95", "80", "95", "70", "85")
    ids = [9, 2, 4, 5, 1]
    result = aggregate(values, judge_ids=ids)
    assert [ids[i] for i in result.dropped_high] == [9]
    swapped = aggregate(list(reversed(values)), judge_ids=list(reversed(ids)))
    assert [list(reversed(ids))[i] for i in swapped.dropped_high] == [9]
    # (80 + 85 + 95) / 3 = 86.67 whichever 95 is dropped
    assert result.score == swapped.score == D("86.67")


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="bogus"):
        RuleParams("bogus")


def sheet(judge_id: int, total: str) -> SheetInput:
    """A one-criterion sheet."""
    return SheetInput(judge_id, (D(total),))


def test_zscore_on_three_judges():
    # Judge 1 scored X 80 and Y 90: mean 85, population SD 5 → z(X) = −1, z(Y) = +1.
    # Judge 2 scored both 60: no spread → z = 0 for both.
    # Judge 3 scored only X, 95: one sheet → z = 0.
    # X: mean z = (−1 + 0 + 0) / 3 = −1/3;  Y: mean z = (1 + 0) / 2 = 1/2.
    # All five sheets 80, 60, 95, 90, 60: mean 385 / 5 = 77; squared deviations
    # 9 + 289 + 324 + 169 + 289 = 1080, variance 1080 / 5 = 216, SD √216 = 14.69693845669…
    # X: 77 − 14.69693845669 / 3 = 77 − 4.89897948556 = 72.10102… → 72.10
    # Y: 77 + 14.69693845669 / 2 = 77 + 7.34846922835 = 84.34846… → 84.35
    x = EntryInput(1, "A-001", (sheet(1, "80"), sheet(2, "60"), sheet(3, "95")))
    y = EntryInput(2, "A-002", (sheet(1, "90"), sheet(2, "60")))
    assert zscore_scores([x, y]) == {1: D("72.10"), 2: D("84.35")}

    # The plain mean puts X first (235 / 3 = 78.33 against 75.00); normalising the
    # generous single sheet of judge 3 away puts Y first.
    by_mean = rank([x, y], RuleParams("mean"))
    assert [(s.code, s.score, s.zscore) for s in by_mean] == [
        ("A-001", D("78.33"), D("72.10")),
        ("A-002", D("75.00"), D("84.35")),
    ]
    by_z = rank([x, y], RuleParams("zscore"))
    assert [(s.code, s.rank, s.score) for s in by_z] == [
        ("A-002", 1, D("84.35")),
        ("A-001", 2, D("72.10")),
    ]


def test_zscore_leaves_out_entries_without_sheets():
    lone = EntryInput(3, "A-003", ())
    x = EntryInput(1, "A-001", (sheet(1, "80"),))
    # One sheet overall: no spread anywhere, so X maps onto the overall mean, 80.00.
    assert zscore_scores([x, lone]) == {1: D("80.00")}
