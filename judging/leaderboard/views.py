"""The public pages: a contest's results, the standings of a published stage and group,
and the big screen of the live final. No sign-in, served from the render cache
(``judging.leaderboard.serving``); the JSON API is in ``judging.leaderboard.api``."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from markupsafe import Markup

from judging.common.http import with_server_time
from judging.contests.models import Contest
from judging.extensions import limiter
from judging.leaderboard import queries
from judging.leaderboard.cache import HTML, rendered
from judging.leaderboard.pages import (
    PageRequest,
    board_page,
    live,
    page_numbers,
    positive_int,
    whole_board,
)
from judging.leaderboard.serving import LIVE_CACHE, PUBLISHED_CACHE, cached_html

bp = Blueprint("leaderboard", __name__)
# Public reads carry no sign-in attempts to count; skipping the limiter's hook keeps the
# cache-hit path as short as the bare endpoint's.
limiter.exempt(bp)


def _group(contest: Contest, code: str):
    return contest.group(code)


def _contest_page(contest, version, lang):
    return render_template(
        "leaderboard/contest.html",
        contest=contest,
        summary=queries.contest_summary(contest),
        awards=queries.awards(contest),
        lang=lang,
    )


@bp.route("/results/<slug>")
def contest_page(slug: str):
    """A contest's public page: its published stages and groups, the live final, the prizes."""
    return cached_html("contest", slug, (), _contest_page, PUBLISHED_CACHE, scope="meta")


def _standings_build(code: str, group_code: str, wanted: PageRequest, fragment: bool):
    def build(contest, versions, lang):
        stage = queries.published_stage(contest, code)
        group = _group(contest, group_code)
        if stage is None or group is None:
            return None
        board = board_page(whole_board(contest, stage, group, versions), wanted)
        if board is None:
            return None
        table = render_template(
            "leaderboard/_table.html", board=board, lang=lang, numbers=page_numbers
        )
        if fragment:
            return table
        return render_template(
            "leaderboard/standings.html",
            contest=contest,
            board=board,
            summary=queries.contest_summary(contest),
            lang=lang,
            # The fragment's own (autoescaped) output, the same bytes as …/table serves;
            # with its ETag the script's first poll is answered 304.
            table=Markup(table),  # noqa: S704
            table_etag=rendered(table, HTML).etag,
        )

    return build


def _page_wanted() -> PageRequest:
    """?page=N (from 1); anything else is a page that does not exist."""
    page = positive_int(request.args.get("page"), 1)
    if page is None:
        abort(404)
    return PageRequest(page)


@bp.route("/results/<slug>/<code>/<group>")
def standings(slug: str, code: str, group: str):
    """The published standings of one group of one stage, a page of rows at a time
    (?page=N): shareable, readable on a phone, and quick at any size of group."""
    wanted = _page_wanted()
    build = _standings_build(code, group, wanted, fragment=False)
    return cached_html(
        "standings", slug, (code, group, wanted.page), build, PUBLISHED_CACHE, scope="meta"
    )


@bp.route("/results/<slug>/<code>/<group>/table")
def standings_table(slug: str, code: str, group: str):
    """The standings table of one page alone: what the page's script polls (ETag / 304)."""
    wanted = _page_wanted()
    build = _standings_build(code, group, wanted, fragment=True)
    return cached_html(
        "standings_table", slug, (code, group, wanted.page), build, LIVE_CACHE, scope="meta"
    )


def _screen_build(fragment: bool):
    def build(contest, versions, lang):
        body = render_template(
            "leaderboard/_screen_body.html",
            contest=contest,
            live=live(contest, versions),
            lang=lang,
        )
        if fragment:
            return body
        return render_template(
            "leaderboard/screen.html",
            contest=contest,
            lang=lang,
            body=Markup(body),  # noqa: S704 - the fragment's own autoescaped output
            body_etag=rendered(body, HTML).etag,
        )

    return build


@bp.route("/screen/<slug>")
def screen(slug: str):
    """The projector's view of the live final: the entry on stage, its timer, the revealed
    score with the dropped totals struck through, and the group's revealed standings."""
    response = cached_html(
        "screen", slug, (), _screen_build(False), LIVE_CACHE, scope="all", clock=True
    )
    return with_server_time(response)


@bp.route("/screen/<slug>/body")
def screen_body(slug: str):
    """The big screen's content alone, polled by its script (ETag / 304)."""
    response = cached_html(
        "screen_body", slug, (), _screen_build(True), LIVE_CACHE, scope="all", clock=True
    )
    return with_server_time(response)
