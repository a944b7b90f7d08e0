"""Issue 11's worked examples, computed by hand: one ranking everywhere.

1. Two finalists revealed on the big screen share the rounded score and the mean of all
   sheets; tie-break step (b) — the first criterion's mean — separates them, on the
   screen and in the API, as in every other ranking.
2. A contest weighting 复赛 30% + 决赛 70% (Rule 3): the weights change the final's order,
   on the results page, the public page and the export alike.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from judging.awards import workflow
from judging.common.enums import StageKind, StageState
from judging.extensions import db
from judging.leaderboard.cache import cache
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    csrf_token,
)

SLUG = "worked-2020"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture(autouse=True)
def _fresh_render_cache():
    cache.clear()
    yield
    cache.clear()


# ------------------------------------------------------------------ 1. the big screen


@pytest.fixture
def live_final(app):
    """A live final, one group, rubric 技术 (60) + 市场 (40), five judges.

    A-001 (listed first by code): 技术 45, 47, 49, 51, 44 with 市场 35, 33, 31, 29, 36:
      every total 80 → drop one 80 at each end, mean of the other three 80.00;
      mean of all five 80; 技术 mean (45 + 47 + 49 + 51 + 44) / 5 = 236 / 5 = 47.2.
    A-002: 技术 50, 48, 52, 46, 54 with 市场 30, 32, 28, 34, 26:
      every total 80 → 80.00; mean of all 80; 技术 mean 250 / 5 = 50.
    Equal at the rounded score and at step (a); step (b) puts A-002 (50 > 47.2) first.
    """
    contest = create_contest(SLUG, name="工作示例大赛")
    group = create_group(contest, "angel", "天使组")
    final = create_stage(
        contest, "final", name="决赛", state=StageState.OPEN, kind=StageKind.ROADSHOW
    )
    tech = create_criterion(final, group, "技术", max_points="60")
    market = create_criterion(final, group, "市场", max_points="40")
    judges = [create_judge(contest, name=f"评委{i}") for i in range(1, 6)]
    sheets = {
        "A-001": [(45, 35), (47, 33), (49, 31), (51, 29), (44, 36)],
        "A-002": [(50, 30), (48, 32), (52, 28), (46, 34), (54, 26)],
    }
    entries = {}
    for code, points in sheets.items():
        entries[code] = entry = create_entry(contest, group, code, title=f"项目{code}")
        for judge, (t, m) in zip(judges, points, strict=True):
            create_assignment(final, judge, entry)
            create_sheet(final, judge, entry, {tech: t, market: m})
    db.session.commit()
    return contest, final, entries


def test_two_revealed_finalists_tied_on_the_score_are_separated_by_step_b(
    organizer_client, client, live_final
):
    contest, final, entries = live_final
    control = f"/contests/{SLUG}/live/final"
    token = csrf_token(organizer_client, control)
    for code in ("A-001", "A-002"):
        response = organizer_client.post(
            f"{control}/reveal", data={"csrf_token": token, "entry": entries[code].id}
        )
        assert response.status_code == 302
    live = client.get(f"/api/v1/contests/{SLUG}/live").get_json()
    rows = live["standings"]["angel"]
    assert [(r["rank"], r["code"], r["score"]) for r in rows] == [
        (1, "A-002", "80.00"),
        (2, "A-001", "80.00"),
    ]
    assert rows[0]["tiebreak"] is None
    assert rows[1]["tiebreak"] == {
        "step": "criterion:0",
        "criterion": "技术",
        "above": "50.00",
        "this": "47.20",
    }
    screen = text(client.get(f"/screen/{SLUG}/body"))
    assert "1 A-002 项目A-002 80.00 2 A-001 项目A-001 80.00" in screen
    assert "同分，“技术”均分较低" in screen
    # The same order on the organizer's results page, from the same engine.
    page = text(organizer_client.get(f"/contests/{SLUG}/stages/final/results"))
    assert page.index("A-002 项目A-002") < page.index("A-001 项目A-001")
    assert "与 A-001 同为 80.00 分；按“技术”的平均分领先：50 对 47.2" in page


# ------------------------------------------------------------------ 2. stage weights


@pytest.fixture
def weighted(app):
    """复赛 weight 0.3, 决赛 weight 0.7; one judge per sheet (plain mean), one criterion of
    100 except where a second decides a tie.

    entry  复赛   决赛   combined = 0.3 × 复赛 + 0.7 × 决赛
    P      90.00  80.00  27.00 + 56.00 = 83.00
    Q      70.00  85.00  21.00 + 59.50 = 80.50
    R      80.00  82.00  24.00 + 57.40 = 81.40
    T      87.00  79.00  26.10 + 55.30 = 81.40   (ties R; R's 决赛 82 > 79: R first)

    The 决赛 alone ranks Q 85, R 82, P 80, T 79; combined: P, R, T, Q.
    """
    contest = create_contest(SLUG, name="加权示例大赛")
    group = create_group(contest, "growth", "成长组")
    semi = create_stage(
        contest, "semi", name="复赛", state=StageState.CLOSED, weight=Decimal("0.3")
    )
    final = create_stage(
        contest, "final", name="决赛", state=StageState.CLOSED, weight=Decimal("0.7")
    )
    semi_c = create_criterion(semi, group, "综合", max_points="100")
    final_c = create_criterion(final, group, "综合", max_points="100")
    judge = create_judge(contest, name="评委甲")
    entries = {}
    for code, semi_score, final_score in (
        ("P", 90, 80),
        ("Q", 70, 85),
        ("R", 80, 82),
        ("T", 87, 79),
    ):
        entries[code] = entry = create_entry(contest, group, code, title=f"项目{code}")
        for stage, criterion, points in ((semi, semi_c, semi_score), (final, final_c, final_score)):
            create_assignment(stage, judge, entry)
            create_sheet(stage, judge, entry, {criterion: points})
    db.session.commit()
    return contest, semi, final, entries


def test_stage_weights_change_the_order_everywhere(organizer_client, client, weighted):
    contest, semi, final, entries = weighted
    # The results page: combined scores, each stage's part, the tie note.
    page = text(organizer_client.get(f"/contests/{SLUG}/stages/final/results"))
    assert "按加权总分排名（规则 3）： 复赛 30% + 决赛 70%" in page
    order = [page.index(f"{code} 项目{code}") for code in ("P", "R", "T", "Q")]
    assert order == sorted(order), "P 83.00, R 81.40, T 81.40, Q 80.50"
    assert "复赛 90.00 × 30% = 27" in page and "决赛 80.00 × 70% = 56" in page
    assert "与 T 同为 81.40 分；按本赛段自身得分领先：82 对 79" in page
    # The 复赛 itself still ranks on its own scores (P 90, T 87, R 80, Q 70).
    semi_page = text(organizer_client.get(f"/contests/{SLUG}/stages/semi/results"))
    semi_order = [semi_page.index(f"{code} 项目{code}") for code in ("P", "T", "R", "Q")]
    assert semi_order == sorted(semi_order)

    # Confirmed and published: the public page and the API show the same order and parts.
    workflow.confirm(stage=final, kind="standings", user=None)
    workflow.change_state(stage=final, target="published")
    db.session.commit()
    public = client.get(f"/api/v1/contests/{SLUG}/stages/final/groups/growth/standings")
    rows = public.get_json()["rows"]
    assert [(r["rank"], r["code"], r["score"]) for r in rows] == [
        (1, "P", "83.00"),
        (2, "R", "81.40"),
        (3, "T", "81.40"),
        (4, "Q", "80.50"),
    ]
    assert rows[0]["parts"] == [
        {"stage": "semi", "weight": "0.30", "percent": "30", "score": "90.00", "part": "27.00"},
        {"stage": "final", "weight": "0.70", "percent": "70", "score": "80.00", "part": "56.00"},
    ]
    html = text(client.get(f"/results/{SLUG}/final/growth"))
    assert "1 P 项目P 83.00 复赛 90.00 × 30% = 27.00 ; 决赛 80.00 × 70% = 56.00" in html

    # The exports: the organizer's standings sheet and the public workbook.
    data = organizer_client.get(f"/contests/{SLUG}/stages/final/export.xlsx").data
    sheet = next(
        ws for ws in load_workbook(io.BytesIO(data)).worksheets if ws.title.startswith("排名")
    )
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any("按加权总分排名" in str(row[0]) for row in rows)
    ranked = [(r[0], r[1], Decimal(str(r[4]))) for r in rows if r[1] in ("P", "Q", "R", "T")]
    assert ranked == [
        (1, "P", Decimal("83.00")),
        (2, "R", Decimal("81.40")),
        (3, "T", Decimal("81.40")),
        (4, "Q", Decimal("80.50")),
    ]
    public_book = client.get(f"/results/{SLUG}/final.xlsx").data
    public_sheet = load_workbook(io.BytesIO(public_book)).worksheets[1]
    public_rows = [[c.value for c in row] for row in public_sheet.iter_rows()]
    codes = [r[1] for r in public_rows if r[1] in ("P", "Q", "R", "T")]
    assert codes == ["P", "R", "T", "Q"]
    assert any(r[-1] and "复赛 90.00 × 30% = 27.00" in str(r[-1]) for r in public_rows)


def test_weights_that_do_not_sum_to_one_are_not_applied_and_say_so(organizer_client, weighted):
    contest, semi, final, entries = weighted
    semi.weight = Decimal("0.2")
    db.session.commit()
    page = text(organizer_client.get(f"/contests/{SLUG}/stages/final/results"))
    assert "赛段权重之和为 0.9，不等于 1" in page
    order = [page.index(f"{code} 项目{code}") for code in ("Q", "R", "P", "T")]
    assert order == sorted(order), "the final alone: Q 85, R 82, P 80, T 79"
