"""Accessibility: axe-core over every page of every role, in Chinese and in English, and the
scoring form and the live control used with the keyboard alone.

The demo contest mid-roadshow (as on the big screen's test, A-007 on stage with its pitch
running) is served once for the module. Each role signs in once per language: the
anonymous visitor, judge01 (on a phone) and the organizer; English is chosen with the
header's language switch. Every page gets node_modules/axe-core/axe.min.js (npm, pinned in
package.json; `make setup` runs npm ci) and fails on any critical or serious violation,
each listed with its rule, the page and the elements.

Without axe-core the tests fail; they skip only where npm itself is missing, outside CI
(.ci/run installs npm and sets CI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from werkzeug.serving import make_server

from judging import TestingConfig, create_app
from judging.common.enums import SheetState
from judging.contests.models import Stage
from judging.entries.models import Entry
from judging.extensions import babel, db
from judging.judges.models import Assignment
from judging.judges.services import login_link
from judging.leaderboard.cache import cache
from judging.live import services as live
from judging.live.models import LivePhase
from judging.scoring import services as scoring
from judging.scoring.models import ScoreSheet
from judging.scoring.rubric import rubric_specs
from judging.standings.groups import clear_cache
from tests.browser.conftest import CHROMIUM  # noqa: F401 - skips without Chromium
from tests.browser.test_screen import WAIT, _catalog, _judge, _mid_roadshow

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SLUG = "dalian-2020"
#: the impacts that fail a page; moderate and minor ones are only reported (A11Y_REPORT)
FAILING = ("critical", "serious")
#: a JSON file to write every violation found into, whatever its impact (for a report)
REPORT = os.environ.get("A11Y_REPORT")

if not AXE.exists() and shutil.which("npm") is None and not os.environ.get("CI"):
    pytest.skip(
        "npm is not installed, so axe-core is not in node_modules/ (install nodejs and npm, "
        "then `make setup`)",
        allow_module_level=True,
    )

# (role, page name, path): {entry}, {judge}, {token}… are filled in from the demo data.
PAGES = [
    ("anonymous", "public home", "/"),
    ("anonymous", "contest results", "/results/{slug}"),
    ("anonymous", "standings prelim angel", "/results/{slug}/prelim/angel"),
    ("anonymous", "standings prelim growth", "/results/{slug}/prelim/growth"),
    ("anonymous", "standings semi angel", "/results/{slug}/semi/angel"),
    ("anonymous", "standings semi growth", "/results/{slug}/semi/growth"),
    ("anonymous", "big screen", "/screen/{slug}"),
    ("anonymous", "sign-in", "/sign-in"),
    ("anonymous", "sign-in link", "/login/{token}"),
    ("anonymous", "not found", "/no-such-page"),
    ("judge", "entry list", "/judge/"),
    ("judge", "sheet to score", "/judge/stages/{final}/entries/{on_stage}"),
    ("judge", "submitted sheet", "/judge/stages/{final}/entries/{submitted}"),
    ("judge", "sheet of a published stage", "/judge/stages/{prelim}/entries/{prelim_entry}"),
    ("judge", "contest results", "/results/{slug}"),
    ("judge", "password", "/account/password"),
    ("judge", "not found", "/judge/stages/{final}/entries/0"),
    ("organizer", "home", "/"),
    ("organizer", "new contest", "/contests/new"),
    ("organizer", "contest overview", "/contests/{slug}"),
    ("organizer", "setup", "/contests/{slug}/setup"),
    ("organizer", "stage form", "/contests/{slug}/setup/stages/final"),
    ("organizer", "new stage", "/contests/{slug}/setup/stages/new"),
    ("organizer", "rubric", "/contests/{slug}/stages/final/rubric/angel"),
    ("organizer", "entries", "/contests/{slug}/entries"),
    ("organizer", "entry form", "/contests/{slug}/entries/{on_stage}/edit"),
    ("organizer", "entry status", "/contests/{slug}/entries/{on_stage}/status"),
    ("organizer", "judges", "/contests/{slug}/judges"),
    ("organizer", "judge form", "/contests/{slug}/judges/{judge}"),
    ("organizer", "judge cards", "POST /contests/{slug}/judges/cards"),  # see FORMS
    ("organizer", "conflicts", "/contests/{slug}/conflicts"),
    ("organizer", "organizers", "/organizers"),
    ("organizer", "assignment", "/contests/{slug}/stages/final/assignment"),
    ("organizer", "running order", "/contests/{slug}/stages/final/order"),
    ("organizer", "running order print", "/contests/{slug}/stages/final/order/print"),
    ("organizer", "progress", "/contests/{slug}/stages/final/progress"),
    ("organizer", "reminders", "POST /contests/{slug}/stages/final/reminders"),
    ("organizer", "sheets", "/contests/{slug}/stages/final/sheets"),
    ("organizer", "results final", "/contests/{slug}/stages/final/results"),
    ("organizer", "results semi", "/contests/{slug}/stages/semi/results"),
    ("organizer", "confirm standings", "/contests/{slug}/stages/final/confirm/standings"),
    ("organizer", "confirm awards", "/contests/{slug}/stages/final/confirm/awards"),
    ("organizer", "stage state", "/contests/{slug}/stages/final/state/closed"),
    ("organizer", "live control", "/contests/{slug}/live/final"),
    ("organizer", "audit log", "/contests/{slug}/audit"),
    ("organizer", "exports", "/contests/{slug}/excel"),
    ("organizer", "import", "/excel/import"),
    ("organizer", "password", "/account/password"),
    ("organizer", "big screen", "/screen/{slug}"),
    ("organizer", "not found", "/contests/no-such-contest"),
]
#: the pages a form posts to, and the page the form is on
FORMS = {
    "/contests/{slug}/judges/cards": "/contests/{slug}/judges",
    "/contests/{slug}/stages/final/reminders": "/contests/{slug}/stages/final/progress",
}
CASES = [(lang, role, name, path) for lang in ("zh", "en") for role, name, path in PAGES]

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        pytest.fail(
            f"{AXE.relative_to(ROOT)} is missing: run `make setup` (npm ci installs axe-core "
            "from package-lock.json)"
        )
    return AXE


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The demo mid-roadshow on its own SQLite file, served for the whole module; yields
    (base URL, the values the page paths need)."""
    tmp_path = tmp_path_factory.mktemp("a11y")
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'a11y.sqlite'}"
    config.BABEL_TRANSLATION_DIRECTORIES = _catalog(tmp_path)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        cache.clear()
        clear_cache()
        babel.domain_instance.cache.clear()
        contest, judge01 = _mid_roadshow()
        final, prelim = contest.stage("final"), contest.stage("prelim")
        on_stage = _entry(contest, "A-007")
        live.put_on_stage(stage=final, entry=on_stage)
        live.start_phase(stage=final, phase="pitch")
        _draft(final, judge01, but=on_stage)  # a draft badge on the judge's list and sheets
        submitted = db.session.scalar(
            sa.select(ScoreSheet.entry_id)
            .where(ScoreSheet.stage_id == final.id, ScoreSheet.judge_id == judge01.id)
            .where(ScoreSheet.state == SheetState.SUBMITTED)
            .order_by(ScoreSheet.entry_id)
            .limit(1)
        )
        prelim_entry = db.session.scalar(
            sa.select(Assignment.entry_id)
            .where(Assignment.stage_id == prelim.id, Assignment.judge_id == judge01.id)
            .order_by(Assignment.entry_id)
            .limit(1)
        )
        values = {
            "slug": SLUG,
            "final": final.id,
            "prelim": prelim.id,
            "on_stage": on_stage.id,
            "submitted": submitted,
            "prelim_entry": prelim_entry,
            "judge": judge01.id,
            "token": login_link(_judge("judge02")).rsplit("/login/", 1)[1],
        }
        db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", values
        finally:
            server.shutdown()
            thread.join(timeout=5)
            babel.domain_instance.cache.clear()
            db.session.remove()
            db.engine.dispose()
    cache.clear()


