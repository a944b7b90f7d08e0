"""The organizer's rubric page for one stage and group (a route on the awards blueprint,
which holds the results workflow: a change with sheets is one of its moves): edit, reorder
and add criteria; once sheets exist, a confirmation page lists them and asks for a reason
(``judging.awards.rubric``)."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from judging.awards.rubric import (
    USUAL_TOTAL,
    Line,
    RubricError,
    apply_rubric,
    current_lines,
    plan_rubric,
)
from judging.awards.views import bp
from judging.common.decorators import organizer_required
from judging.common.inputs import db_id
from judging.common.numbers import more_places
from judging.contests.organizers import organizer_contest_or_404
from judging.scoring.forms import RubricForm


def _stage_and_group(slug: str, code: str, group_code: str):
    contest = organizer_contest_or_404(slug)
    stage, group = contest.stage(code), contest.group(group_code)
    if stage is None or group is None:
        abort(404)
    return contest, stage, group


def _filled(lines: list[Line]) -> RubricForm:
    """The form showing these lines and one empty line for a new criterion."""
    form = RubricForm(formdata=None)
    for line in lines:
        form.criteria.append_entry(
            {
                "id": str(line.id) if line.id else "",
                "name": line.name,
                "description": line.description,
                "max_points": line.max_points,
                "step": line.step,
                "position": line.position,
            }
        )
    form.criteria.append_entry({"position": len(lines) + 1, "step": Decimal("0.5")})
    return form


def _line_id(raw: str) -> int | None:
    """A criterion id posted back by the form; None for anything that is not one."""
    try:
        return db_id(raw)
    except ValueError:
        return None


def _lines(form: RubricForm, known: set[int]) -> list[Line] | None:
    """The lines the form asks for, or None with errors put under the fields that are wrong.
    An entirely empty line without an id is left out (the new-criterion line, unused)."""
    lines: list[Line] = []
    ok = True
    for row in form.criteria:
        f = row.form
        raw_id = (f.id.data or "").strip()
        if not raw_id and not f.name.data and f.max_points.data is None:
            continue
        if raw_id and _line_id(raw_id) not in known:
            abort(404)
        for name in ("name", "max_points", "step", "position"):
            if f[name].data in (None, "") and not f[name].errors:
                f[name].errors.append(_("This field is required."))
        top, step = f.max_points.data, f.step.data
        if top is not None and (more_places(top, "0.01") or top <= 0):
            f.max_points.errors.append(_("More than 0, at most 2 decimals."))
        if step is not None and (more_places(step, "0.01") or step <= 0):
            f.step.errors.append(_("More than 0, at most 2 decimals."))
        elif step is not None and top is not None and step > top:
            f.step.errors.append(_("At most the maximum."))
        if any(f[name].errors for name in ("name", "max_points", "step", "position")):
            ok = False
            continue
        lines.append(
            Line(
                int(raw_id) if raw_id else None,
                f.name.data,
                f.description.data or "",
                top,
                step,
                f.position.data,
            )
        )
    if not ok:
        return None
    used = [row for row in form.criteria if _used(row)]
    for attr, message in (
        ("position", _("Two criteria have this place.")),
        ("name", _("Two criteria have this name.")),
    ):
        seen = set()
        for line, row in zip(lines, used, strict=True):
            value = getattr(line, attr)
            if value in seen:
                row.form[attr].errors.append(message)
                ok = False
            seen.add(value)
    if ok and not lines:
        if not form.criteria.entries:  # a post without the rubric's lines at all
            abort(400)
        form.criteria[0].form.name.errors.append(_("A rubric needs at least one criterion."))
        ok = False
    return lines if ok else None


def _used(row) -> bool:
    f = row.form
    return bool((f.id.data or "").strip() or f.name.data or f.max_points.data is not None)


@bp.route("/rubric/<group>", methods=["GET", "POST"])
@organizer_required
def rubric(slug: str, code: str, group: str):
    """A stage's rubric for one group: criteria with their maximum and step, in order."""
    contest, stage, grp = _stage_and_group(slug, code, group)
    lines = current_lines(stage, grp)
    page = {"contest": contest, "stage": stage, "group": grp, "usual": USUAL_TOTAL}
    form = RubricForm()
    if not form.is_submitted():
        form = _filled(lines)
        total = sum((line.max_points for line in lines), Decimal(0))
        return render_template("awards/rubric.html", form=form, total=total, **page)
    wanted = _lines(form, {line.id for line in lines}) if form.validate() else None
    if wanted is None:
        total = sum((line.max_points for line in lines), Decimal(0))
        return render_template("awards/rubric.html", form=form, total=total, **page), 400
    plan = plan_rubric(stage, grp, wanted)
    if plan.problems:
        return render_template(
            "awards/rubric.html", form=form, total=plan.total, problems=plan.problems, **page
        ), 400
    if plan.needs_reason and not (form.confirmed.data and form.reason.data):
        if form.confirmed.data:
            form.reason.errors.append(_("Score sheets exist: say why the rubric changes."))
        return render_template("awards/rubric_confirm.html", form=form, plan=plan, **page)
    try:
        apply_rubric(plan, reason=form.reason.data or "")
    except RubricError as error:  # a sheet came in meanwhile, say
        flash(str(error), "error")
        return redirect(url_for("awards.rubric", slug=slug, code=code, group=group))
    if plan.changes:
        flash(_("Rubric saved."), "success")
        if plan.total != USUAL_TOTAL:
            flash(
                _("The maxima add up to %(total)s, not %(usual)s.", total=plan.total, usual=100),
                "warning",
            )
    return redirect(url_for("awards.rubric", slug=slug, code=code, group=group))
