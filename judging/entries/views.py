"""The organizer's entries page: the contest's entries by group with their status; one
entry added, edited, withdrawn (退赛), disqualified (取消资格) or reinstated."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from judging.common.decorators import organizer_required
from judging.common.enums import EntryStatus, SheetState, StageState
from judging.common.forms import clean
from judging.common.inputs import db_id
from judging.contests.models import Contest, Stage
from judging.contests.organizers import organizer_contest_or_404
from judging.entries.forms import EntryForm, EntryStatusForm, report_entry_error
from judging.entries.models import Entry
from judging.entries.queries import entry_page
from judging.entries.services import EntryError, create_entry, set_entry_status, update_entry
from judging.extensions import db
from judging.scoring.models import ScoreSheet
from judging.standings.participation import taking_part

bp = Blueprint("entries", __name__, url_prefix="/contests/<slug>/entries")


@bp.url_value_preprocessor
def _no_nul_in_slug(endpoint, values):
    """A NUL cannot be in a slug (PostgreSQL refuses it in any text): no such contest."""
    if "\x00" in (values or {}).get("slug", ""):
        abort(404)


def _entry_of(contest: Contest, entry_id: int) -> Entry:
    entry = db.session.get(Entry, entry_id) if entry_id < 2**31 else None
    if entry is None or entry.contest_id != contest.id:
        abort(404)
    return entry


def published_stage(entry: Entry) -> Stage | None:
    """A published stage the entry takes part in (its numbers there are frozen), if any."""
    part = taking_part(entry.contest_id)
    return db.session.scalar(
        sa.select(Stage)
        .join(part, part.c.stage_id == Stage.id)
        .where(part.c.entry_id == entry.id, Stage.state == StageState.PUBLISHED)
        .order_by(Stage.position)
        .limit(1)
    )


def submitted_sheets(entry: Entry) -> list[tuple[Stage, int]]:
    """(stage, number of submitted sheets) where the entry has any, in stage order."""
    rows = db.session.execute(
        sa.select(Stage, sa.func.count(ScoreSheet.id))
        .join(ScoreSheet, ScoreSheet.stage_id == Stage.id)
        .where(ScoreSheet.entry_id == entry.id, ScoreSheet.state == SheetState.SUBMITTED)
        .group_by(Stage.id)
        .order_by(Stage.position)
    ).all()
    return [(stage, count) for stage, count in rows]


@bp.route("")
@organizer_required
def index(slug: str):
    """The contest's entries by group: status (with the reason), filters, one page at a time."""
    contest = organizer_contest_or_404(slug)
    group_id = request.args.get("group", type=db_id)
    if group_id is not None and group_id not in {g.id for g in contest.groups}:
        group_id = None
    status = request.args.get("status")
    status = EntryStatus(status) if status in {s.value for s in EntryStatus} else None
    search = clean(request.args.get("q", ""))[:100]
    result = entry_page(
        contest.id,
        group_id=group_id,
        status=status,
        search=search,
        page=request.args.get("page", 1, type=db_id),
    )
    return render_template(
        "entries/list.html",
        contest=contest,
        result=result,
        group_id=group_id,
        status=status,
        search=search,
        statuses=list(EntryStatus),
    )


def _form_page(contest: Contest, form: EntryForm, entry: Entry | None, status: int = 200):
    return render_template(
        "entries/edit.html",
        contest=contest,
        form=form,
        entry=entry,
        published=published_stage(entry) if entry is not None else None,
    ), status


@bp.route("/new", methods=["GET", "POST"])
@organizer_required
def new(slug: str):
    """Add one entry to the contest."""
    contest = organizer_contest_or_404(slug)
    if not contest.groups:
        flash(_("The contest has no group yet: add its groups first."), "error")
        return redirect(url_for("entries.index", slug=slug))
    form = EntryForm(contest=contest)
    if request.method == "GET" or not form.validate_on_submit():
        return _form_page(contest, form, None, 400 if request.method == "POST" else 200)
    try:
        entry = create_entry(contest=contest, values=form.values())
    except EntryError as err:
        report_entry_error(form, err)
        return _form_page(contest, form, None, 400)
    flash(_("Entry %(code)s added.", code=entry.code), "success")
    return redirect(url_for("entries.index", slug=slug, group=entry.group_id))


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit(slug: str, entry_id: int):
    """Edit one entry. While it takes part in a published stage its code and group stay;
    once it has score sheets its group stays (they follow its group's rubric)."""
    contest = organizer_contest_or_404(slug)
    entry = _entry_of(contest, entry_id)
    form = EntryForm(contest=contest, obj=None if request.method == "POST" else entry)
    if request.method == "GET":
        form.group.data = entry.group_id
        form.field.data = entry.field_id
        return _form_page(contest, form, entry)
    if not form.validate_on_submit():
        return _form_page(contest, form, entry, 400)
    values = form.values()
    try:
        _check_edit(entry, values)
        changed = update_entry(entry=entry, values=values)
    except EntryError as err:
        report_entry_error(form, err)
        return _form_page(contest, form, entry, 400)
    if changed:
        flash(_("Entry %(code)s saved.", code=entry.code), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("entries.index", slug=slug, group=entry.group_id))


def _check_edit(entry: Entry, values: dict) -> None:
    """Refuse a change of code or group that would move frozen or scored results."""
    moves_code = values["code"] != entry.code
    moves_group = values["group"] is not None and values["group"].id != entry.group_id
    if not (moves_code or moves_group):
        return
    stage = published_stage(entry)
    if stage is not None:
        raise EntryError("published", field="code" if moves_code else "group", stage=stage.name)
    if moves_group and db.session.scalar(
        sa.select(ScoreSheet.id).where(ScoreSheet.entry_id == entry.id).limit(1)
    ):
        raise EntryError("group_scored", field="group")


@bp.route("/<int:entry_id>/status", methods=["GET", "POST"])
@organizer_required
def status(slug: str, entry_id: int):
    """Withdraw (退赛), disqualify (取消资格) or reinstate one entry, with a reason: the page
    says what it changes (the submitted sheets that stop or start counting)."""
    contest = organizer_contest_or_404(slug)
    entry = _entry_of(contest, entry_id)
    form = EntryStatusForm()
    if request.method == "GET":
        wanted = request.args.get("to")
        form.status.data = (
            wanted
            if wanted in {s.value for s in EntryStatus} and wanted != entry.status.value
            else None
        )
    published = published_stage(entry)
    code = 200
    if request.method == "POST":
        code = 400
        if form.validate_on_submit():
            try:
                if published is not None:
                    raise EntryError("published", field="status", stage=published.name)
                set_entry_status(
                    entry=entry, status=EntryStatus(form.status.data), reason=form.reason.data
                )
            except EntryError as err:
                report_entry_error(form, err)
            else:
                flash(_status_message(entry), "success")
                return redirect(url_for("entries.index", slug=slug, group=entry.group_id))
    return render_template(
        "entries/status.html",
        contest=contest,
        entry=entry,
        form=form,
        published=published,
        sheets=submitted_sheets(entry),
    ), code


def _status_message(entry: Entry) -> str:
    if entry.status == EntryStatus.WITHDRAWN:
        return _("%(code)s has withdrawn: it is kept, and leaves every ranking.", code=entry.code)
    if entry.status == EntryStatus.DISQUALIFIED:
        return _("%(code)s is disqualified: it is kept, and leaves every ranking.", code=entry.code)
    return _("%(code)s is back in the contest and its rankings.", code=entry.code)
