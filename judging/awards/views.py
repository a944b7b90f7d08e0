"""The organizer's results pages: standings with reasons, proposals, confirmation, snapshots."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.awards import services
from judging.awards.queries import snapshot_difference, stage_result
from judging.common.decorators import organizer_required
from judging.common.forms import BaseForm
from judging.contests.queries import contest_or_404
from judging.extensions import db

bp = Blueprint("results", __name__, url_prefix="/contests/<slug>/stages/<code>")


def _stage(slug: str, code: str):
    contest = contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None:
        abort(404)
    return contest, stage


@bp.route("/results")
@organizer_required
def results(slug: str, code: str):
    """Standings per group, each row explained; advancement and award proposals; snapshot."""
    contest, stage = _stage(slug, code)
    result = stage_result(stage)
    snapshot, diff = snapshot_difference(result)
    return render_template(
        "awards/results.html",
        contest=contest,
        stage=stage,
        result=result,
        snapshot=snapshot,
        diff=diff,
        form=BaseForm(),
    )


def _confirm(slug: str, code: str, confirm, done: str):
    """Run a confirmation service on the live results; commit once, or say why not."""
    _contest, stage = _stage(slug, code)
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        snapshot = confirm(result=stage_result(stage), user=current_user)
    except services.ResultsError as err:
        db.session.rollback()
        flash(str(err), "error")
    else:
        db.session.commit()
        flash(done % {"hash": snapshot.content_hash[:12]}, "success")
    return redirect(url_for("results.results", slug=slug, code=code))


@bp.route("/advance", methods=["POST"])
@organizer_required
def advance(slug: str, code: str):
    """Confirm the advancement proposal: entries move into the next stage."""
    return _confirm(
        slug, code, services.confirm_advancement, _("Advancement confirmed and frozen (%(hash)s).")
    )


@bp.route("/awards", methods=["POST"])
@organizer_required
def awards(slug: str, code: str):
    """Confirm the award proposal: tier and special awards are written and frozen."""
    return _confirm(
        slug, code, services.confirm_awards, _("Awards confirmed and frozen (%(hash)s).")
    )
