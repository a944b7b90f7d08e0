"""The content security policy in a real browser: the main pages of every role load with
no violation (no inline script, handler or style attribute left anywhere), and the
scripts still do their work under it — the sheet's autosave status line, the big
screen's poll, the judge cards' QR codes.

Each role signs in through the form, as a visitor would. Violations are caught twice:
a ``securitypolicyviolation`` listener installed before any page script runs, and
Chromium's console ("Refused to …"). An inline script injected on purpose first shows
that the policy is enforced and that the listener hears it.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from werkzeug.serving import make_server

from judging import TestingConfig, create_app
from judging.common.db import write_intent
from judging.common.headers import CSP
from judging.contests.models import Stage
from judging.entries.models import Entry
from judging.extensions import babel, db
from judging.judges.models import Assignment
from judging.judges.services import login_link
from judging.leaderboard.cache import cache
from judging.live import services as live
from judging.scoring.models import ScoreSheet
from judging.standings.groups import clear_cache
from tests.browser.conftest import CHROMIUM  # noqa: F401 - skips without Chromium
from tests.browser.test_screen import WAIT, _catalog, _judge, _mid_roadshow

SLUG = "dalian-2020"
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + (e.sourceFile || location.pathname) + ":" + e.lineNumber);
});
"""
PAGES = {
    "anonymous": [
        "/",
        "/results/{slug}",
        "/results/{slug}/prelim/angel",
        "/results/{slug}/semi/growth",
        "/screen/{slug}",
        "/sign-in",
        "/login/{token}",
        "/no-such-page",
    ],
    "judge": [
        "/judge/",
        "/judge/stages/{final}/entries/{on_stage}",
        "/judge/stages/{final}/entries/{submitted}",
        "/results/{slug}",
        "/account/password",
    ],
    "organizer": [
        "/",
        "/contests/{slug}",
        "/contests/{slug}/setup",
        "/contests/{slug}/setup/stages/final",
        "/contests/{slug}/stages/final/rubric/angel",
        "/contests/{slug}/entries",
        "/contests/{slug}/entries/{on_stage}/edit",
        "/contests/{slug}/judges",
        "/contests/{slug}/judges/{judge}",
        "/contests/{slug}/conflicts",
        "/organizers",
        "/contests/{slug}/stages/final/assignment",
        "/contests/{slug}/stages/final/order",
        "/contests/{slug}/stages/final/order/print",
        "/contests/{slug}/stages/final/progress",
        "/contests/{slug}/stages/final/sheets",
        "/contests/{slug}/stages/final/results",
        "/contests/{slug}/stages/semi/results",
        "/contests/{slug}/stages/final/confirm/standings",
        "/contests/{slug}/live/final",
        "/contests/{slug}/audit",
        "/contests/{slug}/excel",
        "/excel/import",
        "/screen/{slug}",
    ],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo mid-roadshow (A-007 on stage, its pitch running) on a SQLite file, served
    for the module; yields (base URL, the values page paths need, the app)."""
    tmp_path = tmp_path_factory.mktemp("csp")
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'csp.sqlite'}"
    config.BABEL_TRANSLATION_DIRECTORIES = _catalog(tmp_path)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        cache.clear()
        clear_cache()
        babel.domain_instance.cache.clear()
        contest, judge01 = _mid_roadshow()
        final = contest.stage("final")
        on_stage = _entry(contest, "A-007")
        live.put_on_stage(stage=final, entry=on_stage)
        live.start_phase(stage=final, phase="pitch")
        submitted = db.session.scalar(
            sa.select(ScoreSheet.entry_id)
            .where(ScoreSheet.stage_id == final.id, ScoreSheet.judge_id == judge01.id)
            .order_by(ScoreSheet.entry_id)
            .limit(1)
        )
        values = {
            "slug": SLUG,
            "final": final.id,
            "on_stage": on_stage.id,
            "submitted": submitted,
            "judge": judge01.id,
            "token": login_link(_judge("judge02")).rsplit("/login/", 1)[1],
        }
        db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", values, app
        finally:
            server.shutdown()
            thread.join(timeout=5)
            babel.domain_instance.cache.clear()
            db.session.remove()
            db.engine.dispose()
    cache.clear()


def _entry(contest, code: str) -> Entry:
    return db.session.scalar(
        sa.select(Entry).where(Entry.contest_id == contest.id, Entry.code == code)
    )


class Watched:
    """A page of a fresh context (never bypassing the policy) with its violations heard."""

    def __init__(self, browser, base: str, role: str):
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=False
        )
        self.context.set_default_timeout(WAIT)
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.base = base
        if role != "anonymous":
            username, password = {
                "judge": ("judge01", "demo-judge"),
                "organizer": ("organizer", "demo-organizer"),
            }[role]
            self.page.goto(f"{base}/sign-in")
            self.page.fill("#username", username)
            self.page.fill("#password", password)
            self.page.locator("button.primary").click()
            self.page.wait_for_load_state()
            assert "/sign-in" not in self.page.url, f"{username} could not sign in"

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.console.append(text)

    def visit(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.headers.get("content-security-policy") == CSP
        self.page.wait_for_load_state("load")

    def violations(self) -> list[str]:
        heard = self.page.evaluate("window.__csp || []")
        return heard + self.console + self.errors

    def clear(self) -> None:
        self.page.evaluate("window.__csp = []")
        self.console.clear()
        self.errors.clear()


def test_the_policy_is_enforced_and_heard(browser, site):
    base, _values, _app = site
    watched = Watched(browser, base, "anonymous")
    watched.visit("/sign-in")
    watched.page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.inlineRan = true";
          document.body.appendChild(s);
          const d = document.createElement("div");
          d.setAttribute("style", "color: red");
          document.body.appendChild(d);
        }"""
    )
    watched.page.wait_for_timeout(200)
    assert watched.page.evaluate("window.inlineRan === undefined"), "an inline script ran"
    found = watched.violations()
    assert any("script-src" in v for v in found) and any("style-src" in v for v in found), found
    watched.context.close()


