"""Scoring pages: the judge's entry and rubric form, and the organizer's sheet list and reopen."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from judging.awards import workflow
from judging.common.db import reads_first
from judging.common.decorators import judge_required, organizer_required
from judging.common.http import JSON, json_body
from judging.common.inputs import db_id
from judging.common.numbers import plain
from judging.common.transactions import refuse
from judging.contests.models import Stage
from judging.contests.organizers import organizer_contest_or_404
from judging.entries.models import Entry
from judging.extensions import db, unlimited
from judging.judges.models import Judge
from judging.judges.queries import contest_judges
from judging.live import queries as live_queries
from judging.scoring import queries, services
from judging.scoring.forms import (
    ConflictForm,
    PostedSheet,
    ReopenForm,
    posted_sheet,
    sheet_form_class,
)
from judging.scoring.models import ScoreSheet
from judging.scoring.queries import find_sheet, scoring_context

bp = Blueprint("scoring", __name__)
# Only sign-in attempts are rate-limited (auth); a judge's submissions are not.
unlimited(bp)


def _load(stage_id: int, entry_id: int) -> tuple[Judge, Stage, Entry]:
    """The signed-in judge, the stage and the entry, or 404 if any is not theirs to see."""
    context = scoring_context(current_user.id, stage_id, entry_id)
    if context is None:
        abort(404)
    return context


def _fill_from_sheet(form, sheet) -> None:
    by_criterion = {s.criterion_id: s.points for s in sheet.scores} if sheet else {}
    for field in form.criterion_fields():
        value = by_criterion.get(field.criterion.id)
        field.data = plain(value) if value is not None else ""
    form.comment.data = sheet.comment if sheet else ""
    form.version.data = str(sheet.version) if sheet else "0"


def _typed_total(form) -> str:
    """The sum of the numbers in the form as typed (unreadable ones count as nothing)."""
    total = Decimal("0")
    for raw in form.raw_points().values():
        try:
            total += services.parse_decimal(raw) or 0
        except ValueError:
            continue
    return plain(total)


def _wants_json() -> bool:
    """Whether the sheet's POST came from the page's script (autosave), which reads JSON:
    it asks for JSON or says it is a script; a browser's plain form post does neither."""
    return request.accept_mimetypes.best == JSON or bool(request.headers.get("X-Requested-With"))


def _json(status: int, **data):
    return current_app.response_class(json_body(data), status=status, content_type=JSON)


def _sheet_state(stage: Stage, entry: Entry, sheet: ScoreSheet | None) -> dict:
    """The server's copy of a judge's sheet as the page's script reads it: points by field
    name (``c<criterion id>``), comment, version, state, and whether the judge may still
    write it (the page's script compares it with the copy kept on the phone)."""
    return {
        "version": sheet.version if sheet else 0,
        "state": str(sheet.state) if sheet else queries.NOT_STARTED,
        "points": {f"c{s.criterion_id}": plain(s.points) for s in sheet.scores} if sheet else {},
        "comment": (sheet.comment or "") if sheet else "",
        "writable": services.may_edit(stage, entry, sheet),
    }


def _server_sheet(stage_id: int, entry_id: int) -> dict | None:
    """``_sheet_state`` of the signed-in judge's sheet, or None when it is no longer theirs."""
    context = scoring_context(current_user.id, stage_id, entry_id)
    if context is None:
        return None
    judge, stage, entry = context
    return _sheet_state(stage, entry, find_sheet(judge, entry, stage))


