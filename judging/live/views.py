"""The live final's signed-in pages: the organizer's control (on stage, timers, who has
submitted, reveal, next), the running order of a roadshow stage (by hand, drawn by lot,
printed) and, for the judges' pages, the banner of the entry on stage. Ordinary, uncached
pages; the public big screen is the leaderboard's."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from judging.common.decorators import organizer_required
from judging.common.enums import StageKind, StageState
from judging.common.http import JSON, api_error, json_body, matches, with_server_time
from judging.common.inputs import db_id
from judging.common.models import utcnow
from judging.contests.models import Contest
from judging.contests.organizers import organizer_contest_or_404
from judging.contests.versions import data_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.judges.queries import on_panel
from judging.live import queries as live_queries
from judging.live import services
from judging.live.forms import DrawForm, LiveForm, order_form
from judging.live.models import LivePhase
from judging.standings.groups import group_standings

bp = Blueprint("live", __name__)


def _live_stage(slug: str, code: str):
    contest = organizer_contest_or_404(slug)
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
    contest = organizer_contest_or_404(slug)
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
        entry = db.session.get(Entry, db_id(raw))
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


# ------------------------------------------------------------------ the running order


def _roadshow_stage(slug: str, code: str):
    contest = organizer_contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None or stage.kind != StageKind.ROADSHOW:
        abort(404)
    return contest, stage


def _draw_form(orders, *, posted: bool = False) -> DrawForm:
    form = DrawForm() if posted else DrawForm(formdata=None)
    form.group.choices = [("", _("Every group")), *((o.group.code, o.group.name) for o in orders)]
    return form


def _field_problems(form) -> list[str]:
    """Every error of a form as "field: error", so the page's summary names each field."""
    problems = []
    for field in form:
        for error in field.errors:
            problems.append(_("%(field)s: %(error)s", field=field.label.text, error=error))
    return problems


def _order_page(contest, stage, orders, *, form=None, draw=None, problems=(), status=200):
    """The running-order page (``status`` 400/409 with the refused form's errors)."""
    return (
        render_template(
            "live/order.html",
            contest=contest,
            stage=stage,
            orders=orders,
            form=form or order_form(orders),
            draw=draw or _draw_form(orders),
            problems=problems,
            started=live_queries.show_started(stage),
            changeable=stage.state != StageState.PUBLISHED,
            is_live=live_queries.is_live(stage),
        ),
        status,
    )


def _refused(contest, stage, orders, err, *, target, form, draw=None):
    """Answer a refused change: the page again, the message beside the field of ``target``
    (the form posted) it concerns."""
    field = target[err.field] if err.field and err.field in target else None
    if field is not None:
        field.errors = [*field.errors, str(err)]
    problems = [str(err)] if field is None else _field_problems(target)
    return _order_page(
        contest, stage, orders, form=form, draw=draw, problems=problems, status=err.status
    )


@bp.route("/contests/<slug>/stages/<code>/order", methods=["GET", "POST"])
@organizer_required
def running_order(slug: str, code: str):
    """GET: the running order of a roadshow stage per group, numbered, with the draw;
    POST: save the numbers typed (or filled by dragging), each group 1..n once."""
    contest, stage = _roadshow_stage(slug, code)
    orders = live_queries.running_order(stage)
    if request.method == "GET":
        return _order_page(contest, stage, orders)
    form = order_form(orders, posted=True)
    if not form.validate_on_submit():
        return _order_page(
            contest, stage, orders, form=form, problems=_field_problems(form), status=400
        )
    try:
        written = services.save_order(
            stage=stage, orders=form.orders(), reason=form.reason.data or ""
        )
    except services.OrderError as err:
        return _refused(contest, stage, orders, err, target=form, form=form)
    if written:
        names = "、".join(o.group.name for o in written)
        flash(_("Running order saved: %(groups)s.", groups=names), "success")
    else:
        flash(_("The running order is unchanged."), "info")
    return redirect(url_for("live.running_order", slug=slug, code=code))


@bp.route("/contests/<slug>/stages/<code>/order/draw", methods=["POST"])
@organizer_required
def running_order_draw(slug: str, code: str):
    """Draw the running order by lot (抽签) with the seed typed or a random one."""
    contest, stage = _roadshow_stage(slug, code)
    orders = live_queries.running_order(stage)
    draw = _draw_form(orders, posted=True)
    form = order_form(orders)
    if not draw.validate_on_submit():
        return _order_page(
            contest, stage, orders, form=form, draw=draw, problems=_field_problems(draw), status=400
        )
    group = contest.group(draw.group.data) if draw.group.data else None
    try:
        seed, written = services.draw_running_order(
            stage=stage, seed=draw.seed.data or "", group=group, reason=draw.reason.data or ""
        )
    except services.OrderError as err:
        return _refused(contest, stage, orders, err, target=draw, form=form, draw=draw)
    names = "、".join(o.group.name for o in written)
    if written:
        flash(_("Drawn by lot with seed %(seed)s: %(groups)s.", seed=seed, groups=names), "success")
    else:
        flash(_("Seed %(seed)s draws the order already saved.", seed=seed), "info")
    return redirect(url_for("live.running_order", slug=slug, code=code))


@bp.route("/contests/<slug>/stages/<code>/order/print")
@organizer_required
def running_order_print(slug: str, code: str):
    """The running order on paper: per group, number, code, title, organization, minutes."""
    contest, stage = _roadshow_stage(slug, code)
    return render_template(
        "live/order_print.html",
        contest=contest,
        stage=stage,
        orders=live_queries.running_order(stage),
        printed_at=utcnow(),
    )


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