def _draft(stage, judge, *, but: Entry) -> None:
    """A draft sheet of the judge's last unscored entry in the stage (not the one on stage)."""
    entry = db.session.scalar(
        sa.select(Entry)
        .join(Assignment, Assignment.entry_id == Entry.id)
        .where(Assignment.stage_id == stage.id, Assignment.judge_id == judge.id)
        .where(Entry.id != but.id)
        .where(~Entry.id.in_(sa.select(ScoreSheet.entry_id).where(ScoreSheet.judge_id == judge.id)))
        .order_by(Entry.id.desc())
        .limit(1)
    )
    rubric = rubric_specs(stage.id, entry.group_id)
    scoring.save_sheet(
        judge=judge,
        entry=entry,
        stage=stage,
        points={rubric[0].id: "10"},
        comment="",
        expected_version=0,
        submit=False,
        rubric=rubric,
    )


def _entry(contest, code: str) -> Entry:
    return db.session.scalar(
        sa.select(Entry).where(Entry.contest_id == contest.id, Entry.code == code)
    )


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("button.primary").click()
    page.wait_for_load_state()
    assert "/sign-in" not in page.url, f"{username} could not sign in"


def _new_page(browser, base: str, role: str, lang: str):
    """A page of a fresh browser context signed in as the role, in the language (chosen
    with the header's switch, as a visitor would)."""
    # axe-core goes in as an inline script, which the pages' content security policy
    # refuses: these contexts bypass it (tests/browser/test_csp.py checks the policy).
    if role == "judge":
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            bypass_csp=True,
        )
    else:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True
        )
    context.set_default_timeout(WAIT)
    page = context.new_page()
    if role == "judge":
        _sign_in(page, base, "judge01", "demo-judge")
    elif role == "organizer":
        _sign_in(page, base, "organizer", "demo-organizer")
    page.goto(f"{base}/account/password" if role != "anonymous" else f"{base}/sign-in")
    assert page.locator("html").get_attribute("lang") == "zh-CN", "Chinese by default"
    if lang == "en":
        page.locator("button[name=lang][value=en]").click()
        page.wait_for_load_state()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    return page


