"""The results workflow in the browser: an organizer takes a stage from open to published,
one confirmation page at a time, withdraws it, has a judge correct a reopened sheet in the
closed stage, and publishes again with a dated correction notice.

Three contexts: the organizer at a desk, the judge on a phone (signed in by a one-time
link), and the public (no sign-in). Set WORKFLOW_SHOTS=<dir> to keep a screenshot of every
step there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from judging.awards.models import Publication
from judging.common.enums import Role, StageState
from judging.extensions import db
from judging.judges.services import login_link
from judging.leaderboard.cache import cache
from judging.standings.groups import clear_cache
from tests.conftest import (
    PASSWORD,
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    create_user,
)

SLUG = "workflow-2020"
WAIT = 15_000  # ms: generous for a loaded 2-CPU machine, still bounded
SHOTS = os.environ.get("WORKFLOW_SHOTS")


@pytest.fixture(autouse=True)
def _fresh_caches(live_app):
    """No standings or rendered pages cached by an earlier test of this process; every
    ``expect`` waits up to WAIT."""
    clear_cache()
    cache.clear()
    expect.set_options(timeout=WAIT)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the other tests
    cache.clear()


def _contest() -> str:
    """One open stage, three entries, three judges; two of the nine sheets are missing.

    Plain mean (fewer than five sheets): A-001 (80, 70, 75) → 75.00, A-002 (65, 72; 李评委
    has not started) → 68.50, A-003 (70, 60; 张评委's sheet is a draft) → 65.00.
    Returns 王评委's one-time sign-in link.
    """
    contest = create_contest(SLUG, name="大连市高校第三届创新创业大赛")
    angel = create_group(contest, "angel", "天使组")
    stage = create_stage(contest, "prelim", name="初赛", state=StageState.OPEN)
    tech = create_criterion(stage, angel, "技术与产品", max_points="60")
    market = create_criterion(stage, angel, "商业模式", max_points="40")
    entries = {
        code: create_entry(contest, angel, code, title=title, organization=org)
        for code, title, org in (
            ("A-001", "中科海洋——构筑海洋生物入侵的第一道防线", "中国科学院海洋研究所"),
            ("A-002", "智能巡检机器人", "大连理工大学"),
            ("A-003", "低碳混凝土外加剂", "大连海事大学"),
        )
    }
    judges = {
        name: create_judge(contest, name=name, title="教授")
        for name in ("王评委", "李评委", "张评委")
    }
    for judge in judges.values():
        for entry in entries.values():
            create_assignment(stage, judge, entry)
    for name, code, points, submitted in (
        ("王评委", "A-001", ("50", "30"), True),
        ("王评委", "A-002", ("40", "25"), True),
        ("王评委", "A-003", ("45", "25"), True),
        ("李评委", "A-001", ("42", "28"), True),
        ("李评委", "A-003", ("40", "20"), True),
        ("张评委", "A-001", ("45", "30"), True),
        ("张评委", "A-002", ("45", "27"), True),
        ("张评委", "A-003", ("30", "20"), False),
    ):
        create_sheet(
            stage,
            judges[name],
            entries[code],
            {tech: points[0], market: points[1]},
            submitted=submitted,
        )
    create_user("organizer", role=Role.ORGANIZER, display_name="组委会")
    link = login_link(judges["王评委"])
    db.session.commit()
    return link


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"workflow-{name}.png"), full_page=True)


def _visitor(browser):
    """A page of a new public visitor (no sign-in, nothing cached)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(WAIT)
    return context.new_page()


def _row(page, *texts: str):
    """The table row holding every text."""
    row = page.locator("tr")
    for text in texts:
        row = row.filter(has_text=text)
    return row


def test_organizer_takes_a_stage_from_open_to_published_and_corrects_it(live_server, browser):
    link = _contest()
    link = live_server + link[link.index("/login/") :]
    base = f"{live_server}/contests/{SLUG}"
    results_url = f"{base}/stages/prelim/results"
    public_url = f"{live_server}/results/{SLUG}/prelim/angel"

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk.set_default_timeout(WAIT)
    organizer = desk.new_page()
    organizer.goto(f"{live_server}/sign-in")
    organizer.fill("#username", "organizer")
    organizer.fill("#password", PASSWORD)
    organizer.get_by_role("button", name="登录").click()
    expect(organizer.get_by_role("button", name="退出登录")).to_be_visible()

    # Close the stage from the overview: the page says what will happen and what is missing.
    organizer.goto(base)
    organizer.get_by_role("link", name="截止评分…").click()
    expect(organizer.get_by_role("heading", name="初赛 · 截止评分")).to_be_visible()
    effects = organizer.get_by_role("region", name="将会发生什么")
    expect(effects).to_contain_text("评委将不能再修改初赛的评分表")
    expect(effects).to_contain_text("应交的 9 份评分表中有 2 份未提交")
    missing = organizer.locator("table", has_text="各评委未提交的应交评分表")
    expect(missing.locator("tbody tr")).to_have_count(2)
    expect(_row(missing, "李评委")).to_contain_text("A-002")
    expect(_row(missing, "张评委")).to_contain_text("A-003（草稿）")
    expect(_row(missing, "王评委")).to_have_count(0)  # 王评委 submitted all three
    _shot(organizer, "01-close")
    organizer.get_by_role("button", name="截止评分").click()
    expect(organizer.get_by_text("初赛现在的状态：已截止。")).to_be_visible()
    expect(organizer).to_have_url(results_url)

    # Publishing is refused while nothing is confirmed: no button, the reason instead.
    organizer.goto(results_url)
    organizer.get_by_role("link", name="公布成绩…").click()
    blocked = organizer.get_by_role("alert")
    expect(blocked).to_contain_text("现在不能执行")
    expect(blocked).to_contain_text("初赛尚未确认任何结果")
    expect(organizer.get_by_role("button", name="公布成绩")).to_have_count(0)
    _shot(organizer, "02-publish-refused")
    organizer.get_by_role("link", name="返回成绩页").click()
    expect(organizer).to_have_url(results_url)

    # Confirm the results: two sheets are missing, so an override needs a reason first.
    organizer.get_by_role("link", name="确认成绩…").click()
    effects = organizer.get_by_role("region", name="将会发生什么")
    expect(effects).to_contain_text("应交的 9 份评分表中有 2 份未提交：现在确认需要说明原因")
    expect(organizer.locator("table", has_text="各评委未提交的应交评分表")).to_be_visible()
    organizer.get_by_role("button", name="确认成绩").click()
    expect(organizer.get_by_text("如仍要确认，请填写原因").first).to_be_visible()
    expect(organizer).to_have_url(f"{base}/stages/prelim/confirm/standings")  # refused
    _shot(organizer, "03-override-required")
    organizer.get_by_label("仍要确认的原因").fill(
        "李评委出差未评，张评委草稿未交；评审组同意按已交评分表确认。"
    )
    organizer.get_by_role("button", name="确认成绩").click()
    expect(organizer.get_by_text("已确认并冻结")).to_be_visible()
    expect(organizer).to_have_url(results_url)
    expect(organizer.get_by_role("note")).to_contain_text("李评委出差未评")
    expect(organizer.get_by_text("当前结果与已确认的结果一致。")).to_be_visible()
    _shot(organizer, "04-confirmed")

    # Publish: the public page shows the confirmed standings.
    organizer.get_by_role("link", name="公布成绩…").click()
    expect(organizer.get_by_role("region", name="将会发生什么")).to_contain_text(
        "公众将看到已确认的初赛排名"
    )
    organizer.get_by_role("button", name="公布成绩").click()
    expect(organizer.get_by_text("初赛现在的状态：已公布。")).to_be_visible()

    public = _visitor(browser)
    public.goto(public_url)
    board = public.get_by_test_id("standings")
    expect(board.locator("tbody tr")).to_have_count(3)
    for rank, code, score in (
        ("1", "A-001", "75.00"),
        ("2", "A-002", "68.50"),
        ("3", "A-003", "65.00"),
    ):
        row = _row(board, code)
        expect(row.locator(".rank")).to_have_text(rank)
        expect(row.locator(".score")).to_have_text(score)
    expect(public.get_by_text("成绩更正")).to_have_count(0)
    _shot(public, "05-public")

    # Withdraw the publication: refused without a reason, done with one.
    organizer.goto(results_url)
    organizer.get_by_role("link", name="撤回公布…").click()
    expect(organizer.get_by_role("heading", name="初赛 · 撤回公布")).to_be_visible()
    organizer.get_by_role("button", name="撤回公布").click()
    expect(organizer.get_by_text("回退必须填写原因。").first).to_be_visible()
    expect(organizer.get_by_role("heading", name="初赛 · 撤回公布")).to_be_visible()
    _shot(organizer, "06-withdraw-needs-reason")
    organizer.get_by_label("原因").fill("王评委申请更正 A-001 的技术分。")
    organizer.get_by_role("button", name="撤回公布").click()
    expect(organizer.get_by_text("初赛现在的状态：已截止。")).to_be_visible()
    public.context.close()
    public = _visitor(browser)  # a new visitor: the last one's browser may cache 10 s
    response = public.goto(public_url)
    assert response.status == 404, "withdrawn results are not public any more"
    public.context.close()

    # Reopen 王评委's sheet for A-001, with a reason.
    organizer.goto(base)
    organizer.get_by_role("link", name="评分表").first.click()
    expect(organizer.get_by_role("heading", name="初赛 · 评分表")).to_be_visible()
    sheet_row = _row(organizer, "A-001", "王评委")
    sheet_row.locator("summary", has_text="重新开放").click()
    sheet_row.get_by_label("原因").fill("评委申请更正技术与产品得分。")
    sheet_row.get_by_role("button", name="重新开放评分表").click()
    expect(
        organizer.get_by_text("已重新开放：王评委 可以再次修改 A-001 的评分表。")
    ).to_be_visible()
    expect(_row(organizer, "A-001", "王评委")).to_contain_text("草稿")
    _shot(organizer, "07-reopened")

    # The judge, on a phone: the closed stage lists only the reopened sheet; change, submit.
    phone_context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    phone_context.set_default_timeout(WAIT)
    phone = phone_context.new_page()
    phone.goto(link)
    phone.get_by_role("button", name="登录并开始评分").click()
    expect(phone).to_have_url(f"{live_server}/judge/")
    expect(phone.locator(".stage-progress h3")).to_contain_text("已截止")
    stage_list = phone.get_by_role("list", name="初赛")
    expect(stage_list.get_by_role("listitem")).to_have_count(1)
    expect(stage_list).to_contain_text("A-001")
    expect(stage_list).not_to_contain_text("A-002")
    _shot(phone, "08-judge-home")
    stage_list.get_by_role("link", name=re.compile("中科海洋")).click()
    expect(phone.get_by_role("note")).to_contain_text(
        "组委会已重新开放此评分表：虽然初赛已截止，您仍可修改并提交。"
    )
    expect(phone.get_by_role("note")).to_contain_text("原因：评委申请更正技术与产品得分。")
    fields = phone.locator("input.points")
    expect(fields.nth(0)).to_have_value("50")
    fields.nth(0).fill("56")
    expect(phone.get_by_test_id("total")).to_have_text("86")
    _shot(phone, "09-judge-sheet")
    sheet_page = phone.url
    phone.locator("summary", has_text="提交").click()
    phone.get_by_role("button", name="确认提交").click()
    # No other sheet is left to finish: back to the list, with the submission's message.
    expect(phone).to_have_url(f"{live_server}/judge/")
    expect(phone.get_by_text("已提交。")).to_be_visible()
    phone.goto(sheet_page)
    expect(phone.get_by_test_id("total")).to_contain_text("86")
    expect(phone.locator("input.points")).to_have_count(0)

    # Back at the desk: the live results differ from the snapshot; publishing is refused.
    organizer.goto(results_url)
    expect(organizer.get_by_text("当前结果与已确认的结果不一致：")).to_be_visible()
    change = organizer.locator("ul.diff li", has_text="A-001")
    expect(change).to_contain_text("75.00 → 77.00")
    _shot(organizer, "10-differs")
    organizer.get_by_role("link", name="公布成绩…").click()
    expect(organizer.get_by_role("alert")).to_contain_text("当前结果与已确认的快照不一致")
    expect(organizer.get_by_role("button", name="公布成绩")).to_have_count(0)

    # Confirm again (still two sheets missing: the override again), then publish again.
    organizer.get_by_role("link", name="返回成绩页").click()
    organizer.get_by_role("link", name="确认成绩…").click()
    organizer.get_by_label("仍要确认的原因").fill("王评委更正 A-001；其余缺交情况同前。")
    organizer.get_by_role("button", name="确认成绩").click()
    expect(organizer.get_by_text("已确认并冻结")).to_be_visible()
    expect(organizer.get_by_text("当前结果与已确认的结果一致。")).to_be_visible()
    organizer.get_by_role("link", name="公布成绩…").click()
    effects = organizer.get_by_role("region", name="将会发生什么")
    expect(effects).to_contain_text("成绩更正公告")
    expect(organizer.locator("ul.diff li", has_text="A-001")).to_contain_text("75.00 → 77.00")
    _shot(organizer, "11-republish")
    organizer.get_by_role("button", name="公布成绩").click()
    expect(organizer.get_by_text("初赛现在的状态：已公布。")).to_be_visible()

    # The public page: the new score, and a dated correction notice with old and new.
    public = _visitor(browser)
    public.goto(public_url)
    board = public.get_by_test_id("standings")
    notice = public.locator("section.correction")
    expect(notice.get_by_role("heading", name="成绩更正")).to_be_visible()
    expect(notice).to_contain_text("组委会更正了以下已公布的成绩")
    expect(notice.locator("strong").first).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    item = notice.locator("li", has_text="A-001")
    expect(item).to_contain_text("中科海洋")
    expect(item.locator("s")).to_have_text("75.00")
    expect(item.locator("strong")).to_have_text("77.00")
    expect(_row(board, "A-001").locator(".score")).to_have_text("77.00")
    _shot(public, "12-public-corrected")

    db.session.expire_all()
    publications = db.session.scalars(sa.select(Publication).order_by(Publication.id)).all()
    assert [p.withdrawn_at is not None for p in publications] == [True, False]
    assert publications[0].withdraw_reason == "王评委申请更正 A-001 的技术分。"
    for context in (desk, public.context, phone_context):
        context.close()
