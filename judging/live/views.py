"""The live final's signed-in pages: the organizer's control (on stage, timers, who has
submitted, reveal, next) and, for the judges' pages, the banner of the entry on stage.
Ordinary, uncached pages; the public big screen is the leaderboard's."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from judging.common.decorators import organizer_required
from judging.common.http import JSON, api_error, json_body, matches, with_server_time
from judging.contests.models import Contest
from judging.contests.queries import contest_or_404
from judging.contests.versions import data_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.judges.queries import on_panel
from judging.live import queries as live_queries
from judging.live import services
from judging.live.forms import LiveForm
from judging.live.models import LivePhase
from judging.standings.groups import group_standings

bp = Blueprint("live", __name__)


def _live_stage(slug: str, code: str):
    contest = contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None or not live_queries.is_live(stage):
        abort(404)
    return contest, stage


def _panel_etag(contest: Contest) -> str:
    """The control panel's ETag: what it shows changes only with the data version (its forms'
    CSRF tokens differ on every render, so the bytes cannot be the tag)."""
    token = repr((data_version(contest.id), current_user.get_id(), str(get_locale())))
    return f'"{hashlib.blake2b(token.encode(), digest_size=12).hexdigest()}"'


def _control_context(contest, stage) -> dict:
    """What the organizer's control page shows: the room, the running order, the judges."""
    entries = live_queries.stage_entries(stage)
    state = live_queries.live_state(stage)
    current = next((e for e in entries if state and e.id == state.entry_id), None)
    counts = live_queries.submission_counts(stage)
    found = live_queries.reveals(stage)
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
        "judges": live_queries.judge_statuses(stage, current) if current is not None else [],
        "phases": LivePhase,
        "panel_etag": _panel_etag(contest),
    }


@bp.route("/contests/<slug>/live")
@organizer_required
def control_index(slug: str):
    """The live control of the contest's live roadshow stage (or a note that none is live)."""
    contest = contest_or_404(slug)
    stage = live_queries.live_stage(contest)
    if stage is not None:
        return redirect(url_for("live.control", slug=slug, code=stage.code))
    return render_template("live/control_none.html", contest=contest)


@bp.route("/contests/<slug>/live/<code>")
@organizer_required
def control(slug: str, code: str):
    """The organizer's live control: on stage, timers, who has submitted, reveal, next."""
    contest, stage = _live_stage(slug, code)
    return render_template("live/control.html", **_control_context(contest, stage))


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
            render_template("live/_control_panel.html", **_control_context(contest, stage))
        )
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"
    return with_server_time(response)


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
        if request.accept_mimetypes.best == JSON:
            return api_error(err.status, str(err))
        flash(str(err), "error")
        page = render_template("live/control.html", **_control_context(contest, stage))
        return page, err.status
    if request.accept_mimetypes.best == JSON:
        return current_app.response_class(
            json_body({"ok": True, "message": message}), content_type=JSON
        )
    flash(message, "success")
    return redirect(url_for("live.control", slug=slug, code=code))


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
    return live_queries.live_stage(contest)


@bp.app_template_global()
def live_banner(judge: Judge) -> dict | None:
    """For a judge's pages: the live stage of the judge's contest, the entry on stage, and
    which entries the judge scores there; None when no stage of the contest is live."""
    stage = live_queries.live_stage(judge.contest)
    if stage is None:
        return None
    state = live_queries.live_state(stage)
    entry = state.entry if state is not None and state.entry_id else None
    assigned = db.session.scalars(
        sa.select(Assignment.entry_id).where(
            Assignment.stage_id == stage.id,
            Assignment.judge_id == judge.id,
            on_panel(),
        )
    ).all()
    return {
        "stage": stage,
        "entry": entry,
        "assigned": sorted(assigned),
        "url": url_for("leaderboard.api_live", slug=judge.contest.slug),
        "sheet_url": url_for("scoring.sheet", stage_id=stage.id, entry_id=0).removesuffix("0"),
    }