@pytest.fixture(scope="module")
def pages(browser, demo_site):
    """One signed-in page per (role, language), made when first needed."""
    base, _values = demo_site
    made = {}

    def get(role: str, lang: str):
        if (role, lang) not in made:
            made[role, lang] = _new_page(browser, base, role, lang)
        return made[role, lang]

    yield get
    for page in made.values():
        page.context.close()


def _open(page, base: str, path: str, values: dict) -> None:
    """Go to the page; a page answering a POST (reminders, judge cards) through the button
    of its form."""
    if not path.startswith("POST "):
        page.goto(base + path.format(**values))
        return
    action = path.removeprefix("POST ")
    page.goto(base + FORMS[action].format(**values))
    action = action.format(**values)
    form = page.locator(f"form[action='{action}']")
    if form.get_attribute("target") == "_blank":  # the judge cards open in a new tab
        form.evaluate("f => f.removeAttribute('target')")
    form.locator("button").click()
    page.wait_for_load_state()
    assert page.url == base + action, f"the form did not post to {action}"


_found: dict[str, list] = {}


@pytest.mark.parametrize(
    ("lang", "role", "name", "path"),
    CASES,
    ids=[f"{lang}-{role}-{name.replace(' ', '_')}" for lang, role, name, _ in CASES],
)
def test_no_serious_axe_violations(pages, demo_site, axe_script, lang, role, name, path):
    base, values = demo_site
    page = pages(role, lang)
    _open(page, base, path, values)
    if name == "big screen":
        page.get_by_test_id("on-stage").wait_for()
    page.add_script_tag(path=str(axe_script))
    violations = page.evaluate(RUN_AXE)
    if REPORT:
        _found[f"{lang} {role} {name} {path}"] = violations
        Path(REPORT).write_text(json.dumps(_found, ensure_ascii=False, indent=1), "utf-8")
    failing = [v for v in violations if v["impact"] in FAILING]
    lines = [
        f"{v['impact']} {v['id']} on {role}'s {name} ({lang}, {path}): {v['help']}\n"
        + "\n".join(f"    {n['target']}: {n['summary']}" for n in v["nodes"])
        for v in failing
    ]
    assert not failing, "\n".join(lines)


