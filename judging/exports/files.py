"""The workbooks the organizer (and the public) can download: whole contest, one stage,
public standings of a published stage, and blank templates. Each returns the file's bytes;
the views and the `export` command only send or save them.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.awards.prizes import prize_rows, prize_totals
from judging.awards.queries import AwardsResult, awards_result, stage_result
from judging.common.audit import AuditEvent
from judging.common.transactions import read_snapshot
from judging.contests.models import Contest, Stage
from judging.contests.versions import data_version
from judging.exports import formats, records, reports, templates
from judging.exports.reports import local_time
from judging.exports.workbook import Sheet, build_workbook
from judging.extensions import db
from judging.leaderboard.queries import leaderboard
from judging.standings.stage_progress import stage_progress


def filename(contest: Contest, *parts: str) -> str:
    """A download name: the contest's slug, the parts, .xlsx (ASCII where the slug is)."""
    stem = "-".join([contest.slug, *(p for p in parts if p)])
    return re.sub(r"[^\w.-]+", "-", stem) + ".xlsx"


def audit_head(contest_id: int) -> int:
    """The contest's latest audit event other than a download: with the data versions, what
    an organizer workbook (which lists the log) is kept for (``judging.exports.downloads``)."""
    head = db.session.scalar(
        sa.select(sa.func.max(AuditEvent.id)).where(
            AuditEvent.contest_id == contest_id, AuditEvent.action != "excel_export"
        )
    )
    return head or 0


@read_snapshot()
def contest_workbook(contest: Contest, *, lang: str, tz: str, exported_by: str = "") -> bytes:
    """Everything about a contest, for the organizer: summary, prize list, standings and
    matrix per stage, raw sheets, audit log, and the contest workbook's own sheets (so the
    file can be imported again)."""
    stages = list(contest.stages)
    results = [stage_result(stage) for stage in stages]
    sheets: list[Sheet] = [
        reports.summary_sheet(contest, stages=stages, tz=tz, exported_by=exported_by, public=False)
    ]
    prize = reports.prize_sheet(contest, awards_result(contest), public=False)
    if prize is not None:
        sheets.append(prize)
    for result in results:
        sheets.extend(reports.standings_sheet(result, g, public=False) for g in result.groups)
    sheets.extend(records.matrix_sheet(result) for result in results)
    sheets.append(records.raw_sheet(contest, stages, tz=tz))
    sheets.append(records.audit_sheet(contest, tz=tz))
    sheets.extend(formats.contest_format_sheets(contest, lang=lang, tz=tz))
    return build_workbook(sheets, title=contest.name, creator=exported_by)


def _stage_awards(contest: Contest, stage: Stage) -> AwardsResult:
    """The contest's awards narrowed to one stage's tiers (special awards kept), with the
    totals of what is listed."""
    awards = awards_result(contest)
    stages = [r for r in awards.stages if r.stage.id == stage.id]
    allocations = [g.tiers for r in stages for g in r.groups if g.tiers is not None]
    totals = prize_totals(prize_rows(allocations, awards.specials))
    return AwardsResult(stages, awards.specials, totals, awards.entries)


@read_snapshot()
def stage_workbook(stage: Stage, *, lang: str, tz: str, exported_by: str = "") -> bytes:
    """One stage, for the organizer: summary, standings per group, prize list (if the stage
    gives awards), matrix, raw sheets, and its score sheets in the importable format."""
    contest = stage.contest
    result = stage_result(stage)
    sheets: list[Sheet] = [
        reports.summary_sheet(contest, stages=[stage], tz=tz, exported_by=exported_by, public=False)
    ]
    if result.has_tiers:
        prize = reports.prize_sheet(contest, _stage_awards(contest, stage), public=False)
        if prize is not None:
            sheets.append(prize)
    sheets.extend(reports.standings_sheet(result, g, public=False) for g in result.groups)
    sheets.append(records.matrix_sheet(result))
    sheets.append(records.raw_sheet(contest, [stage], tz=tz))
    sheets.append(formats.scores_sheet(contest, [stage], lang=lang, tz=tz))
    return build_workbook(sheets, title=f"{contest.name} · {stage.name}", creator=exported_by)


@read_snapshot()
def public_stage_workbook(stage: Stage, *, tz: str) -> bytes:
    """A published stage's standings for anyone, as published (the same frozen rows as the
    public pages): rank, code, title, organization, score and award per group, with any
    correction notice. No contact data, no judges, no sheets."""
    contest = stage.contest
    version = data_version(contest.id)
    sheets = [reports.summary_sheet(contest, stages=[stage], tz=tz, exported_by="", public=True)]
    sheets.extend(
        reports.published_standings_sheet(stage, leaderboard(contest, stage, group, version))
        for group in contest.groups
    )
    return build_workbook(sheets, title=f"{contest.name} · {stage.name}")


def template_workbook(
    kind: str, *, lang: str, contest: Contest | None = None, stage: Stage | None = None
) -> bytes:
    """A blank template: the contest workbook, or the entries, judges or scores sheet (the
    scores sheet with a stage's criteria as its columns when a stage is given)."""
    names = formats.criterion_columns([stage]) if stage is not None else None
    sheets = templates.template_sheets(
        kind, lang=lang, stage_names=names, stage_code=stage.code if stage else ""
    )
    return build_workbook(sheets, title=contest.name if contest else "")


@read_snapshot()
def progress_workbook(stage: Stage, *, tz: str, exported_by: str = "") -> bytes:
    """How far a stage has got: per judge, per entry, and every sheet still missing (the
    organizer's progress page as a workbook)."""
    progress = stage_progress(stage)
    state = {None: _("not started")}
    sheets = [
        Sheet(
            _("Judges"),
            [
                _("Judge"),
                _("Assigned"),
                _("Drafts"),
                _("Submitted"),
                _("Missing"),
                _("Last activity"),
            ],
            [
                (
                    j.name,
                    j.assigned,
                    j.drafts,
                    j.submitted,
                    j.missing,
                    local_time(j.last_activity, tz),
                )
                for j in progress.judges
            ],
            title_lines=[f"{stage.contest.name} · {stage.name}"],
        ),
        Sheet(
            _("Entries"),
            [
                _("Code"),
                _("Title"),
                _("Group"),
                _("Needed"),
                _("Drafts"),
                _("Submitted"),
                _("Missing"),
            ],
            [
                (e.code, e.title, e.group, e.needed, e.drafts, e.submitted, e.missing)
                for e in progress.entries
            ],
        ),
        Sheet(
            _("Missing sheets"),
            [_("Judge"), _("Entry"), _("State")],
            [
                (m.judge, m.entry, str(m.state.title) if m.state else state[None])
                for m in progress.missing
            ],
        ),
    ]
    return build_workbook(sheets, title=f"{stage.contest.name} · {stage.name}", creator=exported_by)
