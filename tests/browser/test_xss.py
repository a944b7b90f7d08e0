"""An XSS corpus through every page in Chromium (issue 16, item 8).

One contest whose every text field holds an attack: the contest's name and organizers,
groups, fields, stages, the rubric (names, descriptions), award tiers and special
awards, entries (title, organization, leader, phone, e-mail, summary, status reason),
judges (name, title, organization, e-mail) and their accounts' display names, conflicts
(reason, note), sheets' comments, a confirmation's override reason, a withdrawal's
reason. The payloads: script elements, attribute break-outs with event handlers, SVG
onload, ``javascript:`` URLs, a script block closed early, an alert (a dialog), and
template syntax (``{{7*7}}``, ``{% raw %}``).

Every GET route of ``app.url_map`` (path parameters filled with the contest's real ids
and codes, each stage code where a route takes one) is opened in Chromium as an
anonymous visitor, a judge and the organizer. On every page: no 5xx, ``window.__xss``
undefined, no dialog opened, no ``javascript:`` link, and ``{{7*7}}`` never rendered as
49. The workbooks (every ``.xlsx`` route) are downloaded as the organizer: no formula
cell, and every text cell starting with ``= + - @`` stored as text with a quote prefix.
(tests/exports/test_export.py checks the workbook builder on its own; this is every
export route over the same hostile contest.)
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl
from playwright.sync_api import Error as PlaywrightError

from judging.awards import workflow
from judging.common.enums import EntryStatus, Role, StageKind, StageState
from judging.contests.models import SpecialAward
from judging.extensions import db
from judging.leaderboard.cache import cache
from tests.browser.conftest import CHROMIUM  # noqa: F401 - skips without Chromium
from tests.conftest import (
    PASSWORD,
    create_assignment,
    create_award_tier,
    create_conflict,
    create_contest,
    create_criterion,
    create_entry,
    create_field,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    create_user,
)

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '"><img src=x onerror="window.__xss=1">',
    "<svg onload=window.__xss=1>",
    "javascript:window.__xss=1",
    "T{{7*7}}T",
    "R{% raw %}R",
    "</script><script>window.__xss=1</script>",
    "'><img src=x onerror=alert(1)>",
]
#: Text a spreadsheet would take for a formula (only where an export shows it).
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+2", "-3+4", "@SUM(A1)"]
EVALUATED = "T49T"  # what T{{7*7}}T becomes if a template evaluates it
SKIP = {"/static/<path:filename>", "/login/<token>"}
_ARG = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>")

_count = iter(range(10_000))


def hostile(*, formula: bool = False) -> str:
    """The next payload of the corpus, in turn (a JavaScript comment keeps values apart
    that must be unique, and leaves ``javascript:`` URLs valid scripts)."""
    n = next(_count)
    corpus = PAYLOADS + FORMULAS if formula else PAYLOADS
    return f"{corpus[n % len(corpus)]} //{n}"


def _world():
    """The hostile contest: a published stage with sheets, confirmed awards, a withdrawn
    and republished result; an open roadshow final with the judge's draft."""
    organizer = create_user("xss-org", role=Role.ORGANIZER, display_name=hostile())
    contest = create_contest("xss", name=hostile(), organizers=hostile())
    groups = [create_group(contest, code, hostile(), position=i) for i, code in enumerate("ab")]
    field = create_field(contest, hostile())
    prelim = create_stage(contest, "prelim", name=hostile(), judges_per_entry=2)
    final = create_stage(contest, "final", name=hostile(), kind=StageKind.ROADSHOW)
    rubric = {
        (stage.id, g.id): [
            create_criterion(stage, g, hostile(), max_points="30", description=hostile()),
            create_criterion(stage, g, hostile(), max_points="20", step="1"),
        ]
        for stage in (prelim, final)
        for g in groups
    }
    judge_user = create_user("xss-judge", role=Role.JUDGE, display_name=hostile())
    judge = create_judge(
        contest,
        judge_user,
        name=hostile(),
        title=hostile(),
        organization=hostile(),
        email=hostile(),
    )
    other = create_judge(contest, name=hostile(), organization=hostile(), email=hostile())
    entries = []
    for g in groups:
        for _ in range(2):
            entry = create_entry(
                contest,
                g,
                title=hostile(formula=True),
                organization=hostile(formula=True),
                leader=hostile(formula=True),
                phone=hostile(),
                email=hostile(),
                summary=hostile(),
                field=field,
                is_student_team=True,
            )
            entries.append(entry)
            for j, share in ((judge, "20"), (other, "25.5")):
                create_assignment(prelim, j, entry)
                tech, team = rubric[(prelim.id, g.id)]
                create_sheet(prelim, j, entry, {tech: share, team: "10"}, comment=hostile())
            create_assignment(final, judge, entry)
        create_award_tier(prelim, g, name=hostile(), quota=1, prize="5000")
    withdrawn = create_entry(contest, groups[0], title=hostile(), organization=hostile())
    withdrawn.status, withdrawn.status_reason = EntryStatus.WITHDRAWN, hostile()
    conflicted = create_entry(contest, groups[1], title=hostile(), organization=hostile())
    create_conflict(judge, conflicted, reason=hostile(), note=hostile())
    db.session.add(
        SpecialAward(
            contest=contest,
            name=hostile(),
            rule="student_team_reached:prelim",
            prize=Decimal("2000"),
        )
    )
    tech, team = rubric[(final.id, groups[0].id)]
    create_sheet(final, judge, entries[0], {tech: "12"}, submitted=False, comment=hostile())
    db.session.flush()

    workflow.change_state(stage=prelim, target="closed", user=organizer)
    workflow.confirm(stage=prelim, kind="awards", user=organizer, override_reason=hostile())
    workflow.change_state(stage=prelim, target="published", user=organizer)
    workflow.change_state(stage=prelim, target="closed", reason=hostile(), user=organizer)
    workflow.change_state(stage=prelim, target="published", user=organizer)
    db.session.commit()
    assert prelim.state == StageState.PUBLISHED
    return {
        "slug": contest.slug,
        "code": ["prelim", "final"],
        "group": [groups[0].code],
        "stage_id": [final.id],
        "entry_id": [entries[0].id],
        "judge_id": [judge.id],
        "kind": ["awards"],
        "target": ["closed"],
    }