@bp.route("/judge/stages/<int:stage_id>/entries/<int:entry_id>", methods=["GET", "POST"])
@reads_first
@judge_required
def sheet(stage_id: int, entry_id: int):
    """Show an entry with the judge's sheet; save a draft or submit it.

    A submission reads its target as plain values and the form's few fields straight
    from the request (``queries.sheet_target``, ``forms.posted_sheet``): no model and no
    form object is built to save a sheet, only to show a page.

    A plain form post is answered with a redirect (a submission: to ``next_sheet``, which
    goes on to the judge's next entry) or the page again with the reason. The
    page's script (autosave) asks for JSON instead: ``{state, version, saved_at}``; 400
    with ``errors`` by field name; 409 and 404 with the server's ``sheet`` as it is now.
    """
    target = queries.sheet_target(current_user.id, stage_id, entry_id)
    if target is None:
        abort(404)
    form_class = sheet_form_class(target.rubric)
    form = None
    status = 200
    stale = False
    as_json = request.method == "POST" and _wants_json()

    if request.method == "POST":
        submit = request.form.get("action") == "submit"
        posted = posted_sheet(target.rubric, request)
        if posted is None:  # not a plain form post, or one the form refuses: as it reads it
            form = form_class()
            if form.validate_on_submit():
                posted = PostedSheet.of_form(form, submit=submit)
        if posted is None:
            status = 400
            if as_json:
                errors = {f.name: f.errors[0] for f in form if f.errors and f.name != "csrf_token"}
                return _json(400, error=_("Please correct the marked fields."), errors=errors)
            # The page shows the points' errors by their fields; the comment's (and a
            # tampered version's, NUL or bidi controls: judging.common.forms) say so here.
            for field in (form.comment, form.version):
                for error in field.errors:
                    flash(_("%(field)s: %(error)s", field=field.label.text, error=error), "error")
        else:
            # The answer to a save is made before it: on SQLite the write lock is held from
            # the first write to the commit, every other judge's save waiting, so the less
            # runs in between, the more sheets are saved a second (bench/scoring.py).
            if posted.submit:  # a submission locks the sheet, a save keeps it a draft
                # On to the judge's next entry: chosen by a page of its own, so that the
                # submission's statements stay what they are (tests/scoring/test_statements.py).
                # The message goes along in the address, not in the session (``next_sheet``):
                # only the page's script reads it here.
                saved_message = _submitted_message(target.entry_code) if as_json else None
                next_url = url_for("scoring.next_sheet", stage_id=stage_id, submitted=entry_id)
            else:
                saved_message = _("Draft saved.")
                next_url = url_for("scoring.sheet", stage_id=stage_id, entry_id=entry_id)
            answer = redirect(next_url)
            try:
                saved = services.write_sheet(
                    target=target,
                    points=posted.points,
                    comment=posted.comment,
                    expected_version=posted.expected_version,
                    submit=posted.submit,
                )
            except services.InvalidPoints as err:
                if as_json:
                    errors = {f"c{cid}": message for cid, message in err.errors.items()}
                    return _json(400, error=err.message, errors=errors)
                form = form or form_class()
                for field in form.criterion_fields():
                    if field.criterion.id in err.errors:
                        field.errors = [err.errors[field.criterion.id]]
                flash(err.message, "error")
                status = 400
            except services.StaleSheet as err:
                if as_json:
                    return _json(409, error=err.message, sheet=_server_sheet(stage_id, entry_id))
                flash(err.message, "error")
                form = form or form_class()
                stale = True  # shows the sheet as saved, below
                status = 409
            except services.NotFound:
                if as_json:
                    message = _(
                        "This sheet can no longer be changed here: the stage is closed, or the "
                        "entry is no longer in your list."
                    )
                    return _json(404, error=message, sheet=_server_sheet(stage_id, entry_id))
                abort(404)
            else:
                if as_json:
                    saved_at = db.session.scalar(
                        sa.select(ScoreSheet.updated_at).where(ScoreSheet.id == saved.id)
                    )
                    return _json(
                        200,
                        state=str(saved.state),
                        version=saved.version,
                        saved_at=saved_at.isoformat() if saved_at else None,
                        message=saved_message,
                        next=next_url if posted.submit else None,
                    )
                if not posted.submit:
                    flash(saved_message, "success")
                return answer

    judge, stage, entry = _load(stage_id, entry_id)
    current = find_sheet(judge, entry, stage)
    notices = _after_submission(judge, stage) if request.method == "GET" else []
    if form is None:
        form = form_class()
    if request.method != "POST" or stale:
        _fill_from_sheet(form, current)
    return (
        render_template(
            "scoring/sheet.html",
            typed_total=_typed_total(form),
            saved_points={s.criterion_id: s.points for s in current.scores} if current else {},
            judge=judge,
            stage=stage,
            entry=entry,
            rubric=target.rubric,
            form=form,
            sheet=current,
            server_sheet=_sheet_state(stage, entry, current),
            sheet_criteria=[{"key": f"c{c.id}", "name": c.name} for c in target.rubric],
            conflict_form=ConflictForm(),
            can_write=services.may_edit(stage, entry, current),
            reopened_because=(
                queries.reopen_reason(current.id)
                if current is not None and current.reopened_at and not current.is_submitted
                else None
            ),
            conflict_refused=services.may_declare_conflict(judge=judge, entry=entry, stage=stage),
            notices=notices,
        ),
        status,
    )


def _submitted_message(code: str) -> str:
    return _("Submitted. Your sheet for %(code)s is locked.", code=code)


def _after_submission(judge: Judge, stage: Stage) -> list[tuple[str, str]]:
    """The message of the submission that led to this page (``?submitted=<entry id>``,
    from ``next_sheet``), once the judge's sheet of that entry is found submitted: an
    address cannot make the page say what is not so."""
    submitted = request.args.get("submitted", type=db_id)
    code = submitted and queries.submitted_entry_code(judge.id, stage.id, submitted)
    return [("success", _submitted_message(code))] if code else []


