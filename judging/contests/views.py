"""Home pages and the organizer's contest overview."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.common.decorators import organizer_required
from judging.common.enums import StageState
from judging.common.forms import BaseForm
from judging.contests.queries import contest_or_404, contest_overview, list_contests
from judging.contests.services import TRANSITIONS, StageStateError, set_stage_state
from judging.extensions import db

bp = Blueprint("contests", __name__)


@bp.route("/")
def home():
    """The home page for the visitor's role: organizer, judge or public."""
    if current_user.is_authenticated and current_user.is_judge:
        return redirect(url_for("judges.home"))
    contests = list_contests()
    if current_user.is_authenticated and current_user.is_organizer:
        overviews = [contest_overview(c) for c in contests]
        return render_template("contests/organizer_home.html", overviews=overviews)
    public = [
        (c, [s for s in c.stages if s.state == StageState.PUBLISHED], contest_overview(c))
        for c in contests
    ]
    return render_template("contests/public_home.html", contests=public)


@bp.route("/contests/<slug>")
@organizer_required
def overview(slug: str):
    """One contest in detail for the organizer: structure, rubrics, tiers and progress."""
    contest = contest_or_404(slug)
    return render_template(
        "contests/overview.html",
        ov=contest_overview(contest),
        transitions=TRANSITIONS,
        form=BaseForm(),
    )


@bp.route("/contests/<slug>/stages/<code>/state", methods=["POST"])
@organizer_required
def stage_state(slug: str, code: str):
    """Open, close, publish or withdraw a stage."""
    contest = contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None:
        abort(404)
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        set_stage_state(stage=stage, state=request.form.get("state", ""))
    except StageStateError as err:
        db.session.rollback()
        flash(str(err), "error")
    else:
        db.session.commit()
        flash(
            _("%(stage)s is now: %(state)s.", stage=stage.name, state=stage.state.title), "success"
        )
    return redirect(url_for("contests.overview", slug=slug))
