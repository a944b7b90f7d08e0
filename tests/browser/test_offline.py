"""A judge on a phone in a hall whose Wi-Fi drops (issue 15, items 1 and 2): typed scores
are kept on the phone and sent as a draft when the network allows; a sheet changed on the
server meanwhile is never overwritten silently; a submission leads to the next entry."""

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from judging.awards import workflow
from judging.common.enums import SheetState
from judging.extensions import db
from judging.judges.services import login_link
from judging.scoring import services
from judging.scoring.models import ScoreSheet
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_stage,
)

WAIT = 15_000  # ms: the autosave waits 1.5 s after typing stops, on a shared machine


@pytest.fixture
def hall(live_app):
    """An open final with a three-line rubric and three entries for one judge."""
    contest = create_contest("dalian-2020", name="大连市高校第三届创新创业大赛")
    angel = create_group(contest, "angel", "天使组")
    final = create_stage(contest, "final", name="决赛")
    criteria = [
        create_criterion(final, angel, "创意与技术", max_points="40"),
        create_criterion(final, angel, "商业模式", max_points="35"),
        create_criterion(final, angel, "团队", max_points="25"),
    ]
    judge = create_judge(contest, name="王评委")
    entries = []
    for code, title in (("A-001", "中科海洋"), ("A-002", "HTPO 弹性体"), ("A-003", "智能巡检")):
        entries.append(create_entry(contest, angel, code, title=title))
        create_assignment(final, judge, entries[-1])
    link = login_link(judge)
    db.session.commit()
    return {"link": link, "stage": final, "judge": judge, "entries": entries, "criteria": criteria}


@pytest.fixture
def phone(browser, live_server, hall):
    """A signed-in judge's phone (390 × 844, Chinese); the page and its context."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    page = context.new_page()
    page.set_default_timeout(WAIT)
    link = hall["link"]
    page.goto(live_server + link[link.index("/login/") :])
    page.get_by_role("button", name="登录并开始评分").click()
    page.wait_for_url(f"{live_server}/judge/")
    yield page, context
    context.close()


def sheet_url(live_server, hall, n):
    return f"{live_server}/judge/stages/{hall['stage'].id}/entries/{hall['entries'][n].id}"


def saved_sheet(hall, n) -> ScoreSheet | None:
    """The judge's sheet of entry n as the database has it now (a new transaction: an open
    one would read the snapshot it began with)."""
    db.session.rollback()
    return db.session.scalar(
        sa.select(ScoreSheet).where(
            ScoreSheet.entry_id == hall["entries"][n].id,
            ScoreSheet.judge_id == hall["judge"].id,
        )
    )


def points(sheet: ScoreSheet) -> list[Decimal]:
    by_criterion = {s.criterion_id: s.points for s in sheet.scores}
    return [by_criterion.get(c.id) for c in sheet.stage.criteria]


def type_scores(page, values):
    fields = page.locator("input.points")
    for i, value in enumerate(values):
        fields.nth(i).click()  # a tap: the page has been used (beforeunload asks only then)
        fields.nth(i).fill(value)


def status(page):
    return page.get_by_test_id("save-status")


def expect_state(page, state: str) -> None:
    """Wait for the status line's state (saved, saving, offline, clash, error)."""
    expect(status(page)).to_have_attribute("data-state", state, timeout=WAIT)


def test_typed_scores_survive_leaving_the_page_and_coming_back(phone, live_server, hall):
    page, _context = phone
    page.goto(sheet_url(live_server, hall, 0))
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    type_scores(page, ["27.5", "30"])
    # Straight to the list, before the autosave had time to send anything.
    page.get_by_test_id("back-to-list").click()
    page.wait_for_url(f"{live_server}/judge/")
    assert asked == ["beforeunload"], "leaving with unsent changes asks first"

    page.goto(sheet_url(live_server, hall, 0))
    fields = page.locator("input.points")
    expect(fields.nth(0)).to_have_value("27.5")
    expect(fields.nth(1)).to_have_value("30")
    assert page.get_by_test_id("total").inner_text() == "57.5"
    expect_state(page, "saved")
    sheet = saved_sheet(hall, 0)
    assert sheet.state == SheetState.DRAFT
    assert points(sheet) == [Decimal("27.5"), Decimal("30"), None]


def test_offline_scores_are_kept_and_reach_the_server_once_online(phone, live_server, hall):
    page, context = phone
    page.goto(sheet_url(live_server, hall, 1))
    context.set_offline(True)
    type_scores(page, ["31", "22.5", "20"])
    page.get_by_role("button", name="保存草稿").click()
    expect_state(page, "offline")
    assert page.url == sheet_url(live_server, hall, 1), "the page stays, with the typed scores"
    page.wait_for_timeout(2500)  # longer than the autosave's pause: nothing can be sent
    assert saved_sheet(hall, 1) is None

    context.set_offline(False)  # the network is back: the kept draft is sent
    expect_state(page, "saved")
    sheet = saved_sheet(hall, 1)
    assert sheet.state == SheetState.DRAFT and sheet.version == 1
    assert points(sheet) == [Decimal("31"), Decimal("22.5"), Decimal("20")]

    # Offline again; the page is closed before the network is back, and opened again.
    context.set_offline(True)
    type_scores(page, ["32"])
    page.locator("textarea[name=comment]").fill("断网时补充")
    expect_state(page, "offline")
    page.close(run_before_unload=False)
    assert saved_sheet(hall, 1).version == 1
    context.set_offline(False)
    page = context.new_page()
    page.goto(sheet_url(live_server, hall, 1))
    expect(page.locator("input.points").nth(0)).to_have_value("32")
    expect_state(page, "saved")
    sheet = saved_sheet(hall, 1)
    assert sheet.version == 2 and sheet.comment == "断网时补充"
    assert points(sheet) == [Decimal("32"), Decimal("22.5"), Decimal("20")]
    key = f"judging.sheet.{hall['judge'].user_id}.{hall['stage'].id}.{hall['entries'][1].id}"
    assert page.evaluate("key => localStorage.getItem(key)", key) is None, "sent: not kept"


