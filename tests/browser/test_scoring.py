"""A judge on a phone: sign in by link, score, watch the total, save, submit, find it locked."""

from decimal import Decimal

import sqlalchemy as sa
from playwright.sync_api import expect

from judging.common.enums import SheetState
from judging.extensions import db
from judging.judges.services import login_link
from judging.scoring.models import ScoreSheet
from tests.browser.conftest import DOCS
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_stage,
)


def _contest():
    contest = create_contest("dalian-2020", name="大连市高校第三届创新创业大赛")
    angel = create_group(contest, "angel", "天使组")
    final = create_stage(contest, "final", name="决赛")
    for name, top, text in (
        ("创意与技术", "30", "创意新颖，核心技术先进可行"),
        ("商业模式", "20", "目标客户、盈利方式清晰"),
        ("行业与市场", "15", "市场空间与竞争分析"),
        ("团队", "25", "成员背景互补"),
        ("路演与答辩", "10", "陈述清晰，答辩准确"),
    ):
        create_criterion(final, angel, name, max_points=top, description=text)
    entry = create_entry(
        contest,
        angel,
        "A-007",
        title="中科海洋——构筑海洋生物入侵的第一道防线",
        organization="中国科学院海洋研究所",
        summary="压载水中入侵生物的快速检测。",
    )
    judge = create_judge(contest, name="王评委", title="教授")
    create_assignment(final, judge, entry)
    link = login_link(judge)
    db.session.commit()
    return link, final


def test_judge_scores_on_a_phone(live_server, browser):
    link, stage = _contest()
    link = live_server + link[link.index("/login/") :]
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    page = context.new_page()

    page.goto(link)
    page.get_by_role("button", name="登录并开始评分").click()
    page.wait_for_url(f"{live_server}/judge/")
    expect(page.get_by_text("已分配 1 个项目，已提交 0 份，草稿 0 份")).to_be_visible()
    page.get_by_role("link", name="中科海洋").click()

    total = page.get_by_test_id("total")
    assert total.inner_text() == "0"
    fields = page.locator("input.points")
    for i, value in enumerate(["27.5", "18", "12.5", "22"]):
        fields.nth(i).fill(value)
    assert total.inner_text() == "80", "the total follows the typing"
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    assert page.get_by_test_id("total").inner_text() == "80"

    page.locator("input.points").nth(4).fill("9.5")
    assert page.get_by_test_id("total").inner_text() == "89.5"
    page.screenshot(path=str(DOCS / "judge-phone-scoring.png"), full_page=False)

    page.locator("summary", has_text="提交").click()  # the confirmation step
    page.get_by_role("button", name="确认提交").click()
    # Nothing else is left to score: back to the list, with the submission's message.
    page.wait_for_url(f"{live_server}/judge/")
    expect(page.get_by_text("已提交。")).to_be_visible()
    page.get_by_role("link", name="中科海洋").click()
    assert page.locator("input.points").count() == 0, "a submitted sheet is read-only"
    assert "89.50" in page.get_by_test_id("total").inner_text()
    assert page.get_by_text("提交于").is_visible()

    db.session.expire_all()
    sheet = db.session.scalar(sa.select(ScoreSheet))
    assert sheet.state == SheetState.SUBMITTED and sheet.total == Decimal("89.5")

    page.goto(link)  # the card's link is used up now
    expect(page.get_by_text("此链接已被使用")).to_be_visible()
    context.close()
