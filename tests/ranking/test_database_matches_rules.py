"""The standings the app reads from the database are the rule book's (hypothesis).

Random contests are written to the database — two stages, two groups, drafts, sheets
missing a criterion, binding, proposed and dismissed conflicts, withdrawn entries,
entries taking part by assignment only, every aggregation rule, stage weights — and
``group_standings`` (the reading and the fast path) must give, for every stage and
group, what the rule book gives from the same rows read plainly through the ORM: which
sheets count (``rules.sheet_counts``), the previous stage's scores for step c, the
combined scores (Rule 3).
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judging.common.enums import ConflictStatus, EntryStatus, SheetState, StageState
from judging.entries.models import Participation
from judging.extensions import db
from judging.judges.models import Assignment, Conflict
from judging.ranking import rules
from judging.ranking.models import EntryInput, SheetInput
from judging.scoring.models import ScoreSheet
from judging.standings.groups import group_standings, params_of, weighted_stages
from tests.conftest import (
    create_assignment,
    create_conflict,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)
from tests.ranking.test_fast_matches_rules import RULE_PARAMS

_contests = itertools.count(1)
POINTS = st.sampled_from(["0", "0.5", "1", "1.5", "2"])
SHEET = st.sampled_from(["none", "submitted", "submitted", "submitted", "draft", "partial"])


@st.composite
def contests(draw):
    """The plan of a contest: per stage a rule and a rubric width per group; judges;
    entries with a status, group, and per stage a sheet from each judge (none, submitted,
    a draft, or submitted without its last criterion) or just an assignment; conflicts;
    weights or none."""
    stages = [(draw(RULE_PARAMS), [draw(st.integers(1, 3)) for _ in range(2)]) for _ in range(2)]
    judges = draw(st.integers(1, 5))
    entries = []
    for _ in range(draw(st.integers(1, 8))):
        per_stage = []
        for _ in stages:
            per_stage.append(
                {
                    "sheets": [draw(SHEET) for _ in range(judges)],
                    "points": [[draw(POINTS) for _ in range(3)] for _ in range(judges)],
                    "assigned": draw(st.booleans()),
                    "advanced": draw(st.booleans()),
                }
            )
        entries.append(
            {
                "group": draw(st.integers(0, 1)),
                "status": draw(st.sampled_from(["registered"] * 5 + ["withdrawn"])),
                "stages": per_stage,
            }
        )
    conflicts = draw(
        st.lists(
            st.tuples(
                st.integers(0, judges - 1),
                st.integers(0, len(entries) - 1),
                st.sampled_from(list(ConflictStatus)),
            ),
            unique_by=lambda c: c[:2],
            max_size=4,
        )
    )
    weights = draw(st.sampled_from([None, ("0.3", "0.7"), ("0.5", "0.5"), ("0.25", "0.5")]))
    return stages, judges, entries, conflicts, weights


def build(plan):
    """Write the planned contest; return its stages and groups."""
    stage_plans, judge_count, entry_plans, conflict_plans, weights = plan
    contest = create_contest(f"property-{next(_contests)}")
    groups = [create_group(contest, "angel", "天使组"), create_group(contest, "growth", "成长组")]
    stages = []
    for position, (params, widths) in enumerate(stage_plans, 1):
        stage = create_stage(
            contest,
            f"s{position}",
            position=position,
            state=StageState.CLOSED,
            rule=params.rule,
            trim=params.trim,
            min_sheets_to_trim=params.min_sheets_to_trim,
            weight=None if weights is None else Decimal(weights[position - 1]),
        )
        rubric = {
            group.id: [create_criterion(stage, group, f"c{i}", max_points="10") for i in range(w)]
            for group, w in zip(groups, widths, strict=True)
        }
        stages.append((stage, rubric))
    judges = [create_judge(contest) for _ in range(judge_count)]
    entries = []
    for number, plan_ in enumerate(entry_plans, 1):
        entry = create_entry(contest, groups[plan_["group"]], f"E-{number:02d}")
        entry.status = EntryStatus(plan_["status"])
        entries.append(entry)
        for (stage, rubric), per_stage in zip(stages, plan_["stages"], strict=True):
            criteria = rubric[entry.group_id]
            if per_stage["assigned"]:
                create_assignment(stage, judges[0], entry)
            if per_stage["advanced"]:
                db.session.add(Participation(stage=stage, entry=entry))
            for judge, kind, points in zip(
                judges, per_stage["sheets"], per_stage["points"], strict=True
            ):
                if kind == "none":
                    continue
                given_ = criteria[:-1] if kind == "partial" else criteria
                create_sheet(
                    stage,
                    judge,
                    entry,
                    dict(zip(given_, points, strict=False)),
                    submitted=kind != "draft",
                )
    for judge_index, entry_index, status in conflict_plans:
        create_conflict(judges[judge_index], entries[entry_index], status=status)
    db.session.flush()
    return [stage for stage, _ in stages], groups


def book_standings(stage, group, earlier: dict):
    """The rule book's standings of (stage, group), read plainly from the ORM."""
    rubric = [c.id for c in stage.rubric(group)]
    binding = {
        (c.judge_id, c.entry_id)
        for c in db.session.scalars(db.select(Conflict))
        if c.status == ConflictStatus.BINDING
    }
    taking_part = {a.entry_id for a in db.session.scalars(db.select(Assignment))
                   if a.stage_id == stage.id}  # fmt: skip
    taking_part |= {p.entry_id for p in db.session.scalars(db.select(Participation))
                    if p.stage_id == stage.id}  # fmt: skip
    sheets = [s for s in db.session.scalars(db.select(ScoreSheet)) if s.stage_id == stage.id]
    taking_part |= {s.entry_id for s in sheets}
    previous = stage.previous_stage
    previous_scores = {} if previous is None else earlier[previous.id, group.id]
    inputs = []
    for entry in sorted(group.contest.entries, key=lambda e: e.code):
        if entry.group_id != group.id or entry.status != EntryStatus.REGISTERED:
            continue
        if entry.id not in taking_part:
            continue
        counted = []
        for sheet in sheets:
            if sheet.entry_id != entry.id:
                continue
            points = {score.criterion_id: score.points for score in sheet.scores}
            if rules.sheet_counts(
                submitted=sheet.state == SheetState.SUBMITTED,
                binding_conflict=(sheet.judge_id, entry.id) in binding,
                points=len(points),
                rubric=len(rubric),
            ):
                counted.append(SheetInput(sheet.judge_id, tuple(points[c] for c in rubric)))
        inputs.append(
            EntryInput(entry.id, entry.code, tuple(counted), previous_scores.get(entry.id))
        )
    rows = rules.rank_group(inputs, params_of(stage), criteria_count=len(rubric))
    weighted, problem = weighted_stages(stage.contest)
    if weighted and not problem and weighted[-1].id == stage.id:
        scores = {s.code: earlier[s.id, group.id] for s in weighted if s.id != stage.id}
        scores[stage.code] = {r.entry_id: r.score for r in rows}
        combined = rules.combine_stages(scores, {s.code: Decimal(s.weight) for s in weighted})
        rows = rules.rank_combined(rows, combined)
    return rows


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(contests())
def test_database_standings_are_the_rule_books(app, plan):
    stages, groups = build(plan)
    earlier: dict = {}
    for stage in stages:
        for group in groups:
            book = book_standings(stage, group, earlier)
            earlier[stage.id, group.id] = {r.entry_id: r.score for r in book if r.score is not None}
            standings = group_standings(stage, group)
            fast = list(standings.rows)
            assert [r.entry_id for r in fast] == [r.entry_id for r in book]
            step_c = any(
                step.step in ("previous_stage", "unresolved") for r in book for step in r.tiebreak
            )
            for f, b in zip(fast, book, strict=True):
                # The database's standings read criterion means as far as ties needed,
                # the previous stage's scores only when step c was needed, and the
                # z-score on demand (the results page's column).
                assert f.criterion_means == b.criterion_means[: len(f.criterion_means)]
                assert standings.criterion_means(f) == b.criterion_means
                assert f.previous_score in (None, b.previous_score)
                if step_c:
                    assert f.previous_score == b.previous_score
                assert standings.zscore(f) == b.zscore
                same = {"criterion_means": (), "previous_score": None, "zscore": None}
                assert f._replace(**same) == b._replace(**same), f"{f.code}: {f} != {b}"
                assert (f.kept, f.dropped_low, f.dropped_high) == (
                    b.kept,
                    b.dropped_low,
                    b.dropped_high,
                )
