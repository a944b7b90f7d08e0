"""Excel pages: the organizer's import and export page per contest, the new-contest upload,
downloads (whole contest, one stage, templates) and the public standings of a published
stage. The workbooks are built elsewhere (``judging.exports.files``); views only send them.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from judging.common.audit import record
from judging.common.db import reads_first, write_phase
from judging.common.decorators import organizer_required
from judging.common.enums import StageState
from judging.common.transactions import read_snapshot, snapshot_reads
from judging.contests.organizers import organizer_contest_or_404
from judging.contests.queries import contest_or_404
from judging.contests.versions import data_version
from judging.exports import files
from judging.exports.downloads import Busy, downloads, remember_public
from judging.exports.forms import ScoresUploadForm, UploadForm
from judging.extensions import db
from judging.imports.problems import ImportRejected
from judging.imports.service import KINDS, ImportResult, import_workbook

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATES = ("contest", "entries", "judges", "scores")
#: How many problems the page lists (the count says how many there were).
SHOWN_PROBLEMS = 500


def _lang() -> str:
    return str(get_locale())


def _tz() -> str:
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")


def _send(data: bytes, name: str):
    response = send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _stage_or_404(contest, code: str):
    stage = contest.stage(code)
    if stage is None:
        abort(404)
    return stage


def _forms(contest, formdata=None, kind: str | None = None):
    forms = {k: UploadForm(formdata=None, prefix=k) for k in ("contest", "entries", "judges")}
    forms["scores"] = ScoresUploadForm(formdata=None, prefix="scores", stages=contest.stages)
    if kind is not None:
        forms[kind] = (
            ScoresUploadForm(prefix=kind, stages=contest.stages)
            if kind == "scores"
            else UploadForm(prefix=kind)
        )
    return forms


def _summary(result: ImportResult) -> str:
    created = sum(result.created.values())
    updated = sum(result.updated.values())
    unchanged = sum(result.unchanged.values())
    if result.dry_run:
        return _(
            "The file is valid: importing it would add %(created)s, change %(updated)s and "
            "leave %(unchanged)s rows as they are. Nothing was written.",
            created=created,
            updated=updated,
            unchanged=unchanged,
        )
    if not result.changed:
        return _("Nothing to change: all %(n)s rows are already in the contest.", n=unchanged)
    return _(
        "Imported: %(created)s added, %(updated)s changed, %(unchanged)s already there.",
        created=created,
        updated=updated,
        unchanged=unchanged,
    )


@bp.route("/contests/<slug>/excel")
@organizer_required
def page(slug: str):
    """Import (contest workbook, entries, judges, score sheets), templates and exports."""
    contest = organizer_contest_or_404(slug)
    return render_template("exports/page.html", contest=contest, forms=_forms(contest))


@bp.route("/contests/<slug>/excel/import/<kind>", methods=["POST"])
@reads_first  # the file is read and checked without the write lock (import_workbook)
@organizer_required
def upload(slug: str, kind: str):
    """Import one upload into the contest: all of it, or nothing with the problems listed."""
    contest = organizer_contest_or_404(slug)
    if kind not in KINDS:
        abort(404)
    forms = _forms(contest, kind=kind)
    form = forms[kind]
    if not form.validate_on_submit():
        return render_template("exports/page.html", contest=contest, forms=forms, failed=kind), 400
    upload = form.file.data
    try:
        result = import_workbook(
            data=upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1),
            kind=kind,
            contest=contest,
            stage_code=(form.stage.data or None) if kind == "scores" else None,
            update=form.update.data,
            dry_run=form.dry_run.data,
            user_id=current_user.id,
            filename=upload.filename or "",
        )
    except ImportRejected as err:
        return render_template(
            "exports/page.html",
            contest=contest,
            forms=forms,
            failed=kind,
            problems=err.problems[:SHOWN_PROBLEMS],
            problem_count=len(err.problems),
        ), 422
    flash(_summary(result), "success")
    return redirect(url_for("exports.page", slug=contest.slug))


@bp.route("/excel/import", methods=["GET", "POST"])
@reads_first  # the file is read and checked without the write lock (import_workbook)
@organizer_required
def new_contest():
    """Create a contest from a contest workbook (or bring one up to date with it)."""
    form = UploadForm(prefix="contest")
    if not form.is_submitted():
        return render_template("exports/new_contest.html", form=form)
    if not form.validate_on_submit():
        return render_template("exports/new_contest.html", form=form), 400
    upload = form.file.data
    try:
        result = import_workbook(
            data=upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1),
            kind="contest",
            update=form.update.data,
            dry_run=form.dry_run.data,
            user_id=current_user.id,
            filename=upload.filename or "",
            organizer=current_user._get_current_object(),
        )
    except ImportRejected as err:
        return render_template(
            "exports/new_contest.html",
            form=form,
            problems=err.problems[:SHOWN_PROBLEMS],
            problem_count=len(err.problems),
        ), 422
    if result.dry_run:
        flash(_summary(result), "success")
        return redirect(url_for("exports.new_contest"))
    flash(_summary(result), "success")
    return redirect(url_for("contests.overview", slug=result.slug))


def _busy():
    response = current_app.response_class(
        _("Many downloads are under way; please try again in a moment."),
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response.headers["Retry-After"] = "5"
    response.headers["Cache-Control"] = "no-store"
    return response


def _organizer_download(contest, route: tuple, build, name: str, what: dict):
    """An organizer export from the download store (``judging.exports.downloads``): built
    once per version of what it holds — the contest's data and its audit log — and the
    download recorded (who took the contact data and when) before it is sent.

    The version and the workbook are read from one snapshot, so a file is kept under the
    version it shows; the record is written after the snapshot (which is read-only)."""
    exported_by = current_user.display_name
    key = (*route, _lang(), _tz(), exported_by)
    store = downloads()

    def audited():
        # The workbook was read first; the record takes the write lock alone (SQLite).
        with write_phase(db.session):
            record("excel_export", contest_id=contest.id, new=what)

    try:
        with read_snapshot():
            version = (data_version(contest.id), files.audit_head(contest.id))
            store.path(key, version, lambda: build(exported_by))
        return store.send(
            key,
            version,
            lambda: build(exported_by),  # only if a newer version replaced it meanwhile
            name=name,
            cache_control="no-store",
            before_send=audited,
        )
    except Busy:
        return _busy()


@bp.route("/contests/<slug>/export.xlsx")
@organizer_required
def export_contest(slug: str):
    """The whole contest as one workbook (importable again)."""
    contest = organizer_contest_or_404(slug)
    lang, tz = _lang(), _tz()
    return _organizer_download(
        contest,
        ("contest", contest.id),
        lambda by: files.contest_workbook(contest, lang=lang, tz=tz, exported_by=by),
        files.filename(contest),
        {"export": "contest"},
    )


@bp.route("/contests/<slug>/stages/<code>/export.xlsx")
@organizer_required
def export_stage(slug: str, code: str):
    """One stage as a workbook."""
    contest = organizer_contest_or_404(slug)
    stage = _stage_or_404(contest, code)
    lang, tz = _lang(), _tz()
    return _organizer_download(
        contest,
        ("stage", contest.id, stage.id),
        lambda by: files.stage_workbook(stage, lang=lang, tz=tz, exported_by=by),
        files.filename(contest, stage.code),
        {"export": "stage", "stage": code},
    )


@bp.route("/contests/<slug>/stages/<code>/progress.xlsx")
@organizer_required
def stage_progress(slug: str, code: str):
    """A stage's progress (the progress page) as a workbook."""
    contest = organizer_contest_or_404(slug)
    stage = _stage_or_404(contest, code)
    tz = _tz()
    return _organizer_download(
        contest,
        ("progress", contest.id, stage.id),
        lambda by: files.progress_workbook(stage, tz=tz, exported_by=by),
        files.filename(contest, stage.code, "progress"),
        {"export": "progress", "stage": code},
    )


