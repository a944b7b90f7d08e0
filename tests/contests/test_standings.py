"""Standings from the database: stored sheet totals, lazily read criterion means."""

from decimal import Decimal as D

from judging.common.enums import StageState
from judging.standings.groups import group_standings
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


def test_sheet_totals_come_back_sorted_with_their_own_judges(app):
    """Worked example of the per-entry lists the database aggregates (totals and judges,
    two lists that must line up). Five judges score one entry, written in a scrambled
    order: j1 30, j2 10, j3 50, j4 20, j5 40. Sorted by total: 10 (j2), 20 (j4), 30 (j1),
    40 (j5), 50 (j3); the default rule drops j2's 10 and j3's 50: (20 + 30 + 40) / 3 =
    30.00. A second entry has equal totals (j1 25, j2 25, j3 25, j4 10, j5 40): equal
    totals are ordered by judge id, so j1's 25 is the kept low one after j4's 10."""
    contest = create_contest()
    group = create_group(contest)
    stage = create_stage(contest, state=StageState.CLOSED)
    criterion = create_criterion(stage, group, "c", max_points="100")
    judges = [create_judge(contest) for _ in range(5)]
    one, two = create_entry(contest, group, "A"), create_entry(contest, group, "B")
    for index in (2, 0, 4, 1, 3):
        create_sheet(stage, judges[index], one, {criterion: ("30", "10", "50", "20", "40")[index]})
    for index in (4, 2, 0, 3, 1):
        create_sheet(stage, judges[index], two, {criterion: ("25", "25", "25", "10", "40")[index]})

    rows = {row.code: row for row in group_standings(stage, group).rows}
    ids = [judge.id for judge in judges]
    first = rows["A"]
    assert first.totals == tuple(D(v) for v in ("10", "20", "30", "40", "50"))
    assert first.judge_ids == (ids[1], ids[3], ids[0], ids[4], ids[2])
    assert first.dropped_low == ((ids[1], D("10")),) and first.dropped_high == ((ids[2], D("50")),)
    assert first.score == D("30.00")
    second = rows["B"]
    assert second.judge_ids == (ids[3], ids[0], ids[1], ids[2], ids[4])
    assert second.score == D("25.00") and second.mean_all == D("25")


def test_a_tie_through_every_criterion_goes_to_the_previous_stage(app, monkeypatch):
    """Worked example of step c through the database. Stage 1: A 60, B 70 (one sheet each,
    one criterion). Stage 2 (two criteria): A and B both get (30, 20) from two judges, so
    they tie on the score 50.00, the mean of all sheets and both criterion means; the
    previous stage's score puts B (70) ahead of A (60). The second criterion's sums are
    read once, though the group is ranked twice (the second time with stage 1's scores)."""
    import judging.standings.groups as standings_module

    contest = create_contest()
    group = create_group(contest)
    first = create_stage(contest, state=StageState.CLOSED)
    second = create_stage(contest, code="final", position=2, state=StageState.CLOSED)
    c1 = create_criterion(first, group, "c", max_points="100")
    c2 = [create_criterion(second, group, f"d{i}", max_points="50") for i in range(2)]
    judges = [create_judge(contest) for _ in range(2)]
    a, b = create_entry(contest, group, "A"), create_entry(contest, group, "B")
    create_sheet(first, judges[0], a, {c1: "60"})
    create_sheet(first, judges[0], b, {c1: "70"})
    for entry in (a, b):
        for judge in judges:
            create_sheet(second, judge, entry, {c2[0]: "30", c2[1]: "20"})
    reads = []
    original = standings_module.criterion_sums

    def counted_reads(stage_id, criterion_id, *args):
        reads.append(criterion_id)
        return original(stage_id, criterion_id, *args)

    monkeypatch.setattr(standings_module, "criterion_sums", counted_reads)
    rows = group_standings(second, group).rows
    assert [(r.code, r.rank, r.score, r.tied) for r in rows] == [
        ("B", 1, D("50.00"), False),
        ("A", 2, D("50.00"), False),
    ]
    assert [(s.step, s.value, s.other_value) for s in rows[0].tiebreak] == [
        ("previous_stage", D("70.00"), D("60.00"))
    ]
    assert reads == [c2[1].id]
