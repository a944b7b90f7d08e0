"""The running order in a browser: the organizer moves entries with the ↑ ↓ buttons and by
dragging a row, the numbers follow, the order saved is the one shown; the print view."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from judging.common.enums import Role, StageKind, StageState
from judging.contests.models import Stage
from judging.extensions import db
from judging.live.queries import stage_entries
from tests.conftest import (
    PASSWORD,
    create_assignment,
    create_contest,
    create_entry,
    create_group,
    create_judge,
    create_stage,
    create_user,
)

WAIT = 15_000  # ms: generous for a loaded 2-CPU machine, still bounded


@pytest.fixture(autouse=True)
def _patient():
    expect.set_options(timeout=WAIT)
    yield
    expect.set_options(timeout=5_000)


def _show() -> None:
    contest = create_contest("lots", name="抽签测试赛")
    angel = create_group(contest, "angel", "天使组")
    final = create_stage(
        contest, "final", name="决赛", state=StageState.OPEN, kind=StageKind.ROADSHOW
    )
    judge = create_judge(contest, name="评委甲")
    for n in range(1, 5):
        entry = create_entry(contest, angel, f"A-00{n}", title=f"项目{n}")
        create_assignment(final, judge, entry)
    create_user("organizer", role=Role.ORGANIZER)
    db.session.commit()


def _numbers(page) -> dict[str, str]:
    rows = page.locator("tr[data-order-row]")
    return {
        rows.nth(i).locator("strong").inner_text(): rows.nth(i).locator("input").input_value()
        for i in range(rows.count())
    }


def test_organizer_moves_and_drags_entries_and_saves(live_server, browser):
    _show()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.goto(f"{live_server}/sign-in")
    page.fill("#username", "organizer")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    page.goto(f"{live_server}/contests/lots")
    page.locator("a[href='/contests/lots/stages/final/order']").click()
    expect(page.locator("tr[data-order-row]")).to_have_count(4)
    assert _numbers(page) == {"A-001": "1", "A-002": "2", "A-003": "3", "A-004": "4"}

    page.get_by_role("button", name="A-001 ↓").click()
    assert _numbers(page) == {"A-002": "1", "A-001": "2", "A-003": "3", "A-004": "4"}

    rows = page.locator("tr[data-order-row]")
    rows.nth(3).drag_to(rows.nth(0), target_position={"x": 200, "y": 3})
    assert _numbers(page) == {"A-004": "1", "A-002": "2", "A-001": "3", "A-003": "4"}

    # A number typed by hand is respected before the next move: A-003 typed as 1 (and
    # A-004 as 4), then A-002 moves up past A-003.
    page.locator("tr[data-order-row]", has_text="A-003").locator("input").fill("1")
    page.locator("tr[data-order-row]", has_text="A-004").locator("input").fill("4")
    page.get_by_role("button", name="A-002 ↑").click()
    assert _numbers(page) == {"A-002": "1", "A-003": "2", "A-001": "3", "A-004": "4"}

    page.get_by_test_id("save-order").click()
    expect(page.locator(".flash-success")).to_be_visible()
    assert _numbers(page) == {"A-002": "1", "A-003": "2", "A-001": "3", "A-004": "4"}
    db.session.expire_all()
    stage = db.session.scalar(sa.select(Stage).where(Stage.code == "final"))
    assert [e.code for e in stage_entries(stage)] == ["A-002", "A-003", "A-001", "A-004"]

    page.get_by_test_id("print-link").click()
    expect(page.locator("[data-print]")).to_be_visible()  # the script shows the button
    expect(page.get_by_test_id("print-row").first).to_contain_text("A-002")
    context.close()
