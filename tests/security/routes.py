"""The route inventory: every endpoint of the app, who may use it, and what its path
parameters name (issue 16, item 8).

``test_inventory`` compares this table with ``app.url_map``: a new route without a row
here, or a row for a route that is gone, fails the suite, so every route is in the access
matrix, the CSRF check and the fuzzing from the day it is added.

Who may use a route (``access``):

- ``PUBLIC``: everyone, signed in or not.
- ``SIGNED_IN``: any signed-in user (judge or organizer), about their own account.
- ``JUDGE``: any judge (their own home page).
- ``CONTEST_JUDGE``: a judge of the stage's contest.
- ``ASSIGNED``: only the judge assigned to the entry (not another judge, not a conflicted one).
- ``ORGANIZER``: an organizer of the route's contest.
- ``ANY_ORGANIZER``: any organizer (pages about no one contest: new contest, accounts).

What a path parameter names (``params``), resolved by the matrix's fixture world
(tests/security/conftest.py) for its own contest or for another one:

- ``contest``: a contest slug;
- ``stage.open`` / ``stage.published`` / ``stage.live``: a stage code (the open online
  stage, the published one, the open roadshow); ``stage_id``: the open stage's id;
- ``group``: a group code; ``group_id``, ``field_id``, ``tier_id``, ``special_id``;
- ``entry_id``: the entry the judge is assigned to; ``judge_id``: that judge;
  ``sheet_id``: a submitted sheet; ``conflict_id``: a binding conflict;
- ``organizer_id``: an organizer account (not the signed-in one);
- ``login_token``: a judge's unused sign-in link;
- ``=value``: a fixed word the route takes (a confirmation kind, a target state, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC = "public"
SIGNED_IN = "signed-in"
JUDGE = "judge"
CONTEST_JUDGE = "contest judge"
ASSIGNED = "assigned judge"
ORGANIZER = "organizer"
ANY_ORGANIZER = "any organizer"

GET = frozenset({"GET"})
POST = frozenset({"POST"})
BOTH = frozenset({"GET", "POST"})

#: Parameters that are database ids (``<int:...>`` in the rule).
INT_KINDS = frozenset(
    {
        "stage_id",
        "entry_id",
        "judge_id",
        "sheet_id",
        "conflict_id",
        "group_id",
        "field_id",
        "tier_id",
        "special_id",
        "organizer_id",
    }
)


@dataclass(frozen=True)
class Route:
    """One rule of the url map: its endpoint, methods, who may use it, its parameters."""

    endpoint: str
    rule: str
    methods: frozenset[str]
    access: str
    params: dict[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.rule)

    @property
    def writes(self) -> bool:
        """Whether the route takes a state-changing method."""
        return bool(self.methods - {"GET", "HEAD", "OPTIONS"})


C = {"slug": "contest"}
OPEN = {"slug": "contest", "code": "stage.open"}
LIVE = {"slug": "contest", "code": "stage.live"}
PUB = {"slug": "contest", "code": "stage.published"}
SHEET = {"stage_id": "stage_id", "entry_id": "entry_id"}


def _r(endpoint, rule, methods, access, params=None):
    return Route(endpoint, rule, methods, access, dict(params or {}))


ROUTES: tuple[Route, ...] = (
    # ---- accounts and sign-in
    _r("auth.sign_in", "/sign-in", BOTH, PUBLIC),
    _r("auth.set_language", "/language", POST, PUBLIC),
    _r("auth.link_sign_in", "/login/<token>", BOTH, PUBLIC, {"token": "login_token"}),
    _r("auth.sign_out", "/sign-out", POST, PUBLIC),  # no one signed in: home,
    _r("auth.change_password", "/account/password", BOTH, SIGNED_IN),
    _r("auth.account_header", "/account/header", GET, PUBLIC),  # no one: 204,
    _r("organizers.index", "/organizers", GET, ANY_ORGANIZER),
    _r("organizers.invite", "/organizers/invite", POST, ANY_ORGANIZER),
    _r(
        "organizers.deactivate",
        "/organizers/<int:user_id>/deactivate",
        POST,
        ANY_ORGANIZER,
        {"user_id": "organizer_id"},
    ),
    _r(
        "organizers.reactivate",
        "/organizers/<int:user_id>/reactivate",
        POST,
        ANY_ORGANIZER,
        {"user_id": "organizer_id"},
    ),
    _r(
        "organizers.new_link",
        "/organizers/<int:user_id>/link",
        POST,
        ANY_ORGANIZER,
        {"user_id": "organizer_id"},
    ),
    # ---- contests and their setup
    _r("contests.home", "/", GET, PUBLIC),
    _r("contests.new_contest", "/contests/new", BOTH, ANY_ORGANIZER),
    _r("contests.overview", "/contests/<slug>", GET, ORGANIZER, C),
    _r("contests.settings", "/contests/<slug>/settings", POST, ORGANIZER, C),
    _r("contests.add_organizer", "/contests/<slug>/organizers", POST, ORGANIZER, C),
    _r(
        "contests.remove_organizer",
        "/contests/<slug>/organizers/<int:user_id>/remove",
        POST,
        ORGANIZER,
        {"slug": "contest", "user_id": "organizer_id"},
    ),
    _r("contests.setup", "/contests/<slug>/setup", GET, ORGANIZER, C),
    _r("contests.setup_contest", "/contests/<slug>/setup/contest", POST, ORGANIZER, C),
    _r("contests.setup_field", "/contests/<slug>/setup/fields", POST, ORGANIZER, C),
    _r(
        "contests.setup_field",
        "/contests/<slug>/setup/fields/<int:field_id>",
        POST,
        ORGANIZER,
        {**C, "field_id": "field_id"},
    ),
    _r("contests.setup_group", "/contests/<slug>/setup/groups", POST, ORGANIZER, C),
    _r(
        "contests.setup_group",
        "/contests/<slug>/setup/groups/<int:group_id>",
        POST,
        ORGANIZER,
        {**C, "group_id": "group_id"},
    ),
    _r("contests.setup_special", "/contests/<slug>/setup/specials", POST, ORGANIZER, C),
    _r(
        "contests.setup_special",
        "/contests/<slug>/setup/specials/<int:award_id>",
        POST,
        ORGANIZER,
        {**C, "award_id": "special_id"},
    ),
    _r("contests.setup_stage", "/contests/<slug>/setup/stages/new", BOTH, ORGANIZER, C),
    _r("contests.setup_stage", "/contests/<slug>/setup/stages/<code>", BOTH, ORGANIZER, OPEN),
    _r("contests.setup_tier", "/contests/<slug>/setup/tiers", POST, ORGANIZER, C),
    _r(
        "contests.setup_tier",
        "/contests/<slug>/setup/tiers/<int:tier_id>",
        POST,
        ORGANIZER,
        {**C, "tier_id": "tier_id"},
    ),
    # ---- entries
    _r("entries.index", "/contests/<slug>/entries", GET, ORGANIZER, C),
    _r("entries.new", "/contests/<slug>/entries/new", BOTH, ORGANIZER, C),
    _r(
        "entries.edit",
        "/contests/<slug>/entries/<int:entry_id>/edit",
        BOTH,
        ORGANIZER,
        {**C, "entry_id": "entry_id"},
    ),
    _r(
        "entries.status",
        "/contests/<slug>/entries/<int:entry_id>/status",
        BOTH,
        ORGANIZER,
        {**C, "entry_id": "entry_id"},
    ),
    # ---- judges, conflicts, assignment
    _r("judges.home", "/judge/", GET, JUDGE),
    _r("judges.jury", "/contests/<slug>/judges", GET, ORGANIZER, C),
    _r("judges.cards", "/contests/<slug>/judges/cards", POST, ORGANIZER, C),
    _r("judges.conflicts", "/contests/<slug>/conflicts", GET, ORGANIZER, C),
    _r("judges.add_conflict", "/contests/<slug>/conflicts/add", POST, ORGANIZER, C),
    _r("judges.accept_proposal", "/contests/<slug>/conflicts/accept", POST, ORGANIZER, C),
    _r("judges.dismiss_proposal", "/contests/<slug>/conflicts/dismiss", POST, ORGANIZER, C),
    _r(
        "judges.review_conflict",
        "/contests/<slug>/conflicts/<int:conflict_id>/review",
        POST,
        ORGANIZER,
        {**C, "conflict_id": "conflict_id"},
    ),
    _r(
        "judges.withdraw_conflict",
        "/contests/<slug>/conflicts/<int:conflict_id>/withdraw",
        POST,
        ORGANIZER,
        {**C, "conflict_id": "conflict_id"},
    ),
    _r("jury.new", "/contests/<slug>/judges/new", BOTH, ORGANIZER, C),
    _r(
        "jury.edit",
        "/contests/<slug>/judges/<int:judge_id>",
        BOTH,
        ORGANIZER,
        {**C, "judge_id": "judge_id"},
    ),
    *(
        _r(
            f"jury.{name.replace('-', '_')}",
            f"/contests/<slug>/judges/<int:judge_id>/{name}",
            POST,
            ORGANIZER,
            {**C, "judge_id": "judge_id"},
        )
        for name in ("card", "deactivate", "reactivate", "password", "sign-out")
    ),
    _r("assignment.assignment", "/contests/<slug>/stages/<code>/assignment", BOTH, ORGANIZER, OPEN),
    # ---- scoring
    _r(
        "scoring.sheet",
        "/judge/stages/<int:stage_id>/entries/<int:entry_id>",
        BOTH,
        ASSIGNED,
        SHEET,
    ),
    _r(
        "scoring.declare_conflict",
        "/judge/stages/<int:stage_id>/entries/<int:entry_id>/conflict",
        POST,
        ASSIGNED,
        SHEET,
    ),
    _r(
        "scoring.next_sheet",
        "/judge/stages/<int:stage_id>/next",
        GET,
        CONTEST_JUDGE,
        {"stage_id": "stage_id"},
    ),
    _r("scoring.stage_sheets", "/contests/<slug>/stages/<code>/sheets", GET, ORGANIZER, OPEN),
    _r(
        "scoring.reopen",
        "/contests/<slug>/sheets/<int:sheet_id>/reopen",
        POST,
        ORGANIZER,
        {**C, "sheet_id": "sheet_id"},
    ),
    # ---- progress, results workflow, rubric
    _r("standings.progress", "/contests/<slug>/stages/<code>/progress", GET, ORGANIZER, OPEN),
    _r(
        "standings.progress_numbers",
        "/contests/<slug>/stages/<code>/progress.json",
        GET,
        ORGANIZER,
        OPEN,
    ),
    _r("standings.reminders", "/contests/<slug>/stages/<code>/reminders", POST, ORGANIZER, OPEN),
    _r("awards.results", "/contests/<slug>/stages/<code>/results", GET, ORGANIZER, OPEN),
    _r(
        "awards.confirm",
        "/contests/<slug>/stages/<code>/confirm/<kind>",
        BOTH,
        ORGANIZER,
        {**OPEN, "kind": "=awards"},
    ),
    _r(
        "awards.stage_state",
        "/contests/<slug>/stages/<code>/state/<target>",
        BOTH,
        ORGANIZER,
        {**OPEN, "target": "=closed"},
    ),
    _r(
        "awards.rubric",
        "/contests/<slug>/stages/<code>/rubric/<group>",
        BOTH,
        ORGANIZER,
        {**OPEN, "group": "group"},
    ),
    # ---- audit, Excel
    _r("audit.log", "/contests/<slug>/audit", GET, ORGANIZER, C),
    _r("exports.export_contest", "/contests/<slug>/export.xlsx", GET, ORGANIZER, C),
    _r("exports.export_stage", "/contests/<slug>/stages/<code>/export.xlsx", GET, ORGANIZER, OPEN),
    _r(
        "exports.scores_template",
        "/contests/<slug>/stages/<code>/scores-template.xlsx",
        GET,
        ORGANIZER,
        OPEN,
    ),
    _r(
        "exports.stage_progress",
        "/contests/<slug>/stages/<code>/progress.xlsx",
        GET,
        ORGANIZER,
        OPEN,
    ),
    _r("exports.page", "/contests/<slug>/excel", GET, ORGANIZER, C),
    _r(
        "exports.upload",
        "/contests/<slug>/excel/import/<kind>",
        POST,
        ORGANIZER,
        {**C, "kind": "=entries"},
    ),
    _r("exports.new_contest", "/excel/import", BOTH, ANY_ORGANIZER),
    _r(
        "exports.template", "/excel/templates/<kind>.xlsx", GET, ANY_ORGANIZER, {"kind": "=entries"}
    ),
    _r("exports.public_stage", "/results/<slug>/<code>.xlsx", GET, PUBLIC, PUB),
    # ---- the live final
    _r("live.control_index", "/contests/<slug>/live", GET, ORGANIZER, C),
    _r("live.control", "/contests/<slug>/live/<code>", GET, ORGANIZER, LIVE),
    _r("live.control_panel", "/contests/<slug>/live/<code>/panel", GET, ORGANIZER, LIVE),
    _r("live.next_entry", "/contests/<slug>/live/<code>/next", POST, ORGANIZER, LIVE),
    _r("live.on_stage", "/contests/<slug>/live/<code>/on-stage", POST, ORGANIZER, LIVE),
    _r("live.reveal", "/contests/<slug>/live/<code>/reveal", POST, ORGANIZER, LIVE),
    _r("live.timer", "/contests/<slug>/live/<code>/timer", POST, ORGANIZER, LIVE),
    _r("live.running_order", "/contests/<slug>/stages/<code>/order", BOTH, ORGANIZER, LIVE),
    _r(
        "live.running_order_draw",
        "/contests/<slug>/stages/<code>/order/draw",
        POST,
        ORGANIZER,
        LIVE,
    ),
    _r(
        "live.running_order_print",
        "/contests/<slug>/stages/<code>/order/print",
        GET,
        ORGANIZER,
        LIVE,
    ),
    # ---- the public leaderboard, the big screen, the JSON API
    _r("leaderboard.contest_page", "/results/<slug>", GET, PUBLIC, C),
    _r(
        "leaderboard.standings",
        "/results/<slug>/<code>/<group>",
        GET,
        PUBLIC,
        {**PUB, "group": "group"},
    ),
    _r(
        "leaderboard.standings_table",
        "/results/<slug>/<code>/<group>/table",
        GET,
        PUBLIC,
        {**PUB, "group": "group"},
    ),
    _r("leaderboard.screen", "/screen/<slug>", GET, PUBLIC, C),
    _r("leaderboard.screen_body", "/screen/<slug>/body", GET, PUBLIC, C),
    _r("leaderboard.api_contests", "/api/v1/contests", GET, PUBLIC),
    _r("leaderboard.api_contest", "/api/v1/contests/<slug>", GET, PUBLIC, C),
    _r("leaderboard.api_groups", "/api/v1/contests/<slug>/groups", GET, PUBLIC, C),
    _r("leaderboard.api_stages", "/api/v1/contests/<slug>/stages", GET, PUBLIC, C),
    _r("leaderboard.api_stage", "/api/v1/contests/<slug>/stages/<code>", GET, PUBLIC, PUB),
    _r(
        "leaderboard.api_standings",
        "/api/v1/contests/<slug>/stages/<code>/groups/<group>/standings",
        GET,
        PUBLIC,
        {**PUB, "group": "group"},
    ),
    _r("leaderboard.api_awards", "/api/v1/contests/<slug>/awards", GET, PUBLIC, C),
    _r("leaderboard.api_live", "/api/v1/contests/<slug>/live", GET, PUBLIC, C),
)

#: Left out on purpose: the static files (no data, no state).
NOT_IN_MATRIX = frozenset({"static"})

BY_RULE: dict[str, Route] = {r.rule: r for r in ROUTES}
