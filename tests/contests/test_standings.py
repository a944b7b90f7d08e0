"""Standings from the database: stored sheet totals, lazily read criterion means."""

from decimal import Decimal as D

from judging.common.enums import StageState
from judging.contests.standings import group_standings
from tests.conftest import (
    create_conflict,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)


def test_ties_are_broken_by_criterion_means_read_only_as_far_as_needed(app):
    """Worked example. Every counted sheet totals 20, so A, B and C share the score 20.00
    and the mean of all sheets (step a). Step b, first criterion: 10 = 10 = 10; second:
    B 6 > A 5 = C 5, so B is first; third: A 5 = C 5, so A and C stay tied (no previous
    stage): shared rank 2, flagged. Judge 3's sheet on B (300 points) does not count:
    a binding conflict. D has a draft only: no score, no rank."""
    contest = create_contest()
    group = create_group(contest)
    stage = create_stage(contest, state=StageState.CLOSED)
    rubric = [create_criterion(stage, group, f"c{i}", max_points="100") for i in range(3)]
    judges = [create_judge(contest) for _ in range(3)]
    a, b, c, d = (create_entry(contest, group, code) for code in ("A", "B", "C", "D"))
    sheets = {
        a: [("10", "5", "5"), ("10", "5", "5")],
        b: [("10", "6", "4"), ("10", "6", "4")],
        c: [("9", "5", "6"), ("11", "5", "4")],
    }
    for entry, points in sheets.items():
        for judge, values in zip(judges, points, strict=False):
            create_sheet(stage, judge, entry, dict(zip(rubric, values, strict=True)))
    create_sheet(stage, judges[2], b, dict(zip(rubric, ("100", "100", "100"), strict=True)))
    create_conflict(judges[2], b)
    create_sheet(stage, judges[0], d, {rubric[0]: "50"}, submitted=False)

    standings = group_standings(stage, group)
    rows = {row.code: row for row in standings.rows}
    assert [(r.code, r.rank, r.score, r.tied) for r in standings.rows] == [
        ("B", 1, D("20.00"), False),
        ("A", 2, D("20.00"), True),
        ("C", 2, D("20.00"), True),
        ("D", None, None, False),
    ]
    assert rows["B"].totals == (D("20.00"), D("20.00")), "the conflicted sheet is left out"
    assert [(s.step, s.other_code, s.outcome) for s in rows["B"].tiebreak] == [
        ("criterion:1", "A", "ahead")
    ]
    assert [(s.step, s.other_code, s.outcome) for s in rows["C"].tiebreak] == [
        ("unresolved", "A", "tied")
    ]
    # Means were read criterion by criterion, only while entries stayed equal.
    assert rows["B"].criterion_means == (D(10), D(6))
    assert rows["A"].criterion_means == rows["C"].criterion_means == (D(10), D(5), D(5))
    # The results page asks for every mean and the z-score: computed then, and kept.
    assert standings.criterion_means(rows["B"]) == (D(10), D(6), D(4))
    assert standings.zscore(rows["B"]) is not None
    assert standings.criterion_means(rows["D"]) == () and standings.zscore(rows["D"]) is None