def _urls(app, values: dict) -> list[str]:
    """Every GET route with each combination of real values for its parameters."""
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule in SKIP or "GET" not in rule.methods:
            continue
        found = [[rule.rule]]
        for name in _ARG.findall(rule.rule):
            options = values.get(name)
            assert options is not None, f"no value for <{name}> of {rule.rule}: add one"
            options = options if isinstance(options, list) else [options]
            found = [
                [_ARG.sub(lambda m, n=name, v=v: str(v) if m.group(1) == n else m.group(0), u[0])]
                for u in found
                for v in options
            ]
        urls += [u[0] for u in found]
    return urls


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_load_state("load")
    assert "/sign-in" not in page.url, f"{username} was not signed in"


_JS_URLS = """() => [...document.querySelectorAll('[href],[src],[action],[formaction]')]
  .flatMap(e => ['href', 'src', 'action', 'formaction'].map(a => e.getAttribute(a)))
  .filter(v => v && /^\\s*javascript:/i.test(v))"""


def _visit(page, base: str, url: str, dialogs: list) -> list[str]:
    """Open url; what is wrong with the page."""
    problems = []
    try:
        response = page.goto(base + url, wait_until="load")
    except PlaywrightError:  # an answer a browser does not show (204): its status alone
        status = page.request.get(base + url).status
        return [f"{url}: {status}"] if status >= 500 else []
    status = response.status if response else 0
    if status >= 500:
        return [f"{url}: {status}"]
    if page.evaluate("typeof window.__xss") != "undefined":
        problems.append(f"{url}: a payload ran (window.__xss is set)")
    if dialogs:
        problems.append(f"{url}: a dialog opened: {dialogs}")
        dialogs.clear()
    content = page.content()
    if EVALUATED in content:
        problems.append(f"{url}: {{{{7*7}}}} was evaluated")
    if "text/html" in (response.headers.get("content-type", "") if response else ""):
        links = page.evaluate(_JS_URLS)
        if links:
            problems.append(f"{url}: javascript: URLs {links}")
    return problems


def _workbook_problems(url: str, body: bytes) -> list[str]:
    problems = []
    wb = openpyxl.load_workbook(io.BytesIO(body))
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                where = f"{url} {ws.title}!{cell.coordinate}"
                if cell.data_type == "f":
                    problems.append(f"{where}: a formula {cell.value!r}")
                elif (
                    isinstance(cell.value, str)
                    and cell.value[:1] in "=+-@"
                    and (cell.data_type != "s" or not cell.quotePrefix)
                ):
                    problems.append(f"{where}: {cell.value!r} not kept as text")
    return problems


def test_no_payload_runs_on_any_page_for_any_role(live_app, live_server, browser):
    cache.clear()
    values = _world()
    urls = _urls(live_app, values)
    pages = [u for u in urls if not u.endswith(".xlsx")]
    workbooks = [u for u in urls if u.endswith(".xlsx")]
    assert len(pages) > 50 and workbooks

    problems: list[str] = []
    seen: dict[str, int] = {}
    for role, username in (("anonymous", None), ("judge", "xss-judge"), ("organizer", "xss-org")):
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        dialogs: list[str] = []

        def on_dialog(dialog, dialogs=dialogs):
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        try:
            if username:
                _sign_in(page, live_server, username)
            for url in pages:
                problems += [f"{role} {p}" for p in _visit(page, live_server, url, dialogs)]
                if "/sign-in" not in page.url:
                    seen[role] = seen.get(role, 0) + 1
                if "__xss" in page.content():  # a payload was on the page, as text
                    seen[f"{role} shown"] = seen.get(f"{role} shown", 0) + 1
            if role == "organizer":
                for url in workbooks:
                    response = context.request.get(live_server + url)
                    if response.status >= 500:
                        problems.append(f"{url}: {response.status}")
                    elif response.status == 200:
                        seen["workbooks"] = seen.get("workbooks", 0) + 1
                        problems += _workbook_problems(url, response.body())
        finally:
            context.close()
    assert not problems, "\n".join(problems[:40])
    # The organizer's and the judge's pages were really theirs, not the sign-in form.
    assert seen["organizer"] > 40 and seen["judge"] > 5, seen
    assert seen["workbooks"] >= 4, seen
    # And the payloads were on the pages (as text), not kept off them.
    assert seen["anonymous shown"] >= 5 and seen["organizer shown"] > 30, seen