@bp.route("/results/<slug>/<code>.xlsx")
@snapshot_reads
def public_stage(slug: str, code: str):
    """A published stage's standings, for anyone (no contact data): built once per version
    of the contest itself (a published stage is frozen), streamed, 304 when unchanged."""
    contest = contest_or_404(slug)
    stage = _stage_or_404(contest, code)
    if stage.state != StageState.PUBLISHED or not contest.is_public:
        abort(404)
    tz = _tz()
    store, route = downloads(), ("public", contest.id, stage.id, tz)
    try:
        response = store.send(
            route,
            data_version(contest.id).meta,
            lambda: files.public_stage_workbook(stage, tz=tz),
            name=files.filename(contest, stage.code, "results"),
            cache_control="public, max-age=10",
        )
    except Busy:
        return _busy()
    response.headers["Vary"] = "Cookie"  # as Flask adds it; the front door sends the same
    remember_public(slug, store, route, response)
    return response


@bp.route("/excel/templates/<kind>.xlsx")
@organizer_required
def template(kind: str):
    """A blank template: the contest workbook, or the entries, judges or scores sheet."""
    if kind not in TEMPLATES:
        abort(404)
    data = files.template_workbook(kind, lang=_lang())
    return _send(data, f"template-{kind}.xlsx")


@bp.route("/contests/<slug>/stages/<code>/scores-template.xlsx")
@organizer_required
def scores_template(slug: str, code: str):
    """The score sheet template of one stage, its criteria as columns."""
    contest = organizer_contest_or_404(slug)
    stage = _stage_or_404(contest, code)
    data = files.template_workbook("scores", lang=_lang(), contest=contest, stage=stage)
    return _send(data, files.filename(contest, stage.code, "scores-template"))
