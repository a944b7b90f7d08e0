"""Home pages and the organizer's contest overview."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from judging.common.decorators import organizer_required
from judging.common.enums import StageState
from judging.contests.queries import contest_or_404, list_contests
from judging.standings.progress import contest_overview

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
    from judging.awards.workflow import TRANSITIONS

    return render_template(
        "contests/overview.html", ov=contest_overview(contest), transitions=TRANSITIONS
    )