@bp.route("/judge/stages/<int:stage_id>/next")
@judge_required
def next_sheet(stage_id: int):
    """Where a submission leads: the judge's next entry to score in the stage (after the
    one in ``submitted``, the sheet just submitted, or in ``after``), or the judge's list
    with "all done" when none is left.

    During a live roadshow the entry on stage comes first, then the running order
    (``judging.live``); otherwise the order of the judge's list (``queries.next_to_score``).
    """
    stage = db.session.get(Stage, stage_id)
    judge = queries.judge_for(current_user.id, stage.contest_id) if stage is not None else None
    if judge is None:
        abort(404)
    left = queries.entries_left(judge.id, stage.id, stage_state=stage.state)
    order, on_stage = left, None
    if left and live_queries.is_live(stage):
        order = [e.id for e in live_queries.stage_entries(stage)]
        state = live_queries.live_state(stage)
        on_stage = state.entry_id if state is not None else None
    submitted = request.args.get("submitted", type=db_id)
    after = submitted or request.args.get("after", type=db_id)
    following = queries.next_to_score(order, left, after, on_stage)
    if following is not None:
        # The submission's message rides in the next sheet's address (that page shows it
        # once it has checked the sheet is submitted): no session cookie is rewritten on
        # the way, neither here nor by the submission, nor again once the message is shown.
        args = {"submitted": submitted} if submitted else {}
        return redirect(url_for("scoring.sheet", stage_id=stage.id, entry_id=following, **args))
    # The end of the judge's list, once per stage: the messages go by the session.
    if submitted and (code := queries.submitted_entry_code(judge.id, stage.id, submitted)):
        flash(_submitted_message(code), "success")
    if after is not None:
        flash(_("All done: every sheet of %(stage)s is submitted.", stage=stage.name), "success")
    return redirect(url_for("judges.home"))


@bp.route("/judge/stages/<int:stage_id>/entries/<int:entry_id>/conflict", methods=["POST"])
@judge_required
def declare_conflict(stage_id: int, entry_id: int):
    """Declare a conflict of interest with an entry; it leaves the judge's list."""
    judge, stage, entry = _load(stage_id, entry_id)
    form = ConflictForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.declare_conflict(judge=judge, entry=entry, stage=stage, reason=form.reason.data)
    except services.NotFound:
        abort(404)
    except services.ScoringError as err:
        refuse(err.message)
        return redirect(url_for("scoring.sheet", stage_id=stage.id, entry_id=entry.id))
    flash(_("Conflict declared: %(code)s is no longer in your list.", code=entry.code), "success")
    return redirect(url_for("judges.home"))


@bp.route("/contests/<slug>/stages/<code>/sheets")
@organizer_required
def stage_sheets(slug: str, code: str):
    """The organizer's list of a stage's sheets, filterable, with reopen buttons."""
    contest = organizer_contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None:
        abort(404)
    state = request.args.get("state") or None
    judge_id = request.args.get("judge", type=db_id)
    q = (request.args.get("q") or "").strip()[:64]
    rows = queries.stage_sheets(stage, state=state, judge_id=judge_id, q=q)
    return render_template(
        "scoring/stage_sheets.html",
        contest=contest,
        stage=stage,
        rows=rows,
        judges=contest_judges(contest.id),
        state=state,
        judge_id=judge_id,
        q=q,
        reopen_form=ReopenForm(),
    )


@bp.route("/contests/<slug>/sheets/<int:sheet_id>/reopen", methods=["POST"])
@organizer_required
def reopen(slug: str, sheet_id: int):
    """Reopen a submitted sheet, with a required reason (Rule 7)."""
    contest = organizer_contest_or_404(slug)
    sheet = db.session.get(ScoreSheet, sheet_id)
    if sheet is None or sheet.stage.contest_id != contest.id:
        abort(404)
    form = ReopenForm()
    back = url_for("scoring.stage_sheets", slug=slug, code=sheet.stage.code, q=sheet.entry.code)
    if not form.validate_on_submit():
        abort(400)
    try:
        workflow.reopen_sheet(sheet=sheet, reason=form.reason.data or "")
    except workflow.WorkflowError as err:
        refuse(str(err))
        return redirect(back)
    flash(
        _(
            "Reopened: %(judge)s can change the sheet for %(code)s again.",
            judge=sheet.judge.name,
            code=sheet.entry.code,
        ),
        "success",
    )
    return redirect(back)
