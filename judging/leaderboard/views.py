"""Public leaderboard, big screen, live control and JSON API pages.

Public routes (no sign-in) answer from the render cache (``judging.leaderboard.cache``):
one query reads the contest's data version, and a hit sends the stored bytes with their
ETag (304 when the client has them). Pages and fragments render without anything
personal (no CSRF token, no account name), so one copy serves every visitor of a
language. The organizer's live control is ordinary, uncached, signed-in pages.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, format_datetime, format_time, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from judging.common.decorators import organizer_required
from judging.contests.models import Contest
from judging.contests.queries import contest_or_404
from judging.contests.standings import group_standings
from judging.contests.versions import data_version
from judging.entries.models import Entry
from judging.extensions import db, limiter
from judging.judges.models import Assignment, Judge
from judging.judges.queries import binding_conflict_exists
from judging.leaderboard import queries, services
from judging.leaderboard.cache import HTML, JSON, NOT_PUBLIC, cache, matches, rendered, send
from judging.leaderboard.forms import LiveForm
from judging.leaderboard.front import FrontDoor, Route, VersionReader, version_token
from judging.leaderboard.models import LivePhase

bp = Blueprint("leaderboard", __name__)
# Public reads carry no sign-in attempts to count; skipping the limiter's hook keeps the
# cache-hit path as short as the bare endpoint's.
limiter.exempt(bp)

PUBLISHED_CACHE = "public, max-age=10"
LIVE_CACHE = "public, no-cache"
_VERSION = sa.select(Contest.id, Contest.data_version, Contest.created_at).where(
    Contest.slug == sa.bindparam("slug")
)


# ------------------------------------------------------------------ helpers


def _locale() -> tuple[str, bool]:
    """The page language: ?lang= (kept in the page's links), else the session's, else Chinese."""
    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang")
    if lang in languages:
        return lang, True
    lang = session.get("lang")
    return (lang if lang in languages else current_app.config["BABEL_DEFAULT_LOCALE"]), False


@bp.record_once
def _install_front_door(state) -> None:
    """Put the front door (``judging.leaderboard.front``) around the app's WSGI callable."""
    app = state.app

    def reader():
        with app.app_context():
            engine = db.engine
        return VersionReader(engine) if VersionReader.usable(engine) else None

    front = FrontDoor(app.wsgi_app, reader)
    app.wsgi_app = front
    app.extensions["leaderboard_front"] = front


def _front() -> FrontDoor | None:
    return current_app.extensions.get("leaderboard_front")


def _version(slug: str):
    """(contest id, version token) of the contest with this slug, or None — one query, on the
    front door's own connection when it has one, else through the session."""
    front = _front()
    if front is not None:
        try:
            found = front.version_of(slug)
        except Exception:  # e.g. a connection the database closed: the session reconnects
            current_app.logger.warning("version reader failed", exc_info=True)
            found = False
        if found is not False:
            return found
    row = db.session.execute(_VERSION, {"slug": slug}).first()
    if row is None:
        return None
    return row[0], version_token(row[1], row[2])


def _remember(route: Route) -> None:
    """Let the front door answer this address next time, if it can see all the request did."""
    front = _front()
    if front is not None and request.method == "GET" and not request.cookies:
        front.remember(request.path, request.query_string.decode("latin-1"), route)


def _cached(route: Route, make_key_item):
    found = _version(route.slug)
    if found is None:
        return None
    contest_id, version = found
    item = cache.get_or_build(route.key(contest_id, version), lambda: make_key_item(*found))
    if item.status == 200:
        _remember(route)
    return item


def _cached_html(kind: str, slug: str, args: tuple, build, cache_control: str, **kw):
    """An HTML page or fragment from the render cache; 404 when the contest or stage is not
    public. ``build(contest, version, lang_arg)`` returns a str, or None for "not public"."""
    lang, explicit = _locale()
    route = Route(slug, kind, lang, explicit, args, cache_control, "Cookie", kw.get("clock", False))

    def make(contest_id, version):
        contest = db.session.get(Contest, contest_id)
        with force_locale(lang):
            body = build(contest, version, lang if explicit else None)
        return NOT_PUBLIC if body is None else rendered(body, HTML)

    item = _cached(route, make)
    if item is None or item.status == 404:
        abort(404)
    return send(item, cache_control, vary="Cookie")


def _json_body(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _api_error(status: int, message: str):
    return current_app.response_class(
        _json_body({"error": message}), status=status, content_type=JSON
    )


def _cached_json(kind: str, slug: str, args: tuple, build, cache_control: str, **kw):
    """A JSON document from the render cache; ``build(contest, version)`` returns data or None."""
    # Vary: Cookie as on every response of the app (Flask-Login reads the session after each
    # request); the front door must send the same headers as this view.
    route = Route(slug, kind, None, False, args, cache_control, "Cookie", kw.get("clock", False))

    def make(contest_id, version):
        data = build(db.session.get(Contest, contest_id), version)
        return NOT_PUBLIC if data is None else rendered(_json_body(data), JSON)

    item = _cached(route, make)
    if item is None or item.status == 404:
        return _api_error(404, "not found")
    return send(item, cache_control, vary="Cookie")


def _group(contest: Contest, code: str):
    return contest.group(code)


# ------------------------------------------------------------------ public pages


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
    return _cached_html("contest", slug, (), _contest_page, PUBLISHED_CACHE)


def _standings_build(code: str, group_code: str, fragment: bool):
    def build(contest, version, lang):
        stage = queries.published_stage(contest, code)
        group = _group(contest, group_code)
        if stage is None or group is None:
            return None
        board = queries.leaderboard(contest, stage, group, version)
        table = render_template("leaderboard/_table.html", board=board)
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


@bp.route("/results/<slug>/<code>/<group>")
def standings(slug: str, code: str, group: str):
    """The published standings of one group of one stage: shareable, readable on a phone."""
    build = _standings_build(code, group, fragment=False)
    return _cached_html("standings", slug, (code, group), build, PUBLISHED_CACHE)


@bp.route("/results/<slug>/<code>/<group>/table")
def standings_table(slug: str, code: str, group: str):
    """The standings table alone: what the page's script polls (ETag / 304)."""
    build = _standings_build(code, group, fragment=True)
    return _cached_html("standings_table", slug, (code, group), build, LIVE_CACHE)


def _screen_build(fragment: bool):
    def build(contest, version, lang):
        live = queries.live(contest)
        body = render_template(
            "leaderboard/_screen_body.html", contest=contest, live=live, lang=lang
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


def _with_server_time(response):
    # The clients count the timer down locally from the server's clock: sent in a header,
    # not in the body, so the body (and its ETag) stay the same between changes.
    response.headers["X-Server-Time"] = f"{time.time():.3f}"
    return response


@bp.route("/screen/<slug>")
def screen(slug: str):
    """The projector's view of the live final: the entry on stage, its timer, the revealed
    score with the dropped totals struck through, and the group's revealed standings."""
    response = _cached_html("screen", slug, (), _screen_build(False), LIVE_CACHE, clock=True)
    return _with_server_time(response)


@bp.route("/screen/<slug>/body")
def screen_body(slug: str):
    """The big screen's content alone, polled by its script (ETag / 304)."""
    response = _cached_html("screen_body", slug, (), _screen_build(True), LIVE_CACHE, clock=True)
    return _with_server_time(response)


# ------------------------------------------------------------------ JSON API


@bp.route("/api/v1/contests")
def api_contests():
    """Every contest: slug, name, year, organizers."""
    data = {"contests": queries.contest_list()}
    item = rendered(_json_body(data), JSON)
    return send(item, PUBLISHED_CACHE)


@bp.route("/api/v1/contests/<slug>")
def api_contest(slug: str):
    """One contest with its groups and its public stages."""
    return _cached_json(
        "api_contest", slug, (), lambda c, v: queries.contest_summary(c), PUBLISHED_CACHE
    )


@bp.route("/api/v1/contests/<slug>/stages")
def api_stages(slug: str):
    """The contest's public stages: published ones and the live roadshow."""
    return _cached_json(
        "api_stages",
        slug,
        (),
        lambda c, v: {"stages": [queries.stage_dict(s) for s in queries.public_stages(c)]},
        PUBLISHED_CACHE,
    )


@bp.route("/api/v1/contests/<slug>/groups")
def api_groups(slug: str):
    """The contest's groups."""
    return _cached_json(
        "api_groups",
        slug,
        (),
        lambda c, v: {"groups": [{"code": g.code, "name": g.name} for g in c.groups]},
        PUBLISHED_CACHE,
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

    return _cached_json("api_stage", slug, (code,), build, PUBLISHED_CACHE)


@bp.route("/api/v1/contests/<slug>/stages/<code>/groups/<group>/standings")
def api_standings(slug: str, code: str, group: str):
    """A published stage's standings of one group (the same rows as the page)."""

    def build(contest, version):
        stage = queries.published_stage(contest, code)
        grp = _group(contest, group)
        if stage is None or grp is None:
            return None
        return queries.leaderboard(contest, stage, grp, version)

    return _cached_json("api_standings", slug, (code, group), build, PUBLISHED_CACHE)


@bp.route("/api/v1/contests/<slug>/awards")
def api_awards(slug: str):
    """The published prize list: tier awards, special awards, prize totals."""
    return _cached_json("api_awards", slug, (), lambda c, v: queries.awards(c), PUBLISHED_CACHE)


@bp.route("/api/v1/contests/<slug>/live")
def api_live(slug: str):
    """Rule 8's view of the live final: on stage, timer, submitted count, revealed scores."""

    def build(contest, version):
        return queries.live(contest)

    response = _cached_json("api_live", slug, (), build, LIVE_CACHE, clock=True)
    return _with_server_time(response)


# ------------------------------------------------------------------ the live control


def _live_stage(slug: str, code: str):
    contest = contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None or not queries.is_live(stage):
        abort(404)
    return contest, stage


def _panel_etag(contest: Contest) -> str:
    """The control panel's ETag: what it shows changes only with the data version (its forms'
    CSRF tokens differ on every render, so the bytes cannot be the tag)."""
    token = repr((data_version(contest.id), current_user.get_id(), str(get_locale())))
    return f'"{hashlib.blake2b(token.encode(), digest_size=12).hexdigest()}"'


def _control_context(contest, stage) -> dict:
    """What the organizer's control page shows: the room, the running order, the judges."""
    entries = queries.stage_entries(stage)
    state = queries.live_state(stage)
    current = next((e for e in entries if state and e.id == state.entry_id), None)
    counts = queries.submission_counts(stage)
    found = queries.reveals(stage)
    official = {}
    for group in contest.groups:
        standings = group_standings(stage, group)
        for row in standings.rows:
            # The stage's own score, as a reveal shows it (not a combined one, Rule 3).
            official[row.entry_id] = standings.stage_score(row)
    return {
        "contest": contest,
        "stage": stage,
        "state": state,
        "current": current,
        "entries": entries,
        "counts": counts,
        "reveals": found,
        "official": official,
        "judges": queries.judge_statuses(stage, current) if current is not None else [],
        "phases": LivePhase,
        "panel_etag": _panel_etag(contest),
    }


@bp.route("/contests/<slug>/live")
@organizer_required
def control_index(slug: str):
    """The live control of the contest's live roadshow stage (or a note that none is live)."""
    contest = contest_or_404(slug)
    stage = queries.live_stage(contest)
    if stage is not None:
        return redirect(url_for("leaderboard.control", slug=slug, code=stage.code))
    return render_template("leaderboard/control_none.html", contest=contest)


@bp.route("/contests/<slug>/live/<code>")
@organizer_required
def control(slug: str, code: str):
    """The organizer's live control: on stage, timers, who has submitted, reveal, next."""
    contest, stage = _live_stage(slug, code)
    return render_template("leaderboard/control.html", **_control_context(contest, stage))


@bp.route("/contests/<slug>/live/<code>/panel")
@organizer_required
def control_panel(slug: str, code: str):
    """The control page's live panel alone, polled by its script."""
    contest, stage = _live_stage(slug, code)
    etag = _panel_etag(contest)
    if matches(request.headers.get("If-None-Match"), etag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.make_response(
            render_template("leaderboard/_control_panel.html", **_control_context(contest, stage))
        )
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"
    return _with_server_time(response)


def _entry_from_form(contest) -> Entry | None:
    raw = request.form.get("entry", "")
    if not raw:
        return None
    try:
        entry = db.session.get(Entry, int(raw))
    except ValueError:
        entry = None
    if entry is None or entry.contest_id != contest.id:
        abort(404)
    return entry


def _act(slug: str, code: str, action):
    """Run a control action: validate CSRF, call the service, commit, flash, back to control."""
    contest, stage = _live_stage(slug, code)
    if not LiveForm().validate_on_submit():
        abort(400)
    try:
        message = action(contest, stage)
    except services.LiveError as err:
        db.session.rollback()
        if request.accept_mimetypes.best == JSON:
            return _api_error(err.status, str(err))
        flash(str(err), "error")
        page = render_template("leaderboard/control.html", **_control_context(contest, stage))
        return page, err.status
    db.session.commit()
    if request.accept_mimetypes.best == JSON:
        return current_app.response_class(
            _json_body({"ok": True, "message": message}), content_type=JSON
        )
    flash(message, "success")
    return redirect(url_for("leaderboard.control", slug=slug, code=code))


@bp.route("/contests/<slug>/live/<code>/on-stage", methods=["POST"])
@organizer_required
def on_stage(slug: str, code: str):
    """Put an entry on stage (an empty entry clears the stage)."""

    def action(contest, stage):
        entry = _entry_from_form(contest)
        services.put_on_stage(stage=stage, entry=entry)
        if entry is None:
            return _("The stage is empty now.")
        return _("On stage now: %(code)s %(title)s.", code=entry.code, title=entry.title)

    return _act(slug, code, action)


@bp.route("/contests/<slug>/live/<code>/timer", methods=["POST"])
@organizer_required
def timer(slug: str, code: str):
    """Start the pitch or the Q&A timer, or stop it."""

    def action(contest, stage):
        state = services.start_phase(stage=stage, phase=request.form.get("phase", ""))
        if state.phase == LivePhase.IDLE:
            return _("Timer stopped.")
        return _(
            "%(phase)s timer started: %(minutes)s minutes.",
            phase=state.phase.title,
            minutes=state.phase_seconds // 60,
        )

    return _act(slug, code, action)


@bp.route("/contests/<slug>/live/<code>/next", methods=["POST"])
@organizer_required
def next_entry(slug: str, code: str):
    """Put the next entry of the running order on stage."""

    def action(contest, stage):
        entry = services.next_entry(stage=stage).entry
        return _("On stage now: %(code)s %(title)s.", code=entry.code, title=entry.title)

    return _act(slug, code, action)


@bp.route("/contests/<slug>/live/<code>/reveal", methods=["POST"])
@organizer_required
def reveal(slug: str, code: str):
    """Reveal an entry's score on the big screen; 409 until every judge has submitted."""

    def action(contest, stage):
        entry = _entry_from_form(contest)
        if entry is None:
            abort(400)
        shown = services.reveal(stage=stage, entry=entry, user=current_user)
        return _("Revealed: %(code)s scores %(score)s.", code=entry.code, score=shown.score)

    return _act(slug, code, action)


@bp.app_template_global()
def live_stage_of(contest: Contest):
    """The contest's live roadshow stage, for links on the home page; None if none is live."""
    return queries.live_stage(contest)


@bp.app_template_filter("clock_date")
def clock_date(value) -> str:
    """A date (yyyy-MM-dd) in the contest's time zone, from a datetime or ISO 8601 text."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return format_datetime(value, "yyyy-MM-dd")


@bp.app_template_filter("clock")
def clock(value) -> str:
    """A time of day (HH:mm) in the contest's time zone, from a datetime or ISO 8601 text."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return format_time(value, "HH:mm")


# ------------------------------------------------------------------ the judges' banner


@bp.app_template_global()
def live_banner(judge: Judge) -> dict | None:
    """For a judge's pages: the live stage of the judge's contest, the entry on stage, and
    which entries the judge scores there; None when no stage of the contest is live."""
    stage = queries.live_stage(judge.contest)
    if stage is None:
        return None
    state = queries.live_state(stage)
    entry = state.entry if state is not None and state.entry_id else None
    assigned = db.session.scalars(
        sa.select(Assignment.entry_id).where(
            Assignment.stage_id == stage.id,
            Assignment.judge_id == judge.id,
            ~binding_conflict_exists(Assignment.judge_id, Assignment.entry_id),
        )
    ).all()
    return {
        "stage": stage,
        "entry": entry,
        "assigned": sorted(assigned),
        "url": url_for("leaderboard.api_live", slug=judge.contest.slug),
        "sheet_url": url_for("scoring.sheet", stage_id=stage.id, entry_id=0).removesuffix("0"),
    }
