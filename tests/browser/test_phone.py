"""Phones: every page of a judge and the organizer's results, progress and live control at
360 and 390 px wide (the demo contest, as it is on the day of the final).

On each page: the header is one line (under 64 px, no item wrapped), the page does not
scroll sideways, no entry code is broken over two lines and no text stands one character
per line. The judge's entry list starts above the fold; the account menu opens inside the
screen. The judge's list and sheet are kept under docs/ at 390 × 844.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from judging.contests.models import Contest
from judging.entries.models import Entry
from judging.extensions import db
from judging.leaderboard.cache import cache
from judging.seed import load_demo
from judging.standings.groups import clear_cache
from tests.browser.conftest import DOCS

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (360, 390)
WAIT = 20_000  # ms: generous for a loaded 2-CPU machine, still bounded

#: What is wrong with the page's layout on a phone, as a list of sentences (empty: nothing).
LAYOUT_PROBLEMS = """
() => {
  const problems = [];
  const lines = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set();
    for (const r of range.getClientRects()) {
      if (r.width > 0 && r.height > 0) tops.add(Math.round(r.top));
    }
    return tops.size;
  };
  const texts = (root) => {
    const found = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const shown = node.parentElement.checkVisibility({ visibilityProperty: true });
      if (shown && node.textContent.trim()) found.push(node);
    }
    return found;
  };
  const header = document.querySelector(".topbar");
  const box = header.getBoundingClientRect();
  if (box.height >= 64) problems.push(`the header is ${Math.round(box.height)} px tall`);
  for (const item of header.children) {
    const r = item.getBoundingClientRect();
    if (r.height && (r.top < box.top - 1 || r.bottom > box.bottom + 1)) {
      problems.push(`header item outside the header's line: ${item.textContent.trim()}`);
    }
  }
  for (const node of texts(header)) {
    if (lines(node) > 1) problems.push(`wrapped in the header: ${node.textContent.trim()}`);
  }
  for (const el of document.querySelectorAll(".code, .nowrap")) {
    for (const node of texts(el)) {
      if (lines(node) > 1) problems.push(`code broken over lines: ${node.textContent.trim()}`);
    }
  }
  for (const node of texts(document.body)) {
    const text = node.textContent.replace(/\\s+/g, "");
    const n = lines(node);
    if (text.length >= 2 && n >= 2 && n >= text.length) {
      problems.push(`one character per line: ${text}`);
    }
  }
  const page = document.scrollingElement;
  if (page.scrollWidth > innerWidth) {
    problems.push(`the page scrolls sideways: ${page.scrollWidth} px in ${innerWidth} px`);
  }
  return problems;
}
"""


@pytest.fixture
def demo(live_app):
    """The demo contest, no standings or rendered pages cached by an earlier test."""
    clear_cache()
    cache.clear()
    expect.set_options(timeout=WAIT)
    load_demo(ROOT / "seed")
    db.session.commit()
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == "dalian-2020"))
    yield contest
    expect.set_options(timeout=5_000)  # Playwright's default, for the other tests
    cache.clear()
    clear_cache()


def _phone(browser, base: str, username: str, password: str, width: int, *, desk=False):
    """A signed-in page on a phone of that width, 844 px tall (or at a desk, 900 px)."""
    if desk:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    else:
        context = browser.new_context(
            viewport={"width": width, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.goto(f"{base}/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("button.primary").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    return context, page


def _problems(page, base: str, path: str) -> list[str]:
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    return [f"{path}: {problem}" for problem in page.evaluate(LAYOUT_PROBLEMS)]


def _sheet_path(contest: Contest) -> str:
    final = contest.stage("final")
    entry = db.session.scalar(
        sa.select(Entry).where(Entry.contest_id == contest.id, Entry.code == "A-007")
    )
    return f"/judge/stages/{final.id}/entries/{entry.id}"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_judges_pages_fit_a_phone(live_server, browser, demo, width):
    context, page = _phone(browser, live_server, "judge01", "demo-judge", width)
    assert page.url == f"{live_server}/judge/"
    sheet = _sheet_path(demo)
    problems = []
    for path in ("/judge/", sheet, "/results/dalian-2020", "/account/password"):
        problems += _problems(page, live_server, path)
    assert problems == [], "\n".join(problems)

    page.goto(f"{live_server}/judge/")
    first = page.locator(".entry-row").first
    expect(first).to_be_visible()
    assert first.bounding_box()["y"] + first.bounding_box()["height"] <= 844, (
        "the entry list starts above the fold"
    )
    # The account menu: the name opens it, inside the screen; signing out is one tap away.
    sign_out = page.get_by_role("button", name="退出登录")
    expect(sign_out).to_be_hidden()
    page.locator(".account-menu summary").click()
    expect(sign_out).to_be_visible()
    box = sign_out.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 44
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_organizers_pages_fit_a_phone(live_server, browser, demo, width):
    context, page = _phone(browser, live_server, "organizer", "demo-organizer", width)
    problems = []
    for path in (
        "/",
        "/contests/dalian-2020",
        "/contests/dalian-2020/stages/final/results",
        "/contests/dalian-2020/stages/semi/results",
        "/contests/dalian-2020/stages/final/progress",
        "/contests/dalian-2020/live/final",
        "/organizers",
    ):
        problems += _problems(page, live_server, path)
    # The live control with an entry on stage: its timer, judges and buttons.
    page.goto(f"{live_server}/contests/dalian-2020/live/final")
    page.get_by_test_id("next-entry").click()
    page.wait_for_url(lambda url: url.endswith("/live/final"))
    page.get_by_test_id("start-pitch").click()
    page.wait_for_url(lambda url: url.endswith("/live/final"))
    expect(page.get_by_test_id("control-on-stage")).to_contain_text("A-006")
    problems += _problems(page, live_server, "/contests/dalian-2020/live/final")
    assert problems == [], "\n".join(problems)

    # The results are cards: a row's code and title on its first line, its numbers
    # captioned below, no table header to squeeze.
    page.goto(f"{live_server}/contests/dalian-2020/stages/semi/results")
    row = page.locator("table.standings tbody tr").first
    assert page.locator("table.standings thead").first.bounding_box()["height"] <= 1
    main, score = row.locator("td.main"), row.locator("td[data-label]").first
    assert score.get_attribute("data-label") == "评分"
    assert score.evaluate("el => getComputedStyle(el, '::before').content") != "none"
    assert score.bounding_box()["y"] >= main.bounding_box()["y"] + 10, "below the entry's line"
    assert row.bounding_box()["width"] <= width

    # In English too (longer words in the header: the nav gives way, nothing wraps).
    context.add_cookies([{"name": "lang", "value": "en", "url": live_server}])
    problems = []
    for path in ("/", "/contests/dalian-2020/stages/semi/results", "/organizers"):
        problems += _problems(page, live_server, path)
    assert problems == [], "\n".join(problems)
    expect(page.locator(".topbar")).to_contain_text("Organizer accounts")
    context.close()


def test_the_screenshots_for_the_docs(live_server, browser, demo):
    """docs/judge-phone-list.png and docs/judge-phone-sheet.png at 390 × 844, and
    docs/organizer-home.png at 1280 × 900."""
    context, page = _phone(browser, live_server, "judge01", "demo-judge", 390)
    page.goto(f"{live_server}/judge/")
    expect(page.locator(".entry-row").first).to_be_visible()
    page.screenshot(path=str(DOCS / "judge-phone-list.png"))
    page.goto(live_server + _sheet_path(demo))
    fields = page.locator("input.points")
    for i, value in enumerate(["26", "17.5", "13"]):
        fields.nth(i).fill(value)
    expect(page.get_by_test_id("total")).to_have_text("56.5")
    page.screenshot(path=str(DOCS / "judge-phone-sheet.png"))
    context.close()

    desk, organizer = _phone(browser, live_server, "organizer", "demo-organizer", 1280, desk=True)
    organizer.goto(f"{live_server}/")
    expect(organizer.get_by_role("button", name="退出登录")).to_be_visible()
    organizer.screenshot(path=str(DOCS / "organizer-home.png"))
    desk.close()
