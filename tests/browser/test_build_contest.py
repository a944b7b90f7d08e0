"""An organizer builds a contest from nothing in the browser (issue 14): two groups, one
stage, its rubrics, three entries, three judges; assigns, opens the stage; a judge then
sees exactly their entries and submits. The draft contest is on no public page and not
in the API until the organizer makes it public."""

from __future__ import annotations

import json
import urllib.request

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from judging.common.enums import Role
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from tests.browser.conftest import CHROMIUM  # noqa: F401 - skips without Chromium
from tests.conftest import PASSWORD, create_user

SLUG = "cx-2026"
WAIT = 15_000


@pytest.fixture(autouse=True)
def _patient():
    expect.set_options(timeout=WAIT)
    yield
    expect.set_options(timeout=5_000)


def _public_slugs(base: str) -> list[str]:
    with urllib.request.urlopen(f"{base}/api/v1/contests") as answer:  # noqa: S310 - our server
        return [c["slug"] for c in json.load(answer)["contests"]]


def _form(page, action_end: str):
    return page.locator(f"form[action$='{action_end}']")


def test_an_organizer_builds_a_contest_and_a_judge_scores_in_it(live_server, browser):
    create_user("chair", role=Role.ORGANIZER, password=PASSWORD)
    db.session.commit()
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/sign-in")
    page.fill("#username", "chair")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    # the contest, a draft
    page.get_by_role("link", name="新建赛事", exact=True).click()
    page.fill("#name", "2026 高校创新创业大赛")
    page.fill("#slug", SLUG)
    page.fill("#year", "2026")
    page.get_by_role("button", name="创建赛事").click()
    expect(page.get_by_text("赛事已创建为草稿")).to_be_visible()
    setup = page.url

    # two groups
    for code, name in (("angel", "天使组"), ("growth", "成长组")):
        add = _form(page, "/setup/groups")
        add.locator("#group-code").fill(code)
        add.locator("#group-name").fill(name)
        add.get_by_role("button", name="添加").click()
        expect(page.get_by_text("已保存。")).to_be_visible()
    # one stage: 2 judges per entry, the plain mean
    page.get_by_role("link", name="添加赛段").click()
    page.fill("#name", "初赛")
    page.fill("#code", "prelim")
    page.fill("#judges_per_entry", "2")
    page.select_option("#rule", "mean")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("赛段“初赛”已保存。")).to_be_visible()
    # a rubric per group: two criteria (60 + 40)
    for group in ("天使组", "成长组"):
        page.goto(setup)
        page.locator("#stages").get_by_role("link", name=group).click()
        page.fill("#criteria-0-name", "技术")
        page.fill("#criteria-0-max_points", "60")
        page.fill("#criteria-0-step", "1")
        page.get_by_role("button", name="保存评分标准").click()
        expect(page.get_by_text("评分标准已保存。")).to_be_visible()
        expect(page.get_by_text("满分合计为 60，不是 100。")).to_be_visible()
        page.fill("#criteria-1-name", "团队")
        page.fill("#criteria-1-max_points", "40")
        page.fill("#criteria-1-step", "1")
        page.get_by_role("button", name="保存评分标准").click()
        expect(page.get_by_text("满分合计：100")).to_be_visible()

    # three entries
    for code, title, group in (
        ("A-001", "海洋监测浮标", "天使组"),
        ("A-002", "爬壁机器人", "天使组"),
        ("G-001", "新型弹性体", "成长组"),
    ):
        page.goto(f"{live_server}/contests/{SLUG}/entries/new")
        page.fill("#code", code)
        page.fill("#title", title)
        page.select_option("#group", label=group)
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_text(f"已添加项目 {code}。")).to_be_visible()
    # three judges; 王评委 gets a temporary password
    for name in ("王评委", "李评委", "张评委"):
        page.goto(f"{live_server}/contests/{SLUG}/judges/new")
        page.fill("#name", name)
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        if name == "王评委":
            page.locator("form[action$='/password'] input[type=password]").fill("temporary-pass-1")
            page.get_by_role("button", name="设置密码").click()
            expect(page.get_by_text("首次登录时").first).to_be_visible()

    # assign (the solver's proposal, saved) and open scoring
    page.goto(f"{live_server}/contests/{SLUG}/stages/prelim/assignment")
    page.get_by_role("button", name="保存分配").click()
    expect(page.get_by_text("分配已保存")).to_be_visible()
    page.goto(f"{live_server}/contests/{SLUG}")
    page.get_by_role("link", name="开放评分…").click()
    page.get_by_role("button", name="开放评分").click()
    expect(page.get_by_text("初赛现在的状态：评分中。")).to_be_visible()

    # still a draft: on no public page and not in the API
    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(live_server)
    expect(visitor.get_by_text("2026 高校创新创业大赛")).to_have_count(0)
    assert SLUG not in _public_slugs(live_server)
    assert visitor.goto(f"{live_server}/results/{SLUG}").status == 404

    # the judge: temporary password, a new one, then exactly their entries
    db.session.expire_all()
    wang = db.session.scalar(sa.select(Judge).where(Judge.name == "王评委"))
    mine = set(
        db.session.scalars(sa.select(Assignment.entry_id).where(Assignment.judge_id == wang.id))
    )
    assert len(mine) >= 1
    codes = {e.code for e in wang.contest.entries if e.id in mine}
    judge = browser.new_context(locale="zh-CN").new_page()
    judge.goto(f"{live_server}/sign-in")
    judge.fill("#username", wang.user.username)
    judge.fill("#password", "temporary-pass-1")
    judge.get_by_role("button", name="登录").click()
    judge.fill("#password", "my-own-pass-2026")
    judge.fill("#confirm", "my-own-pass-2026")
    judge.get_by_role("button", name="保存密码").click()
    expect(judge.get_by_text(f"已分配 {len(codes)} 个项目")).to_be_visible()
    listed = judge.locator(".code").all_inner_texts()
    assert set(listed) == codes, (listed, codes)
    judge.get_by_text(sorted(codes)[0]).first.click()
    fields = judge.locator("input.points")
    fields.nth(0).fill("50")
    fields.nth(1).fill("35")
    judge.locator("summary", has_text="提交").click()
    judge.get_by_role("button", name="确认提交").click()
    expect(judge.get_by_text("已提交。")).to_be_visible()

    # made public: now the API and the home page have it
    page.goto(f"{live_server}/contests/{SLUG}")
    page.select_option("#visibility", "public")
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_text("赛事设置已保存。")).to_be_visible()
    assert SLUG in _public_slugs(live_server)
    visitor.goto(live_server)
    expect(visitor.get_by_text("2026 高校创新创业大赛")).to_be_visible()