def test_a_sheet_reopened_while_offline_shows_the_choice(phone, live_server, hall):
    page, context = phone
    judge, stage, entry = hall["judge"], hall["stage"], hall["entries"][2]
    first = {c.id: v for c, v in zip(hall["criteria"], ["20", "20", "20"], strict=True)}
    services.save_sheet(
        judge=judge,
        entry=entry,
        stage=stage,
        points=first,
        comment="",
        expected_version=0,
        submit=False,
    )
    db.session.commit()
    page.goto(sheet_url(live_server, hall, 2))
    context.set_offline(True)
    type_scores(page, ["38", "33"])
    expect_state(page, "offline")

    # Meanwhile the sheet is submitted from another device, and the organizer reopens it.
    other = {c.id: v for c, v in zip(hall["criteria"], ["25", "25", "25"], strict=True)}
    services.save_sheet(
        judge=judge,
        entry=entry,
        stage=stage,
        points=other,
        comment="另一台设备",
        expected_version=1,
        submit=True,
    )
    db.session.commit()
    workflow.reopen_sheet(sheet=saved_sheet(hall, 2), reason="录入错误")
    db.session.commit()

    context.set_offline(False)
    choice = page.get_by_test_id("sheet-choice")
    expect(choice).to_be_visible(timeout=WAIT)
    expect_state(page, "clash")
    rows = choice.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("38")
    expect(rows.nth(0)).to_contain_text("25")
    expect(rows.nth(3)).to_contain_text("另一台设备")
    sheet = saved_sheet(hall, 2)
    assert sheet.version == 3 and points(sheet) == [Decimal("25")] * 3, "nothing overwritten"

    choice.locator("[data-choice=mine]").click()  # keep mine: sent with the server's version
    expect(choice).to_be_hidden()
    expect_state(page, "saved")
    sheet = saved_sheet(hall, 2)
    assert sheet.version == 4 and sheet.state == SheetState.DRAFT
    assert points(sheet) == [Decimal("38"), Decimal("33"), Decimal("20")], "mine, as typed"


def test_taking_the_servers_sheet_drops_the_copy_on_the_phone(phone, live_server, hall):
    page, context = phone
    judge, stage, entry = hall["judge"], hall["stage"], hall["entries"][0]
    page.goto(sheet_url(live_server, hall, 0))
    context.set_offline(True)
    type_scores(page, ["10"])
    expect_state(page, "offline")
    theirs = {c.id: v for c, v in zip(hall["criteria"], ["36", "30", "22"], strict=True)}
    services.save_sheet(
        judge=judge,
        entry=entry,
        stage=stage,
        points=theirs,
        comment="",
        expected_version=0,
        submit=False,
    )
    db.session.commit()
    context.set_offline(False)
    choice = page.get_by_test_id("sheet-choice")
    expect(choice).to_be_visible(timeout=WAIT)
    choice.locator("[data-choice=server]").click()
    expect(choice).to_be_hidden()
    expect(page.locator("input.points").nth(0)).to_have_value("36")
    assert page.get_by_test_id("total").inner_text() == "88"
    page.reload()
    expect(page.get_by_test_id("sheet-choice")).to_be_hidden()
    expect(page.locator("input.points").nth(0)).to_have_value("36")
    assert saved_sheet(hall, 0).version == 1


def test_submit_goes_to_the_next_entry_then_to_the_list(phone, live_server, hall):
    page, _context = phone
    page.goto(sheet_url(live_server, hall, 0))
    expect(page.get_by_test_id("back-to-list")).to_be_visible()
    for n in range(3):
        type_scores(page, ["30", "30", "20"])
        page.locator("summary", has_text="提交").click()
        page.get_by_role("button", name="确认提交").click()
        if n < 2:
            # The next sheet, its address carrying the submission's message.
            following = re.escape(sheet_url(live_server, hall, n + 1))
            page.wait_for_url(re.compile(following + r"\?submitted=\d+$"))
            expect(page.get_by_text("已提交。")).to_be_visible()
            expect(page.locator("h1")).to_have_text(hall["entries"][n + 1].title)
    page.wait_for_url(f"{live_server}/judge/")
    expect(page.get_by_text("已提交。")).to_be_visible()
    for n in range(3):
        assert saved_sheet(hall, n).state == SheetState.SUBMITTED
