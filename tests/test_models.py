"""The database's own guards: each holds on SQLite and PostgreSQL alike."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from judging.awards.models import Award
from judging.contests.models import SpecialAward
from judging.extensions import db
from judging.judges.models import Assignment
from judging.scoring.models import Score, ScoreSheet
from tests.conftest import (
    create_award_tier,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)


@pytest.fixture
def world(app):
    contest = create_contest()
    group = create_group(contest)
    stage = create_stage(contest)
    criterion = create_criterion(stage, group)
    entry = create_entry(contest, group, code="A-001")
    judge = create_judge(contest)
    db.session.commit()
    return contest, group, stage, criterion, entry, judge


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_one_sheet_per_stage_judge_entry(world):
    _, _, stage, criterion, entry, judge = world
    create_sheet(stage, judge, entry, {criterion: "20"})
    db.session.commit()
    with pytest.raises(IntegrityError):
        create_sheet(stage, judge, entry, {criterion: "25"})
    db.session.rollback()
    assert _count(ScoreSheet) == 1
    assert db.session.scalar(sa.select(Score.points)) == Decimal("20.00")


def test_entry_code_unique_within_contest_only(world):
    contest, group, *_ = world
    with pytest.raises(IntegrityError):
        create_entry(contest, group, code="A-001")
    db.session.rollback()
    other = create_contest()
    create_entry(other, create_group(other), code="A-001")  # another contest may reuse it
    db.session.commit()


def test_points_never_negative(world):
    _, _, stage, criterion, entry, judge = world
    with pytest.raises(IntegrityError):
        create_sheet(stage, judge, entry, {criterion: "-0.5"})
    db.session.rollback()
    assert _count(ScoreSheet) == 0
    assert _count(Score) == 0


def test_one_assignment_per_stage_judge_entry(world):
    _, _, stage, _, entry, judge = world
    db.session.add(Assignment(stage=stage, judge=judge, entry=entry))
    db.session.commit()
    db.session.add(Assignment(stage=stage, judge=judge, entry=entry))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _count(Assignment) == 1


def test_foreign_keys_are_enforced(world):
    _, _, stage, _, _, judge = world
    db.session.add(Assignment(stage=stage, judge=judge, entry_id=999_999))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _count(Assignment) == 0


def test_one_criterion_score_per_sheet(world):
    _, _, stage, criterion, entry, judge = world
    sheet = create_sheet(stage, judge, entry, {criterion: "10"})
    db.session.commit()
    db.session.add(Score(sheet=sheet, criterion=criterion, points=Decimal("5")))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_submitted_sheet_needs_a_submission_time(world):
    _, _, stage, criterion, entry, judge = world
    sheet = create_sheet(stage, judge, entry, {criterion: "10"}, submitted=True)
    db.session.commit()
    sheet.submitted_at = None
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_points_and_money_are_decimal(world):
    contest, group, stage, criterion, entry, judge = world
    create_sheet(stage, judge, entry, {criterion: "27.5"})
    tier = create_award_tier(stage, group, prize="12345.67")
    db.session.commit()
    db.session.expire_all()
    points = db.session.scalar(sa.select(Score.points))
    assert isinstance(points, Decimal) and points == Decimal("27.5")
    assert db.session.get(type(tier), tier.id).prize == Decimal("12345.67")


def test_an_award_is_a_tier_or_a_special_award_and_one_tier_per_entry(world):
    contest, group, stage, _, entry, _ = world
    tier = create_award_tier(stage, group)
    special = SpecialAward(
        contest=contest,
        name="学生团队优秀奖",
        rule="student_team_reached:semi",
        prize=Decimal("2000"),
    )
    db.session.add(special)
    db.session.flush()
    db.session.add(Award(contest_id=contest.id, entry=entry, prize=Decimal("1")))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    tier = create_award_tier(stage, group, name="二等奖", position=2)
    special = SpecialAward(
        contest=contest,
        name="学生团队优秀奖",
        rule="student_team_reached:semi",
        prize=Decimal("2000"),
    )
    db.session.add(special)
    db.session.add_all(
        [
            Award(contest_id=contest.id, entry=entry, tier=tier, prize=tier.prize),
            Award(contest_id=contest.id, entry=entry, special_award=special, prize=special.prize),
        ]
    )
    db.session.commit()  # one tier award plus a special award is fine
    db.session.add(Award(contest_id=contest.id, entry=entry, tier=tier, prize=tier.prize))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _count(Award) == 2


def test_rubric_step_cannot_exceed_maximum(world):
    _, group, stage, *_ = world
    with pytest.raises(IntegrityError):
        create_criterion(stage, group, name="团队", max_points="5", step="10")
    db.session.rollback()
