"""The contest workbook's own sheets (SPEC § The contest workbook), filled from the database:
what an export carries so that it can be imported again. Sheet and column names come from
``judging.imports.spec``, the importer's own vocabulary, in the reader's language.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.auth.models import User
from judging.common.enums import SheetState
from judging.contests.models import (
    AdvanceQuota,
    AwardTier,
    Contest,
    Criterion,
    Field,
    Group,
    SpecialAward,
    Stage,
)
from judging.entries.models import Entry
from judging.entries.queries import furthest_advanced
from judging.exports.reports import local_time
from judging.exports.workbook import INTEGER, MONEY, POINTS, Sheet
from judging.extensions import db
from judging.imports import spec as vocab
from judging.imports.spec import SheetSpec
from judging.imports.state import exact
from judging.judges.models import Assignment, Conflict, Judge, judge_fields
from judging.scoring.models import Score, ScoreSheet


def headers_of(spec: SheetSpec, lang: str, keys: list[str] | None = None) -> list[str]:
    """The headers of a sheet (or of some of its columns) in a language."""
    return [spec.column(k).label(lang) for k in keys or [c.key for c in spec.columns]]


def formats_of(spec: SheetSpec, formats: dict[str, str]) -> dict[int, str]:
    """Number formats by column key, as formats by column index."""
    keys = [c.key for c in spec.columns]
    return {keys.index(k): f for k, f in formats.items()}


def yes_no(value: bool, lang: str) -> str:
    """是/否 or yes/no."""
    if lang.startswith("zh"):
        return "是" if value else "否"
    return "yes" if value else "no"


def contest_format_sheets(contest: Contest, *, lang: str, tz: str) -> list[Sheet]:
    """Every sheet of the contest workbook, filled from the contest."""
    cid = contest.id
    groups = {g.id: g.code for g in contest.groups}
    stages = {s.id: s.code for s in contest.stages}
    fields = {f.id: f.name for f in contest.fields}
    sheets = [
        Sheet(
            vocab.CONTEST.label(lang),
            headers_of(vocab.CONTEST, lang),
            [
                [
                    contest.name,
                    contest.year,
                    contest.slug,
                    contest.organizers,
                    vocab.CONTEST_STATUS.label(contest.current_status, lang),
                ]
            ],
            formats=formats_of(vocab.CONTEST, {"year": INTEGER}),
        ),
        Sheet(
            vocab.GROUPS.label(lang),
            headers_of(vocab.GROUPS, lang),
            [[g.code, g.name] for g in contest.groups],
        ),
        Sheet(
            vocab.FIELDS.label(lang),
            headers_of(vocab.FIELDS, lang),
            [[f.name] for f in contest.fields],
        ),
    ]
    quotas = defaultdict(list)
    for stage_id, group_id, quota in db.session.execute(
        sa.select(AdvanceQuota.stage_id, AdvanceQuota.group_id, AdvanceQuota.quota)
        .join(Group, Group.id == AdvanceQuota.group_id)
        .where(AdvanceQuota.stage_id.in_(list(stages)))
        .order_by(Group.position, Group.id)
    ):
        quotas[stage_id].append(f"{groups[group_id]}:{quota}")
    sheets.append(
        Sheet(
            vocab.STAGES.label(lang),
            headers_of(vocab.STAGES, lang),
            [
                [
                    s.position,
                    s.code,
                    s.name,
                    vocab.STAGE_KIND.label(s.kind, lang),
                    s.judges_per_entry,
                    vocab.RULE.label(s.rule, lang),
                    s.trim,
                    s.min_sheets_to_trim,
                    "、".join(quotas[s.id]) if quotas[s.id] else s.advance_quota,
                    None if s.weight is None else exact(s.weight).normalize(),
                    exact(s.advance_threshold),
                    vocab.STAGE_STATE.label(s.state, lang),
                    s.pitch_minutes,
                    s.qa_minutes,
                ]
                for s in contest.stages
            ],
            formats=formats_of(vocab.STAGES, {"threshold": POINTS}),
        )
    )
    criteria = db.session.execute(
        sa.select(Criterion, Stage.position, Group.position)
        .join(Stage, Stage.id == Criterion.stage_id)
        .join(Group, Group.id == Criterion.group_id)
        .where(Stage.contest_id == cid)
        .order_by(Stage.position, Group.position, Group.id, Criterion.position)
    ).all()
    sheets.append(
        Sheet(
            vocab.CRITERIA.label(lang),
            headers_of(vocab.CRITERIA, lang),
            [
                [
                    stages[c.stage_id],
                    groups[c.group_id],
                    c.position,
                    c.name,
                    exact(c.max_points),
                    exact(c.step),
                    c.description,
                ]
                for c, _s, _g in criteria
            ],
            formats=formats_of(vocab.CRITERIA, {"max": POINTS, "step": POINTS}),
            widths={6: 50},
        )
    )
    tiers = db.session.execute(
        sa.select(AwardTier, Stage.position, Group.position)
        .join(Stage, Stage.id == AwardTier.stage_id)
        .join(Group, Group.id == AwardTier.group_id)
        .where(AwardTier.contest_id == cid)
        .order_by(Stage.position, Group.position, Group.id, AwardTier.position)
    ).all()
    sheets.append(
        Sheet(
            vocab.AWARDS.label(lang),
            headers_of(vocab.AWARDS, lang),
            [
                [
                    stages[t.stage_id],
                    groups[t.group_id],
                    t.position,
                    t.name,
                    t.quota,
                    exact(t.prize),
                ]
                for t, _s, _g in tiers
            ],
            formats=formats_of(vocab.AWARDS, {"prize": MONEY}),
        )
    )
    sheets.append(
        Sheet(
            vocab.SPECIAL_AWARDS.label(lang),
            headers_of(vocab.SPECIAL_AWARDS, lang),
            [
                [a.name, a.rule, exact(a.prize)]
                for a in db.session.scalars(
                    sa.select(SpecialAward)
                    .where(SpecialAward.contest_id == cid)
                    .order_by(SpecialAward.id)
                )
            ],
            formats=formats_of(vocab.SPECIAL_AWARDS, {"prize": MONEY}),
        )
    )
    sheets.append(entries_sheet(contest, lang=lang, groups=groups, stages=stages, fields=fields))
    sheets.append(judges_sheet(contest, lang=lang, fields=fields))
    sheets.append(conflicts_sheet(contest, lang=lang, tz=tz))
    sheets.append(assignments_sheet(contest, lang=lang, stages=stages))
    sheets.append(scores_sheet(contest, list(contest.stages), lang=lang, tz=tz))
    return sheets


def entries_sheet(contest: Contest, *, lang: str, groups, stages, fields) -> Sheet:
    """项目: every entry with its contact data (organizer exports only)."""
    statuses = {m: vocab.ENTRY_STATUS.label(m, lang) for m in vocab.ENTRY_STATUS.enum}
    query = (
        sa.select(
            Entry.code,
            Entry.title,
            Entry.group_id,
            Entry.field_id,
            Entry.organization,
            Entry.leader,
            Entry.is_student_team,
            Entry.phone,
            Entry.email,
            Entry.summary,
            Entry.status,
            Entry.id,
        )
        .where(Entry.contest_id == contest.id)
        .order_by(Entry.code)
    )

    furthest = furthest_advanced(contest.id)

    def rows():
        for e in db.session.execute(query).yield_per(5000):
            yield [
                e.code,
                e.title,
                groups[e.group_id],
                fields.get(e.field_id),
                e.organization,
                e.leader,
                yes_no(e.is_student_team, lang),
                e.phone,
                e.email,
                e.summary,
                statuses[e.status],
                stages.get(furthest.get(e.id)),
            ]

    return Sheet(
        vocab.ENTRIES.label(lang), headers_of(vocab.ENTRIES, lang), rows(), widths={1: 36, 9: 50}
    )


def judges_sheet(contest: Contest, *, lang: str, fields) -> Sheet:
    """评委: every judge with username and expertise."""
    expertise = defaultdict(list)
    for judge_id, field_id in db.session.execute(
        sa.select(judge_fields.c.judge_id, judge_fields.c.field_id)
        .join(Judge, Judge.id == judge_fields.c.judge_id)
        .join(Field, Field.id == judge_fields.c.field_id)
        .where(Judge.contest_id == contest.id)
        .order_by(Field.position, Field.id)
    ):
        expertise[judge_id].append(fields[field_id])
    rows = [
        [j.name, username, j.organization, j.title, "、".join(expertise[j.id]), j.email]
        for j, username in db.session.execute(
            sa.select(Judge, User.username)
            .join(User, User.id == Judge.user_id)
            .where(Judge.contest_id == contest.id)
            .order_by(User.username)
        )
    ]
    return Sheet(vocab.JUDGES.label(lang), headers_of(vocab.JUDGES, lang), rows)


def conflicts_sheet(contest: Contest, *, lang: str, tz: str) -> Sheet:
    """回避: every conflict (the importable columns, then the judge's and entry's names)."""
    rows = [
        [
            username,
            code,
            c.reason,
            vocab.CONFLICT_STATUS.label(c.status, lang),
            vocab.CONFLICT_SOURCE.label(c.source, lang),
            name,
            title,
            local_time(c.created_at, tz),
        ]
        for c, username, name, code, title in db.session.execute(
            sa.select(Conflict, User.username, Judge.name, Entry.code, Entry.title)
            .join(Judge, Judge.id == Conflict.judge_id)
            .join(User, User.id == Judge.user_id)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.contest_id == contest.id)
            .order_by(Entry.code, User.username)
        )
    ]
    header = headers_of(vocab.CONFLICTS, lang) + [
        _("Judge name"),
        _("Entry title"),
        _("Recorded at"),
    ]
    return Sheet(vocab.CONFLICTS.label(lang), header, rows)


def assignments_sheet(contest: Contest, *, lang: str, stages) -> Sheet:
    """分配: every assignment, by stage, entry and judge."""
    query = (
        sa.select(Assignment.stage_id, User.username, Entry.code)
        .join(Judge, Judge.id == Assignment.judge_id)
        .join(User, User.id == Judge.user_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .join(Stage, Stage.id == Assignment.stage_id)
        .where(Entry.contest_id == contest.id)
        .order_by(Stage.position, Entry.code, User.username)
    )

    def rows():
        for stage_id, username, code in db.session.execute(query).yield_per(5000):
            yield [stages[stage_id], username, code]

    return Sheet(vocab.ASSIGNMENTS.label(lang), headers_of(vocab.ASSIGNMENTS, lang), rows())


def criterion_columns(stages: list[Stage]) -> list[str]:
    """Every criterion name of the stages, in stage, group and rubric order, once each."""
    names: list[str] = []
    for stage in sorted(stages, key=lambda s: s.position):
        for group in stage.contest.groups:
            for criterion in stage.rubric(group):
                if criterion.name not in names:
                    names.append(criterion.name)
    return names


def scores_sheet(contest: Contest, stages: list[Stage], *, lang: str, tz: str) -> Sheet:
    """评分: one row per score sheet, one column per criterion (drafts included)."""
    names = criterion_columns(stages)
    column = {name: 3 + n for n, name in enumerate(names)}
    spec = vocab.SCORES
    after = ["comment", "state", "submitted_at"]
    header = (
        headers_of(spec, lang, ["stage", "judge", "entry"]) + names + headers_of(spec, lang, after)
    )
    base = 3 + len(names)
    states = {m: vocab.SHEET_STATE.label(m, lang) for m in SheetState}
    codes = {s.id: s.code for s in stages}
    sheets = (
        sa.select(
            ScoreSheet.id,
            ScoreSheet.stage_id,
            User.username,
            Entry.code,
            ScoreSheet.comment,
            ScoreSheet.state,
            ScoreSheet.submitted_at,
        )
        .join(Judge, Judge.id == ScoreSheet.judge_id)
        .join(User, User.id == Judge.user_id)
        .join(Entry, Entry.id == ScoreSheet.entry_id)
        .join(Stage, Stage.id == ScoreSheet.stage_id)
        .where(ScoreSheet.stage_id.in_(list(codes)))
        .order_by(Stage.position, Entry.code, User.username, ScoreSheet.id)
    )
    points = (
        sa.select(Score.sheet_id, Criterion.name, Score.points)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .where(ScoreSheet.stage_id.in_(list(codes)))
    )

    def rows():
        by_sheet: dict[int, dict[int, object]] = defaultdict(dict)
        for sheet_id, name, value in db.session.execute(points).yield_per(20000):
            by_sheet[sheet_id][column[name]] = exact(value)
        for sheet_id, stage_id, username, code, comment, state, at in db.session.execute(sheets):
            row: dict[int, object] = {0: codes[stage_id], 1: username, 2: code}
            row.update(by_sheet.pop(sheet_id, {}))
            row[base] = comment
            row[base + 1] = states[state]
            row[base + 2] = local_time(at, tz) if state == SheetState.SUBMITTED else None
            yield row

    return Sheet(
        spec.label(lang),
        header,
        rows(),
        formats={c: POINTS for c in column.values()},
        widths={base: 30},
    )
