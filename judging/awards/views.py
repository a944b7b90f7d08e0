"""The organizer's results pages: standings with reasons, proposals, and the results
workflow's confirmation steps (state changes, confirming advancement, awards or results).

Every change has a page that says what will happen (``judging.awards.workflow``'s plan)
before the organizer confirms it; the POST plans again and refuses what the plan refuses.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from judging.awards import workflow
from judging.awards.labels import field_label
from judging.awards.queries import snapshot_difference, stage_result
from judging.common.decorators import organizer_required
from judging.common.enums import StageState
from judging.common.forms import BaseForm
from judging.common.transactions import snapshot_reads
from judging.contests.organizers import organizer_contest_or_404

bp = Blueprint("awards", __name__, url_prefix="/contests/<slug>/stages/<code>")
bp.add_app_template_global(field_label, "result_field")
bp.add_app_template_global(workflow.transition_label, "transition_label")


@bp.app_template_global()
def state_title(value: str) -> str:
    """A stage state's title from its stored value (as snapshots record it)."""
    try:
        return str(StageState(value).title)
    except ValueError:
        return value


class StateForm(BaseForm):
    """Confirming a state change; a reason when it goes back."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=workflow.MAX_REASON)])


class ConfirmForm(BaseForm):
    """Confirming results: an override reason when the stage is incomplete, a cascade
    reason when the change reaches later stages, and what the organizer reviewed."""

    override_reason = TextAreaField(
        _l("Reason for confirming anyway"), validators=[Length(max=workflow.MAX_REASON)]
    )
    cascade_reason = TextAreaField(
        _l("Reason for changing later stages"), validators=[Length(max=workflow.MAX_REASON)]
    )
    fingerprint = HiddenField()


def _refused(form, err: workflow.WorkflowError) -> None:
    """Say why a change was refused: under the field it is about, else at the top."""
    if err.field:
        form[err.field].errors = [str(err)]
    else:
        flash(str(err), "error")


def _stage(slug: str, code: str):
    contest = organizer_contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None:
        abort(404)
    return contest, stage


@bp.route("/results")
@organizer_required
@snapshot_reads
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
        publication=workflow.current_publication(stage),
        readiness=workflow.readiness(stage),
        transitions=workflow.TRANSITIONS,
    )


@bp.route("/state/<target>", methods=["GET", "POST"])
@organizer_required
def stage_state(slug: str, code: str, target: str):
    """Open, close, publish, or take a stage back: what will happen, then the change."""
    contest, stage = _stage(slug, code)
    if target not in {s.value for s in StageState}:
        abort(404)
    form = StateForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            plan = workflow.change_state(
                stage=stage, target=target, reason=form.reason.data, user=current_user
            )
        except workflow.WorkflowError as err:
            _refused(form, err)
            status = 400
        else:
            flash(
                _(
                    "%(stage)s is now: %(state)s.",
                    stage=stage.name,
                    state=StageState(plan.target).title,
                ),
                "success",
            )
            return redirect(url_for("awards.results", slug=slug, code=code))
    plan = workflow.plan_transition(stage, target)
    return (
        render_template("awards/state.html", contest=contest, stage=stage, plan=plan, form=form),
        status,
    )


@bp.route("/confirm/<kind>", methods=["GET", "POST"])
@organizer_required
def confirm(slug: str, code: str, kind: str):
    """Confirm the stage's advancement, awards or results: what will happen, then freeze."""
    contest, stage = _stage(slug, code)
    if kind not in workflow.CONFIRM_KINDS:
        abort(404)
    form = ConfirmForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            snapshot = workflow.confirm(
                stage=stage,
                kind=kind,
                user=current_user,
                override_reason=form.override_reason.data,
                cascade_reason=form.cascade_reason.data,
                fingerprint=form.fingerprint.data or "",
            )
        except workflow.WorkflowError as err:
            _refused(form, err)
            status = err.status  # 409 when another confirmation came first
        else:
            flash(
                _("Confirmed and frozen (%(hash)s).", hash=snapshot.content_hash[:12]),
                "success",
            )
            return redirect(url_for("awards.results", slug=slug, code=code))
    plan = workflow.plan_confirmation(stage, kind)
    form.fingerprint.data = plan.fingerprint
    return (
        render_template("awards/confirm.html", contest=contest, stage=stage, plan=plan, form=form),
        status,
    )
