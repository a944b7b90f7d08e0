"""The records behind the results, as sheets: the judge × entry matrix of a stage, the raw
sheets (one row per judge × entry × criterion) and the audit log."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.audit.diff import changes_text, field_changes
from judging.audit.labels import action_label
from judging.audit.queries import value_names
from judging.auth.models import User
from judging.awards.queries import StageResult
from judging.common.audit import AuditEvent
from judging.common.enums import ConflictStatus, SheetState
from judging.contests.models import Contest, Criterion, Group, Stage
from judging.entries.models import Entry
from judging.exports.reports import local_time
from judging.exports.workbook import INTEGER, POINTS, Sheet, Styled
from judging.extensions import db
from judging.imports.state import exact
from judging.judges.models import Assignment, Conflict, Judge
from judging.scoring.models import Score, ScoreSheet


def matrix_sheet(result: StageResult) -> Sheet:
    """评分矩阵: per entry of the stage, each judge's sheet total; dropped totals struck
    through; conflicts, drafts and missing sheets marked."""
    stage = result.stage
    stage_id = stage.id
    assigned = set(
        db.session.execute(
            sa.select(Assignment.judge_id, Assignment.entry_id).where(
                Assignment.stage_id == stage_id
            )
        ).all()
    )
    drafts = set(
        db.session.execute(
            sa.select(ScoreSheet.judge_id, ScoreSheet.entry_id).where(
                ScoreSheet.stage_id == stage_id, ScoreSheet.state == SheetState.DRAFT
            )
        ).all()
    )
    judge_ids = {j for j, _ in assigned} | {j for j, _ in drafts}
    for g in result.groups:
        for row in g.standings.rows:
            judge_ids.update(row.judge_ids)
    binding = (
        set(
            db.session.execute(
                sa.select(Conflict.judge_id, Conflict.entry_id).where(
                    Conflict.judge_id.in_(judge_ids), Conflict.status == ConflictStatus.BINDING
                )
            ).all()
        )
        if judge_ids
        else set()
    )
    judges = (
        db.session.execute(
            sa.select(Judge.id, Judge.name)
            .where(Judge.id.in_(judge_ids))
            .order_by(Judge.name, Judge.id)
        ).all()
        if judge_ids
        else []
    )
    column = {judge_id: 5 + n for n, (judge_id, _) in enumerate(judges)}
    header = [_("Group"), _("Rank"), _("Code"), _("Title"), _("Score")] + [
        name for _, name in judges
    ]
    conflict, draft, missing = _("conflict"), _("draft"), _("not submitted")
    by_entry: dict[int, set[int]] = defaultdict(set)
    for judge_id, entry_id in assigned | drafts:
        by_entry[entry_id].add(judge_id)

    def rows():
        for g in result.groups:
            facts = g.standings.entries
            for row in g.standings.rows:
                cells: dict[int, object] = {
                    0: g.group.name,
                    1: row.rank,
                    2: row.code,
                    3: facts[row.entry_id].title,
                    4: row.score,
                }
                dropped = {judge_id for judge_id, _ in row.dropped}
                for judge_id in by_entry.get(row.entry_id, ()):
                    if (judge_id, row.entry_id) in binding:
                        cells[column[judge_id]] = Styled(conflict, "note")
                    elif (judge_id, row.entry_id) in drafts:
                        cells[column[judge_id]] = Styled(draft, "note")
                    else:
                        cells[column[judge_id]] = Styled(missing, "note")
                for judge_id, total in zip(row.judge_ids, row.totals, strict=True):
                    cells[column[judge_id]] = (
                        Styled(total, "dropped") if judge_id in dropped else total
                    )
                yield cells

    formats = {1: INTEGER, 4: POINTS} | {c: POINTS for c in column.values()}
    return Sheet(
        _("Matrix %(stage)s", stage=stage.name),
        header,
        rows(),
        formats=formats,
        widths={c: 9 for c in column.values()},
        title_lines=[
            _(
                "%(contest)s · %(stage)s · judge × entry scores",
                contest=stage.contest.name,
                stage=stage.name,
            )
        ],
        footer_lines=[
            _("Struck-through totals were dropped by the stage's rule (highest and lowest).")
        ],
        landscape=True,
        gridlines=True,
    )


# ------------------------------------------------------------------ raw sheets


def raw_sheet(contest: Contest, stages: list[Stage], *, tz: str) -> Sheet:
    """原始评分: one row per judge × entry × criterion, drafts included."""
    stage_ids = [s.id for s in stages]
    query = (
        sa.select(
            Stage.name,
            Group.name,
            Entry.code,
            Entry.title,
            Judge.name,
            User.username,
            Criterion.name,
            Score.points,
            ScoreSheet.state,
            ScoreSheet.submitted_at,
            ScoreSheet.comment,
        )
        .select_from(Score)
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .join(Stage, Stage.id == ScoreSheet.stage_id)
        .join(Entry, Entry.id == ScoreSheet.entry_id)
        .join(Group, Group.id == Entry.group_id)
        .join(Judge, Judge.id == ScoreSheet.judge_id)
        .join(User, User.id == Judge.user_id)
        .where(ScoreSheet.stage_id.in_(stage_ids))
        .order_by(Stage.position, Group.position, Entry.code, Judge.name, Criterion.position)
    )
    submitted, draft = str(SheetState.SUBMITTED.title), str(SheetState.DRAFT.title)

    def rows():
        for row in db.session.execute(query).yield_per(5000):
            yield [
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                exact(row[7]),
                submitted if row[8] == SheetState.SUBMITTED else draft,
                local_time(row[9], tz),
                row[10],
            ]

    header = [
        _("Stage"),
        _("Group"),
        _("Code"),
        _("Title"),
        _("Judge"),
        _("Username"),
        _("Criterion"),
        _("Points"),
        _("State"),
        _("Submitted at"),
        _("Comment"),
    ]
    return Sheet(_("Raw sheets"), header, rows(), formats={7: POINTS}, widths={3: 36, 10: 40})


# ------------------------------------------------------------------ audit log


def audit_sheet(contest: Contest, *, tz: str) -> Sheet:
    """操作日志: every recorded action of the contest, oldest first, with the action's name
    and the changed fields as the log page shows them."""
    query = (
        sa.select(
            AuditEvent.id,
            AuditEvent.created_at,
            User.username,
            AuditEvent.ip,
            AuditEvent.action,
            Entry.code,
            AuditEvent.object_type,
            AuditEvent.object_id,
            AuditEvent.old,
            AuditEvent.new,
            AuditEvent.reason,
        )
        .outerjoin(User, User.id == AuditEvent.user_id)
        .outerjoin(Entry, Entry.id == AuditEvent.entry_id)
        .where(AuditEvent.contest_id == contest.id)
        .order_by(AuditEvent.id)
    )

    names = value_names(contest.id)

    def rows():
        for row in db.session.execute(query).yield_per(2000):
            changes = changes_text(field_changes(row.old, row.new, names=names))
            yield [
                row.id,
                local_time(row.created_at, tz),
                row.username or "",
                row.ip,
                action_label(row.action),
                row.code or "",
                f"{row.object_type} {row.object_id or ''}".strip(),
                Styled(changes, "wrap") if "\n" in changes else changes,
                row.reason,
            ]

    header = [
        "#",
        _("Time"),
        _("Who"),
        _("From"),
        _("Action"),
        _("Entry"),
        _("Object"),
        _("Changes"),
        _("Reason"),
    ]
    return Sheet(_("Audit log"), header, rows(), formats={0: INTEGER}, widths={4: 24, 7: 60})