# ------------------------------------------------------------------ keyboard only


def _tab_to(page, selector: str, *, limit: int = 80, back: bool = False):
    """Press Tab (Shift+Tab going back) until the focused element matches the selector;
    return its locator. Fails if the keyboard never gets there."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return page.locator(selector).and_(page.locator(":focus"))
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"Tab never reached {selector!r} on {page.url}")


def _assert_focus_visible(page) -> None:
    """The focused element has an outline a sighted keyboard user can see."""
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth), s.boxShadow]; }"
    )
    outline, width, shadow = style
    assert (outline != "none" and width >= 2) or shadow != "none", (
        f"no visible focus on {page.evaluate('document.activeElement.outerHTML')[:120]}: {style}"
    )


def test_a_judge_scores_and_submits_with_the_keyboard_only(pages, demo_site):
    base, values = demo_site
    page = pages("judge", "zh")
    with db.session.no_autoflush:
        entry_id = db.session.scalar(
            sa.select(Assignment.entry_id)
            .where(
                Assignment.stage_id == values["final"],
                Assignment.judge_id == values["judge"],
                Assignment.entry_id != values["on_stage"],
                ~Assignment.entry_id.in_(
                    sa.select(ScoreSheet.entry_id).where(
                        ScoreSheet.stage_id == values["final"],
                        ScoreSheet.judge_id == values["judge"],
                    )
                ),
            )
            .order_by(Assignment.entry_id)
            .limit(1)
        )
    page.goto(f"{base}/judge/stages/{values['final']}/entries/{entry_id}")
    fields = page.locator("input.points")
    count = fields.count()
    assert count == 5

    _tab_to(page, "input.points")
    typed = ["25", "17.5", "12", "14", "8"]  # within both groups' rubrics
    for i, value in enumerate(typed):
        focused = page.locator(":focus")
        assert focused.get_attribute("id") == fields.nth(i).get_attribute("id"), (
            "Tab goes from one criterion to the next"
        )
        _assert_focus_visible(page)
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    expect(page.get_by_test_id("total")).to_have_text("76.5")

    # Submitting: the Submit disclosure, then its confirmation button, by Tab and Enter.
    _tab_to(page, "details.confirm-submit summary")
    _assert_focus_visible(page)
    page.keyboard.press("Enter")
    _tab_to(page, "button[name=action][value=submit]")
    _assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    db.session.rollback()  # end the test thread's read, to see the server's writes
    sheet = db.session.scalar(
        sa.select(ScoreSheet).where(
            ScoreSheet.stage_id == values["final"],
            ScoreSheet.judge_id == values["judge"],
            ScoreSheet.entry_id == entry_id,
        )
    )
    assert sheet is not None and sheet.is_submitted
    assert sheet.total == Decimal("76.5")


def test_the_organizer_drives_the_live_control_with_the_keyboard(pages, demo_site):
    base, values = demo_site
    page = pages("organizer", "zh")
    page.goto(f"{base}/contests/{SLUG}/live/final")
    on_stage = page.get_by_test_id("control-on-stage")
    expect(on_stage).to_contain_text("A-007")

    # The main action: the next entry goes on stage.
    _tab_to(page, "[data-testid=next-entry]")
    _assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(on_stage).not_to_contain_text("A-007")

    # Its pitch timer starts from the keyboard too.
    _tab_to(page, "[data-testid=start-pitch]")
    _assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(on_stage.locator(".live-timer")).to_have_class(re.compile(r"\bphase-pitch\b"))

    db.session.rollback()  # end the test thread's read, to see the server's writes
    final = db.session.get(Stage, values["final"])
    state = live.room(final)
    assert state.entry_id not in (None, values["on_stage"])
    assert state.phase == LivePhase.PITCH
