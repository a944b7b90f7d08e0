"""A small contest for the public pages: a published, a closed, a live and a draft stage."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from judging.awards.models import Award
from judging.awards.workflow import publish_as_loaded
from judging.common.enums import StageKind, StageState
from judging.contests.models import Contest, Criterion, Group, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Judge
from judging.leaderboard.cache import cache
from tests.conftest import (
    create_assignment,
    create_award_tier,
    create_conflict,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)

PHONE = "13899990000"
EMAIL = "leader@private.example.com"
JUDGE_EMAIL = "judge@private.example.com"


@pytest.fixture(autouse=True)
def _fresh_render_cache():
    """Each test starts with an empty render cache (the ids of a fresh database repeat)."""
    cache.clear()
    yield
    cache.clear()


@dataclass
class Board:
    """The objects of the leaderboard tests."""

    contest: Contest
    angel: Group
    growth: Group
    prelim: Stage  # published, three angel entries scored by five judges
    semi: Stage  # closed: scored, not published
    final: Stage  # open roadshow: the live final
    extra: Stage  # draft
    entries: dict[str, Entry]
    judges: list[Judge]
    final_criteria: dict[str, Criterion] = field(default_factory=dict)
    conflicted: Judge | None = None


@pytest.fixture
def board(app) -> Board:
    contest = create_contest("dalian-2020", name="大连市高校创新创业大赛")
    angel = create_group(contest, "angel", "天使组", position=1)
    growth = create_group(contest, "growth", "成长组", position=2)
    prelim = create_stage(contest, "prelim", name="初赛", state=StageState.PUBLISHED)
    semi = create_stage(contest, "semi", name="复赛", state=StageState.CLOSED)
    final = create_stage(
        contest, "final", name="决赛", state=StageState.OPEN, kind=StageKind.ROADSHOW
    )
    extra = create_stage(contest, "extra", name="加赛", state=StageState.DRAFT)
    entries = {
        code: create_entry(
            contest,
            angel if code.startswith("A") else growth,
            code,
            title=title,
            organization=org,
            phone=PHONE,
            email=EMAIL,
            leader="张队长",
        )
        for code, title, org in (
            ("A-001", "中科海洋", "中国科学院海洋研究所"),
            ("A-002", "爬壁机器人", "大连理工大学"),
            ("A-003", "助力外骨骼", "大连海事大学"),
            ("G-001", "HTPO 弹性体", "大连某某新材料有限公司"),
        )
    }
    judges = [
        create_judge(contest, name=f"评委{i}", email=JUDGE_EMAIL, organization="某大学")
        for i in range(1, 7)
    ]
    prelim_angel = create_criterion(prelim, angel, "综合", max_points="100")
    create_criterion(prelim, growth, "综合", max_points="100")
    for code, totals in (
        ("A-001", [90, 88, 86, 84, 60]),  # drop 90 and 60: 86.00
        ("A-002", [80, 80, 80, 80, 80]),
        ("A-003", [70, 72, 74, 76, 99]),  # drop 70 and 99: 74.00
    ):
        for judge, total in zip(judges, totals, strict=False):
            create_assignment(prelim, judge, entries[code])
            create_sheet(prelim, judge, entries[code], {prelim_angel: total})
    semi_angel = create_criterion(semi, angel, "综合", max_points="100")
    create_assignment(semi, judges[0], entries["A-001"])
    create_sheet(semi, judges[0], entries["A-001"], {semi_angel: "77"})
    tier = create_award_tier(prelim, angel, name="一等奖", quota=1, prize="10000")
    db.session.add(
        Award(contest_id=contest.id, entry_id=entries["A-001"].id, tier_id=tier.id, prize=10000)
    )

    criteria = {
        "angel": create_criterion(final, angel, "路演", max_points="100"),
        "growth": create_criterion(final, growth, "路演", max_points="100"),
    }
    for code in ("A-001", "A-002", "G-001"):
        for judge in judges[:5]:
            create_assignment(final, judge, entries[code])
    # A sixth judge is assigned A-001 but has a binding conflict: never waited for, never counted.
    create_assignment(final, judges[5], entries["A-001"])
    create_conflict(judges[5], entries["A-001"])
    db.session.flush()
    # Published as an organizer publishes: the public sees the frozen snapshot.
    publish_as_loaded(prelim, user=None)
    db.session.commit()
    return Board(
        contest, angel, growth, prelim, semi, final, extra, entries, judges, criteria, judges[5]
    )
