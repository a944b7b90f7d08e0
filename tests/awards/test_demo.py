"""Issue 4 on the demo contest, through the database, the engine and the services."""

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging.awards import workflow
from judging.awards.models import Award, ResultSnapshot
from judging.awards.queries import awards_result, snapshot_difference, stage_result
from judging.contests.models import Contest
from judging.entries.models import Participation
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.scoring import services as scoring
from judging.scoring.rubric import rubric_specs
from judging.seed import load_demo
from judging.standings.groups import group_standings

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
HTPO = "特种高性能复合热塑性弹性体HTPO产业化技术研究"
ZKHY = "中科海洋——构筑海洋生物入侵的第一道防线"


@pytest.fixture
def contest(app) -> Contest:
    load_demo(SEED_DIR)
    db.session.commit()
    return db.session.scalar(sa.select(Contest).where(Contest.slug == "dalian-2020"))


def _judge01_submits(contest: Contest, pick) -> int:
    """judge01 submits every final sheet, each criterion's points chosen by pick(criterion)."""
    final = contest.stage("final")
    judge = db.session.scalar(
        sa.select(Judge).where(Judge.contest_id == contest.id, Judge.name == _judge01_name(contest))
    )
    count = 0
    for assignment in db.session.scalars(
        sa.select(Assignment).where(
            Assignment.stage_id == final.id, Assignment.judge_id == judge.id
        )
    ):
        entry = assignment.entry
        rubric = rubric_specs(final.id, entry.group_id)
        scoring.save_sheet(
            judge=judge,
            entry=entry,
            stage=final,
            comment="",
            points={c.id: pick(c) for c in rubric},
            expected_version=0,
            submit=True,
        )
        count += 1
    db.session.commit()
    return count


def _judge01_name(contest: Contest) -> str:
    return next(j.name for j in contest.judges if j.user.username == "judge01")


def _winner(contest: Contest, group_code: str) -> str:
    final, group = contest.stage("final"), contest.group(group_code)
    standings = group_standings(final, group)
    first = [r for r in standings.rows if r.rank == 1]
    assert len(first) == 1
    return standings.facts(first[0]).title


@pytest.mark.parametrize(
    "pick", [lambda c: Decimal(0), lambda c: c.max_points], ids=["all-minimum", "all-maximum"]
)
def test_the_real_first_prizes_win_whatever_judge01_enters(contest, pick):
    assert _winner(contest, "growth") == HTPO and _winner(contest, "angel") == ZKHY
    assert _judge01_submits(contest, pick) == 22  # judge01 sits on both final panels
    assert _winner(contest, "growth") == HTPO
    assert _winner(contest, "angel") == ZKHY
    final = contest.stage("final")
    rows = group_standings(final, contest.group("growth")).rows
    assert all(r.sheet_count == 9 for r in rows), "judge01's sheets now count"


def test_twenty_student_teams_receive_2000_each(contest):
    result = awards_result(contest)
    student = [s for s in result.specials if s.name == "学生团队优秀奖"]
    assert len(student) == 20
    assert {s.prize for s in student} == {Decimal("2000.00")}
    assert sum((s.prize for s in student), Decimal(0)) == Decimal("40000.00")
    assert all(result.entries[s.entry_id].is_student_team for s in student)


def test_tiers_fill_the_final_and_totals_add_up(contest):
    result = awards_result(contest)
    (final,) = result.stages
    for group in final.groups:
        counts = {f.name: len(f.holders) for f in group.tiers.tiers}
        if group.group.code == "angel":
            assert counts == {"一等奖": 1, "二等奖": 2, "三等奖": 3, "优秀奖": 6}
        else:
            assert counts == {"一等奖": 1, "二等奖": 2, "三等奖": 3, "优秀奖": 4}
    tier_money = sum((a.prize for g in final.groups for a in g.tiers.awards), Decimal(0))
    special_money = sum((s.prize for s in result.specials), Decimal(0))
    assert result.totals.overall == tier_money + special_money
    assert sum(result.totals.by_group.values(), Decimal(0)) == result.totals.overall


def _final_snapshots() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ResultSnapshot)
        .where(ResultSnapshot.stage_id == sa.text("(SELECT id FROM stages WHERE code = 'final')"))
    )


def test_confirming_awards_freezes_a_snapshot_and_a_change_shows_as_a_difference(contest):
    final = contest.stage("final")
    # The final is still open with judge01's sheets missing: only an override confirms it.
    snapshot = workflow.confirm(
        stage=final, kind="awards", user=None, override_reason="演示：提前确认"
    )
    db.session.commit()
    assert len(snapshot.content_hash) == 64
    assert snapshot.override_reason == "演示：提前确认" and snapshot.override["missing"] == 22
    awards = db.session.scalar(sa.select(sa.func.count()).select_from(Award))
    assert awards == 22 + 20
    # Nothing changed yet: no difference.
    _, diff = snapshot_difference(stage_result(contest.stage("final")))
    assert not diff
    # judge01 now submits: the standings move, and the difference says how.
    _judge01_submits(contest, lambda c: c.max_points)
    _, diff = snapshot_difference(stage_result(contest.stage("final")))
    assert diff and any(c.field == "score" for change in diff.entries for c in change.changes)
    # Confirming again replaces the awards, keeps both snapshots.
    workflow.confirm(stage=final, kind="awards", user=None, override_reason="仍在路演中")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 42
    assert _final_snapshots() == 2


def test_the_demo_semi_final_advanced_its_top_entries_and_is_frozen(contest):
    semi, final = contest.stage("semi"), contest.stage("final")
    result = stage_result(semi)
    advancing = {g.group.code: len(g.advancement.advancing) for g in result.groups}
    assert advancing == {"angel": 12, "growth": 10}
    assert not any(g.advancement.cut_tie for g in result.groups)
    finalists = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Participation)
        .where(Participation.stage_id == final.id)
    )
    assert finalists == 22
    # Published as loaded: frozen, so confirming again is refused until withdrawn.
    with pytest.raises(workflow.WorkflowError, match="已公布|published"):
        workflow.confirm(stage=semi, kind="advancement", user=None)
    workflow.change_state(stage=semi, target="closed", reason="复核", user=None)
    plan = workflow.plan_confirmation(semi, "advancement")
    assert not plan.changes.changes and not plan.needs_override
    workflow.confirm(stage=semi, kind="advancement", user=None)
    db.session.commit()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Participation)
            .where(Participation.stage_id == final.id)
        )
        == 22
    )


def test_rank_and_awards_commands_print_json(contest, runner):
    import json

    result = runner.invoke(
        args=["rank", "--contest", "dalian-2020", "--stage", "final", "--group", "growth", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    first = data["groups"]["growth"][0]
    assert first["rank"] == 1 and first["title"] == HTPO
    assert first["score"].count(".") == 1 and len(first["score"].split(".")[1]) == 2
    assert first["sheets"] == 8 and len(first["dropped"]) == 2 and first["tied"] is False

    result = runner.invoke(args=["awards", "--contest", "dalian-2020", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    student = [r for r in data["awards"] if r["award"] == "学生团队优秀奖"]
    assert len(student) == 20 and {r["prize"] for r in student} == {"2000.00"}
    total = sum(Decimal(r["prize"]) for r in data["awards"])
    assert Decimal(data["totals"]["overall"]) == total
