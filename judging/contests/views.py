"""Home pages and the organizer's contest overview."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.common.audit import record
from judging.common.decorators import organizer_required
from judging.common.enums import ContestStatus, StageState
from judging.common.transactions import snapshot_reads
from judging.contests.forms import AUTOMATIC, ContestSettingsForm
from judging.contests.organizers import contests_for, organizer_contest_or_404
from judging.contests.queries import list_contests
from judging.contests.versions import bump_data_version
from judging.standings.progress import contest_overview

bp = Blueprint("contests", __name__)


@bp.route("/")
def home():
    """The home page for the visitor's role: organizer, judge or public."""
    if current_user.is_authenticated and current_user.is_judge:
        return redirect(url_for("judges.home"))
    if current_user.is_authenticated and current_user.is_organizer:
        # only the contests this organizer was given (judging.contests.organizers)
        overviews = [contest_overview(c) for c in contests_for(current_user)]
        return render_template("contests/organizer_home.html", overviews=overviews)
    contests = list_contests(public_only=True)
    public = [
        (c, [s for s in c.stages if s.state == StageState.PUBLISHED], contest_overview(c))
        for c in contests
    ]
    return render_template("contests/public_home.html", contests=public)


@bp.route("/contests/<slug>")
@organizer_required
@snapshot_reads
def overview(slug: str):
    """One contest in detail for the organizer: structure, rubrics, tiers and progress."""
    contest = organizer_contest_or_404(slug)
    from judging.awards.workflow import TRANSITIONS

    return render_template(
        "contests/overview.html",
        ov=contest_overview(contest),
        transitions=TRANSITIONS,
        settings=_settings_form(contest),
    )


def _settings_form(contest, formdata=None) -> ContestSettingsForm:
    form = ContestSettingsForm(formdata=formdata)
    if formdata is None:
        form.visibility.data = "public" if contest.is_public else "draft"
        form.status.data = contest.status.value if contest.status_by_hand else AUTOMATIC
    return form


@bp.route("/contests/<slug>/settings", methods=["POST"])
@organizer_required
def settings(slug: str):
    """Make the contest public or a draft; let its status follow the stages or set it."""
    contest = organizer_contest_or_404(slug)
    form = ContestSettingsForm()
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            label = form[field].label.text if field in form else field
            flash(_("%(field)s: %(error)s", field=label, error=" ".join(errors)), "danger")
        return redirect(url_for("contests.overview", slug=slug))
    old = _settings_of(contest)
    contest.is_public = form.visibility.data == "public"
    contest.status_by_hand = form.status.data != AUTOMATIC
    if contest.status_by_hand:
        contest.status = ContestStatus(form.status.data)
    new = _settings_of(contest)
    if new != old:
        record("contest_settings", contest_id=contest.id, obj=contest, old=old, new=new)
        bump_data_version(contest.id)
        flash(_("Contest settings saved."), "success")
    return redirect(url_for("contests.overview", slug=slug))


def _settings_of(contest) -> dict:
    return {
        "public": contest.is_public,
        "status": contest.status.value if contest.status_by_hand else AUTOMATIC,
    }
