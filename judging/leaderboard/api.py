"""The read-only JSON API (``/api/v1/``): the same public data as the pages, from the same
render cache; routes on the leaderboard blueprint (docs/api.md, docs/openapi.yaml)."""

from __future__ import annotations

from flask import request

from judging.common.http import api_error, json_body, with_server_time
from judging.leaderboard import queries
from judging.leaderboard.cache import JSON, rendered, send
from judging.leaderboard.pages import (
    MAX_PER_PAGE,
    PAGE_SIZE,
    PageRequest,
    board_page,
    live,
    positive_int,
    whole_board,
)
from judging.leaderboard.serving import LIVE_CACHE, PUBLISHED_CACHE, cached_json
from judging.leaderboard.views import _group, bp


@bp.route("/api/v1/contests")
def api_contests():
    """Every contest: slug, name, year, organizers."""
    data = {"contests": queries.contest_list()}
    item = rendered(json_body(data), JSON)
    return send(item, PUBLISHED_CACHE)


@bp.route("/api/v1/contests/<slug>")
def api_contest(slug: str):
    """One contest with its groups and its public stages."""
    return cached_json(
        "api_contest",
        slug,
        (),
        lambda c, v: queries.contest_summary(c),
        PUBLISHED_CACHE,
        scope="meta",
    )


@bp.route("/api/v1/contests/<slug>/stages")
def api_stages(slug: str):
    """The contest's public stages: published ones and the live roadshow."""
    return cached_json(
        "api_stages",
        slug,
        (),
        lambda c, v: {"stages": [queries.stage_dict(s) for s in queries.public_stages(c)]},
        PUBLISHED_CACHE,
        scope="meta",
    )


@bp.route("/api/v1/contests/<slug>/groups")
def api_groups(slug: str):
    """The contest's groups."""
    return cached_json(
        "api_groups",
        slug,
        (),
        lambda c, v: {"groups": [{"code": g.code, "name": g.name} for g in c.groups]},
        PUBLISHED_CACHE,
        scope="meta",
    )


@bp.route("/api/v1/contests/<slug>/stages/<code>")
def api_stage(slug: str, code: str):
    """One published stage with its groups."""

    def build(contest, version):
        stage = queries.published_stage(contest, code)
        if stage is None:
            return None
        return {
            **queries.stage_dict(stage),
            "groups": [{"code": g.code, "name": g.name} for g in contest.groups],
        }

    return cached_json("api_stage", slug, (code,), build, PUBLISHED_CACHE, scope="meta")


@bp.route("/api/v1/contests/<slug>/stages/<code>/groups/<group>/standings")
def api_standings(slug: str, code: str, group: str):
    """A published stage's standings of one group (the same rows as the page), a page at a
    time: ?page= (from 1) and ?per_page= (1 to MAX_PER_PAGE, default PAGE_SIZE)."""
    page = positive_int(request.args.get("page"), 1)
    per_page = positive_int(request.args.get("per_page"), PAGE_SIZE, most=MAX_PER_PAGE)
    if page is None:
        return api_error(400, "page must be a whole number from 1")
    if per_page is None:
        return api_error(400, f"per_page must be a whole number from 1 to {MAX_PER_PAGE}")
    wanted = PageRequest(page, per_page)

    def build(contest, versions):
        stage = queries.published_stage(contest, code)
        grp = _group(contest, group)
        if stage is None or grp is None:
            return None
        board = board_page(whole_board(contest, stage, grp, versions), wanted)
        if board is not None:
            board.pop("first")
        return board

    return cached_json(
        "api_standings",
        slug,
        (code, group, page, per_page),
        build,
        PUBLISHED_CACHE,
        scope="meta",
    )


@bp.route("/api/v1/contests/<slug>/awards")
def api_awards(slug: str):
    """The published prize list: tier awards, special awards, prize totals."""
    return cached_json(
        "api_awards", slug, (), lambda c, v: queries.awards(c), PUBLISHED_CACHE, scope="meta"
    )


@bp.route("/api/v1/contests/<slug>/live")
def api_live(slug: str):
    """Rule 8's view of the live final: on stage, timer, submitted count, revealed scores."""

    def build(contest, versions):
        return live(contest, versions)

    response = cached_json("api_live", slug, (), build, LIVE_CACHE, scope="all", clock=True)
    return with_server_time(response)
