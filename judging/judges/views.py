"""The judge's home page, and the organizer's pages about the jury."""

from __future__ import annotations

import segno
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.common.audit import record
from judging.common.decorators import judge_required, organizer_required
from judging.common.enums import ConflictSource, ConflictStatus, StageState
from judging.common.forms import BaseForm
from judging.common.inputs import db_id
from judging.common.transactions import refuse
from judging.contests.organizers import organizer_contest_or_404
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.forms import (
    AddConflictForm,
    PairForm,
    ReviewConflictForm,
    WithdrawConflictForm,
)
from judging.judges.models import Conflict, Judge
from judging.judges.queries import contest_conflicts, contest_judges, judge_records
from judging.judges.services import login_link
from judging.live import queries as live_queries
from judging.scoring import conflicts as services
from judging.scoring.queries import SHEET_STATES, assigned_entries
from judging.standings.progress import judge_progress

bp = Blueprint("judges", __name__)


def _left_first(stage, rows: list) -> list:
    """A judge's list with what is left to score first, then what is submitted; during a
    live roadshow in its running order (the order a submission leads through), else by code."""
    if live_queries.is_live(stage):
        place = {entry.id: n for n, entry in enumerate(live_queries.stage_entries(stage))}
        rows = sorted(rows, key=lambda row: place.get(row.entry.id, len(place)))
    return sorted(rows, key=lambda row: row.state == "submitted")


@bp.route("/judge/")
@judge_required
def home():
    """Each contest the judge sits on: progress per stage and, for open stages, the entries."""
    state = request.args.get("state") if request.args.get("state") in SHEET_STATES else None
    group_id = request.args.get("group", type=db_id)
    filters = {"state": state, "group_id": group_id}
    panels = []
    for judge in judge_records(current_user):
        progress = judge_progress(judge)
        lists = [
            (p, _left_first(p.stage, assigned_entries(judge, p.stage, **filters)))
            for p in progress
            if p.stage.is_open
        ]
        # A closed stage shows only the sheets the organizer reopened, to be finished.
        lists += [
            (p, reopened)
            for p in progress
            if p.stage.state == StageState.CLOSED
            and (reopened := [r for r in assigned_entries(judge, p.stage) if r.reopened])
        ]
        panels.append((judge, progress, lists))
    return render_template(
        "judges/home.html", panels=panels, state=state, group_id=group_id, states=SHEET_STATES
    )


@bp.route("/contests/<slug>/judges")
@organizer_required
def jury(slug: str):
    """The organizer's list of judges with their progress and sign-in links."""
    contest = organizer_contest_or_404(slug)
    rows = [(judge, judge_progress(judge)) for judge in contest_judges(contest.id)]
    return render_template("judges/list.html", contest=contest, rows=rows, form=BaseForm())


@bp.route("/contests/<slug>/judges/cards", methods=["POST"])
@organizer_required
def cards(slug: str):
    """Printable judge cards: each with a fresh one-time sign-in link and its QR code (none
    for a deactivated judge)."""
    contest = organizer_contest_or_404(slug)
    if not BaseForm().validate_on_submit():
        abort(400)
    wanted = set(request.form.getlist("judge", type=db_id))
    cards = []
    for judge in contest_judges(contest.id):
        if (wanted and judge.id not in wanted) or not judge.user.is_enabled:
            continue  # a deactivated judge's link would not sign in
        link = login_link(judge)
        qr = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
        cards.append((judge, link, qr))
    record("judge_links_issued", contest_id=contest.id, new={"judges": [j.name for j, *_ in cards]})
    return render_template("judges/cards.html", contest=contest, cards=cards)


@bp.route("/contests/<slug>/conflicts")
@organizer_required
def conflicts(slug: str):
    """Every conflict of the contest: judges' new declarations to review, same-organization
    proposals to accept or dismiss, a form to add one, and every decision so far."""
    contest = organizer_contest_or_404(slug)
    rows = contest_conflicts(contest.id)
    return render_template(
        "judges/conflicts.html",
        contest=contest,
        conflicts=rows,
        declarations=[
            c
            for c in rows
            if c.source == ConflictSource.JUDGE
            and c.status == ConflictStatus.BINDING
            and c.reviewed_at is None
        ],
        proposals=services.organization_proposals(contest),
        judges=contest_judges(contest.id),
        add_form=AddConflictForm(),
        pair_form=PairForm(),
        withdraw_form=WithdrawConflictForm(),
        review_form=ReviewConflictForm(),
    )


def _back(slug: str):
    return redirect(url_for("judges.conflicts", slug=slug))


def _decide(slug: str, decide, done: str):
    """Run a conflict decision; commit once, or roll back and say why."""
    try:
        decide()
    except services.ConflictError as err:
        refuse(str(err))
    else:
        flash(done, "success")
    return _back(slug)


def _judge_of(contest, judge_id: int) -> Judge:
    judge = db.session.get(Judge, judge_id)
    if judge is None or judge.contest_id != contest.id:
        abort(404)
    return judge


def _confirm_first(contest, form, *, judge, entry, action: str, restores: bool):
    """When a decision moves submitted sheets in or out of scores, a page listing them comes
    first; None once the organizer has confirmed (or no sheet is affected)."""
    effects = services.submitted_sheets(judge, entry)
    if not effects or form.confirmed.data == "1":
        return None
    return render_template(
        "judges/conflict_confirm.html",
        contest=contest,
        judge=judge,
        entry=entry,
        effects=effects,
        form=form,
        action=action,
        restores=restores,
    )


