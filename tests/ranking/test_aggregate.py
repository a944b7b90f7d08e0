"""Rules 1 and 2 by hand, on the rule book: each aggregation rule, half-up rounding, and
the z-score on a small case (the z-score ranking also as the app ranks)."""

from decimal import Decimal
from fractions import Fraction

import pytest

from judging.ranking import EntryInput, RuleParams, SheetInput, rank, round_score, rules

D = Decimal


def sheets(*totals: str) -> list[SheetInput]:
    """One-criterion sheets with these totals (strings, never floats), judges 1, 2, 3, …"""
    return [SheetInput(judge, (D(total),)) for judge, total in enumerate(totals, start=1)]


def test_a_sheet_total_is_the_sum_of_its_points():
    # Rule 1: 28.5 + 20 + 17.5 + 9 + 8 = 83.0
    sheet = SheetInput(7, (D("28.5"), D("20"), D("17.5"), D("9"), D("8")))
    assert rules.sheet_total(sheet) == D("83.0")


def test_trimmed_with_five_sheets_drops_one_highest_and_one_lowest():
    # 去掉一个最高分和一个最低分: judges 1–5 give 78.5, 91.5, 60, 82, 88;
    # sorted 60 (j3), 78.5 (j1), 82 (j4), 88 (j5), 91.5 (j2) → drop 60 and 91.5;
    # (78.5 + 82 + 88) / 3 = 248.5 / 3 = 82.8333… → 82.83
    result = rules.stage_score(sheets("78.5", "91.5", "60", "82", "88"), RuleParams())
    assert result.score == D("82.83")
    assert result.exact == Fraction("248.5") / 3
    assert result.dropped_low == ((D("60"), 3),)
    assert result.dropped_high == ((D("91.5"), 2),)
    assert result.kept == ((D("78.5"), 1), (D("82"), 4), (D("88"), 5))
    # The standing carries the exact value to 40 significant digits: 82.8333…
    (standing,) = rules.rank_group(
        [EntryInput(1, "A-001", tuple(sheets("78.5", "91.5", "60", "82", "88")))]
    )
    assert str(standing.exact) == "82." + "8" + "3" * 37


def test_trimmed_with_four_sheets_is_the_plain_mean():
    # Fewer than 5 sheets: nothing dropped; (60 + 78.5 + 82 + 88) / 4 = 308.5 / 4 = 77.125
    # → 77.13 half-up (round-half-even would give 77.12).
    result = rules.stage_score(sheets("60", "78.5", "82", "88"), RuleParams())
    assert result.exact == Fraction("77.125")
    assert result.score == D("77.13")
    assert result.dropped_low == result.dropped_high == ()
    assert len(result.kept) == 4


def test_trimmed_with_k_two_drops_two_at_each_end():
    # trim=2, 7 sheets: sorted 50, 60, 70, 80, 90, 95, 99 → drop 50, 60 and 95, 99;
    # (70 + 80 + 90) / 3 = 240 / 3 = 80.00
    params = RuleParams("trimmed", trim=2, min_sheets_to_trim=5)
    result = rules.stage_score(sheets("99", "50", "70", "95", "60", "90", "80"), params)
    assert result.score == D("80.00")
    assert [total for total, _ in result.dropped_low] == [D("50"), D("60")]
    assert [total for total, _ in result.dropped_high] == [D("95"), D("99")]
    # With 4 sheets trim=2 would drop everything (4 is not more than 2 × 2): plain mean,
    # (50 + 60 + 70 + 81) / 4 = 261 / 4 = 65.25.
    assert rules.stage_score(sheets("50", "60", "70", "81"), params).score == D("65.25")
    assert rules.trim_count(4, params) == 0 and rules.trim_count(5, params) == 2


def test_mean_averages_every_sheet():
    # (85.5 + 86 + 90) / 3 = 261.5 / 3 = 87.1666… → 87.17
    result = rules.stage_score(sheets("85.5", "86", "90"), RuleParams("mean"))
    assert result.score == D("87.17")
    assert len(result.kept) == 3


def test_median_of_an_odd_count_is_the_middle_total():
    # sorted 70, 80, 95 → 80.00; 70 counts as dropped low and 95 as dropped high
    result = rules.stage_score(sheets("70", "95", "80"), RuleParams("median"))
    assert result.score == D("80.00")
    assert result.kept == ((D("80"), 3),)
    assert result.dropped_low == ((D("70"), 1),)
    assert result.dropped_high == ((D("95"), 2),)


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_totals():
    # sorted 70, 80.5, 85, 95 → (80.5 + 85) / 2 = 165.5 / 2 = 82.75
    result = rules.stage_score(sheets("95", "80.5", "70", "85"), RuleParams("median"))
    assert result.score == D("82.75")
    assert result.kept == ((D("80.5"), 2), (D("85"), 4))


