"""The judge's home page, and the organizer's pages about the jury."""

from __future__ import annotations

import segno
from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from judging.common.audit import record
from judging.common.decorators import judge_required, organizer_required
from judging.common.forms import BaseForm
from judging.contests.queries import contest_or_404
from judging.extensions import db
from judging.judges.queries import (
    contest_conflicts,
    contest_judges,
    judge_progress,
    judge_records,
)
from judging.judges.services import login_link
from judging.scoring.queries import SHEET_STATES, assigned_entries

bp = Blueprint("judges", __name__, url_prefix="/judge")


@bp.route("/")
@judge_required
def home():
    """Each contest the judge sits on: progress per stage and, for open stages, the entries."""
    state = request.args.get("state") if request.args.get("state") in SHEET_STATES else None
    group_id = request.args.get("group", type=int)
    panels = []
    for judge in judge_records(current_user):
        progress = judge_progress(judge)
        lists = [
            (p, assigned_entries(judge, p.stage, state=state, group_id=group_id))
            for p in progress
            if p.stage.is_open
        ]
        panels.append((judge, progress, lists))
    return render_template(
        "judges/home.html", panels=panels, state=state, group_id=group_id, states=SHEET_STATES
    )


jury = Blueprint("jury", __name__, url_prefix="/contests/<slug>")


@jury.route("/judges")
@organizer_required
def judges(slug: str):
    """The organizer's list of judges with their progress and sign-in links."""
    contest = contest_or_404(slug)
    rows = [(judge, judge_progress(judge)) for judge in contest_judges(contest.id)]
    return render_template("judges/list.html", contest=contest, rows=rows, form=BaseForm())


@jury.route("/judges/cards", methods=["POST"])
@organizer_required
def cards(slug: str):
    """Printable judge cards: each with a fresh one-time sign-in link and its QR code."""
    contest = contest_or_404(slug)
    if not BaseForm().validate_on_submit():
        abort(400)
    wanted = set(request.form.getlist("judge", type=int))
    cards = []
    for judge in contest_judges(contest.id):
        if wanted and judge.id not in wanted:
            continue
        link = login_link(judge)
        qr = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
        cards.append((judge, link, qr))
    record("judge_links_issued", contest_id=contest.id, new={"judges": [j.name for j, *_ in cards]})
    db.session.commit()
    return render_template("judges/cards.html", contest=contest, cards=cards)


@jury.route("/conflicts")
@organizer_required
def conflicts(slug: str):
    """Every declared, set or proposed conflict of the contest."""
    contest = contest_or_404(slug)
    return render_template(
        "judges/conflicts.html", contest=contest, conflicts=contest_conflicts(contest.id)
    )