@pytest.mark.parametrize("role", ["anonymous", "judge", "organizer"])
def test_every_main_page_loads_without_a_violation(browser, site, role):
    base, values, _app = site
    watched = Watched(browser, base, role)
    found = {}
    for path in PAGES[role]:
        watched.visit(path.format(**values))
        watched.page.wait_for_timeout(300)  # deferred scripts and their first fetches
        if watched.violations():
            found[path] = watched.violations()
        watched.clear()
    watched.context.close()
    assert not found, "\n".join(f"{path}: {v}" for path, v in found.items())


def test_the_scripts_still_work_under_the_policy(browser, site):
    base, values, app = site

    # The judge's sheet: typing a point makes the autosave status line speak.
    judge = Watched(browser, base, "judge")
    judge.visit("/judge/stages/{final}/entries/{on_stage}".format(**values))
    status = judge.page.get_by_test_id("save-status")
    judge.page.locator("input.points").first.fill("12")
    expect(status).not_to_be_empty(timeout=WAIT)
    expect(status).to_have_attribute("data-state", "saved", timeout=WAIT)  # its fetch went

    # The big screen: the poll follows the stage without a reload.
    screen = Watched(browser, base, "anonymous")
    screen.visit(f"/screen/{SLUG}")
    screen.page.evaluate("window.notReloaded = true")
    on_stage = screen.page.get_by_test_id("on-stage")
    expect(on_stage).to_contain_text("A-007")
    with app.app_context(), write_intent():  # BEGIN IMMEDIATE: queue behind the autosave
        final = db.session.get(Stage, values["final"])
        other = db.session.scalar(
            sa.select(Entry)
            .join(Assignment, Assignment.entry_id == Entry.id)
            .where(Assignment.stage_id == final.id, Entry.id != values["on_stage"])
            .order_by(Entry.code.desc())
            .limit(1)
        )
        code = other.code
        live.put_on_stage(stage=final, entry=other)
        db.session.commit()
    expect(on_stage).to_contain_text(code, timeout=WAIT)
    assert screen.page.evaluate("window.notReloaded") is True

    # The judge cards: their QR codes (data: images) are drawn.
    organizer = Watched(browser, base, "organizer")
    organizer.visit(f"/contests/{SLUG}/judges")
    form = organizer.page.locator(f"form[action='/contests/{SLUG}/judges/cards']")
    form.evaluate("f => f.removeAttribute('target')")
    form.locator("button").click()
    organizer.page.wait_for_load_state("load")
    qr = organizer.page.locator("img[src^='data:image/svg+xml']")
    assert qr.count() > 0, "no QR code on the cards"
    assert qr.first.evaluate("img => img.complete && img.naturalWidth > 0"), "QR not drawn"

    for watched in (judge, screen, organizer):
        assert not watched.violations(), watched.violations()
        watched.context.close()