def test_no_sheets_means_no_score():
    assert rules.stage_score([], RuleParams()) is None


def test_rounding_is_half_up_at_xx5_where_float_would_round_down():
    # (85 + 85 + 85.5 + 85) / 4 = 340.5 / 4 = 85.125 exactly → 85.13 half-up.
    # float: 85.125 is exact in binary and round() rounds half to even → 85.12.
    four = sheets("85", "85", "85.5", "85")
    assert rules.stage_score(four, RuleParams()).score == D("85.13")
    assert round((85 + 85 + 85.5 + 85) / 4, 2) == 85.12
    # (85.1 + 85.13) / 2 = 170.23 / 2 = 85.115 exactly → 85.12 half-up.
    # float: 170.23 / 2 is 85.114999… in binary → round() gives 85.11.
    two = sheets("85.1", "85.13")
    assert rules.stage_score(two, RuleParams("mean")).score == D("85.12")
    assert round((85.1 + 85.13) / 2, 2) == 85.11
    assert rules.round_half_up(Fraction("85.115")) == D("85.12")
    assert rules.round_half_up(Fraction("85.125")) == D("85.13")
    assert rules.round_half_up(Fraction("85.1249999")) == D("85.12")
    # A half goes away from zero (a z-score can be negative): −0.125 → −0.13.
    assert rules.round_half_up(Fraction("-0.125")) == D("-0.13")
    # The Decimal helper the app uses for 40-digit values rounds the same way.
    assert round_score(D("85.115")) == D("85.12")
    assert round_score(D("85.125")) == D("85.13")


def test_which_equal_total_is_dropped_follows_the_judge_not_the_order():
    # Two 95s, from judges 9 and 4: the one dropped as highest is the larger judge id
    # (sheets ascending by total, then judge), whatever order the sheets come in.
    given = [
        SheetInput(j, (D(t),)) for j, t in ((9, "95"), (2, "80"), (4, "95"), (5, "70"), (1, "85"))
    ]
    result = rules.stage_score(given, RuleParams())
    assert result.dropped_high == ((D("95"), 9),)
    swapped = rules.stage_score(list(reversed(given)), RuleParams())
    assert swapped.dropped_high == ((D("95"), 9),)
    # (80 + 85 + 95) / 3 = 86.67 whichever 95 is dropped
    assert result.score == swapped.score == D("86.67")


def test_a_sheet_counts_only_when_submitted_complete_and_not_conflicted():
    # Rule 2: "the submitted sheets of its non-conflicted judges"; a sheet missing a
    # criterion of the rubric cannot be totalled fairly.
    assert rules.sheet_counts(submitted=True, binding_conflict=False, points=5, rubric=5)
    assert not rules.sheet_counts(submitted=False, binding_conflict=False, points=5, rubric=5)
    assert not rules.sheet_counts(submitted=True, binding_conflict=True, points=5, rubric=5)
    assert not rules.sheet_counts(submitted=True, binding_conflict=False, points=4, rubric=5)


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="bogus"):
        RuleParams("bogus")


def sheet(judge_id: int, total: str) -> SheetInput:
    """A one-criterion sheet."""
    return SheetInput(judge_id, (D(total),))


@pytest.mark.parametrize("ranked", [rules.rank_group, rank], ids=["rule book", "app"])
def test_zscore_on_three_judges(ranked):
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
    assert {k: round_score(v) for k, v in rules.zscores([x, y]).items()} == {
        1: D("72.10"),
        2: D("84.35"),
    }

    # The plain mean puts X first (235 / 3 = 78.33 against 75.00); normalising the
    # generous single sheet of judge 3 away puts Y first.
    by_mean = ranked([x, y], RuleParams("mean"))
    assert [(s.code, s.score, s.zscore) for s in by_mean] == [
        ("A-001", D("78.33"), D("72.10")),
        ("A-002", D("75.00"), D("84.35")),
    ]
    by_z = ranked([x, y], RuleParams("zscore"))
    assert [(s.code, s.rank, s.score) for s in by_z] == [
        ("A-002", 1, D("84.35")),
        ("A-001", 2, D("72.10")),
    ]


def test_zscore_leaves_out_entries_without_sheets():
    lone = EntryInput(3, "A-003", ())
    x = EntryInput(1, "A-001", (sheet(1, "80"),))
    # One sheet overall: no spread anywhere, so X maps onto the overall mean, 80.00.
    assert {k: round_score(v) for k, v in rules.zscores([x, lone]).items()} == {1: D("80.00")}
