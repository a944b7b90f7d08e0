"""A small open stage: two groups, a three-line rubric, a judge with assignments."""

from dataclasses import dataclass

import pytest

from judging.common.enums import StageState
from judging.contests.models import Criterion, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Judge
from tests.conftest import (
    create_assignment,
    create_conflict,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_stage,
)


@dataclass
class Arena:
    """The objects of the scoring tests."""

    stage: Stage
    closed: Stage
    judge: Judge
    other_judge: Judge
    entry: Entry  # assigned to judge, angel group
    growth_entry: Entry  # assigned to judge, growth group
    unassigned: Entry
    conflicted: Entry  # assigned, but a binding conflict
    criteria: list[Criterion]


@pytest.fixture
def arena(app, judge_user) -> Arena:
    contest = create_contest("dalian-2020")
    angel = create_group(contest, "angel", "天使组", position=1)
    growth = create_group(contest, "growth", "成长组", position=2)
    closed = create_stage(contest, "prelim", name="初赛", state=StageState.CLOSED)
    stage = create_stage(contest, "final", name="决赛", state=StageState.OPEN)
    criteria = [
        create_criterion(stage, angel, "技术与产品", max_points="40", description="技术先进性"),
        create_criterion(stage, angel, "商业模式", max_points="35"),
        create_criterion(stage, angel, "团队", max_points="25", step="1"),
    ]
    for name, top in (("技术与产品", "50"), ("团队", "50")):
        create_criterion(stage, growth, name, max_points=top)
    create_criterion(closed, angel, "技术与产品", max_points="100")
    entry = create_entry(
        contest,
        angel,
        "A-001",
        title="中科海洋",
        summary="海洋生物入侵预警",
        phone="13800001111",
        email="secret@example.com",
        organization="大连海事大学",
    )
    growth_entry = create_entry(contest, growth, "G-001", title="HTPO 弹性体")
    unassigned = create_entry(contest, angel, "A-002", title="未分配项目")
    conflicted = create_entry(contest, angel, "A-003", title="回避项目")
    judge = create_judge(contest, judge_user, name="王评委")
    other = create_judge(contest, name="李评委")
    for e in (entry, growth_entry, conflicted):
        create_assignment(stage, judge, e)
        create_assignment(closed, judge, e)
    create_assignment(stage, other, unassigned)
    create_conflict(judge, conflicted)
    db.session.commit()
    return Arena(stage, closed, judge, other, entry, growth_entry, unassigned, conflicted, criteria)