@bp.route("/contests/<slug>/conflicts/add", methods=["POST"])
@organizer_required
def add_conflict(slug: str):
    """Set a binding conflict between a judge and an entry, with a reason."""
    contest = organizer_contest_or_404(slug)
    form = AddConflictForm()
    if not form.validate_on_submit():
        for field_errors in (form.judge.errors, form.entry.errors, form.reason.errors):
            for error in field_errors:
                flash(error, "error")
        if form.csrf_token.errors:
            abort(400)
        return _back(slug)
    judge = _judge_of(contest, form.judge.data)
    code = (form.entry.data or "").strip()
    # A NUL cannot be in a code (PostgreSQL refuses it in any text): no such entry.
    entry = (
        db.session.scalar(
            sa.select(Entry).where(Entry.contest_id == contest.id, Entry.code == code)
        )
        if "\x00" not in code
        else None
    )
    if entry is None:
        shown = code.replace("\x00", "")
        flash(_("Entry code: no entry %(code)s in this contest.", code=shown), "error")
        return _back(slug)
    page = _confirm_first(
        contest,
        form,
        judge=judge,
        entry=entry,
        action=url_for("judges.add_conflict", slug=slug),
        restores=False,
    )
    if page is not None:
        return page

    def decide():
        services.bind_conflict(judge=judge, entry=entry, reason=form.reason.data, user=current_user)

    return _decide(
        slug, decide, _("%(judge)s now has a conflict with %(code)s.", judge=judge.name, code=code)
    )


def _pair(contest):
    form = PairForm()
    if not form.validate_on_submit():
        abort(400)
    judge = _judge_of(contest, form.judge.data)
    entry = db.session.get(Entry, form.entry.data)
    if entry is None or entry.contest_id != contest.id:
        abort(404)
    return form, judge, entry


@bp.route("/contests/<slug>/conflicts/accept", methods=["POST"])
@organizer_required
def accept_proposal(slug: str):
    """Accept a same-organization proposal: the conflict binds."""
    contest = organizer_contest_or_404(slug)
    form, judge, entry = _pair(contest)
    page = _confirm_first(
        contest,
        form,
        judge=judge,
        entry=entry,
        action=url_for("judges.accept_proposal", slug=slug),
        restores=False,
    )
    if page is not None:
        return page

    def decide():
        services.bind_conflict(
            judge=judge,
            entry=entry,
            reason=form.reason.data or _("Same organization"),
            user=current_user,
            source=ConflictSource.SYSTEM,
        )

    return _decide(
        slug,
        decide,
        _("%(judge)s now has a conflict with %(code)s.", judge=judge.name, code=entry.code),
    )


@bp.route("/contests/<slug>/conflicts/dismiss", methods=["POST"])
@organizer_required
def dismiss_proposal(slug: str):
    """Dismiss a same-organization proposal: not a conflict."""
    contest = organizer_contest_or_404(slug)
    form, judge, entry = _pair(contest)

    def decide():
        services.dismiss_proposal(
            judge=judge, entry=entry, user=current_user, note=form.reason.data or ""
        )

    return _decide(
        slug,
        decide,
        _(
            "Dismissed: %(judge)s and %(code)s are not a conflict.",
            judge=judge.name,
            code=entry.code,
        ),
    )


def _conflict_of(contest, conflict_id: int) -> Conflict:
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or conflict.entry.contest_id != contest.id:
        abort(404)
    return conflict


@bp.route("/contests/<slug>/conflicts/<int:conflict_id>/withdraw", methods=["POST"])
@organizer_required
def withdraw_conflict(slug: str, conflict_id: int):
    """Withdraw a binding conflict, with a reason (the judge's sheets count again)."""
    contest = organizer_contest_or_404(slug)
    conflict = _conflict_of(contest, conflict_id)
    form = WithdrawConflictForm()
    if not form.validate_on_submit():
        abort(400)
    page = _confirm_first(
        contest,
        form,
        judge=conflict.judge,
        entry=conflict.entry,
        action=url_for("judges.withdraw_conflict", slug=slug, conflict_id=conflict.id),
        restores=True,
    )
    if page is not None:
        return page
    names = {"judge": conflict.judge.name, "code": conflict.entry.code}

    def decide():
        services.withdraw_conflict(conflict=conflict, reason=form.reason.data, user=current_user)

    return _decide(
        slug, decide, _("Withdrawn: %(judge)s and %(code)s are no longer a conflict.", **names)
    )


@bp.route("/contests/<slug>/conflicts/<int:conflict_id>/review", methods=["POST"])
@organizer_required
def review_conflict(slug: str, conflict_id: int):
    """Mark a judge's declaration as seen, with an optional note."""
    contest = organizer_contest_or_404(slug)
    conflict = _conflict_of(contest, conflict_id)
    form = ReviewConflictForm()
    if not form.validate_on_submit():
        abort(400)
    names = {"judge": conflict.judge.name, "code": conflict.entry.code}

    def decide():
        services.review_conflict(conflict=conflict, user=current_user, note=form.note.data)

    return _decide(slug, decide, _("Confirmed: %(judge)s's conflict with %(code)s.", **names))
