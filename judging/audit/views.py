"""The organizer's audit log page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from judging.audit.forms import page_number, read_filters
from judging.audit.labels import action_choices
from judging.audit.queries import audit_page
from judging.common.decorators import organizer_required
from judging.common.transactions import snapshot_reads
from judging.contests.organizers import organizer_contest_or_404
from judging.judges.queries import contest_judges

bp = Blueprint("audit", __name__)


@bp.route("/contests/<slug>/audit")
@organizer_required
@snapshot_reads
def log(slug: str):
    """The contest's audit log: who did what, when, from where, old → new; filtered, paged."""
    contest = organizer_contest_or_404(slug)
    judges = contest_judges(contest.id)
    tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    where, kept, messages = read_filters(request.args, contest_id=contest.id, judges=judges, tz=tz)
    result = audit_page(contest.id, where, page=page_number(request.args))
    return render_template(
        "audit/log.html",
        contest=contest,
        result=result,
        judges=judges,
        actions=action_choices(),
        kept=kept,
        messages=messages,
    )
