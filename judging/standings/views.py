"""The organizer's progress page of a stage: per judge and per entry, what is missing, and
a reminder list to paste into a chat (names, missing sheets, fresh sign-in links)."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template
from flask_babel import gettext as _

from judging.common.audit import record
from judging.common.decorators import organizer_required
from judging.common.forms import BaseForm
from judging.common.transactions import snapshot_reads
from judging.contests.organizers import organizer_contest_or_404
from judging.extensions import db
from judging.judges.models import Judge
from judging.judges.services import login_link
from judging.standings.stage_progress import stage_progress

bp = Blueprint("standings", __name__)


def _stage(slug: str, code: str):
    contest = organizer_contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None:
        abort(404)
    return contest, stage


@bp.route("/contests/<slug>/stages/<code>/progress")
@organizer_required
@snapshot_reads
def progress(slug: str, code: str):
    """Who has scored what in the stage, and what is missing; the numbers refresh."""
    contest, stage = _stage(slug, code)
    return render_template(
        "standings/progress.html",
        contest=contest,
        stage=stage,
        progress=stage_progress(stage),
        form=BaseForm(),
    )


@bp.route("/contests/<slug>/stages/<code>/progress.json")
@organizer_required
@snapshot_reads
def progress_numbers(slug: str, code: str):
    """The page's counts, for its script to refresh them without a reload."""
    _contest, stage = _stage(slug, code)
    response = jsonify(stage_progress(stage).numbers())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/contests/<slug>/stages/<code>/reminders", methods=["POST"])
@organizer_required
def reminders(slug: str, code: str):
    """A text per judge with unsubmitted sheets: what is missing and a fresh sign-in link
    (issuing it is recorded, as for judge cards), to copy into a chat."""
    contest, stage = _stage(slug, code)
    if not BaseForm().validate_on_submit():
        abort(400)
    missing: dict[int, list[str]] = {}
    for sheet in stage_progress(stage).missing:
        missing.setdefault(sheet.judge_id, []).append(sheet.entry)
    lines = []
    for judge_id, codes in missing.items():
        judge = db.session.get(Judge, judge_id)
        lines.append(
            _(
                "%(judge)s: %(n)s sheets of %(stage)s are not submitted yet (%(codes)s). "
                "Sign in: %(link)s",
                judge=judge.name,
                n=len(codes),
                stage=stage.name,
                codes="、".join(codes),
                link=login_link(judge),
            )
        )
    if missing:
        record(
            "judge_links_issued",
            contest_id=contest.id,
            new={"judges": [db.session.get(Judge, j).name for j in missing], "stage": stage.code},
        )
    return render_template(
        "standings/reminders.html", contest=contest, stage=stage, text="\n\n".join(lines)
    )
