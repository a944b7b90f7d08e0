"""The organizer's assignment page: the solver's proposal for a stage, adjusted by hand
in a judge × entry grid, then confirmed (issue 14, item 3)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from judging.common.decorators import organizer_required
from judging.common.enums import StageState
from judging.common.transactions import refuse
from judging.contests.models import Field, Group
from judging.contests.organizers import organizer_contest_or_404
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Judge
from judging.scoring.assigning import (
    Plan,
    apply_plan,
    check_selection,
    plan_assignment,
    plan_of_selection,
    stage_entry_ids,
)
from judging.scoring.forms import AssignmentForm

bp = Blueprint("assignment", __name__)

#: Stages whose assignments may change (a closed or published stage's sheets are final).
CHANGEABLE = (StageState.DRAFT, StageState.OPEN)


def _stage(slug: str, code: str):
    contest = organizer_contest_or_404(slug)
    stage = contest.stage(code)
    if stage is None:
        abort(404)
    return contest, stage


def _parse_pairs(values) -> tuple[set[tuple[int, int]], bool]:
    """The grid's checked cells ("entry-judge"), and whether any value was malformed."""
    pairs, malformed = set(), False
    for value in values[:100_000]:
        entry, sep, judge = (value or "").partition("-")
        if not sep or not entry.isascii() or not judge.isascii():
            malformed = True
        elif entry.isdigit() and judge.isdigit() and len(entry) < 12 and len(judge) < 12:
            pairs.add((int(entry), int(judge)))
        else:
            malformed = True
    return pairs, malformed


def _render(contest, stage, plan: Plan, *, fresh: bool, selected=None, errors=(), status=200):
    problem = plan.problem
    entries = {
        e.id: e
        for e in db.session.scalars(
            db.select(Entry).where(Entry.id.in_(stage_entry_ids(stage).scalar_subquery()))
        )
    }
    judges = db.session.scalars(
        db.select(Judge).where(Judge.contest_id == contest.id).order_by(Judge.id)
    ).all()
    groups = {
        g.id: g for g in db.session.scalars(db.select(Group).where(Group.contest_id == contest.id))
    }
    fields = {
        f.id: f for f in db.session.scalars(db.select(Field).where(Field.contest_id == contest.id))
    }
    chosen = set(plan.proposal.pairs) if selected is None else selected
    loads = {j.id: 0 for j in judges}
    for _e, j in chosen:
        if j in loads:
            loads[j] += 1
    rows = [entries[x.id] for x in problem.entries if x.id in entries]
    rows.sort(key=lambda e: e.code)
    codes = {e.id: e.code for e in rows}
    return (
        render_template(
            "scoring/assignment.html",
            contest=contest,
            stage=stage,
            plan=plan,
            fresh=fresh,
            rows=rows,
            judges=judges,
            groups=groups,
            fields=fields,
            chosen=chosen,
            locked=set(problem.existing) if fresh else set(),
            conflicts=problem.conflicts,
            loads=loads,
            expert={j.id: {f.id for f in j.expertise} for j in judges},
            codes=codes,
            errors=errors,
            changeable=stage.state in CHANGEABLE,
            form=AssignmentForm(),
        ),
        status,
    )


@bp.route("/contests/<slug>/stages/<code>/assignment", methods=["GET", "POST"])
@organizer_required
def assignment(slug: str, code: str):
    """GET: the proposal (only missing places, or ``?fresh=1`` the whole stage again);
    POST: save the grid's selection, checked against every rule."""
    contest, stage = _stage(slug, code)
    fresh = (request.values.get("fresh") or "") == "1"
    plan = plan_assignment(stage, keep=not fresh)
    if request.method == "GET":
        return _render(contest, stage, plan, fresh=fresh)
    form = AssignmentForm()
    if not form.validate_on_submit():
        abort(400)
    if stage.state not in CHANGEABLE:
        refuse(
            _(
                "%(stage)s is %(state)s: its assignments cannot change.",
                stage=stage.name,
                state=stage.state.title,
            )
        )
        return redirect(url_for("assignment.assignment", slug=slug, code=code))
    selected, malformed = _parse_pairs(request.form.getlist("pair"))
    problems = check_selection(stage, selected)
    if malformed:
        problems.insert(0, _("Some cells of the grid could not be read; nothing was saved."))
    if problems:
        refuse(_("Nothing was saved: the assignment breaks a rule."))
        return _render(
            contest, stage, plan, fresh=fresh, selected=selected, errors=problems, status=400
        )
    chosen = plan_of_selection(stage, selected)
    apply_plan(stage, chosen)
    flash(
        _(
            "Assignments saved: %(added)s added, %(removed)s removed.",
            added=len(chosen.add),
            removed=len(chosen.remove),
        ),
        "success",
    )
    return redirect(url_for("assignment.assignment", slug=slug, code=code))
